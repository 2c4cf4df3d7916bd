"""Shopify webhooks: verified, deduplicated, routed by topic; bad input is refused or shown."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from app.api import create_api
from app.orders.models import LineItem, Order, ProcessedWebhook, ShopifyShop
from app.platform.db import get_engine, tenant_session
from app.platform.models import EventLog, Notification, Outbox
from standins import shopify as standin
from tests.integration.orders_helpers import connect_tenant


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
