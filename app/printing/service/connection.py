"""The SimplyPrint connection: connect, disconnect, settings and test, and
this process's caches that follow it (a client per tenant, the webhook route
per shop slug), kept fresh by a version stamp in Redis so connecting or
disconnecting re-initialises every web and worker process without a restart."""

from __future__ import annotations

import logging
import secrets
import uuid

from sqlmodel import Session, col, select

from app.integrations import simplyprint as sp
from app.platform import audit, outbound
from app.platform.auth import Principal
from app.platform.clients import ClientCache
from app.platform.db import session_tenant_id
from app.platform.errors import NotFound, ValidationFailed
from app.platform.events import publish
from app.platform.models import Tenant, utcnow
from app.printing.models import SimplyPrintConnection
from app.printing.service._common import SOURCE, _changed
from app.printing.service.triggers import submit_after_commit
from app.settings import get_settings

log = logging.getLogger(__name__)


def connection(session: Session) -> SimplyPrintConnection | None:
    return session.exec(
        select(SimplyPrintConnection).where(col(SimplyPrintConnection.disconnected_at).is_(None))
    ).first()


CLIENTS: ClientCache[sp.SimplyPrintClient] = ClientCache("simplyprint")
VERSION_KEY = CLIENTS.version_key


def _version(tenant_id: uuid.UUID) -> str:
    return CLIENTS.version(tenant_id)


def bump_version(tenant_id: uuid.UUID | str) -> None:
    """Every process drops its cached client for the tenant at its next use."""
    CLIENTS.bump(tenant_id)


def _bump_after_commit(session: Session) -> None:
    """bump_version once this transaction commits (once, however many changes)."""
    CLIENTS.bump_after_commit(session)


def forget_client(tenant_id: uuid.UUID | None = None) -> None:
    CLIENTS.forget(tenant_id)


def make_client(conn: SimplyPrintConnection, *, retries: int = 2) -> sp.SimplyPrintClient:
    return sp.SimplyPrintClient(
        conn.company_id,
        conn.api_key,
        api_base=conn.api_base_url or sp.DEFAULT_API_BASE,
        files_base=conn.files_base_url or sp.DEFAULT_FILES_BASE,
        timeout=15.0,
        retries=retries,
    )


def client(session: Session) -> sp.SimplyPrintClient | None:
    """This process's client for the session's tenant, or None in manual mode.
    Re-created when the connection changed (Redis version stamp or row)."""
    conn, tid = connection(session), session_tenant_id(session)
    if conn is None:
        return CLIENTS.none(tid)
    fingerprint = (conn.id, conn.company_id, conn.api_key, conn.api_base_url, conn.files_base_url, conn.connected_at)
    return CLIENTS.get(tid, fingerprint, lambda: make_client(conn))


# --- the webhook route per shop (tenant slug → tenant and secret) ----------------------------


def _webhook_secret(session: Session) -> str | None:
    conn = connection(session)
    return conn.webhook_secret if conn is not None else None


def _route(tenant_slug: str) -> tuple[uuid.UUID, str] | None:
    """(tenant, webhook secret) for a tenant slug, cached briefly (webhooks come
    in bursts); a changed secret or a disconnect (a new version stamp) takes
    effect at once."""
    return CLIENTS.route(tenant_slug, _webhook_secret)


def forget_routes(tenant_slug: str | None = None) -> None:
    """Drop one shop's cached webhook route, or every one."""
    CLIENTS.forget_routes(tenant_slug)


# --- connecting and disconnecting ------------------------------------------------------------


def webhook_url(session: Session) -> str:
    """Where SimplyPrint should send this tenant's webhooks."""
    slug = session.exec(select(Tenant.slug).where(Tenant.id == session_tenant_id(session))).first()
    return f"{get_settings().api_url.rstrip('/')}/api/v1/webhooks/simplyprint/{slug}"


