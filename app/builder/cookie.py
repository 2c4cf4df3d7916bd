"""The anonymous build cookie `build_session` (seed 002 SavedAnon, ADR-0003).

Its value is signed with SECRET_KEY (itsdangerous, timestamped, 1 year) and
holds either the slot map itself or, when that would make the cookie larger
than MAX_COOKIE_BYTES, the id of a server-side SavedBuild without an owner
together with a random token of this browser; the build keeps only the
token's SHA-256. The signature alone does not open a server-side build, so
whoever learns the signing key still cannot read or claim another browser's
build by its id. A value that is tampered with, garbled, expired, points
nowhere or carries the wrong token reads as an empty build: it is never
trusted and never raises.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlmodel import Session

from app.builder import slotmap
from app.builder.models import SavedBuild
from app.platform.db import session_tenant_id
from app.platform.models import utcnow
from app.settings import get_settings

COOKIE_NAME = "build_session"
MAX_AGE_SECONDS = 365 * 24 * 3600
# Above this many bytes the cookie holds a server-side id instead of the slot
# map (browsers cap a cookie near 4096 bytes). Tests lower it.
MAX_COOKIE_BYTES = 3000
_SALT = "shopfloor.builder.build-session"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=_SALT)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def encode_saved(build: SavedBuild) -> str:
    """A cookie value that points at a server-side SavedBuild, bound to this
    browser: a new token is stored with the build (the caller commits), so
    only the cookie made here opens it from now on."""
    token = secrets.token_urlsafe(24)
    build.anon_token_hash = _token_hash(token)
    return _serializer().dumps({"id": str(build.id), "t": token})


def encode_anonymous(
    session: Session, slots: Mapping, *, previous: str | None = None, max_bytes: int | None = None
) -> str:
    """The cookie value for this slot map: the map itself, or (when too large)
    the id of a new owner-less SavedBuild in `session` (the caller commits).
    `previous` (the current cookie value): when it already points at an
    owner-less server-side build with the same parts, it is kept as it is, so
    a shared anonymous build stays the one this browser holds."""
    clean = slotmap.normalise(slots)
    if previous:
        prev_slots, prev_id = decode_anonymous(session, previous)
        if prev_id is not None and prev_slots == clean:
            build = session.get(SavedBuild, prev_id)
            if build is not None and build.customer_id is None:
                return previous
    value = _serializer().dumps({"s": clean})
    if len(value) <= (MAX_COOKIE_BYTES if max_bytes is None else max_bytes):
        return value
    now = utcnow()
    build = SavedBuild(
        tenant_id=session_tenant_id(session),
        customer_id=None,
        name="My build",
        slots=clean,
        created_at=now,
        updated_at=now,
    )
    value = encode_saved(build)
    session.add(build)
    session.flush()
    return value


def decode_anonymous(session: Session, value: str | None) -> tuple[slotmap.SlotMap, uuid.UUID | None]:
    """(slot map, server-side build id or None) from a cookie value; ({}, None)
    for anything missing, tampered, garbled, expired, deleted or unknown."""
    if not value or not isinstance(value, str) or len(value) > 8192:
        return {}, None
    try:
        data = _serializer().loads(value, max_age=MAX_AGE_SECONDS)
    except (BadData, ValueError, TypeError, UnicodeError):
        return {}, None
    if not isinstance(data, dict):
        return {}, None
    if "id" in data:
        try:
            build_id = uuid.UUID(str(data["id"]))
        except (ValueError, TypeError):
            return {}, None
        token = data.get("t")
        build = session.get(SavedBuild, build_id)
        if build is None or build.deleted_at is not None or not build.anon_token_hash or not isinstance(token, str):
            return {}, None
        if not hmac.compare_digest(build.anon_token_hash, _token_hash(token)):
            return {}, None
        return slotmap.normalise(build.slots), build.id
    return slotmap.normalise(data.get("s")), None
