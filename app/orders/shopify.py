"""Shopify connection, webhook ingestion and backfill (the domain side;
the HTTP client and mapping are in app/integrations/shopify.py)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.integrations import shopify as api
from app.orders import machine, service, shopify_orders
from app.orders.inputs import OrderInput
from app.orders.models import Order, ProcessedWebhook, ShopifyBackfill, ShopifyShop
from app.orders.shopify_orders import ShopifyFulfillment
from app.platform import audit, live, logs, outbound, tasks
from app.platform.auth import Principal
from app.platform.db import platform_session, session_tenant_id, tenant_session
from app.platform.errors import Conflict, DomainError, NotFound, Unauthorized, ValidationFailed
from app.platform.events import publish
from app.platform.models import EventLog, utcnow
from app.platform.notifications import notify_staff

log = logging.getLogger(__name__)


# --- connection ---------------------------------------------------------------------------


def connection(session: Session) -> ShopifyShop | None:
    return session.exec(select(ShopifyShop).where(col(ShopifyShop.uninstalled_at).is_(None))).first()


def connect(
    session: Session,
    *,
    shop_domain: str,
    access_token: str,
    webhook_secret: str,
    api_base_url: str = "",
    actor: Principal,
) -> ShopifyShop:
    actor.require("settings.write")
    shop_domain = shop_domain.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not shop_domain or not access_token.strip() or not webhook_secret.strip():
        raise ValidationFailed("enter the shop domain, the access token and the webhook secret")
    called = api_base_url.strip() or shop_domain  # what client_for calls
    try:
        outbound.check_url(
            outbound.SHOPIFY, called if called.startswith(("http://", "https://")) else f"https://{called}"
        )
    except outbound.OutboundRefused as exc:
        raise ValidationFailed(exc.message) from exc
    shop = session.exec(select(ShopifyShop)).first()
    if shop is None:
        shop = ShopifyShop(
            tenant_id=session_tenant_id(session),
            shop_domain=shop_domain,
            access_token=access_token.strip(),
            webhook_secret=webhook_secret.strip(),
        )
    shop.shop_domain, shop.access_token, shop.webhook_secret = shop_domain, access_token.strip(), webhook_secret.strip()
    shop.api_base_url = api_base_url.strip()
    shop.installed_at, shop.uninstalled_at = utcnow(), None
    session.add(shop)
    try:
        session.flush()
    except Exception as exc:
        raise Conflict(f"{shop_domain} is already connected to another shop in Shopfloor") from exc
    forget_routes()
    audit.record(
        session,
        "integration.shopify.connected",
        actor_user_id=actor.user_id,
        target_type="shopify_shop",
        target_id=shop_domain,
    )
    publish(session, "integration.shopify-changed", {"action": "connected"}, source="order-service")
    return shop


def disconnect(session: Session, *, actor: Principal) -> None:
    actor.require("settings.write")
    shop = connection(session)
    if shop is None:
        return
    shop.uninstalled_at = utcnow()
    session.add(shop)
    forget_routes()
    audit.record(
        session,
        "integration.shopify.disconnected",
        actor_user_id=actor.user_id,
        target_type="shopify_shop",
        target_id=shop.shop_domain,
    )
    publish(session, "integration.shopify-changed", {"action": "disconnected"}, source="order-service")


def client_for(shop: ShopifyShop, *, transport_retries: int = 3) -> api.ShopifyClient:
    return api.ShopifyClient(
        shop.api_base_url or shop.shop_domain,
        shop.access_token,
        api_version=shop.api_version,
        transport_retries=transport_retries,
    )


# --- webhooks -------------------------------------------------------------------------------


@dataclass
class WebhookResult:
    status: str  # created | updated | cancelled | cancelled-after-shipping | duplicate | stale | unchanged
    order_id: uuid.UUID | None = None


def tenant_for_domain(shop_domain: str) -> uuid.UUID | None:
    with platform_session() as ps:
        return ps.execute(text("SELECT tenant_for_shopify_domain(:d)"), {"d": shop_domain.strip()}).scalar()


_ROUTE_TTL = 30.0  # seconds a process trusts a cached (tenant, secret) for a shop domain
_routes: dict[str, tuple[float, uuid.UUID, str]] = {}


def _route(shop_domain: str) -> tuple[uuid.UUID, str] | None:
    """(tenant, webhook secret) for a shop domain, cached briefly: webhooks
    arrive in bursts and this saves a transaction and a decryption each.
    A changed secret or a disconnect takes effect within _ROUTE_TTL."""
    key = shop_domain.strip().lower()
    hit = _routes.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1], hit[2]
    tenant_id = tenant_for_domain(key)
    if tenant_id is None:
        return None
    with tenant_session(tenant_id) as s:
        shop = connection(s)
        if shop is None:
            return None
        secret = shop.webhook_secret
    if len(_routes) > 1000:
        _routes.clear()
    _routes[key] = (time.monotonic() + _ROUTE_TTL, tenant_id, secret)
    return tenant_id, secret


def forget_routes() -> None:
    _routes.clear()


def handle_webhook(raw_body: bytes, headers: dict[str, str]) -> WebhookResult:
    """Verify, dedupe and apply one Shopify delivery, in one transaction."""
    h = {k.lower(): v for k, v in headers.items()}
    missing = [name for name in api.REQUIRED_WEBHOOK_HEADERS if not h.get(name)]
    if missing:
        raise Unauthorized(f"missing Shopify header(s): {', '.join(missing)}")
    route = _route(h["x-shopify-shop-domain"])
    if route is None:
        raise Unauthorized("this shop is not connected to Shopfloor")
    tenant_id, secret = route
    if not api.verify_webhook(raw_body, h["x-shopify-hmac-sha256"], secret):
        raise Unauthorized("the webhook signature does not match")
    topic = h["x-shopify-topic"].strip().lower()
    with tenant_session(tenant_id) as s:
        if topic not in api.WEBHOOK_TOPICS:
            raise DomainError(
                f"unsupported topic '{topic}' (this endpoint takes {', '.join(api.WEBHOOK_TOPICS)})",
                code="unsupported_topic",
            )
        try:
            payload = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DomainError(f"the body is not valid JSON: {exc}", code="malformed_json") from exc
        try:
            data = shopify_orders.order_from_rest(payload)
        except shopify_orders.PayloadError as exc:
            raise ValidationFailed(str(exc), code="not_an_order") from exc
        correlation = h["x-shopify-webhook-id"]
        logs.bind(correlation_id=correlation)  # everything this delivery causes carries Shopify's webhook id
        fulfilled = shopify_orders.fulfillment_from_rest(payload)
        if topic == "orders/create":
            order, created = create_order(s, data, fulfilled, correlation_id=correlation)
            status = "created" if created else "duplicate"
        elif topic == "orders/updated":
            order, status = service.update_from_shopify(s, data)
            if status == "created":  # one we missed: it may have shipped from Shopify meanwhile
                record_shopify_fulfillment(s, order, fulfilled)
        else:  # orders/cancelled
            order = s.exec(select(Order).where(Order.shopify_order_id == data.shopify_order_id)).first()
            if order is None:
                order, _ = create_order(s, data, fulfilled, correlation_id=correlation)
            status = cancel_from_shopify(s, order, data)
        # The delivery's idempotency record, in the same transaction: a
        # concurrent copy of this delivery waits on the unique key here (or on
        # the order's) and then finds it taken, so it rolls back everything.
        claimed = s.execute(
            insert(ProcessedWebhook)
            .values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                webhook_id=h["x-shopify-webhook-id"][:100],
                webhook_type=topic,
                event_id=h.get("x-shopify-event-id", "")[:100],
                shop_domain=h["x-shopify-shop-domain"][:255],
                triggered_at=h.get("x-shopify-triggered-at", "")[:40],
                received_at=utcnow(),
                order_id=order.id,
            )
            .on_conflict_do_nothing()
            .returning(col(ProcessedWebhook.id))
        ).scalar()
        if claimed is None:
            s.rollback()
            return WebhookResult("duplicate", order.id)
        s.commit()
        return WebhookResult(status, order.id)


def create_order(
    session: Session, data: OrderInput, fulfilled: ShopifyFulfillment, *, correlation_id: str
) -> tuple[Order, bool]:
    """A Shopify order as it stands in Shopify: one it had already fulfilled
    arrives as shipped history (no print work, nothing pushed back), one it
    had partly fulfilled carries a problem for staff to check."""
    order, created = service.create_order(session, data, correlation_id=correlation_id)
    if created:
        record_shopify_fulfillment(session, order, fulfilled)
    return order, created


PARTLY_FULFILLED = "Shopify shows this order partly fulfilled; check what is left to make."


def record_shopify_fulfillment(session: Session, order: Order, fulfilled: ShopifyFulfillment) -> None:
    """What Shopify had shipped of an order Shopfloor has just received. Runs
    in the transaction that created it, so print orchestration (which skips
    completed orders) and the shipping domain never see it as open work."""
    if order.status == "CANCELLED":
        return
    if fulfilled.state == "partial":
        service.add_problem(session, order, PARTLY_FULFILLED)
    elif fulfilled.state == "fulfilled":
        _import_as_shipped(session, order, fulfilled)


def _import_as_shipped(session: Session, order: Order, fulfilled: ShopifyFulfillment) -> None:
    """Shipped history: fulfillment `shipped` (Shopify's status does not say
    whether it was delivered), status COMPLETED, every line done, Shopify's
    tracking and fulfillment id kept (a later tracking change updates that
    fulfillment). No FULFILLMENT entry: Shopify has it already."""
    previous = order.fulfillment_status
    order.fulfillment_status = "shipped"
    order.tracking_number = fulfilled.tracking_number
    order.tracking_url = fulfilled.tracking_url
    order.tracking_carrier = fulfilled.tracking_carrier
    order.shopify_fulfillment_id = fulfilled.fulfillment_id
    order.shipped_at = fulfilled.shipped_at
    order.updated_at = utcnow()
    session.add(order)
    for li in service.line_items(session, order.id):
        if li.status not in ("COMPLETED", "CANCELLED"):
            li.status = "COMPLETED"
            session.add(li)
    tracking = " ".join(p for p in (fulfilled.tracking_carrier, fulfilled.tracking_number) if p)
    service.log_event(
        session,
        order,
        "order.imported-as-shipped",
        "Shopify had already fulfilled this order, so nothing is made for it"
        + (f" (tracking {tracking})" if tracking else " (no tracking in Shopify)"),
        meta={"previousStatus": previous, "newStatus": "shipped", "fulfillmentId": fulfilled.fulfillment_id},
    )
    service.change_status(session, order, "COMPLETED", reason="fulfilled in Shopify before Shopfloor received it")


CANCELLED_AFTER_SHIPPING = "order.cancelled-after-shipping"


def cancel_from_shopify(session: Session, order: Order, data: OrderInput) -> str:
    """orders/cancelled. An order that has not shipped is cancelled. One that
    has (or whose parcel the carrier already has, so the cancellation is
    refused) cannot be taken back, but answering Shopify with an error would
    only make it redeliver for hours: the cancellation is accepted, the order
    stays as it is, and its timeline and staff hear, once whatever the
    redeliveries, that the customer cancelled a parcel that is on its way."""
    order = service.get_order(session, order.id, lock=True)  # concurrent deliveries take turns
    if order.status == "CANCELLED":
        return "cancelled"
    reason = data.cancel_reason or "other"
    refused = ""
    if machine.can_cancel(order.status, order.fulfillment_status):
        try:
            with session.begin_nested():  # a refusal (a cancel hook's 409) undoes the attempt, not the delivery
                service.cancel(session, order.id, actor=None, reason=reason, via="shopify")
            return "cancelled"
        except Conflict as exc:
            refused = exc.message
    known = session.exec(
        select(EventLog.id).where(EventLog.order_id == order.id, EventLog.event_type == CANCELLED_AFTER_SHIPPING)
    ).first()
    if known is not None:
        return "cancelled-after-shipping"
    if refused:
        what = f"Shopify cancelled this order (reason: {reason}), but it cannot be cancelled here: {refused}."
        title = f"Order {order.number} was cancelled in Shopify, but its parcel is on its way"
    else:
        sent = "was delivered" if order.fulfillment_status == "completed" else "had shipped"
        what = f"Shopify cancelled this order after it {sent} (reason: {reason})."
        title = f"Order {order.number} was cancelled in Shopify after it {sent}"
    service.log_event(
        session,
        order,
        CANCELLED_AFTER_SHIPPING,
        f"{what} Shopfloor keeps the order as it is; arrange the return or refund with the customer.",
        severity="WARNING",
        meta={"reason": reason, "fulfillmentStatus": order.fulfillment_status, "refused": refused},
    )
    notify_staff(
        session,
        kind=CANCELLED_AFTER_SHIPPING,
        title=title,
        body=f"Reason: {reason}. Shopfloor kept the order as it is; arrange the return or refund with "
        f"{order.customer_name or 'the customer'}.",
        link=f"/orders/{order.id}",
        order_id=order.id,
        severity="WARNING",
    )
    return "cancelled-after-shipping"


# --- backfill --------------------------------------------------------------------------------


def start_backfill(session: Session, since: datetime, *, actor: Principal) -> ShopifyBackfill:
    actor.require("settings.write")
    if connection(session) is None:
        raise ValidationFailed("connect Shopify first (Settings › Integrations)")
    if since > utcnow():
        raise ValidationFailed("the start date is in the future")
    running = session.exec(
        select(ShopifyBackfill).where(col(ShopifyBackfill.status).in_(("QUEUED", "RUNNING")))
    ).first()
    if running is not None:
        if not is_stale(running):
            raise Conflict("an import is already running")
        running.status, running.error = "FAILED", "interrupted (no progress for a while); a new import replaced it"
        session.add(running)
    run = ShopifyBackfill(tenant_id=session_tenant_id(session), since=since, started_by_id=actor.user_id)
    session.add(run)
    audit.record(
        session,
        "orders.backfill.started",
        actor_user_id=actor.user_id,
        target_type="shopify_backfill",
        target_id=run.id,
        meta={"since": since.isoformat()},
    )
    return run


def queue_backfill(tenant_id: uuid.UUID | str, run_id: uuid.UUID | str) -> None:
    """Have a worker run (or resume) a backfill, in the shop's line."""
    tasks.enqueue(
        "jobs.orders.backfill",
        str(tenant_id),
        str(run_id),
        queue_name="integrations",
        shop=tenant_id,
        job_timeout=3600,
        description=f"Shopify order import ({tenant_id})",
    )


