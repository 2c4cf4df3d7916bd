"""A build's photos: where they are stored. The intake itself (checks,
orientation, location stripped, thumbnails) is the platform's
(`app.platform.photos`), shared with the repair desk's intake photos."""

from __future__ import annotations

import uuid

from app.platform.photos import MAX_PHOTO_BYTES, DecodersBusy, PayloadTooLarge, ProcessedPhoto, process

__all__ = ["MAX_PHOTO_BYTES", "DecodersBusy", "PayloadTooLarge", "ProcessedPhoto", "keys", "print_key", "process"]


def print_key(key: str) -> str:
    """Where the print rendition of a stored photo lives."""
    return key.removesuffix(".jpg") + "-print.jpg"


def keys(build_id: uuid.UUID, slot: str) -> tuple[str, str]:
    stem = f"builds/photos/{build_id}/{slot}-{uuid.uuid4().hex[:8]}"
    return f"{stem}.jpg", f"{stem}-thumb.jpg"
