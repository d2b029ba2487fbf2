"""Checking uploaded brand files before anything keeps them: logos (images) and fonts.

An image is opened by Pillow only after its size and pixel count are checked
against the limits, only in the expected formats, and never kept as uploaded: it
is decoded fully and re-encoded, so nothing but pixels survives (no HTML hidden
in a polyglot, no metadata).
"""
from __future__ import annotations

import io
import re

from django.conf import settings
from PIL import Image, ImageFont, UnidentifiedImageError

IMAGE_FORMATS = {"PNG", "JPEG", "WEBP"}
FONT_MAGIC = (b"\x00\x01\x00\x00", b"true", b"OTTO")
FONT_MAX_BYTES = 5 * 1024 * 1024
# Markup in an image file is how PNG/HTML (and GIF/JS) polyglots are made.
_MARKUP = re.compile(rb"<\s*(html|script|svg|iframe|body|!doctype)", re.IGNORECASE)


class UploadRejected(ValueError):
    """The upload is refused; the message says why in words."""


def _read(uploaded, limit: int, what: str) -> bytes:
    size = getattr(uploaded, "size", None)
    if size is not None and size > limit:
        raise UploadRejected(f"the {what} is {size / 1_048_576:.1f} MB; at most {limit / 1_048_576:.0f} MB")
    data = uploaded.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected(f"the {what} is larger than {limit / 1_048_576:.0f} MB")
    if not data:
        raise UploadRejected(f"the {what} is empty")
    return data


# A whole JPEG carries at least one bit per 8x8 block (a flat colour, progressive and optimised, takes ~3).
JPEG_MIN_PIXELS_PER_BYTE = 64 * 8


def clean_image(uploaded) -> Image.Image:
    """The uploaded picture, fully decoded and safe to re-encode; UploadRejected otherwise."""
    data = _read(uploaded, settings.UPLOAD_MAX_BYTES, "image")
    if _MARKUP.search(data):
        raise UploadRejected("the image file also contains HTML or script; upload a plain image")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format, (width, height) = probe.format, probe.size
    except Image.DecompressionBombError:
        raise UploadRejected(f"the image has more than {settings.UPLOAD_MAX_PIXELS:,} pixels") from None
    except (UnidentifiedImageError, OSError):
        raise UploadRejected("the file is not an image Pillow can read") from None
    if image_format not in IMAGE_FORMATS:
        raise UploadRejected(f"{image_format} images are not accepted; use PNG, JPEG or WebP")
    if width * height > settings.UPLOAD_MAX_PIXELS:
        raise UploadRejected(f"the image is {width}x{height} pixels; at most {settings.UPLOAD_MAX_PIXELS:,} pixels")
    if image_format == "JPEG" and len(data) < width * height / JPEG_MIN_PIXELS_PER_BYTE:
        # libjpeg fills what a cut-short file lacks with grey and decodes "fine" when an end marker follows:
        # even a picture of one flat colour needs about 3 bits per 8x8 block; less than 1 is a file cut short.
        raise UploadRejected(f"the JPEG says it is {width}x{height} pixels but holds only {len(data):,} bytes: "
                             "the file is cut short; export it again")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.convert("RGBA")
    except (OSError, Image.DecompressionBombError, ValueError) as exc:
        raise UploadRejected(f"the image does not decode ({exc})") from None


def clean_font(uploaded) -> bytes:
    """The uploaded font's bytes once FreeType has loaded it and drawn a glyph; UploadRejected otherwise."""
    data = _read(uploaded, FONT_MAX_BYTES, "font")
    if not data.startswith(FONT_MAGIC):
        raise UploadRejected("the file is not a TrueType or OpenType font (.ttf or .otf)")
    try:
        font = ImageFont.truetype(io.BytesIO(data), size=40)
        left, top, right, bottom = font.getbbox("Ag")
    except OSError as exc:
        raise UploadRejected(f"the font does not load ({exc})") from None
    if right <= left or bottom <= top:
        raise UploadRejected("the font has no glyphs for ordinary letters")
    return data