def connect(
    session: Session,
    *,
    company_id: str | int,
    api_key: str,
    webhook_secret: str = "",
    api_base_url: str = "",
    files_base_url: str = "",
    actor: Principal,
    test: bool = True,
) -> SimplyPrintConnection:
    """Save (and by default test) the credentials; every process re-initialises
    its client. An empty webhook secret gets a generated one."""
    actor.require("settings.write")
    company = str(company_id).strip()
    if not company.isdigit():
        raise ValidationFailed("the company id is the number in your SimplyPrint panel URL (simplyprint.io/panel/<id>)")
    if not api_key.strip():
        raise ValidationFailed("enter the SimplyPrint API key")
    secret = webhook_secret.strip() or secrets.token_urlsafe(24)
    if len(secret) > 128:
        raise ValidationFailed("the webhook secret has at most 128 characters")
    for url in (api_base_url, files_base_url):
        if url.strip():
            try:
                outbound.check_url(outbound.SIMPLYPRINT, url.strip())
            except outbound.OutboundRefused as exc:
                raise ValidationFailed(exc.message) from exc
    conn = session.exec(select(SimplyPrintConnection)).first()
    if conn is None:
        conn = SimplyPrintConnection(
            tenant_id=session_tenant_id(session), company_id=company, api_key="", webhook_secret=""
        )
    conn.company_id, conn.api_key, conn.webhook_secret = company, api_key.strip(), secret
    conn.api_base_url, conn.files_base_url = api_base_url.strip().rstrip("/"), files_base_url.strip().rstrip("/")
    if test:
        with make_client(conn, retries=0) as c:
            try:
                c.test()
            except sp.SimplyPrintError as exc:
                raise ValidationFailed(_refusal("SimplyPrint refused these credentials", exc)) from exc
    conn.connected_at, conn.disconnected_at, conn.last_error, conn.updated_at = utcnow(), None, "", utcnow()
    session.add(conn)
    session.flush()
    audit.record(
        session,
        "integration.simplyprint.connected",
        actor_user_id=actor.user_id,
        target_type="simplyprint_connection",
        target_id=company,
    )
    publish(session, "integration.simplyprint-changed", {"action": "connected"}, source=SOURCE)
    _bump_after_commit(session)
    _changed(session)
    submit_after_commit(session)
    return conn


def disconnect(session: Session, *, actor: Principal) -> None:
    """Forget the connection (kept, marked disconnected): manual mode from now on."""
    actor.require("settings.write")
    conn = connection(session)
    if conn is None:
        return
    conn.disconnected_at, conn.updated_at = utcnow(), utcnow()
    session.add(conn)
    audit.record(
        session,
        "integration.simplyprint.disconnected",
        actor_user_id=actor.user_id,
        target_type="simplyprint_connection",
        target_id=conn.company_id,
    )
    publish(session, "integration.simplyprint-changed", {"action": "disconnected"}, source=SOURCE)
    _bump_after_commit(session)
    _changed(session)


def update_connection_settings(
    session: Session,
    *,
    actor: Principal,
    poll_minutes: int | None = None,
    reconcile_enabled: bool | None = None,
    queue_group: int | str | None = "",
) -> SimplyPrintConnection:
    actor.require("settings.write")
    conn = connection(session)
    if conn is None:
        raise NotFound("SimplyPrint is not connected")
    if poll_minutes is not None:
        if not isinstance(poll_minutes, int) or not 1 <= poll_minutes <= 1440:
            raise ValidationFailed("poll every 1 to 1440 minutes")
        conn.poll_minutes = poll_minutes
    if reconcile_enabled is not None:
        conn.reconcile_enabled = bool(reconcile_enabled)
    if queue_group != "":
        conn.queue_group = int(queue_group) if queue_group not in (None, 0) else None
    conn.updated_at = utcnow()
    session.add(conn)
    audit.record(
        session,
        "integration.simplyprint.settings",
        actor_user_id=actor.user_id,
        target_type="simplyprint_connection",
        target_id=conn.company_id,
        meta={"pollMinutes": conn.poll_minutes, "reconcileEnabled": conn.reconcile_enabled},
    )
    return conn


def test_connection(session: Session) -> str:
    """account/Test with the saved credentials; the message, or ValidationFailed."""
    conn = connection(session)
    if conn is None:
        raise ValidationFailed("SimplyPrint is not connected (manual mode)")
    with make_client(conn, retries=0) as c:
        try:
            c.test()
        except sp.SimplyPrintError as exc:
            raise ValidationFailed(_refusal("SimplyPrint refused", exc)) from exc
    return f"Connected to SimplyPrint company {conn.company_id}: the API key is valid."


def _refusal(lead: str, exc: sp.SimplyPrintError) -> str:
    """A failed test call as a sentence: SimplyPrint's refusal, or (nothing answered) why not."""
    return exc.message if exc.status_code is None else f"{lead}: {exc.message}"
