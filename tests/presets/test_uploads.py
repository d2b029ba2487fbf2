"""Uploaded logos and fonts: real images and fonts within the limits, nothing else."""
import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from pipeline.text import font_path
from presets.uploads import UploadRejected, clean_font, clean_image


def png(width=64, height=32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (255, 0, 0, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def upload(data: bytes, name="logo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def bomb_png(width=100_000, height=100_000) -> bytes:
    """A small file that claims to be a huge picture: the header says 100000x100000."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_a_real_logo_is_accepted():
    image = clean_image(upload(png()))
    assert image.size == (64, 32) and image.mode == "RGBA"


@pytest.mark.parametrize(("data", "message"), [
    (bomb_png(), "pixels"),
    (png() + b"<html><script>alert(1)</script></html>", "HTML or script"),
    (b"GIF89a" + b"\x00" * 100, "not an image|not accepted"),
    (b"%PDF-1.4 not an image", "not an image"),
    (b"", "empty"),
    (png()[:60], "does not decode"),
])
def test_bad_images_are_refused(data, message):
    with pytest.raises(UploadRejected, match=message):
        clean_image(upload(data))


def test_oversized_uploads_are_refused(settings):
    settings.UPLOAD_MAX_BYTES = 1000
    with pytest.raises(UploadRejected, match="at most"):
        clean_image(upload(png(400, 400) + b"\x00" * 2000))


def test_wrong_formats_are_refused():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "BMP")
    with pytest.raises(UploadRejected, match="BMP images are not accepted"):
        clean_image(upload(buffer.getvalue(), "logo.bmp"))


def test_a_real_font_is_accepted():
    data = font_path("DejaVuSans-Bold.ttf").read_bytes()
    assert clean_font(upload(data, "brand.ttf")) == data


@pytest.mark.parametrize("data", [b"<svg></svg>", b"\x00\x01\x00\x00garbage" * 10, png()])
def test_bad_fonts_are_refused(data):
    with pytest.raises(UploadRejected):
        clean_font(upload(data, "brand.ttf"))
