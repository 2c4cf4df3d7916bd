"""Staff sign-in, server-side sessions, API keys, users and roles.

The session cookie is `<tenant_id>.<random token>`: the tenant part lets us
open the right `tenant_session` to find the session row (RLS protects the
sessions table like any other), and only SHA-256 of the token is stored.
API keys look like `sfk_<tenant hex>_<secret>`, hashed the same way.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, inspect
from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from app.platform import audit, session_stamps, throttle
from app.platform.db import on_commit, platform_session, session_tenant_id, tenant_session
from app.platform.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from app.platform.formatting import DEFAULT as DEFAULT_FORMAT
from app.platform.formatting import ShopFormat
from app.platform.formatting import for_shop as shop_format
from app.platform.models import (
    ApiKey,
    AuditLog,
    Role,
    RolePermission,
    Tenant,
    User,
    UserRole,
    UserSession,
    utcnow,
)
from app.settings import get_settings

log = logging.getLogger(__name__)
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user or an API key, within one tenant."""

    tenant_id: uuid.UUID
    tenant_name: str
    tenant_slug: str
    user_id: uuid.UUID | None
    username: str
    display_name: str
    roles: tuple[str, ...]
    permissions: frozenset[str] = field(default_factory=frozenset)
    api_key_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    expires_at: datetime | None = None  # when the session runs out (live watchers stop then)
    fmt: ShopFormat = field(default=DEFAULT_FORMAT)  # the shop's locale, currency and time zone

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"you need the '{permission}' permission for this")


