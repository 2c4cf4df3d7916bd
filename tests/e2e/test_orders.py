"""Orders end to end: connect Shopify (the stand-in), receive orders by
webhook and by backfill, filter them, open one, advance it and cancel another."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.settings import get_settings
from standins import shopify as standin
from tests import factories
from tests.e2e.conftest import shot, sign_in

SECRET = "e2e-webhook-secret"


def _unique_order(n: int, tag: str, **kw) -> dict:
    payload = standin.make_order(n, seed=tag, **kw)
    payload["id"] = random.randint(10**12, 9 * 10**12)
    payload["admin_graphql_api_id"] = f"gid://shopify/Order/{payload['id']}"
    payload["name"] = f"#E2E-{tag}-{n}"
    return payload


@pytest.fixture(scope="module")
def shopify():
    with standin.ShopifyStandin() as s:
        yield s


def test_orders_arrive_by_webhook_and_backfill_and_staff_work_them(page, shopify):
    tag = uuid.uuid4().hex[:5]
    tenant = factories.default_tenant()
    admin = factories.make_user(tenant, "admin")
    domain = f"e2e-{tag}.myshopify.com"

    # 1. an admin connects Shopify in Settings › Integrations
    sign_in(page, admin.username, next_path="/settings/integrations")
    page.wait_for_url("**/settings/integrations")
    page.locator("input[name=shop_domain]").fill(domain)
    page.locator("input[name=access_token]").fill(shopify.access_token)
    page.locator("input[name=webhook_secret]").fill(SECRET)
    page.locator("input[name=api_base_url]").fill(shopify.base_url)
    page.get_by_role("button", name="Connect", exact=True).or_(
        page.get_by_role("button", name="Update connection", exact=True)
    ).click()
    expect(page.get_by_test_id("shopify-connected")).to_contain_text(domain)

    # 2. Shopify sends three orders by webhook (signed with the shop's secret)
    api = get_settings().api_url
    webhook_orders = [_unique_order(n, tag) for n in (1, 2, 3)]
    for payload in webhook_orders:
        r = standin.send_webhook(f"{api}/api/v1/webhooks/shopify", "orders/create", payload, SECRET, shop_domain=domain)
        assert r.status_code == 200 and r.json()["status"] == "created", r.text
    forged = standin.send_webhook(
        f"{api}/api/v1/webhooks/shopify", "orders/create", _unique_order(9, tag), "wrong-secret", shop_domain=domain
    )
    assert forged.status_code == 401

    # 3. and five older orders come in through the backfill, with live progress
    now = datetime.now(UTC)
    for n in range(4, 9):
        shopify.add_order(_unique_order(n, tag, created_at=now - timedelta(days=n)))
    page.get_by_test_id("backfill-since").fill((now - timedelta(days=20)).date().isoformat())
    page.get_by_test_id("backfill-start").click()
    expect(page.get_by_test_id("backfill-status")).to_have_text("Completed", timeout=60_000)
    expect(page.get_by_test_id("backfill-counts")).to_contain_text("5 imported")
    shot(page, "10-integrations-backfill")

    # 4. the dashboard finds them; filters narrow down
    page.get_by_test_id("nav-orders").click()
    page.wait_for_url("**/orders")
    page.get_by_test_id("order-search").fill(f"E2E-{tag}")
    expect(page.get_by_test_id("order-total")).to_have_text("8 orders")
    shot(page, "11-orders-dashboard")
    first = webhook_orders[0]["name"]
    page.get_by_test_id("order-search").fill(first)
    expect(page.get_by_test_id("order-total")).to_have_text("1 order")

    # 5. open it and walk it to shipped
    page.get_by_role("link", name=first).click()
    expect(page.get_by_test_id("order-number")).to_have_text(f"Order {first}")
    page.get_by_test_id("action-ready").click()
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Ready")
    page.get_by_test_id("action-packaging").click()
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Packaging")
    page.get_by_test_id("action-shipped").click()
    page.locator("input[name=carrier]").fill("PostNL")
    page.locator("input[name=tracking_number]").fill(f"3SE2E{tag}")
    page.get_by_role("dialog").get_by_role("button", name="Mark shipped").click()
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Shipped")
    expect(page.get_by_test_id("action-cancel")).to_have_count(0)  # shipped orders cannot be cancelled
    expect(page.get_by_test_id("timeline")).to_contain_text("Fulfillment Packaging → Shipped")
    shot(page, "12-order-shipped")

    # 6. another order is cancelled after confirming
    page.goto("/orders")
    page.get_by_test_id("order-search").fill(webhook_orders[1]["name"])
    expect(page.get_by_test_id("order-total")).to_have_text("1 order")
    page.get_by_role("link", name=webhook_orders[1]["name"]).click()
    page.get_by_test_id("action-cancel").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Cancelled")
    expect(page.get_by_test_id("action-cancel")).to_have_count(0)
    shot(page, "13-order-cancelled")

    # 7. the status filter shows it among the cancelled ones
    page.goto("/orders")
    page.get_by_test_id("order-search").fill(f"E2E-{tag}")
    page.get_by_role("combobox", name="Status").click()
    page.get_by_role("option", name="Cancelled").click()
    expect(page.get_by_test_id("order-total")).to_have_text("1 order")
    expect(page.get_by_test_id("orders-table")).to_contain_text(webhook_orders[1]["name"])


def test_new_orders_show_up_live_and_ring_the_bell(page, shopify):
    tag = uuid.uuid4().hex[:5]
    tenant = factories.default_tenant()
    operator = factories.make_user(tenant, "operator")
    sign_in(page, operator.username, next_path="/orders")
    page.wait_for_url("**/orders")
    page.get_by_test_id("order-search").fill(f"E2E-{tag}")
    expect(page.get_by_test_id("order-total")).to_have_text("0 orders")
    from sqlmodel import select

    from app.orders.models import ShopifyShop
    from app.platform.db import tenant_session

    with tenant_session(tenant.id) as s:
        shop = s.exec(select(ShopifyShop)).first()
        if shop is None:  # this test alone: connect without the page
            s.add(
                ShopifyShop(
                    tenant_id=tenant.id,
                    shop_domain=f"e2e-{tag}.myshopify.com",
                    access_token="x",
                    webhook_secret=SECRET,
                    api_base_url=shopify.base_url,
                )
            )
            s.commit()
            shop = s.exec(select(ShopifyShop)).one()
        domain, secret = shop.shop_domain, shop.webhook_secret
    payload = _unique_order(1, tag)
    r = standin.send_webhook(
        f"{get_settings().api_url}/api/v1/webhooks/shopify", "orders/create", payload, secret, shop_domain=domain
    )
    assert r.status_code == 200
    expect(page.get_by_test_id("order-total")).to_have_text("1 order", timeout=20_000)  # no reload
    page.reload()
    expect(page.get_by_test_id("bell-count")).to_be_visible()
    page.get_by_test_id("bell").click()
    expect(page.get_by_text(f"New order {payload['name']}")).to_be_visible()
    shot(page, "14-bell")
