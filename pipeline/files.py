"""Writing files atomically and checking images before anyone records them."""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from pipeline.errors import MediaGenerationError


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temporary file in the same folder, then move it into place in one step.

    A crash at any moment leaves either no file or the previous one, never half of a new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are read by the web server and exports
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def save_image(image: Image.Image, path: Path, **params) -> Path:
    return atomic_write(path, lambda tmp: image.save(tmp, format=(path.suffix.lstrip(".").upper()
                                                                   .replace("JPG", "JPEG")), **params))


def check_image(path: Path, *, size: tuple[int, int] | None = None, layer: str = "L5") -> tuple[int, int, str]:
    """Open the file again and decode it fully; return (width, height, sha256) or raise in words."""
    try:
        with Image.open(path) as image:
            image.load()
            width, height = image.size
    except (OSError, Image.DecompressionBombError) as exc:
        raise MediaGenerationError(f"{path.name} does not decode as an image ({exc})", layer=layer,
                                   field=path.name) from exc
    if size is not None and (width, height) != tuple(size):
        raise MediaGenerationError(f"{path.name} is {width}x{height}, expected {size[0]}x{size[1]}", layer=layer,
                                   field=path.name)
    return width, height, sha256_file(path)


def image_from_bytes(data: bytes, *, what: str, layer: str = "L5", provider: str = "") -> Image.Image:
    """Decode image bytes from a provider, within Pillow's pixel limit."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, Image.DecompressionBombError) as exc:
        raise MediaGenerationError(f"{what} is not a usable image ({exc})", layer=layer, provider=provider,
                                   retryable=True) from exc
    return image.convert("RGB")


def cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale and centre-crop to exactly `size`, like CSS object-fit: cover."""
    width, height = size
    scale = max(width / image.width, height / image.height)
    resized = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))),
                           Image.LANCZOS)
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return resized.crop((left, top, left + width, top + height))