# --- passwords ----------------------------------------------------------------


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash. With no hash (unknown account)
    a dummy hash is checked, so the answer takes as long either way."""
    return _verify(password_hash or _DUMMY_HASH, password) and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- tenants --------------------------------------------------------------------


def find_tenant(slug: str | None = None) -> Tenant:
    with platform_session() as s:
        q = (
            select(Tenant).where(Tenant.slug == slug.strip().lower())
            if slug
            else select(Tenant).where(Tenant.is_default)
        )
        tenant = s.exec(q).first()
    if tenant is None:
        raise Unauthorized("unknown shop" if slug else "no default shop is set up")
    return tenant


# --- principals -----------------------------------------------------------------


def _permissions_for_roles(session: Session, role_ids: list[uuid.UUID]) -> frozenset[str]:
    if not role_ids:
        return frozenset()
    rows = session.exec(select(RolePermission.permission_code).where(col(RolePermission.role_id).in_(role_ids)))
    return frozenset(rows)


def user_roles(session: Session, user_id: uuid.UUID) -> list[Role]:
    return list(
        session.exec(
            select(Role)
            .join(UserRole, col(UserRole.role_id) == Role.id)
            .where(UserRole.user_id == user_id)
            .order_by(Role.name)
        )
    )


def _principal(session: Session, tenant: Tenant, user: User, **extra) -> Principal:
    roles = user_roles(session, user.id)
    return Principal(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        tenant_slug=tenant.slug,
        fmt=shop_format(tenant),
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        roles=tuple(r.name for r in roles),
        permissions=_permissions_for_roles(session, [r.id for r in roles]),
        **extra,
    )


def job_principal(
    tenant_id: uuid.UUID, name: str, permissions: set[str] | frozenset[str], *, user_id: uuid.UUID | None = None
) -> Principal:
    """Who a background job acts as when it carries out work a person was
    allowed to start (the check happened when they started it): just the
    permissions that work needs, and the person's id when there is one, so
    what it writes names them."""
    return Principal(
        tenant_id=tenant_id,
        tenant_name="",
        tenant_slug="",
        user_id=user_id,
        username=name,
        display_name=name,
        roles=(),
        permissions=frozenset(permissions),
    )


# --- sign-in --------------------------------------------------------------------

GUESS_WINDOW_DAYS = 30  # how far back "failed sign-ins since your last visit" looks
_NOTICE = "shopfloor:auth:notice:{}"


def check_throttle(
    session: Session, username: str, *, action: str = "auth.login", target_type: str = "user", ip: str = ""
) -> bool:
    """Count this sign-in attempt before its password is checked (see
    app.platform.throttle). While a wait runs, refuse it (429, audited as
    `<action>.throttled`, committed). Returns whether the address is one the
    account signed in from before; pass it to `sign_in_passed` on success."""
    attempt = throttle.Attempt(action, session_tenant_id(session), username, ip)
    wait, usual = attempt.claim()
    if wait > 0:
        audit.record(
            session, f"{action}.throttled", target_type=target_type, target_id=username, ip=ip, meta={"wait": wait}
        )
        session.commit()
        raise attempt.refuse(wait)
    return usual


def sign_in_passed(session: Session, username: str, *, action: str = "auth.login", ip: str = "", usual: bool) -> None:
    """A correct password: this address's failures for the account are forgotten
    and the address counts as one the account uses."""
    throttle.Attempt(action, session_tenant_id(session), username, ip).passed(usual)


@dataclass(frozen=True)
class GuessNotice:
    """Failed sign-ins of an account since its last sign-in, shown to its owner."""

    count: int
    last_ip: str
    last_at: datetime

    def text(self, fmt: ShopFormat) -> str:
        attempts = "1 failed sign-in attempt" if self.count == 1 else f"{self.count} failed sign-in attempts"
        source = f", the last from {self.last_ip}" if self.last_ip else ""
        return f"{attempts} since your last visit{source} ({fmt.ago(self.last_at)})."


def _guesses_since_last_visit(session: Session, username: str, action: str = "auth.login") -> GuessNotice | None:
    """Failed and refused sign-ins of this name since its last success (at most GUESS_WINDOW_DAYS back)."""
    since = utcnow() - timedelta(days=GUESS_WINDOW_DAYS)
    last_success = session.exec(
        select(func.max(AuditLog.created_at)).where(
            AuditLog.action == f"{action}.success", AuditLog.target_id == username, AuditLog.created_at > since
        )
    ).one()
    since = max(since, last_success) if last_success else since
    guesses = (AuditLog.target_id == username, col(AuditLog.action).in_([f"{action}.failed", f"{action}.throttled"]))
    count = session.exec(select(func.count()).where(*guesses, AuditLog.created_at > since)).one()
    if not count:
        return None
    last = session.exec(
        select(AuditLog).where(*guesses, AuditLog.created_at > since).order_by(col(AuditLog.created_at).desc())
    ).first()
    assert last is not None  # count > 0
    return GuessNotice(count=count, last_ip=last.ip, last_at=last.created_at)


def take_sign_in_notice(principal: Principal) -> str | None:
    """The guessing notice of this session, once (the first page after sign-in shows it)."""
    from app.platform.tasks import redis_conn

    if principal.session_id is None:
        return None
    try:
        raw = redis_conn().getdel(_NOTICE.format(principal.session_id))
    except Exception:
        return None
    if not raw:
        return None
    data = json.loads(raw)  # type: ignore[arg-type]  # bytes from Redis
    notice = GuessNotice(count=data["count"], last_ip=data["ip"], last_at=datetime.fromisoformat(data["at"]))
    return notice.text(principal.fmt)


def _keep_notice(session_id: uuid.UUID, notice: GuessNotice) -> None:
    from app.platform.tasks import redis_conn

    data = {"count": notice.count, "ip": notice.last_ip, "at": notice.last_at.isoformat()}
    try:
        redis_conn().set(
            _NOTICE.format(session_id), json.dumps(data), ex=int(get_settings().session_ttl_hours * 3600) + 60
        )
    except Exception as exc:  # the audit log keeps it either way
        log.warning("sign-in notice not kept: %s", exc)


@dataclass(frozen=True)
class LoginResult:
    cookie_value: str
    expires_at: datetime
    principal: Principal
    notice: GuessNotice | None = None  # the account was being guessed at since its last sign-in


def login(username: str, password: str, *, shop: str | None = None, ip: str = "", user_agent: str = "") -> LoginResult:
    """Check credentials and open a session. Every outcome is audited; the
    attempt is counted before the password is checked (check_throttle)."""
    settings = get_settings()
    username = (username or "").strip().lower()
    if not username or not password:
        raise ValidationFailed("enter your username and password")
    tenant = find_tenant(shop)
    with tenant_session(tenant.id) as s:
        usual = check_throttle(s, username, ip=ip)
        user = s.exec(select(User).where(User.username == username)).first()
        ok = _verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None and user.is_active
        if not ok:
            audit.record(
                s,
                "auth.login.failed",
                actor_user_id=user.id if user else None,
                target_type="user",
                target_id=username,
                ip=ip,
                meta={"reason": "inactive" if user and not user.is_active else "bad_credentials"},
            )
            s.commit()
            raise Unauthorized("wrong username or password")
        assert user is not None  # ok implies a user
        sign_in_passed(s, username, ip=ip, usual=usual)
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        notice = _guesses_since_last_visit(s, username)
        token = secrets.token_urlsafe(32)
        expires = utcnow() + timedelta(hours=settings.session_ttl_hours)
        row = UserSession(
            tenant_id=tenant.id,
            user_id=user.id,
            token_hash=_sha256(token),
            expires_at=expires,
            ip=ip[:64],
            user_agent=user_agent[:400],
        )
        user.last_login_at = utcnow()
        s.add(row)
        s.add(user)
        meta = {"failedAttempts": notice.count, "lastFailedFrom": notice.last_ip} if notice else {}
        audit.record(
            s, "auth.login.success", actor_user_id=user.id, target_type="user", target_id=username, ip=ip, meta=meta
        )
        s.commit()
        principal = _principal(s, tenant, user, session_id=row.id, expires_at=expires)
    if notice is not None:
        _keep_notice(row.id, notice)
    return LoginResult(cookie_value=f"{tenant.id}.{token}", expires_at=expires, principal=principal, notice=notice)


def _tenant_and_secret(value: str | None, sep: str, prefix: str = "") -> tuple[Tenant, str] | None:
    """Split `<prefix><tenant id><sep><secret>` and look the tenant up."""
    if not value or not value.startswith(prefix) or sep not in value[len(prefix) :]:
        return None
    tid, secret = value[len(prefix) :].split(sep, 1)
    try:
        tenant_id = uuid.UUID(tid)
    except ValueError:
        return None
    with platform_session() as ps:
        tenant = ps.get(Tenant, tenant_id)
    return (tenant, secret) if tenant is not None else None


def authenticate_session(cookie_value: str | None) -> Principal | None:
    """The principal behind a session cookie, or None (missing, unknown, expired)."""
    found = _tenant_and_secret(cookie_value, ".")
    if found is None:
        return None
    tenant, token = found
    with tenant_session(tenant.id) as s:
        row = s.exec(select(UserSession).where(UserSession.token_hash == _sha256(token))).first()
        if row is None:
            return None
        now = utcnow()
        if row.expires_at <= now:
            s.delete(row)
            s.commit()
            return None
        user = s.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        if now - row.last_seen_at > timedelta(minutes=1):
            row.last_seen_at = now
            s.add(row)
            s.commit()
        return _principal(s, tenant, user, session_id=row.id, expires_at=row.expires_at)


def logout(cookie_value: str | None, *, ip: str = "") -> None:
    found = _tenant_and_secret(cookie_value, ".")
    if found is None:
        return
    tenant, token = found
    with tenant_session(tenant.id) as s:
        row = s.exec(select(UserSession).where(UserSession.token_hash == _sha256(token))).first()
        if row is not None:
            user = s.get(User, row.user_id)
            s.delete(row)
            # Before the commit: an open page's watcher must not get one more push in between.
            session_stamps.revoke_session(row.id)
            audit.record(
                s,
                "auth.logout",
                actor_user_id=row.user_id,
                target_type="user",
                target_id=user.username if user else "",
                ip=ip,
            )
            s.commit()


def purge_expired_sessions(session: Session) -> int:
    result = session.exec(delete(UserSession).where(col(UserSession.expires_at) <= utcnow()))
    session.commit()
    return result.rowcount or 0


# --- API keys -------------------------------------------------------------------

API_KEY_PREFIX = "sfk_"


def create_api_key(session: Session, *, name: str, role_name: str, actor: Principal) -> tuple[ApiKey, str]:
    """Create a key; the plaintext is returned once and never stored."""
    actor.require("admin.operations")
    name = name.strip()
    if not name:
        raise ValidationFailed("give the key a name")
    role = session.exec(select(Role).where(Role.name == role_name)).first()
    if role is None:
        raise ValidationFailed(f"unknown role '{role_name}'")
    tid = session_tenant_id(session)
    secret = f"{API_KEY_PREFIX}{tid.hex}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        tenant_id=tid,
        name=name,
        key_prefix=secret[:12] + "…" + secret[-4:],
        key_hash=_sha256(secret),
        role_id=role.id,
        created_by_id=actor.user_id,
    )
    session.add(key)
    audit.record(
        session,
        "api_key.created",
        actor_user_id=actor.user_id,
        target_type="api_key",
        target_id=key.id,
        meta={"name": name, "role": role_name},
    )
    session.commit()
    return key, secret


def revoke_api_key(session: Session, key_id: uuid.UUID, *, actor: Principal) -> ApiKey:
    actor.require("admin.operations")
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("no such API key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        audit.record(
            session,
            "api_key.revoked",
            actor_user_id=actor.user_id,
            target_type="api_key",
            target_id=key.id,
            meta={"name": key.name},
        )
        session.commit()
    return key


def authenticate_api_key(secret: str | None) -> Principal | None:
    if secret is None:
        return None
    found = _tenant_and_secret(secret, "_", API_KEY_PREFIX)
    if found is None:
        return None
    tenant = found[0]
    with tenant_session(tenant.id) as s:
        key = s.exec(select(ApiKey).where(ApiKey.key_hash == _sha256(secret))).first()
        if key is None or key.revoked_at is not None:
            return None
        now = utcnow()
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            key.last_used_at = now
            s.add(key)
            s.commit()
        role = s.get(Role, key.role_id)
        return Principal(
            tenant_id=tenant.id,
            tenant_name=tenant.name,
            tenant_slug=tenant.slug,
            fmt=shop_format(tenant),
            user_id=None,
            username=f"api-key:{key.name}",
            display_name=key.name,
            roles=(role.name,) if role else (),
            permissions=_permissions_for_roles(s, [key.role_id]),
            api_key_id=key.id,
        )


# --- users and roles --------------------------------------------------------------


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: list[str],
    display_name: str = "",
    email: str = "",
    actor: Principal | None = None,
) -> User:
    if actor is not None:
        actor.require("users.write")
    username = username.strip().lower()
    if not username or len(username) > 100:
        raise ValidationFailed("a username needs 1 to 100 characters")
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"the username '{username}' is taken")
    user = User(
        tenant_id=session_tenant_id(session),
        username=username,
        email=email,
        display_name=display_name,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(
        session, "user.created", actor_user_id=actor.user_id if actor else None, target_type="user", target_id=username
    )
    set_user_roles(session, user.id, roles, actor=actor, commit=False)
    session.commit()
    return user


def set_user_roles(
    session: Session, user_id: uuid.UUID, role_names: list[str], *, actor: Principal | None = None, commit: bool = True
) -> list[str]:
    """Replace a user's roles; audited as `user.roles.changed`."""
    if actor is not None:
        actor.require("users.write")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    wanted = sorted(set(role_names))
    roles = list(session.exec(select(Role).where(col(Role.name).in_(wanted))))
    unknown = set(wanted) - {r.name for r in roles}
    if unknown:
        raise ValidationFailed(f"unknown role(s): {', '.join(sorted(unknown))}")
    before = [r.name for r in user_roles(session, user_id)]
    if actor is not None and actor.user_id == user_id and "admin" in before and "admin" not in wanted:
        raise Forbidden("you cannot take the admin role from yourself")
    if before != wanted:
        session.exec(delete(UserRole).where(col(UserRole.user_id) == user_id))
        for role in roles:
            session.add(UserRole(tenant_id=user.tenant_id, user_id=user_id, role_id=role.id))
        audit.record(
            session,
            "user.roles.changed",
            actor_user_id=actor.user_id if actor else None,
            target_type="user",
            target_id=user.username,
            meta={"before": before, "after": wanted},
        )
        on_commit(session, functools.partial(session_stamps.bump_user, user_id), key=f"stamp:user:{user_id}")
    if commit:
        session.commit()
    return wanted


def list_roles(session: Session) -> list[Role]:
    return list(session.exec(select(Role).order_by(Role.name)))


def utc(dt: datetime | None) -> datetime | None:
    return dt.astimezone(UTC) if dt else None


@sa_event.listens_for(Session, "before_flush")
def _stamp_deactivated_users(session, flush_context, instances) -> None:
    """A user switched off (or on) by any code path: their open pages re-check after the commit."""
    for obj in session.dirty:
        if isinstance(obj, User) and inspect(obj).attrs.is_active.history.has_changes():
            on_commit(session, functools.partial(session_stamps.bump_user, obj.id), key=f"stamp:user:{obj.id}")
