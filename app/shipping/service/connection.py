"""The Sendcloud connection: connect, disconnect, settings and test, and this
process's caches that follow it (a client per shop, the webhook route per shop
slug), kept fresh by a version stamp in Redis: connecting or disconnecting
re-initialises every web and worker process without a restart
(`integration.sendcloud-changed`, seed 003)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.integrations import sendcloud as sc
from app.platform import audit, outbound
from app.platform.auth import Principal
from app.platform.clients import ClientCache
from app.platform.db import session_tenant_id
from app.platform.errors import NotFound, ValidationFailed
from app.platform.events import publish
from app.platform.models import Tenant, utcnow
from app.settings import get_settings
from app.shipping import machine
from app.shipping.models import SendcloudConnection
from app.shipping.service._common import SOURCE, changed

CLIENTS: ClientCache[sc.SendcloudClient] = ClientCache("sendcloud")


def connection(session: Session) -> SendcloudConnection | None:
    """The shop's live connection, or None: manual mode."""
    return session.exec(select(SendcloudConnection).where(col(SendcloudConnection.disconnected_at).is_(None))).first()


def bump_version(tenant_id: uuid.UUID | str) -> None:
    """Every process drops its cached client and webhook route for the shop at its next use."""
    CLIENTS.bump(tenant_id)


def forget_client(tenant_id: uuid.UUID | None = None) -> None:
    CLIENTS.forget(tenant_id)


def make_client(conn: SendcloudConnection, *, retries: int = 2, timeout: float = 20.0) -> sc.SendcloudClient:
    return sc.SendcloudClient(
        conn.public_key,
        conn.secret_key,
        api_base=conn.api_base_url or sc.DEFAULT_API_BASE,
        timeout=timeout,
        retries=retries,
    )


def client(session: Session) -> sc.SendcloudClient | None:
    """This process's client for the session's shop, or None in manual mode.
    Re-created when the connection changed (Redis version stamp or row)."""
    conn, tid = connection(session), session_tenant_id(session)
    if conn is None:
        return CLIENTS.none(tid)
    fingerprint = (conn.id, conn.public_key, conn.secret_key, conn.api_base_url, conn.connected_at)
    return CLIENTS.get(tid, fingerprint, lambda: make_client(conn))


# --- the webhook route per shop (tenant slug → tenant and signing key) ------------------------


def _signing_key(session: Session) -> str | None:
    conn = connection(session)
    return (conn.webhook_secret or conn.secret_key) if conn is not None else None


def route(tenant_slug: str) -> tuple[uuid.UUID, str] | None:
    """(shop, webhook signing key) for a shop slug, cached briefly (webhooks
    come in bursts); a disconnect or new keys (a new version stamp) take
    effect at once."""
    return CLIENTS.route(tenant_slug, _signing_key)


def forget_routes() -> None:
    CLIENTS.forget_routes()


def webhook_url(session: Session) -> str:
    """Where Sendcloud should send this shop's parcel status webhooks (set it
    in the Sendcloud panel, on the API integration)."""
    slug = session.exec(select(Tenant.slug).where(Tenant.id == session_tenant_id(session))).first()
    return f"{get_settings().api_url.rstrip('/')}/api/v1/webhooks/sendcloud/{slug}"


# --- connecting, settings, disconnecting -----------------------------------------------------


@dataclass
class ParcelDefaults:
    """What a parcel weighs and measures when its products do not say."""

    weight_grams: int | None = None
    length_cm: int | None = None
    width_cm: int | None = None
    height_cm: int | None = None
    pc_weight_grams: int | None = None
    pc_length_cm: int | None = None
    pc_width_cm: int | None = None
    pc_height_cm: int | None = None


def _bump_after_commit(session: Session) -> None:
    CLIENTS.bump_after_commit(session)


def _refusal(lead: str, exc: sc.SendcloudError) -> str:
    return exc.message if exc.status_code is None else f"{lead}: {exc.message}"


