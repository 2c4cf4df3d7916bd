"""Photo intake: validate, orient, strip location, store original and thumbnail."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from app.platform.errors import DomainError, ValidationFailed

MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 60_000_000  # a 12 MP phone photo is ~12 M; beyond this we call it a decompression bomb
THUMB_SIZE = (480, 480)
PRINT_SIZE = (1400, 1400)  # the rendition booklets use
ALLOWED_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
    "MPO": "image/jpeg",
}


class PayloadTooLarge(DomainError):
    status, code = 413, "payload_too_large"


@dataclass
class ProcessedPhoto:
    original: bytes
    thumbnail: bytes
    print: bytes
    content_type: str
    width: int
    height: int


_strict_lock = threading.Lock()


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES = True on
    import; a truncated upload must still fail here, so decode strictly."""
    with _strict_lock:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def process(data: bytes) -> ProcessedPhoto:
    """Refuses anything that is not a complete, sane image. Returns a JPEG of the
    upright image with EXIF (and so GPS) removed, and a JPEG thumbnail."""
    if not data:
        raise ValidationFailed("the file is empty", code="empty_file")
    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(f"the photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            if fmt not in ALLOWED_FORMATS:
                raise ValidationFailed(
                    f"{fmt or 'this file'} is not a supported photo format (JPEG, PNG, WebP)", code="unsupported_image"
                )
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed("the image has too many pixels to be a photo", code="decompression_bomb")
            probe.verify()  # structure check without decoding
        with _strict_decoding(), Image.open(io.BytesIO(data)) as img:
            img.load()  # decodes fully: truncated files fail here
            upright = ImageOps.exif_transpose(img).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ValidationFailed("the file is not an image we can read", code="not_an_image") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed(f"the image is damaged or incomplete ({exc})", code="damaged_image") from exc
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=88, optimize=True)  # no exif= : metadata and GPS are dropped
    renditions = []
    for size, quality in ((THUMB_SIZE, 80), (PRINT_SIZE, 82)):
        copy = upright.copy()
        copy.thumbnail(size)
        buf = io.BytesIO()
        copy.save(buf, "JPEG", quality=quality)
        renditions.append(buf.getvalue())
    return ProcessedPhoto(out.getvalue(), renditions[0], renditions[1], "image/jpeg", upright.width, upright.height)


def print_key(key: str) -> str:
    """Where the print rendition of a stored photo lives."""
    return key.removesuffix(".jpg") + "-print.jpg"


def keys(build_id: uuid.UUID, slot: str) -> tuple[str, str]:
    stem = f"builds/photos/{build_id}/{slot}-{uuid.uuid4().hex[:8]}"
    return f"{stem}.jpg", f"{stem}-thumb.jpg"
