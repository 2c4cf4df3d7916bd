"""Platform REST routes: health, sign-in, the tenant, users and roles, API
keys, audit log, config, files and the queue dashboard's data."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import col, select

from app.platform import audit, auth, config, health, queues, shop, storage
from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.formatting import CURRENCIES, LOCALES
from app.platform.models import ApiKey, Role, User
from app.platform.overview import overview
from app.platform.text import json_size
from app.platform.web import Day, _check_origin, client_ip, csv_download, current_principal, require
from app.settings import get_settings

health_router = APIRouter(tags=["health"])
router = APIRouter()


@health_router.get("/health/live")
def live() -> dict:
    return {"status": "ok"}


@health_router.get("/health/ready")
async def ready() -> JSONResponse:
    ok, checks = await asyncio.to_thread(health.readiness)
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


# --- auth -----------------------------------------------------------------------


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=500)
    shop: str | None = Field(None, max_length=63, description="tenant slug; the default shop when empty")


class MeOut(BaseModel):
    username: str
    displayName: str
    tenant: dict
    roles: list[str]
    permissions: list[str]


def _me(p: Principal) -> MeOut:
    return MeOut(
        username=p.username,
        displayName=p.display_name,
        tenant={"id": str(p.tenant_id), "slug": p.tenant_slug, "name": p.tenant_name},
        roles=list(p.roles),
        permissions=sorted(p.permissions),
    )


@router.post("/auth/login", tags=["auth"], response_model=MeOut)
async def login(body: LoginBody, request: Request, response: Response) -> MeOut:
    result = await asyncio.to_thread(
        auth.login,
        body.username,
        body.password,
        shop=body.shop or None,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    s = get_settings()
    response.set_cookie(
        s.session_cookie_name,
        result.cookie_value,
        max_age=int(s.session_ttl_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=s.cookie_secure,
        path="/",
    )
    return _me(result.principal)


@router.post("/auth/logout", tags=["auth"], status_code=204)
async def logout(request: Request) -> Response:
    """End the session. From our own pages only, like every other cookie-authenticated
    change: another site must not be able to sign staff out behind their back."""
    _check_origin(request)
    s = get_settings()
    await asyncio.to_thread(auth.logout, request.cookies.get(s.session_cookie_name), ip=client_ip(request))
    response = Response(status_code=204)
    response.delete_cookie(s.session_cookie_name, path="/", httponly=True, samesite="lax", secure=s.cookie_secure)
    return response


@router.get("/auth/me", tags=["auth"], response_model=MeOut)
def me(principal: Principal = Depends(current_principal)) -> MeOut:
    return _me(principal)


# --- tenant ---------------------------------------------------------------------


def _tenant_out(principal: Principal, settings: shop.ShopSettings) -> dict:
    return {
        "id": str(principal.tenant_id),
        "slug": principal.tenant_slug,
        "name": settings.name,
        "format": {"locale": settings.locale, "currency": settings.currency, "timezone": settings.timezone},
    }


@router.get("/tenant", tags=["tenant"])
def tenant_overview(principal: Principal = Depends(current_principal)) -> dict:
    with tenant_session(principal.tenant_id) as s:
        o = overview(s)
        settings = shop.shop_settings(s)
    return {
        **_tenant_out(principal, settings),
        "counts": {
            "users": o.users,
            "activeSessions": o.active_sessions,
            "eventsToday": o.events_today,
            "eventsWaiting": o.events_waiting,
        },
    }


class TenantPatch(BaseModel):
    """How the shop writes money and time; fields left out stay as they are."""

    locale: str | None = Field(None, max_length=20, description="one of " + ", ".join(LOCALES))
    currency: str | None = Field(None, max_length=3, description="one of " + ", ".join(CURRENCIES))
    timezone: str | None = Field(None, max_length=64, description="an IANA time zone, e.g. Europe/Amsterdam")


@router.patch("/tenant", tags=["tenant"])
def update_tenant(body: TenantPatch, principal: Principal = Depends(require(shop.PERMISSION))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        settings = shop.update_shop_format(
            s, actor=principal, locale=body.locale, currency=body.currency, timezone=body.timezone
        )
    return _tenant_out(principal, settings)


# --- users and roles ----------------------------------------------------------------


RoleName = Annotated[str, Field(max_length=50)]


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    displayName: str
    email: str
    isActive: bool
    roles: list[str]
    lastLoginAt: datetime | None


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=auth.MIN_PASSWORD_LENGTH, max_length=500)
    displayName: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    roles: list[RoleName] = Field(default_factory=lambda: ["viewer"], max_length=20)


class RolesBody(BaseModel):
    roles: list[RoleName] = Field(max_length=20)


@router.get("/roles", tags=["users"])
def roles(principal: Principal = Depends(require("users.read"))) -> list[dict]:
    from app.platform.permissions import ROLES

    with tenant_session(principal.tenant_id) as s:
        return [
            {"name": r.name, "description": r.description, "permissions": sorted(ROLES.get(r.name, ("", set()))[1])}
            for r in auth.list_roles(s)
        ]


def _user_out(s, user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        displayName=user.display_name,
        email=user.email,
        isActive=user.is_active,
        roles=[r.name for r in auth.user_roles(s, user.id)],
        lastLoginAt=user.last_login_at,
    )


@router.get("/users", tags=["users"], response_model=list[UserOut])
def list_users(principal: Principal = Depends(require("users.read"))) -> list[UserOut]:
    with tenant_session(principal.tenant_id) as s:
        return [_user_out(s, u) for u in s.exec(select(User).order_by(User.username))]


@router.post("/users", tags=["users"], response_model=UserOut, status_code=201)
def create_user(body: UserCreate, principal: Principal = Depends(require("users.write"))) -> UserOut:
    with tenant_session(principal.tenant_id) as s:
        user = auth.create_user(
            s,
            username=body.username,
            password=body.password,
            roles=body.roles,
            display_name=body.displayName,
            email=body.email,
            actor=principal,
        )
        return _user_out(s, user)


@router.put("/users/{user_id}/roles", tags=["users"], response_model=UserOut)
def set_roles(user_id: uuid.UUID, body: RolesBody, principal: Principal = Depends(require("users.write"))) -> UserOut:
    with tenant_session(principal.tenant_id) as s:
        auth.set_user_roles(s, user_id, body.roles, actor=principal)
        user = s.get(User, user_id)
        assert user is not None  # set_user_roles raised NotFound otherwise
        return _user_out(s, user)


# --- API keys ---------------------------------------------------------------------


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: str = Field("viewer", max_length=50)  # the least privilege unless asked for more


def _key_out(s, key: ApiKey) -> dict:
    role = s.get(Role, key.role_id)
    return {
        "id": str(key.id),
        "name": key.name,
        "prefix": key.key_prefix,
        "role": role.name if role else "",
        "createdAt": key.created_at,
        "lastUsedAt": key.last_used_at,
        "revokedAt": key.revoked_at,
    }


@router.get("/api-keys", tags=["api keys"])
def list_api_keys(principal: Principal = Depends(require("admin.operations"))) -> list[dict]:
    with tenant_session(principal.tenant_id) as s:
        return [_key_out(s, k) for k in s.exec(select(ApiKey).order_by(col(ApiKey.created_at).desc()))]


@router.post("/api-keys", tags=["api keys"], status_code=201)
def create_api_key(body: ApiKeyCreate, principal: Principal = Depends(require("admin.operations"))) -> dict:
    """The `key` field is shown once: store it now."""
    with tenant_session(principal.tenant_id) as s:
        key, secret = auth.create_api_key(s, name=body.name, role_name=body.role, actor=principal)
        return {**_key_out(s, key), "key": secret}


@router.delete("/api-keys/{key_id}", tags=["api keys"], status_code=204)
def revoke_api_key(key_id: uuid.UUID, principal: Principal = Depends(require("admin.operations"))) -> Response:
    with tenant_session(principal.tenant_id) as s:
        auth.revoke_api_key(s, key_id, actor=principal)
    return Response(status_code=204)


# --- audit log and config -------------------------------------------------------------


def _audit_filter(
    action: str = Query("", max_length=100),
    user: str = Query("", max_length=100, description="the actor's username"),
    date_from: Day | None = Query(None, alias="from", description="first day (the shop's time zone)"),
    date_to: Day | None = Query(None, alias="to", description="last day, included"),
    newest_first: bool = Query(True, alias="newestFirst"),
) -> audit.AuditFilter:
    return audit.AuditFilter(action=action, user=user, date_from=date_from, date_to=date_to, newest_first=newest_first)


@router.get("/audit-log", tags=["audit"])
def audit_log(
    principal: Principal = Depends(require("audit.read")),
    f: audit.AuditFilter = Depends(_audit_filter),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> list[dict]:
    with tenant_session(principal.tenant_id) as s:
        rows, _ = audit.search(s, f, principal.fmt, offset=offset, limit=limit)
        return [
            {
                "id": str(a.id),
                "action": a.action,
                "actorUserId": a.actor_user_id,
                "targetType": a.target_type,
                "targetId": a.target_id,
                "metadata": a.meta,
                "ip": a.ip,
                "createdAt": a.created_at,
            }
            for a in rows
        ]


AUDIT_EXPORT_HEADER = ("When", "Action", "Who", "Target", "IP address", "Details")


@router.get("/audit-log/export.csv", tags=["audit"])
def export_audit_log(
    principal: Principal = Depends(require("audit.read")), f: audit.AuditFilter = Depends(_audit_filter)
):
    """Every entry matching the filters (the audit page's, without paging) as
    CSV, times in the shop's time zone and words."""
    fmt = principal.fmt

    def rows():
        with tenant_session(principal.tenant_id) as s:
            names = audit.actor_names(s)
            entries, _ = audit.search(s, f, fmt, limit=None)
            for a in entries:
                yield (
                    fmt.when(a.created_at, seconds=True),
                    audit.action_label(a.action),
                    names.get(a.actor_user_id, "") if a.actor_user_id else "",
                    audit.target_label(a),
                    a.ip,
                    audit.describe(a.meta),
                )

    today = fmt.local(datetime.now(UTC)).date()
    return csv_download(f"audit-log-{today.isoformat()}.csv", AUDIT_EXPORT_HEADER, rows())


@router.get("/config", tags=["settings"])
def get_config(principal: Principal = Depends(require("settings.read"))) -> dict[str, Any]:
    with tenant_session(principal.tenant_id) as s:
        return config.all_values(s)


class ConfigValue(BaseModel):
    value: Annotated[Any, json_size(20_000)]


@router.put("/config/{key}", tags=["settings"])
def put_config(
    body: ConfigValue, key: str = Path(max_length=100), principal: Principal = Depends(require("settings.write"))
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        config.set_value(s, key, body.value, actor_user_id=principal.user_id)
        s.commit()
        return {"key": key, "value": config.get(s, key)}


# --- files ------------------------------------------------------------------------------


@router.get("/files/{key:path}", tags=["files"])
def get_file(key: str = Path(max_length=500), principal: Principal = Depends(current_principal)) -> Response:
    """A tenant's stored file, to signed-in staff of that tenant only."""
    f = storage.for_tenant(principal.tenant_id).get(key)
    return Response(
        f.data,
        media_type=f.content_type,
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )


# --- queues -----------------------------------------------------------------------------

JOB_ID = r"^[A-Za-z0-9_-]+$"  # what a queued job's id may hold (anything else names no job)


def _is_default_tenant(principal: Principal) -> bool:
    try:
        return auth.find_tenant(None).id == principal.tenant_id
    except Exception:
        return False


@router.get("/queues", tags=["operations"])
def queue_dashboard(principal: Principal = Depends(require("admin.operations"))) -> dict:
    return {
        "queues": [q.__dict__ for q in queues.queue_stats()],
        "workers": [w.__dict__ for w in queues.workers()],
        "failed": [j.__dict__ for j in queues.failed_jobs(principal, default_tenant=_is_default_tenant(principal))],
    }


@router.post("/queues/failed/{job_id}/requeue", tags=["operations"], status_code=202)
def requeue(
    job_id: str = Path(pattern=JOB_ID, max_length=100), principal: Principal = Depends(require("admin.operations"))
) -> dict:
    queues.requeue_failed(job_id, principal, default_tenant=_is_default_tenant(principal))
    return {"requeued": job_id}
