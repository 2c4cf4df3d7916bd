"""Shopify webhooks: verified, deduplicated, routed by topic; bad input is refused or shown."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from app.api import create_api
from app.orders import service
from app.orders import shopify as shopify_domain
from app.orders.models import LineItem, Order, ProcessedWebhook, ShopifyShop
from app.platform import auth
from app.platform.db import get_engine, tenant_session
from app.platform.errors import Conflict
from app.platform.models import EventLog, Notification, Outbox, RetryEntry
from app.printing import service as printing
from app.printing.models import PrintJob
from standins import shopify as standin
from tests.factories import PASSWORD
from tests.integration.orders_helpers import ShopCtx, connect_tenant


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture
def shop(api):
    return connect_tenant(api)


def _count(tenant, model, *where) -> int:
    with tenant_session(tenant.id) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_orders_create_webhook_creates_the_order_with_everything(shop, worker):
    payload = standin.make_order(42)
    r = shop.webhook("orders/create", payload)
    assert r.status_code == 200 and r.json()["status"] == "created"
    with tenant_session(shop.tenant.id) as s:
        order = s.exec(select(Order)).one()
        items = s.exec(select(LineItem).where(LineItem.order_id == order.id)).all()
    assert order.number == payload["name"] and order.source == "shopify"
    assert order.shopify_order_id == str(payload["id"]) and order.status == "PENDING"
    assert order.fulfillment_status == "unfulfilled"
    addr = payload["shipping_address"]
    assert order.ship_city == addr["city"] and order.ship_country_code == addr["country_code"]
    assert f"{order.ship_street} {order.ship_house_number}".strip() == addr["address1"].strip()
    assert str(order.total) == payload["total_price"] and order.currency == payload["currency"]
    assert len(items) == len(payload["line_items"])
    assert {i.sku for i in items} == {li["sku"] for li in payload["line_items"]}
    assert _count(shop.tenant, Outbox, Outbox.event_type == "order.created") == 1
    worker()  # the outbox handler notifies staff
    assert _count(shop.tenant, Notification, Notification.kind == "order.created") >= 1


def test_forged_or_unsigned_webhooks_are_refused_and_store_nothing(shop):
    payload = standin.make_order(7)
    r = shop.webhook("orders/create", payload, secret="not-the-secret")
    assert r.status_code == 401 and r.json()["error"]["message"] == "the webhook signature does not match"
    body = json.dumps(payload).encode()
    r = shop.client.post(
        "/api/v1/webhooks/shopify",
        content=body,
        headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": shop.domain, "X-Shopify-Webhook-Id": "x"},
    )
    assert r.status_code == 401 and "x-shopify-hmac-sha256" in r.json()["error"]["message"]
    tampered = body.replace(b'"quantity": ', b'"quantity": 9')
    headers = standin.webhook_headers(
        body, topic="orders/create", secret="shpss_test_secret_123", shop_domain=shop.domain
    )
    assert shop.client.post("/api/v1/webhooks/shopify", content=tampered, headers=headers).status_code == 401
    r = shop.webhook("orders/create", payload, headers={"X-Shopify-Shop-Domain": "unknown.myshopify.com"})
    assert r.status_code == 401
    assert _count(shop.tenant, Order) == 0 and _count(shop.tenant, ProcessedWebhook) == 0


def test_ten_concurrent_replays_create_exactly_one_order(shop, api):
    payload = standin.make_order(11)
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = standin.webhook_headers(
        body,
        topic="orders/create",
        secret="shpss_test_secret_123",
        shop_domain=shop.domain,
        webhook_id="replayed-delivery-1",
    )

    def deliver(_):
        return TestClient(api).post("/api/v1/webhooks/shopify", content=body, headers=headers).json()["status"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(deliver, range(10)))
    assert sorted(statuses).count("created") == 1 and statuses.count("duplicate") == 9
    assert _count(shop.tenant, Order) == 1
    assert _count(shop.tenant, ProcessedWebhook) == 1
    assert _count(shop.tenant, Outbox, Outbox.event_type == "order.created") == 1
    # a different delivery of the same order (Shopify retry with a new id) is still one order
    assert shop.webhook("orders/create", payload).json()["status"] == "duplicate"
    assert _count(shop.tenant, Order) == 1


def test_updated_and_cancelled_topics(shop):
    payload = standin.make_order(3)
    shop.webhook("orders/create", payload)
    newer = json.loads(json.dumps(payload))
    newer["shipping_address"]["city"] = "Rotterdam"
    newer["updated_at"] = "2099-01-01T10:00:00+00:00"
    assert shop.webhook("orders/updated", newer).json()["status"] == "updated"
    stale = json.loads(json.dumps(payload))
    stale["shipping_address"]["city"] = "Old Town"
    assert shop.webhook("orders/updated", stale).json()["status"] == "stale"
    with tenant_session(shop.tenant.id) as s:
        order = s.exec(select(Order)).one()
        assert order.ship_city == "Rotterdam"
    cancelled = dict(newer, cancelled_at="2099-01-02T10:00:00+00:00", cancel_reason="customer")
    assert shop.webhook("orders/cancelled", cancelled).json()["status"] == "cancelled"
    with tenant_session(shop.tenant.id) as s:
        order = s.exec(select(Order)).one()
        assert order.status == "CANCELLED" and order.cancel_reason == "customer"
        assert s.exec(select(Outbox).where(Outbox.event_type == "order.cancelled")).one()
    # an update for an order we never saw creates it
    missed = standin.make_order(4)
    assert shop.webhook("orders/updated", missed).json()["status"] == "created"


def test_bad_input_gets_clear_4xx_or_a_visible_problem(shop):
    r = shop.webhook("orders/create", {}, raw=b'{"id": 1, "name": ')
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    r = shop.webhook("products/create", standin.make_order(5))
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_topic"
    r = shop.webhook("orders/create", {"hello": "world"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_an_order"
    r = shop.client.post("/api/v1/webhooks/shopify", content=b"", headers={"X-Shopify-Topic": "orders/create"})
    assert r.status_code == 400

    no_lines = dict(standin.make_order(6), line_items=[])
    assert shop.webhook("orders/create", no_lines).status_code == 200
    no_sku = standin.make_order(8)
    no_sku["line_items"][0]["sku"] = None
    assert shop.webhook("orders/create", no_sku).status_code == 200
    with tenant_session(shop.tenant.id) as s:
        orders = {o.shopify_order_id: o for o in s.exec(select(Order))}
        assert "without line items" in orders[str(no_lines["id"])].problems[0]
        assert "has no SKU" in orders[str(no_sku["id"])].problems[0]
        warnings = s.exec(select(EventLog).where(EventLog.event_type == "order.problem")).all()
    assert len(warnings) == 2


def test_webhook_secret_and_token_are_encrypted_at_rest(shop):
    with get_engine().connect() as conn:
        from sqlalchemy import text

        conn.execute(text("SELECT set_config('app.tenant_id', :t, false)"), {"t": str(shop.tenant.id)})
        raw = conn.execute(text("SELECT access_token, webhook_secret FROM shopify_shops")).one()
        conn.execute(text("SELECT set_config('app.tenant_id', '', false)"))
    assert raw[0].startswith("gAAAA") and "shpss" not in raw[1]
    with tenant_session(shop.tenant.id) as s:
        assert s.exec(select(ShopifyShop)).one().webhook_secret == "shpss_test_secret_123"


def test_webhooks_reach_only_the_connected_tenant(api):
    a, b = connect_tenant(api), connect_tenant(api)
    payload = standin.make_order(21)
    assert a.webhook("orders/create", payload).status_code == 200
    # b's domain with a's secret: refused, b's shop uses its own secret (same here, so sign wrong)
    assert b.webhook("orders/create", payload, secret="other").status_code == 401
    assert _count(a.tenant, Order) == 1 and _count(b.tenant, Order) == 0


def _print_mappings(shop: ShopCtx, *skus: str) -> None:
    """Print mappings for `skus`, so an order of them that is still wanted gets print jobs."""
    admin = auth.login(shop.admin.username, PASSWORD, shop=shop.tenant.slug).principal
    with tenant_session(shop.tenant.id) as s:
        for sku in skus:
            mapping = printing.create_mapping(s, sku=sku, name=f"Product {sku}", actor=admin)
            printing.add_part(s, mapping.id, part_name="Body", actor=admin)
        s.commit()


def test_orders_shopify_already_fulfilled_arrive_shipped_without_print_work(shop, worker):
    benchy, clips = ("BENCHY-PLA-RED", 1, "Benchy"), ("CABLE-CLIP-10", 2, "Cable clips")
    _print_mappings(shop, "BENCHY-PLA-RED", "CABLE-CLIP-10")
    shopify = standin.ShopifyStandin()  # not served: it only shapes the payloads as Shopify would
    shipped = shopify.add_order(standin.make_order(61, skus=[benchy, clips]))
    shopify.fulfil(
        shipped["id"], tracking={"company": "DHL Express", "number": "JD014600", "url": "https://t.example/1"}
    )
    missed = shopify.add_order(standin.make_order(62, skus=[benchy]))  # we never got its orders/create
    shopify.fulfil(missed["id"])
    partly = shopify.add_order(standin.make_order(63, skus=[benchy, clips]))
    shopify.fulfil(partly["id"], skus={"CABLE-CLIP-10": 1})

    assert shipped["fulfillment_status"] == "fulfilled" and partly["fulfillment_status"] == "partial"
    assert shop.webhook("orders/create", shipped).json()["status"] == "created"
    assert shop.webhook("orders/updated", missed).json()["status"] == "created"
    assert shop.webhook("orders/create", partly).json()["status"] == "created"
    worker()

    with tenant_session(shop.tenant.id) as s:
        orders = {o.shopify_order_id: o for o in s.exec(select(Order))}
        jobs = {
            number: s.exec(select(func.count()).select_from(PrintJob).where(PrintJob.order_id == o.id)).one()
            for number, o in orders.items()
        }
        first = orders[str(shipped["id"])]
        story = s.exec(select(EventLog.event_type).where(EventLog.order_id == first.id)).all()
        pushed = s.exec(select(func.count()).select_from(RetryEntry)).one()
    assert (first.status, first.fulfillment_status) == ("COMPLETED", "shipped")
    assert (first.tracking_carrier, first.tracking_number, first.tracking_url) == (
        "DHL Express",
        "JD014600",
        "https://t.example/1",
    )
    assert first.shopify_fulfillment_id == shipped["fulfillments"][0]["admin_graphql_api_id"]
    assert "order.imported-as-shipped" in story
    late = orders[str(missed["id"])]
    assert (late.status, late.fulfillment_status, late.tracking_number) == ("COMPLETED", "shipped", "")
    assert jobs[str(shipped["id"])] == jobs[str(missed["id"])] == 0 and pushed == 0
    part = orders[str(partly["id"])]
    assert part.fulfillment_status == "unfulfilled" and jobs[str(partly["id"])] == 3
    assert part.problems == [shopify_domain.PARTLY_FULFILLED]


def test_a_cancellation_after_shipping_is_accepted_recorded_and_told_once(api, worker):
    with standin.ShopifyStandin() as shopify:
        shop = connect_tenant(api, shopify.base_url or "")
        payload = shopify.add_order(standin.make_order(71))
        shop.webhook("orders/create", payload)
        with tenant_session(shop.tenant.id) as s:
            oid = str(s.exec(select(Order)).one().id)
        for step in ("ready", "packaging"):
            shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": step})
        shop.client.patch(
            f"/api/v1/orders/{oid}",
            json={"fulfillmentStatus": "shipped", "trackingNumber": "3SCANCEL", "carrier": "PostNL"},
        )
        worker()  # Shopify gets its fulfillment
        with tenant_session(shop.tenant.id) as s:
            before = s.exec(select(Order)).one()

        cancelled = dict(
            payload,
            cancelled_at="2099-01-02T10:00:00+00:00",
            cancel_reason="customer",
            updated_at="2099-01-02T10:00:00+00:00",
        )
        first = shop.webhook("orders/cancelled", cancelled, webhook_id="cancel-delivery-1")
        assert first.status_code == 200 and first.json()["status"] == "cancelled-after-shipping"
        # Shopify retries that delivery, then sends the same cancellation again as a new delivery
        assert (
            shop.webhook("orders/cancelled", cancelled, webhook_id="cancel-delivery-1").json()["status"] == "duplicate"
        )
        again = shop.webhook("orders/cancelled", cancelled)
        assert again.status_code == 200 and again.json()["status"] == "cancelled-after-shipping"
        worker()

        with tenant_session(shop.tenant.id) as s:
            order = s.exec(select(Order)).one()
            entries = s.exec(
                select(EventLog).where(
                    EventLog.order_id == order.id, EventLog.event_type == "order.cancelled-after-shipping"
                )
            ).all()
            notes = s.exec(select(Notification).where(Notification.kind == "order.cancelled-after-shipping")).all()
            cancellations = s.exec(select(Outbox).where(Outbox.event_type == "order.cancelled")).all()
        assert (order.status, order.fulfillment_status) == (before.status, "shipped")
        assert order.cancelled_at is None and order.tracking_number == "3SCANCEL"
        assert len(entries) == 1 and entries[0].severity == "WARNING" and "customer" in entries[0].message
        assert len(notes) == 1 and notes[0].user_id == shop.admin.id and notes[0].severity == "WARNING"
        assert order.number in notes[0].title and notes[0].link == f"/orders/{order.id}"
        assert cancellations == []
        assert len(shopify.fulfillments) == 1  # the parcel that left is still Shopify's fulfillment


def test_a_cancellation_another_domain_refuses_is_accepted_and_changes_nothing(shop):
    """A parcel the carrier already has (the shipping domain's cancel hook says
    409) before the order shows shipped: Shopify still gets its 2xx."""
    payload = standin.make_order(72)
    shop.webhook("orders/create", payload)

    def parcel_with_the_carrier(session, order, actor):
        raise Conflict("the parcel is already with the carrier (in transit); it can no longer be cancelled")

    service.CANCEL_HOOKS.append(parcel_with_the_carrier)
    try:
        cancelled = dict(payload, cancelled_at="2099-01-02T10:00:00+00:00", cancel_reason="customer")
        r = shop.webhook("orders/cancelled", cancelled)
        assert r.status_code == 200 and r.json()["status"] == "cancelled-after-shipping"
    finally:
        service.CANCEL_HOOKS.remove(parcel_with_the_carrier)

    with tenant_session(shop.tenant.id) as s:
        order = s.exec(select(Order)).one()
        lines = s.exec(select(LineItem.status).where(LineItem.order_id == order.id)).all()
        story = s.exec(select(EventLog).where(EventLog.order_id == order.id)).all()
        notes = s.exec(select(Notification).where(Notification.kind == "order.cancelled-after-shipping")).all()
    assert (order.status, order.fulfillment_status, order.cancelled_at) == ("PENDING", "unfulfilled", None)
    assert set(lines) == {"PENDING"}
    assert "order.status-changed" not in {e.event_type for e in story}  # the attempt left no trace
    [entry] = [e for e in story if e.event_type == "order.cancelled-after-shipping"]
    assert "already with the carrier" in entry.message and entry.severity == "WARNING"
    assert len(notes) == 1 and "on its way" in notes[0].title
    assert _count(shop.tenant, Outbox, Outbox.event_type == "order.cancelled") == 0
    assert _count(shop.tenant, ProcessedWebhook) == 2