def connect(
    session: Session,
    *,
    public_key: str,
    secret_key: str,
    webhook_secret: str = "",
    api_base_url: str = "",
    actor: Principal,
    test: bool = True,
) -> SendcloudConnection:
    """Save (and by default test) the API keys; every process re-initialises
    its client. The first sender address and shipping method Sendcloud lists
    become the defaults until staff choose others."""
    actor.require("settings.write")
    public_key, secret_key = public_key.strip(), secret_key.strip()
    if not public_key or not secret_key:
        raise ValidationFailed("enter the public and secret key of your Sendcloud API integration")
    if len(public_key) > 200 or len(secret_key) > 200 or len(webhook_secret) > 200:
        raise ValidationFailed("a Sendcloud key has at most 200 characters")
    base = api_base_url.strip().rstrip("/")
    if base:
        try:
            outbound.check_url(outbound.SENDCLOUD, base)
        except outbound.OutboundRefused as exc:
            raise ValidationFailed(exc.message) from exc
    conn = session.exec(select(SendcloudConnection)).first()
    if conn is None:
        conn = SendcloudConnection(tenant_id=session_tenant_id(session), public_key="", secret_key="")
    conn.public_key, conn.secret_key, conn.webhook_secret = public_key, secret_key, webhook_secret.strip()
    conn.api_base_url = base
    if test:
        with make_client(conn, retries=0, timeout=15.0) as c:
            try:
                c.user()
                senders = c.sender_addresses()
                methods = c.shipping_methods(sender_address=senders[0]["id"] if senders else None)
            except sc.SendcloudError as exc:
                raise ValidationFailed(_refusal("Sendcloud refused these keys", exc)) from exc
        if conn.sender_address_id is None and senders:
            conn.sender_address_id, conn.sender_address = int(senders[0]["id"]), _sender_words(senders[0])
        if conn.shipping_method_id is None:
            home = [m for m in methods if m.get("service_point_input") != "required"] or methods
            if home:
                conn.shipping_method_id, conn.shipping_method_name = int(home[0]["id"]), str(home[0].get("name", ""))
        if conn.service_point_method_id is None:
            points = [m for m in methods if m.get("service_point_input") == "required"]
            if points:
                conn.service_point_method_id = int(points[0]["id"])
                conn.service_point_method_name = str(points[0].get("name", ""))[:200]
    conn.connected_at, conn.disconnected_at, conn.last_error, conn.updated_at = utcnow(), None, "", utcnow()
    session.add(conn)
    session.flush()
    audit.record(
        session,
        "integration.sendcloud.connected",
        actor_user_id=actor.user_id,
        target_type="sendcloud_connection",
        target_id=str(conn.id),
    )
    publish(session, "integration.sendcloud-changed", {"action": "connected"}, source=SOURCE)
    _bump_after_commit(session)
    changed(session)
    return conn


def _sender_words(sender: dict) -> str:
    parts = [
        sender.get("company_name") or sender.get("contact_name") or "",
        " ".join(str(sender.get(k) or "") for k in ("street", "house_number")).strip(),
        " ".join(str(sender.get(k) or "") for k in ("postal_code", "city")).strip(),
        str(sender.get("country") or ""),
    ]
    return ", ".join(p for p in parts if p)[:500]


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
        "integration.sendcloud.disconnected",
        actor_user_id=actor.user_id,
        target_type="sendcloud_connection",
        target_id=str(conn.id),
    )
    publish(session, "integration.sendcloud-changed", {"action": "disconnected"}, source=SOURCE)
    _bump_after_commit(session)
    changed(session)


