"""The FULFILLMENT retry operation against the Shopify stand-in: the first
tracking creates Shopify's fulfillment and the order keeps its id; every later
tracking change updates that same fulfillment (never a second one)."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import col, select

from app.api import create_api
from app.orders import machine
from app.orders.models import Order
from app.platform import retry
from app.platform.db import tenant_session
from app.platform.models import EventLog, RetryEntry
from standins import shopify as standin
from tests.integration.orders_helpers import ShopCtx, connect_tenant


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture
def shopify():
    with standin.ShopifyStandin() as server:
        yield server


def _shipped_order(api, shopify: standin.ShopifyStandin, n: int, number: str) -> tuple[ShopCtx, dict, uuid.UUID]:
    """A Shopify order that staff shipped with tracking `number` (PostNL); its
    FULFILLMENT entry is scheduled, not yet run."""
    shop = connect_tenant(api, shopify.base_url or "")
    payload = shopify.add_order(standin.make_order(n))
    shop.webhook("orders/create", payload)
    with tenant_session(shop.tenant.id) as s:
        oid = s.exec(select(Order.id)).one()
    for step in ("ready", "packaging"):
        assert shop.client.patch(f"/api/v1/orders/{oid}", json={"fulfillmentStatus": step}).status_code == 200
    shipped = shop.client.patch(
        f"/api/v1/orders/{oid}",
        json={
            "fulfillmentStatus": "shipped",
            "trackingNumber": number,
            "trackingUrl": f"https://track.example/{number}",
            "carrier": "PostNL",
        },
    )
    assert shipped.status_code == 200, shipped.text
    return shop, payload, oid


def _new_tracking(shop: ShopCtx, oid: uuid.UUID, number: str, carrier: str = "DHL Express") -> uuid.UUID:
    """What the shipping domain does when a parcel's tracking changes: another FULFILLMENT entry."""
    with tenant_session(shop.tenant.id) as s:
        entry = retry.schedule(
            s,
            "FULFILLMENT",
            order_id=oid,
            payload={"trackingNumber": number, "trackingUrl": f"https://track.example/{number}", "carrier": carrier},
        )
        s.commit()
        return entry.id


def _story(shop: ShopCtx, oid: uuid.UUID) -> list[tuple[str, str]]:
    with tenant_session(shop.tenant.id) as s:
        rows = s.exec(
            select(EventLog.event_type, EventLog.message)
            .where(EventLog.order_id == oid, col(EventLog.event_type).startswith("order.shopify-"))
            .order_by(col(EventLog.created_at))
        ).all()
    return [(t, m) for t, m in rows]


def _order(shop: ShopCtx, oid: uuid.UUID) -> Order:
    with tenant_session(shop.tenant.id) as s:
        order = s.get(Order, oid)
        assert order is not None
        return order


def test_tracking_pushed_once_then_updated_on_the_same_fulfillment(api, shopify, worker):
    shop, payload, oid = _shipped_order(api, shopify, 81, "3SFIRST01")
    worker()

    [fulfillment] = shopify.fulfillments_of(payload["id"])
    assert fulfillment["via"] == "api" and fulfillment["notifyCustomer"] is True
    assert fulfillment["trackingInfo"] == [
        {"company": "PostNL", "number": "3SFIRST01", "url": "https://track.example/3SFIRST01"}
    ]
    assert _order(shop, oid).shopify_fulfillment_id == fulfillment["id"]
    assert _story(shop, oid) == [
        ("order.shopify-fulfilled", "Shopify fulfillment created with tracking PostNL 3SFIRST01")
    ]

    _new_tracking(shop, oid, "JD0002")
    worker()

    [same] = shopify.fulfillments_of(payload["id"])  # no second fulfillment
    assert same["id"] == fulfillment["id"]
    assert same["trackingInfo"] == [
        {"company": "DHL Express", "number": "JD0002", "url": "https://track.example/JD0002"}
    ]
    assert [h["trackingInfo"][0]["number"] for h in same["trackingHistory"]] == ["3SFIRST01", "JD0002"]
    assert same["trackingHistory"][-1]["notifyCustomer"] is False
    assert _story(shop, oid)[-1] == (
        "order.shopify-tracking-updated",
        "Tracking updated in Shopify: DHL Express JD0002",
    )
    assert machine.TIMELINE_EVENT.label("order.shopify-tracking-updated") == "Tracking updated in Shopify"
    with tenant_session(shop.tenant.id) as s:
        statuses = s.exec(select(RetryEntry.status).where(RetryEntry.order_id == oid)).all()
    assert statuses == ["COMPLETED", "COMPLETED"]


def test_an_order_fulfilled_in_shopify_first_keeps_that_fulfillment_and_gets_our_tracking(api, shopify, worker):
    shop, payload, oid = _shipped_order(api, shopify, 82, "3SOURS02")
    made_by_hand = shopify.fulfil(payload["id"])  # someone fulfilled it in Shopify's admin, without tracking
    worker()

    [fulfillment] = shopify.fulfillments_of(payload["id"])
    assert fulfillment["id"] == made_by_hand["id"] and fulfillment["via"] == "admin"
    assert fulfillment["trackingInfo"] == [
        {"company": "PostNL", "number": "3SOURS02", "url": "https://track.example/3SOURS02"}
    ]
    assert _order(shop, oid).shopify_fulfillment_id == made_by_hand["id"]
    assert [t for t, _ in _story(shop, oid)] == ["order.shopify-fulfilled", "order.shopify-tracking-updated"]


def test_an_entry_overtaken_by_newer_tracking_does_not_bring_the_old_number_back(api, shopify, worker):
    shop, payload, oid = _shipped_order(api, shopify, 83, "3SOLD03")
    with tenant_session(shop.tenant.id) as s:
        first = s.exec(select(RetryEntry.id).where(RetryEntry.order_id == oid)).one()
    newer = _new_tracking(shop, oid, "JD0003")
    # the newer entry goes through first (the older one, say, met Shopify down and waits for its retry)
    assert retry.run(shop.tenant.id, newer) == "completed"
    assert retry.run(shop.tenant.id, first) == "completed"
    worker()  # their queued runs find them done

    [fulfillment] = shopify.fulfillments_of(payload["id"])
    assert [h["trackingInfo"][0]["number"] for h in fulfillment["trackingHistory"]] == ["JD0003"]
    assert len(_story(shop, oid)) == 1


def test_a_tracking_update_shopify_refuses_fails_with_its_reason(api, shopify, worker):
    shop, payload, oid = _shipped_order(api, shopify, 84, "3SFOUR04")
    worker()
    with tenant_session(shop.tenant.id) as s:
        order = s.get(Order, oid)
        assert order is not None
        order.shopify_fulfillment_id = "gid://shopify/Fulfillment/404"  # gone from Shopify
        s.add(order)
        entry = retry.schedule(s, "FULFILLMENT", order_id=oid, payload={"trackingNumber": "JD0004"}, max_attempts=1)
        s.commit()
    worker()

    with tenant_session(shop.tenant.id) as s:
        failed = s.get(RetryEntry, entry.id)
    assert failed is not None and failed.status == "FAILED" and failed.needs_attention
    assert machine.retry_error("FULFILLMENT", failed.last_error) == (
        "Shopify refused the tracking: Fulfillment does not exist."
    )
    [fulfillment] = shopify.fulfillments_of(payload["id"])
    assert len(fulfillment["trackingHistory"]) == 1
