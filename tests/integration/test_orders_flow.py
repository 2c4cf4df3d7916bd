"""Staff steps, cancellation, manual orders, the retry queue and Shopify fulfillment."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.api import create_api
from app.orders import service
from app.orders.models import Order
from app.platform.db import tenant_session
from app.platform.models import Notification, RetryEntry
from standins import shopify as standin
from tests.integration.orders_helpers import connect_tenant


@pytest.fixture(scope="module")
def api():
    return create_api()


def _manual(client, **extra):
    body = {
        "customerName": "Grace Hopper",
        "customerEmail": "grace@example.com",
        "street": "Damrak",
        "houseNumber": "1",
        "city": "Amsterdam",
        "postalCode": "1012 LG",
        "countryCode": "nl",
        "lineItems": [{"sku": "PC-CUSTOM", "title": "Custom gaming PC", "quantity": 1, "unitPrice": "1899.00"}],
        **extra,
    }
    return client.post("/api/v1/orders", json=body)


def test_manual_order_is_numbered_and_validated(api):
    shop = connect_tenant(api)
    r = _manual(shop.client, shipping="25.00")
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["number"] == "M-00001" and first["source"] == "manual"
    assert first["pricing"] == {"currency": "EUR", "subtotal": "1899.00", "shipping": "25.00", "total": "1924.00"}
    assert first["shippingAddress"]["countryCode"] == "NL"
    assert _manual(shop.client).json()["number"] == "M-00002"
    r = _manual(shop.client, lineItems=[])
    assert r.status_code == 422 and "lineItems" in r.json()["error"]["message"]
    r = _manual(shop.client, lineItems=[{"sku": "X", "quantity": 0}])
    assert r.status_code == 422
    r = shop.client.post("/api/v1/orders", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_fulfillment_steps_in_order_with_clear_refusals(api):
    shop = connect_tenant(api)
    oid = _manual(shop.client).json()["id"]
    r = shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "shipped"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    assert "unfulfilled to shipped" in r.json()["error"]["message"]
    for step in ("ready", "packaging"):
        r = shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": step})
        assert r.status_code == 200 and r.json()["fulfillmentStatus"] == step
    r = shop.client.patch(
        f"/api/v1/orders/{oid}",
        json={
            "fulfillmentStatus": "shipped",
            "trackingNumber": "3SABC1",
            "carrier": "PostNL",
            "trackingUrl": "https://t.example/3SABC1",
        },
    )
    assert r.json()["tracking"] == {"number": "3SABC1", "url": "https://t.example/3SABC1", "carrier": "PostNL"}
    r = shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "completed"})
    assert r.json()["status"] == "COMPLETED"
    detail = shop.client.get(f"/api/v1/orders/{oid}").json()
    assert [e["eventType"] for e in detail["timeline"]].count("order.fulfillment-changed") == 4
    assert detail["allowedActions"] == []
    r = shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "bogus"})
    assert r.status_code == 422


def test_packaging_gate_refuses_with_what_is_missing(api):
    shop = connect_tenant(api)
    oid = _manual(shop.client).json()["id"]
    shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "ready"})

    def gate(session, order, target):
        return ["coverPhoto", "QA checklist"] if order.id.hex == oid.replace("-", "") else []

    service.FULFILLMENT_GATES.append(gate)
    try:
        r = shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "packaging"})
        assert r.status_code == 409
        assert r.json()["error"]["details"] == {"missing": ["coverPhoto", "QA checklist"]}
    finally:
        service.FULFILLMENT_GATES.remove(gate)
    assert shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "packaging"}).status_code == 200


def _set(tenant, oid, **fields):
    with tenant_session(tenant.id) as s:
        order = s.get(Order, oid)
        assert order is not None
        for k, v in fields.items():
            setattr(order, k, v)
        s.add(order)
        s.commit()


def test_a_print_order_is_not_packed_or_shipped_while_parts_are_unprinted(api):
    """The hole a shop fell through: 0 of 13 parts printed, moved to packaging and marked shipped."""
    shop = connect_tenant(api)
    oid = _manual(shop.client).json()["id"]
    _set(shop.tenant, oid, total_parts=13, completed_parts=0)
    r = shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "ready"})
    assert r.status_code == 409
    assert r.json()["error"]["details"]["missing"] == ["13 of 13 printed part(s) not printed yet"]
    assert "ready" not in shop.client.get(f"/api/v1/orders/{oid}").json()["allowedActions"]
    _set(shop.tenant, oid, fulfillment_status="ready", completed_parts=12)  # however it got there (old data)
    r = shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "packaging"})
    assert r.status_code == 409
    assert r.json()["error"]["details"]["missing"] == ["1 of 13 printed part(s) not printed yet"]
    _set(shop.tenant, oid, completed_parts=13)
    for step in ("packaging", "shipped"):
        assert shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": step}).status_code == 200


def test_cancel_is_idempotent_and_refused_once_shipped(api, worker):
    shop = connect_tenant(api)
    oid = _manual(shop.client).json()["id"]
    first = shop.client.post(f"/api/v1/orders/{oid}/cancel", json={"reason": "customer"})
    second = shop.client.post(f"/api/v1/orders/{oid}/cancel", json={"reason": "customer"})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and first.json()["status"] == "CANCELLED"
    r = shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "ready"})
    assert r.status_code == 409 and "cancelled" in r.json()["error"]["message"]
    worker()
    with tenant_session(shop.tenant.id) as s:
        assert s.exec(select(Notification).where(Notification.kind == "order.cancelled")).first()

    shipped = _manual(shop.client).json()["id"]
    for step in ("ready", "packaging", "shipped"):
        shop.client.patch(f"/api/v1/orders/{shipped}", json={"fulfillmentStatus": step})
    r = shop.client.post(f"/api/v1/orders/{shipped}/cancel")
    assert r.status_code == 409 and "can no longer be cancelled" in r.json()["error"]["message"]
    assert shop.client.post("/api/v1/orders/00000000-0000-0000-0000-000000000000/cancel").status_code == 404


def test_viewer_cannot_change_orders(api):
    from fastapi.testclient import TestClient

    from tests.factories import PASSWORD, make_user

    shop = connect_tenant(api)
    oid = _manual(shop.client).json()["id"]
    viewer = make_user(shop.tenant, "viewer")
    c = TestClient(api)
    c.post("/api/v1/auth/login", json={"username": viewer.username, "password": PASSWORD, "shop": shop.tenant.slug})
    assert c.get(f"/api/v1/orders/{oid}").json()["allowedActions"] == []
    assert c.post(f"/api/v1/orders/{oid}/cancel").status_code == 403
    assert c.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": "ready"}).status_code == 403


def test_shipping_a_shopify_order_pushes_the_fulfillment_with_tracking(api, worker):
    with standin.ShopifyStandin() as shopify:
        shop = connect_tenant(api, shopify.base_url)
        payload = shopify.add_order(standin.make_order(31))
        shop.webhook("orders/create", payload)
        with tenant_session(shop.tenant.id) as s:
            oid = str(s.exec(select(Order)).one().id)
        for step in ("ready", "packaging"):
            shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": step})
        shop.client.patch(
            f"/api/v1/orders/{oid}",
            json={"fulfillmentStatus": "shipped", "trackingNumber": "3SXYZ", "carrier": "PostNL"},
        )
        worker()
        assert len(shopify.fulfillments) == 1
        assert shopify.fulfillments[0]["trackingInfo"][0]["number"] == "3SXYZ"
        with tenant_session(shop.tenant.id) as s:
            entry = s.exec(select(RetryEntry)).one()
        assert entry.status == "COMPLETED" and entry.attempts == 1


def test_retry_queue_backs_off_then_flags_for_manual_intervention(api, worker):
    shop = connect_tenant(api, "http://127.0.0.1:1")  # Shopify unreachable
    shop.webhook("orders/create", standin.make_order(32))
    with tenant_session(shop.tenant.id) as s:
        oid = str(s.exec(select(Order)).one().id)
    for step in ("ready", "packaging", "shipped"):
        shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": step})
    worker(timeout=60)  # 5 attempts: now, +1 s, +2 s, +4 s, +8 s
    with tenant_session(shop.tenant.id) as s:
        entry = s.exec(select(RetryEntry)).one()
        notes = s.exec(select(Notification).where(Notification.kind == "failure")).all()
    assert entry.status == "FAILED" and entry.attempts == 5 and entry.needs_attention
    assert "unreachable" in entry.last_error
    assert notes and "Fulfillment needs attention" in notes[0].title
