"""Photo intake for every domain: refuse what is not a complete, sane photo,
turn it upright, drop its metadata (location included) and make a thumbnail and
a print rendition. Images are decoded in a child process so their memory never
stays with the web. Where the files are stored is the caller's business (a
build keeps its photos under its own keys, a repair asset under its own)."""

from __future__ import annotations

import io
import os
import pickle
import resource
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from app.platform.errors import DomainError, PayloadTooLarge, ValidationFailed

MAX_PHOTO_BYTES = 20 * 1024 * 1024
# The largest photos phone cameras take at full resolution are 48-50 MP
# (8064 x 6048 on 48 MP iPhones, 8160 x 6120 on 50 MP Android sensors); 50 MP
# admits them and refuses anything bigger before a pixel is decoded. Decoding
# such a photo still costs ~150 MB per copy, which is why it happens in a
# child process (below), never in the web process.
MAX_PIXELS = 50_000_000
THUMB_SIZE = (480, 480)
PRINT_SIZE = (1400, 1400)  # the rendition booklets use
ALLOWED_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
    "MPO": "image/jpeg",
}

# Every photo is decoded in a child process of its own (a fresh interpreter
# started for it): a decoded photo's memory, hundreds of MB for a big one,
# lives and dies there and never stays with the web process. At most DECODERS
# children run at once; other uploads wait for one up to WAIT_SECONDS and are
# then told to try again shortly. A child costs a fraction of a second to
# start, small next to decoding a photo, and cannot be left holding memory
# (a pool of long-lived workers could, and mixes badly with the web server's
# threads).
DECODERS = 2
WAIT_SECONDS = 60.0
DECODE_SECONDS = 120.0  # far beyond a 50 MP photo's few seconds: a decoder that takes longer is stuck
DECODER_MEMORY = 3 * 1024 * 1024 * 1024  # address space a decoder may use (a 50 MP photo needs ~1 GB)
_ROOT = Path(__file__).resolve().parents[2]


class DecodersBusy(DomainError):
    status, code = 503, "busy"


@dataclass
class ProcessedPhoto:
    original: bytes
    thumbnail: bytes
    print: bytes
    content_type: str
    width: int
    height: int
    decoded_by: int = 0  # the process id that decoded it (not this one)


def process(data: bytes) -> ProcessedPhoto:
    """Refuses anything that is not a complete, sane image. Returns a JPEG of the
    upright image with EXIF (and so GPS) removed, and a JPEG thumbnail.
    The image is decoded in a child process (see DECODERS)."""
    if not data:
        raise ValidationFailed("the file is empty", code="empty_file")
    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(f"the photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    if not _slots.acquire(timeout=WAIT_SECONDS):
        raise DecodersBusy("many photos are being processed right now: try again in a minute")
    try:
        outcome = _submit(data)
    finally:
        _slots.release()
    if isinstance(outcome, _Refusal):
        raise ValidationFailed(outcome.message, code=outcome.code)
    return outcome


@dataclass
class _Refusal:
    """Why a child refused an image (errors cross the process boundary as data)."""

    message: str
    code: str


_slots = threading.BoundedSemaphore(DECODERS)


def _submit(data: bytes) -> ProcessedPhoto | _Refusal:
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from app.platform.photos import _serve; _serve()"],
            input=data,
            capture_output=True,
            timeout=DECODE_SECONDS,
            cwd=_ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _Refusal("the image took too long to process: try another photo", "damaged_image")
    if done.returncode != 0 or not done.stdout:
        # Killed for memory, say: refuse with a reason rather than fail.
        return _Refusal("the image could not be processed (it may be damaged): try another photo", "damaged_image")
    outcome = pickle.loads(done.stdout)
    if outcome[0] == "refused":
        return _Refusal(outcome[1], outcome[2])
    return ProcessedPhoto(*outcome[1:])


def _serve() -> None:
    """A decoder child: the image on stdin, the outcome (plain values) on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (DECODER_MEMORY, DECODER_MEMORY))
    outcome = _decode(sys.stdin.buffer.read())
    if isinstance(outcome, _Refusal):
        answer = ("refused", outcome.message, outcome.code)
    else:
        answer = (
            "ok",
            outcome.original,
            outcome.thumbnail,
            outcome.print,
            outcome.content_type,
            outcome.width,
            outcome.height,
            outcome.decoded_by,
        )
    sys.stdout.buffer.write(pickle.dumps(answer))
    sys.stdout.buffer.flush()


def _decode(data: bytes) -> ProcessedPhoto | _Refusal:
    """Runs in a decoder process."""
    # WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES = True on
    # import; a truncated upload must still fail here, so decode strictly.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            if fmt not in ALLOWED_FORMATS:
                return _Refusal(
                    f"{fmt or 'this file'} is not a supported photo format (JPEG, PNG, WebP)", "unsupported_image"
                )
            if probe.width * probe.height > MAX_PIXELS:
                return _Refusal(
                    f"the image is {probe.width} x {probe.height} pixels: photos may have at most "
                    f"{MAX_PIXELS // 1_000_000} megapixels",
                    "decompression_bomb",
                )
            probe.verify()  # structure check without decoding
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # decodes fully: truncated files fail here
            upright = ImageOps.exif_transpose(img).convert("RGB")
    except Image.DecompressionBombError:
        return _Refusal(
            f"the image has too many pixels: photos may have at most {MAX_PIXELS // 1_000_000} megapixels",
            "decompression_bomb",
        )
    except UnidentifiedImageError:
        return _Refusal("the file is not an image we can read", "not_an_image")
    except (OSError, SyntaxError, ValueError) as exc:
        return _Refusal(f"the image is damaged or incomplete ({exc})", "damaged_image")
    except MemoryError:
        return _Refusal("the image is too large to process", "decompression_bomb")
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=88, optimize=True)  # no exif= : metadata and GPS are dropped
    renditions = []
    for size, quality in ((THUMB_SIZE, 80), (PRINT_SIZE, 82)):
        copy = upright.copy()
        copy.thumbnail(size)
        buf = io.BytesIO()
        copy.save(buf, "JPEG", quality=quality)
        renditions.append(buf.getvalue())
    return ProcessedPhoto(
        out.getvalue(), renditions[0], renditions[1], "image/jpeg", upright.width, upright.height, os.getpid()
    )
