"""The customer's own link to their build: the address the booklet's QR code
prints and My orders links to (`/my-build/<token>`).

Whoever holds the link sees that one build, without an account: people scan
it from the booklet on their phone. So the token cannot be guessed or
counted up to another build: it is the shop's id and the build's id, signed
with SECRET_KEY (HMAC-SHA256) under a salt of its own, so no other signed
value of the app (the builder cookie, …) ever reads as one. A token that is
tampered with, cut short or garbled reads as no link at all; it never raises.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer

from app.settings import get_settings

SALT = "shopfloor.customers.build-page"
PAGE_PATH = "/my-build"  # the customer page; its files are under /api/v1/my-build/<token>/files/…


@dataclass(frozen=True)
class BuildLink:
    tenant_id: uuid.UUID
    build_id: uuid.UUID


def _signer() -> Signer:
    return Signer(get_settings().secret_key, salt=SALT, digest_method=hashlib.sha256)


def build_token(tenant_id: uuid.UUID | str, build_id: uuid.UUID | str) -> str:
    """The signed token of a shop's build (short: it goes into a printed QR code)."""
    raw = uuid.UUID(str(tenant_id)).bytes + uuid.UUID(str(build_id)).bytes
    value = base64.urlsafe_b64encode(raw).rstrip(b"=")
    return _signer().sign(value).decode()


def read_build_token(token: str | None) -> BuildLink | None:
    """The build a token stands for, or None when it is not one we signed."""
    if not token or len(token) > 200:
        return None
    try:
        value = _signer().unsign(token.encode())
        raw = base64.urlsafe_b64decode(value + b"=" * (-len(value) % 4))
    except (BadSignature, binascii.Error, ValueError, UnicodeEncodeError):
        return None
    if len(raw) != 32:
        return None
    return BuildLink(tenant_id=uuid.UUID(bytes=raw[:16]), build_id=uuid.UUID(bytes=raw[16:]))


def build_page_path(tenant_id: uuid.UUID | str, build_id: uuid.UUID | str) -> str:
    return f"{PAGE_PATH}/{build_token(tenant_id, build_id)}"


def build_page_url(tenant_id: uuid.UUID | str, build_id: uuid.UUID | str) -> str:
    """The full address of the customer's build page (the booklet's QR code)."""
    return get_settings().app_url.rstrip("/") + build_page_path(tenant_id, build_id)


def file_url(token: str, attachment_id: uuid.UUID | str, *, thumbnail: bool = False) -> str:
    """Where the build page fetches one of the build's photos or booklets."""
    url = f"{get_settings().api_url.rstrip('/')}/api/v1{PAGE_PATH}/{token}/files/{attachment_id}"
    return url + "?size=thumb" if thumbnail else url