def _size(value: int | None, low: int, high: int, what: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationFailed(f"{what} must be a whole number from {low} to {high}")
    return value


def update_settings(
    session: Session,
    *,
    actor: Principal,
    sender_address_id: int | None = None,
    shipping_method_id: int | None = None,
    service_point_method_id: int | None = None,
    label_format: str | None = None,
    defaults: ParcelDefaults | None = None,
    reconcile_minutes: int | None = None,
) -> SendcloudConnection:
    """The sender address, default shipping methods (home, and to a service
    point), label format and parcel defaults; sender and methods must be ones
    Sendcloud lists for the account (a service point method delivers to points)."""
    actor.require("settings.write")
    conn = connection(session)
    if conn is None:
        raise NotFound("Sendcloud is not connected")
    if label_format is not None:
        if label_format not in machine.LABEL_FORMAT:
            raise ValidationFailed("the label format is a6 (label printer) or a4 (sheet)")
        conn.label_format = label_format
    if sender_address_id is not None or shipping_method_id is not None or service_point_method_id is not None:
        with make_client(conn, retries=1, timeout=60.0) as c:  # shipping methods can be slow (contract §2)
            try:
                if sender_address_id is not None:
                    senders = {int(s["id"]): s for s in c.sender_addresses()}
                    if sender_address_id not in senders:
                        raise ValidationFailed("Sendcloud has no such sender address for this account")
                    conn.sender_address_id = sender_address_id
                    conn.sender_address = _sender_words(senders[sender_address_id])
                if shipping_method_id is not None:
                    methods = {int(m["id"]): m for m in c.shipping_methods(sender_address=conn.sender_address_id)}
                    if shipping_method_id not in methods:
                        raise ValidationFailed("Sendcloud offers no such shipping method from this sender address")
                    conn.shipping_method_id = shipping_method_id
                    conn.shipping_method_name = str(methods[shipping_method_id].get("name", ""))[:200]
                if service_point_method_id is not None:
                    methods = {int(m["id"]): m for m in c.shipping_methods(sender_address=conn.sender_address_id)}
                    chosen = methods.get(service_point_method_id)
                    if chosen is None or chosen.get("service_point_input") != "required":
                        raise ValidationFailed("Sendcloud offers no such method to service points from this sender")
                    conn.service_point_method_id = service_point_method_id
                    conn.service_point_method_name = str(chosen.get("name", ""))[:200]
            except sc.SendcloudError as exc:
                raise ValidationFailed(_refusal("Sendcloud could not list them", exc)) from exc
    if defaults is not None:
        d = defaults
        if d.weight_grams is not None:
            conn.default_weight_grams = _size(d.weight_grams, 1, 70_000, "the default weight in grams") or 1
        if d.pc_weight_grams is not None:
            conn.pc_weight_grams = _size(d.pc_weight_grams, 1, 70_000, "a PC's weight in grams") or 1
        for field in ("length_cm", "width_cm", "height_cm"):
            for prefix, words in (("default_", "the default"), ("pc_", "a PC box's")):
                value = getattr(d, (prefix if prefix == "pc_" else "") + field)
                if value is not None:
                    setattr(conn, prefix + field, _size(value, 1, 300, f"{words} {field.split('_')[0]} in cm"))
    if reconcile_minutes is not None:
        conn.reconcile_minutes = _size(reconcile_minutes, 5, 1440, "the tracking check interval in minutes") or 30
    conn.updated_at = utcnow()
    session.add(conn)
    audit.record(
        session,
        "integration.sendcloud.settings",
        actor_user_id=actor.user_id,
        target_type="sendcloud_connection",
        target_id=str(conn.id),
        meta={
            "senderAddressId": conn.sender_address_id,
            "shippingMethodId": conn.shipping_method_id,
            "servicePointMethodId": conn.service_point_method_id,
            "labelFormat": conn.label_format,
        },
    )
    changed(session)
    return conn


def choices(session: Session) -> tuple[list[dict], list[dict]]:
    """The account's sender addresses and shipping methods, as Sendcloud lists them."""
    conn = connection(session)
    if conn is None:
        raise NotFound("Sendcloud is not connected")
    with make_client(conn, retries=1, timeout=60.0) as c:
        try:
            senders = c.sender_addresses()
            methods = c.shipping_methods(sender_address=conn.sender_address_id)
        except sc.SendcloudError as exc:
            raise ValidationFailed(_refusal("Sendcloud could not list them", exc)) from exc
    return (
        [{"id": int(s["id"]), "name": _sender_words(s)} for s in senders],
        [
            {
                "id": int(m["id"]),
                "name": str(m.get("name", "")),
                "carrier": str(m.get("carrier", "")),
                "servicePoint": m.get("service_point_input") == "required",
            }
            for m in methods
        ],
    )


def test_connection(session: Session) -> str:
    """A credential check with the saved keys: the message, or ValidationFailed."""
    conn = connection(session)
    if conn is None:
        raise ValidationFailed("Sendcloud is not connected (manual mode)")
    with make_client(conn, retries=0, timeout=15.0) as c:
        try:
            user = c.user()
        except sc.SendcloudError as exc:
            raise ValidationFailed(_refusal("Sendcloud refused", exc)) from exc
    who = user.get("company_name") or user.get("username") or "your account"
    return f"Connected to Sendcloud as {who}: the API keys are valid."
