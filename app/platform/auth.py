"""Staff sign-in, server-side sessions, API keys, users and roles.

The session cookie is `<tenant_id>.<random token>`: the tenant part lets us
open the right `tenant_session` to find the session row (RLS protects the
sessions table like any other), and only SHA-256 of the token is stored.
API keys look like `sfk_<tenant hex>_<secret>`, hashed the same way.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app.platform import audit
from app.platform.db import platform_session, session_tenant_id, tenant_session
from app.platform.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, ValidationFailed
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
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        roles=tuple(r.name for r in roles),
        permissions=_permissions_for_roles(session, [r.id for r in roles]),
        **extra,
    )


# --- sign-in --------------------------------------------------------------------


def _recent_failures(session: Session, username: str, action: str = "auth.login") -> tuple[int, datetime | None]:
    """Failed sign-ins (`<action>.failed`) for this name since its last success, inside the window."""
    settings = get_settings()
    since = utcnow() - timedelta(minutes=settings.login_lockout_minutes)
    last_success = session.exec(
        select(func.max(AuditLog.created_at)).where(
            AuditLog.action == f"{action}.success", AuditLog.target_id == username
        )
    ).one()
    if last_success and last_success > since:
        since = last_success
    count, newest = session.exec(
        select(func.count(), func.max(AuditLog.created_at)).where(
            AuditLog.action == f"{action}.failed", AuditLog.target_id == username, AuditLog.created_at > since
        )
    ).one()
    return count, newest


def check_throttle(
    session: Session, username: str, *, action: str = "auth.login", target_type: str = "user", ip: str = ""
) -> None:
    """Refuse (429, audited as `<action>.throttled`, committed) after
    LOGIN_MAX_FAILURES `<action>.failed` entries for this name in the window."""
    settings = get_settings()
    failures, newest = _recent_failures(session, username, action)
    if failures >= settings.login_max_failures and newest is not None:
        unlock = newest + timedelta(minutes=settings.login_lockout_minutes)
        wait = max(1, int((unlock - utcnow()).total_seconds()))
        audit.record(session, f"{action}.throttled", target_type=target_type, target_id=username, ip=ip)
        session.commit()
        raise TooManyRequests(
            f"too many failed sign-ins; try again in {max(1, round(wait / 60))} minute(s)",
            retry_after=wait,
        )


@dataclass(frozen=True)
class LoginResult:
    cookie_value: str
    expires_at: datetime
    principal: Principal


def login(username: str, password: str, *, shop: str | None = None, ip: str = "", user_agent: str = "") -> LoginResult:
    """Check credentials and open a session. Every outcome is audited."""
    settings = get_settings()
    username = (username or "").strip().lower()
    if not username or not password:
        raise ValidationFailed("enter your username and password")
    tenant = find_tenant(shop)
    with tenant_session(tenant.id) as s:
        check_throttle(s, username, ip=ip)
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
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
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
        audit.record(s, "auth.login.success", actor_user_id=user.id, target_type="user", target_id=username, ip=ip)
        s.commit()
        principal = _principal(s, tenant, user, session_id=row.id)
    return LoginResult(cookie_value=f"{tenant.id}.{token}", expires_at=expires, principal=principal)


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
        return _principal(s, tenant, user, session_id=row.id)


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
    if commit:
        session.commit()
    return wanted


def list_roles(session: Session) -> list[Role]:
    return list(session.exec(select(Role).order_by(Role.name)))


def utc(dt: datetime | None) -> datetime | None:
    return dt.astimezone(UTC) if dt else None