PROGRESS_CHANNEL = live.CHANNEL


def _progress(tenant_id: uuid.UUID, run: ShopifyBackfill) -> None:
    live.publish(
        tenant_id,
        "backfill",
        id=str(run.id),
        status=run.status,
        seen=run.seen,
        imported=run.imported,
        skipped=run.skipped,
        pages=run.pages,
    )


def run_backfill(tenant_id: uuid.UUID | str, run_id: uuid.UUID | str, *, page_size: int = 50) -> ShopifyBackfill:
    """Page through Shopify's orders from the stored cursor. Each page's
    orders and the new cursor commit together, so a crash resumes at the
    first unfinished page and creates nothing twice."""
    tid = uuid.UUID(str(tenant_id))
    with tenant_session(tid) as s:
        run = s.get(ShopifyBackfill, uuid.UUID(str(run_id)))
        if run is None:
            raise NotFound("no such import")
        if run.status in ("COMPLETED",):
            return run
        shop = connection(s)
        if shop is None:
            run.status, run.error = "FAILED", "Shopify is not connected"
            s.add(run)
            s.commit()
            return run
        run.status, run.updated_at = "RUNNING", utcnow()
        s.add(run)
        s.commit()
        client = client_for(shop)
    query = f"created_at:>='{run.since.isoformat()}'"
    try:
        while True:
            page = client.orders_page(cursor=run.cursor, query=query, first=page_size)
            with tenant_session(tid) as s:
                run = s.exec(select(ShopifyBackfill).where(ShopifyBackfill.id == run.id).with_for_update()).one()
                for node in page.nodes:
                    data = shopify_orders.order_from_graphql(node)
                    run.seen += 1
                    if not data.shopify_order_id:
                        run.skipped += 1
                        continue
                    fulfilled = shopify_orders.fulfillment_from_graphql(node)
                    _, created = create_order(s, data, fulfilled, correlation_id=f"backfill:{run.id}")
                    if created:
                        run.imported += 1
                    else:
                        run.skipped += 1
                run.pages += 1
                run.cursor = page.end_cursor or run.cursor
                run.updated_at = utcnow()
                if not page.has_next:
                    run.status, run.finished_at = "COMPLETED", utcnow()
                s.add(run)
                s.commit()
            _progress(tid, run)
            if not page.has_next:
                break
    except api.ShopifyError as exc:
        with tenant_session(tid) as s:
            run = s.get(ShopifyBackfill, run.id)
            assert run is not None  # read above; import runs are never deleted
            run.status, run.error, run.updated_at = "FAILED", str(exc)[:2000], utcnow()
            s.add(run)
            s.commit()
        _progress(tid, run)
        raise
    finally:
        client.close()
    return run


STALE_AFTER = timedelta(minutes=5)


def is_stale(run: ShopifyBackfill) -> bool:
    """A QUEUED/RUNNING import that has not moved for a while: its worker died
    and RQ gave up on it. It can be resumed (or replaced)."""
    return run.status in ("QUEUED", "RUNNING") and utcnow() - run.updated_at > STALE_AFTER


def latest_backfill(session: Session) -> ShopifyBackfill | None:
    return session.exec(select(ShopifyBackfill).order_by(col(ShopifyBackfill.created_at).desc())).first()
