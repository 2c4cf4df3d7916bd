"""Shipping end to end, against the Sendcloud stand-in (its webhooks reach the
running API): orders ready to ship appear on the packing bench, their labels
are made by the worker (or by "Create label") and the badges follow live;
two ticked orders print as one PDF of labels and slips; a scanned order number
opens its PDF; the stand-in moves a parcel to in transit and delivered and the
order page follows live, the fulfillment ending completed. A label is voided
on a second order; a third, already with the carrier, refuses both the void
and the order's cancellation, and "Check with Sendcloud now" catches up with
the webhooks it missed. An admin connects Sendcloud in Settings ›
Integrations (a wrong key first), saves its settings, tests and disconnects it.

Screenshots at 1440 px land in test-artifacts/e2e/shipping-*.png."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pypdf import PdfReader
from sqlmodel import select

from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform.db import tenant_session
from app.platform.events import publish
from app.platform.models import Tenant, utcnow
from app.settings import get_settings
from app.shipping import service as shipping
from app.shipping.models import SendcloudConnection, Shipment
from standins.sendcloud import SendcloudStandin
from tests import factories
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.e2e.test_printfarm import _principal, _wait

LIVE = 30_000  # ms: worker or webhook → live update, with slack for a busy machine
WIDE: ViewportSize = {"width": 1440, "height": 1000}


def _webhook_url(tenant: Tenant) -> str:
    return f"{get_settings().api_url}/api/v1/webhooks/sendcloud/{tenant.slug}"


@pytest.fixture
def shop(app_url) -> Iterator[dict]:
    """A shop of its own connected to a Sendcloud stand-in that sends its webhooks to the
    running API; an operator signs in."""
    tenant = factories.make_tenant("Shipping Shop")
    admin = factories.make_user(tenant, "admin")
    operator = factories.make_user(tenant, "operator")
    actor = _principal(tenant, admin.username)
    with SendcloudStandin(webhook_url=_webhook_url(tenant)) as standin:
        with tenant_session(tenant.id) as s:
            shipping.connect(
                s,
                public_key=standin.public_key,
                secret_key=standin.secret_key,
                api_base_url=standin.base_url,
                actor=actor,
            )
            s.commit()
        yield {"tenant": tenant, "actor": actor, "operator": operator, "standin": standin}
        with tenant_session(tenant.id) as s:  # the stand-in is going: leave the shop in manual mode
            shipping.disconnect(s, actor=actor)
            s.commit()


def _ready_order(env: dict, customer: str, city: str, hours_ago: int) -> tuple[str, str]:
    """A manual order with a full address, made ready to ship (nothing to print); returns its id
    and number. Its label is not asked for yet."""
    data = OrderInput(
        source="manual",
        customer_name=customer,
        customer_email=f"{customer.split()[0].lower()}@example.com",
        ship_street="Stationsstraat",
        ship_house_number=str(10 + hours_ago),
        ship_city=city,
        ship_postal_code="3511 AB",
        ship_country_code="NL",
        placed_at=utcnow() - timedelta(hours=hours_ago),
        lines=[LineInput(sku=f"MUG-{uuid.uuid4().hex[:4]}", title="Glazed mug", quantity=2, unit_price=Decimal("14"))],
    )
    with tenant_session(env["tenant"].id) as s:
        order, _ = orders.create_order(s, data)
        s.commit()
        order_id = order.id
    with tenant_session(env["tenant"].id) as s:
        order = orders.advance_fulfillment(s, order_id, "ready", actor=env["actor"])
        s.commit()
        return str(order.id), order.number


def _all_printed(env: dict, order_id: str, number: str) -> None:
    """What the print farm announces when an order's last part is printed: the worker's
    shipping handler asks Sendcloud for its label."""
    with tenant_session(env["tenant"].id) as s:
        publish(s, "order.ready-for-fulfillment", {"orderId": order_id, "orderNumber": number})
        s.commit()


def _shipment(env: dict, order_id: str) -> Shipment | None:
    with tenant_session(env["tenant"].id) as s:
        return s.exec(select(Shipment).where(Shipment.order_id == uuid.UUID(order_id))).first()


def _labelled(env: dict, order_id: str) -> Shipment:
    return _wait(
        lambda: (sh := _shipment(env, order_id)) and sh.label_attachment_id and sh.sendcloud_parcel_id and sh,
        f"the label of order {order_id}",
        timeout=60,
    )


def _toast(page: Page, text: str):
    return page.locator("[data-sonner-toast]").filter(has_text=text)


def _bench_row(page: Page, number: str):
    return page.get_by_test_id("bench-table").get_by_test_id("bench-row").filter(has_text=number)


def _pdf_pages(page: Page, href: str) -> int:
    """Fetch a PDF the way the browser opens it (its session cookie) and count its pages."""
    response = page.request.get(href)
    assert response.status == 200, response.text()[:300]
    assert response.headers["content-type"].startswith("application/pdf")
    return len(PdfReader(io.BytesIO(response.body())).pages)


def _wide_shot(page: Page, name: str, locator=None) -> None:
    """A screenshot at 1440 px: the whole page, or one card of it."""
    size = page.viewport_size
    page.set_viewport_size(WIDE)
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=20_000)  # nothing covers the page
    page.wait_for_timeout(1000)  # the layout settles at the new width
    path = str(ARTIFACTS / f"{name}.png")
    if locator is None:
        page.screenshot(path=path, full_page=True)
    else:
        locator.screenshot(path=path)
    if size:
        page.set_viewport_size(size)


# --- the packing bench, the PDF, the scan, tracking ------------------------------------------------


def test_bench_makes_labels_prints_them_and_follows_the_parcel_to_the_door(page: Page, shop: dict):
    standin = shop["standin"]
    first_id, first = _ready_order(shop, "Ada Lovelace", "Utrecht", hours_ago=3)
    second_id, second = _ready_order(shop, "Grace Hopper", "Amersfoort", hours_ago=2)

    # 1. both wait on the bench, oldest first (the pack order), without a label yet
    sign_in(page, shop["operator"].username, shop=shop["tenant"].slug, next_path="/shipping")
    page.wait_for_url("**/shipping")
    rows = page.get_by_test_id("bench-table").get_by_test_id("bench-row")
    expect(rows).to_have_count(2, timeout=90_000)  # the dev server compiles a page on its first visit
    expect(rows.nth(0)).to_contain_text(first)
    expect(rows.nth(1)).to_contain_text(second)
    expect(rows.nth(0)).to_contain_text("Utrecht, NL")
    for row in (_bench_row(page, first), _bench_row(page, second)):
        expect(row.get_by_test_id("label-state")).to_have_text("Waiting for its label")
    expect(page.get_by_test_id("chip-waiting")).to_contain_text("2")
    expect(page.get_by_test_id("shipping-manual-mode")).to_have_count(0)
    scan = page.get_by_placeholder("Scan or type an order number")
    expect(scan).to_be_focused()  # the scanner types into it without a click

    # 2. the first order's last part is printed: the worker has its label made; the badge turns live
    _all_printed(shop, first_id, first)
    expect(_bench_row(page, first).get_by_test_id("label-state")).to_have_text("Label made", timeout=LIVE)
    expect(_bench_row(page, first).get_by_test_id("bench-tracking")).to_contain_text("3SSTND", timeout=LIVE)

    # 3. the second one gets its label by hand ("Create label")
    _bench_row(page, second).get_by_test_id("row-create-label").click()
    expect(_toast(page, "Label requested")).to_be_visible()
    expect(_bench_row(page, second).get_by_test_id("label-state")).to_have_text("Label made", timeout=LIVE)
    expect(page.get_by_test_id("chip-ready")).to_contain_text("2")

    # 4. tick both: "Print labels" opens one PDF (label + slip each, in pack order) in a new tab
    _bench_row(page, second).get_by_test_id("select-row").click()
    _bench_row(page, first).get_by_test_id("select-row").click()
    expect(page.get_by_test_id("selected-count")).to_have_text("2 selected")
    link = page.get_by_test_id("print-selected")
    expect(link).to_have_attribute("target", "_blank")
    href = link.get_attribute("href") or ""
    assert f"{first_id}" in href and f"{second_id}" in href
    assert _pdf_pages(page, href) == 4
    assert _pdf_pages(page, page.get_by_test_id("print-page").get_attribute("href") or "") == 4
    one_label = _bench_row(page, first).get_by_test_id("row-label").get_attribute("href") or ""
    assert _pdf_pages(page, one_label) == 1  # "Label": the carrier label alone, for a reprint

    # 5. the scanner types the second order's number and Enter: its label and slip open
    with page.context.expect_page() as opened:
        scan.fill(second)
        scan.press("Enter")
    assert f"orders={second_id}" in opened.value.url
    opened.value.close()
    expect(_toast(page, f"Order {second}: label and slip opened")).to_be_visible()
    scan.fill("NO-SUCH-ORDER")
    scan.press("Enter")
    expect(page.get_by_test_id("scan-error")).to_contain_text("No order or parcel “NO-SUCH-ORDER”")
    page.get_by_text("Clear selection").click()
    _wide_shot(page, "shipping-bench")

    # 6. the order page of the first: its shipment, label and history; the carrier takes it, then
    #    delivers it: the page follows live and the fulfillment ends completed
    parcel = _labelled(shop, first_id)
    _bench_row(page, first).get_by_test_id("bench-order").click()
    page.wait_for_url(f"**/orders/{first_id}")
    card = page.get_by_test_id("shipment-card")
    expect(card.get_by_test_id("shipment-status")).to_have_text("Label made")
    expect(card).to_contain_text(parcel.tracking_number)
    expect(card).to_contain_text("PostNL")
    assert _pdf_pages(page, card.get_by_test_id("shipment-label").get_attribute("href") or "") == 1
    expect(card.get_by_test_id("tracking-step")).to_have_count(1)
    assert parcel.sendcloud_parcel_id is not None
    standin.advance(parcel.sendcloud_parcel_id, 3)
    expect(card.get_by_test_id("shipment-status")).to_have_text("In transit", timeout=LIVE)
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Shipped", timeout=LIVE)
    expect(card.get_by_test_id("tracking-step").first).to_contain_text("En route to sorting center")
    standin.advance(parcel.sendcloud_parcel_id, 11)
    expect(card.get_by_test_id("shipment-status")).to_have_text("Delivered", timeout=LIVE)
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Completed", timeout=LIVE)
    expect(card.get_by_test_id("tracking-step")).to_have_count(3)
    expect(card.get_by_test_id("shipment-label")).to_be_visible()
    _wide_shot(page, "shipping-order-shipment", card)

    # 7. the tracking board: the second parcel on its way; the delivered one has left it
    second_parcel = _labelled(shop, second_id)
    assert second_parcel.sendcloud_parcel_id is not None
    standin.advance(second_parcel.sendcloud_parcel_id, 22)
    page.goto("/shipping")
    page.get_by_test_id("shipping-view").get_by_role("radio", name=re.compile("On their way")).click()
    page.wait_for_url("**/shipping?view=tracking")
    parcels = page.get_by_test_id("tracking-table").get_by_test_id("parcel-row")
    expect(parcels).to_have_count(1, timeout=LIVE)
    expect(parcels.nth(0)).to_contain_text(second)
    expect(parcels.nth(0).get_by_test_id("parcel-status")).to_have_text("In transit", timeout=LIVE)
    expect(parcels.nth(0).get_by_test_id("parcel-news")).to_have_text("Shipment picked up by driver")
    expect(parcels.nth(0).get_by_test_id("parcel-tracking")).to_have_attribute("target", "_blank")
    expect(parcels.nth(0).get_by_test_id("parcel-age")).to_contain_text("for ")
    _wide_shot(page, "shipping-tracking-board")

    # 8. nothing is left to pack
    page.get_by_test_id("shipping-view").get_by_role("radio", name=re.compile("Packing bench")).click()
    expect(page.get_by_text("Nothing to pack")).to_be_visible()


# --- voiding, and a parcel already with the carrier ---------------------------------------------------


def test_a_label_is_voided_and_a_parcel_with_the_carrier_refuses_it(page: Page, shop: dict):
    standin = shop["standin"]
    void_id, void_number = _ready_order(shop, "Alan Turing", "Delft", hours_ago=5)
    gone_id, gone_number = _ready_order(shop, "Edsger Dijkstra", "Nuenen", hours_ago=4)
    for order_id, number in ((void_id, void_number), (gone_id, gone_number)):
        _all_printed(shop, order_id, number)
    _labelled(shop, void_id)
    gone = _labelled(shop, gone_id)
    sign_in(page, shop["operator"].username, shop=shop["tenant"].slug, next_path=f"/orders/{void_id}")
    page.wait_for_url(f"**/orders/{void_id}")

    # 1. the label of the first is voided: the shipment is cancelled, the order stays
    card = page.get_by_test_id("shipment-card")
    expect(card.get_by_test_id("shipment-status")).to_have_text("Label made")
    card.get_by_test_id("label-void").click()
    page.get_by_test_id("label-void-confirm").click()
    expect(_toast(page, "Label voided")).to_be_visible()
    expect(card.get_by_test_id("shipment-status")).to_have_text("Cancelled")
    expect(card.get_by_test_id("label-remake")).to_be_visible()
    expect(card.get_by_test_id("shipment-label")).to_have_count(0)
    expect(page.get_by_test_id("order-status")).not_to_contain_text("Cancelled")

    # 2. the second parcel was picked up, but its webhooks went missing: we still think its label
    #    waits. Voiding it and cancelling the order are both refused, with Sendcloud's reason
    standin.drop_webhooks = True
    assert gone.sendcloud_parcel_id is not None
    standin.advance(gone.sendcloud_parcel_id, 22)
    page.goto(f"/orders/{gone_id}")
    expect(card.get_by_test_id("shipment-status")).to_have_text("Label made")
    card.get_by_test_id("label-void").click()
    page.get_by_test_id("label-void-confirm").click()
    expect(_toast(page, "already with the carrier")).to_be_visible()
    expect(card.get_by_test_id("shipment-status")).to_have_text("Label made")
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=20_000)
    page.get_by_test_id("action-cancel").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel order").click()
    expect(_toast(page, "can no longer be cancelled")).to_be_visible()
    expect(page.get_by_test_id("order-status")).not_to_contain_text("Cancelled")

    # 3. "Check with Sendcloud now" catches up: the parcel is in transit, and the API refuses to void it
    standin.drop_webhooks = False
    page.goto("/shipping?view=tracking")
    page.get_by_test_id("check-now").click()
    expect(_toast(page, "Sendcloud checked: 1 parcel moved on")).to_be_visible(timeout=LIVE)
    row = page.get_by_test_id("tracking-table").get_by_test_id("parcel-row").filter(has_text=gone_number)
    expect(row.get_by_test_id("parcel-status")).to_have_text("In transit")
    refused = page.request.post(f"{get_settings().api_url}/api/v1/shipping/shipments/{gone.id}/cancel")
    assert refused.status == 409
    assert "already with the carrier" in refused.text()
    page.goto(f"/orders/{gone_id}")
    expect(card.get_by_test_id("shipment-status")).to_have_text("In transit")
    expect(card.get_by_test_id("label-void")).to_have_count(0)
    expect(page.get_by_test_id("action-cancel")).to_have_count(0)


# --- Settings › Integrations › Sendcloud ------------------------------------------------------------


def test_an_admin_connects_configures_tests_and_disconnects_sendcloud(page: Page, app_url):
    tenant = factories.make_tenant("Sendcloud Settings Shop")
    admin = factories.make_user(tenant, "admin")
    with SendcloudStandin(webhook_url=_webhook_url(tenant)) as standin:
        sign_in(page, admin.username, shop=tenant.slug, next_path="/settings/integrations")
        page.wait_for_url("**/settings/integrations")
        card = page.get_by_test_id("sendcloud-card")
        expect(card.get_by_test_id("sendcloud-state")).to_have_text("Manual mode")
        expect(card.get_by_test_id("sendcloud-manual")).to_be_visible()

        # 1. a wrong secret key: refused, in the form
        card.locator('input[name="sc_public_key"]').fill(standin.public_key)
        card.locator('input[name="sc_secret_key"]').fill("not-the-secret")
        card.get_by_text("Advanced").click()
        card.locator('input[name="sc_api_base_url"]').fill(standin.base_url)
        card.get_by_test_id("sendcloud-connect").click()
        expect(card.get_by_test_id("sendcloud-error")).to_contain_text("Sendcloud refused these keys")
        expect(card.get_by_test_id("sendcloud-state")).to_have_text("Manual mode")

        # 2. the right one: connected, the webhook address to paste, Sendcloud's sender and method
        card.locator('input[name="sc_secret_key"]').fill(standin.secret_key)
        card.get_by_test_id("sendcloud-connect").click()
        expect(_toast(page, "Sendcloud connected")).to_be_visible()
        expect(card.get_by_test_id("sendcloud-state")).to_have_text("Connected")
        expect(card.get_by_test_id("sendcloud-webhook-url")).to_have_text(_webhook_url(tenant))
        expect(card.get_by_test_id("sendcloud-sender")).to_contain_text("Shopfloor Print Farm")
        expect(card.get_by_test_id("sendcloud-method")).to_contain_text("PostNL Standard")
        expect(card.get_by_test_id("sendcloud-error")).to_have_count(0)

        # 3. an A4 sheet printer and heavier PCs
        card.get_by_test_id("sendcloud-format").click()
        page.get_by_role("option", name="A4 sheet").click()
        card.locator('input[name="sc_pc_weight"]').fill("14500")
        card.get_by_test_id("sendcloud-save").click()
        expect(_toast(page, "Sendcloud settings saved")).to_be_visible()
        with tenant_session(tenant.id) as s:
            conn = s.exec(select(SendcloudConnection)).one()
            assert (conn.label_format, conn.pc_weight_grams, conn.sender_address_id) == ("a4", 14500, 192)
        _wide_shot(page, "shipping-settings-card", card)

        # 4. the keys still work; then disconnect: manual mode
        card.get_by_test_id("sendcloud-test").click()
        expect(_toast(page, "Sendcloud: Connected to Sendcloud as")).to_be_visible()
        expect(card.get_by_test_id("sendcloud-test-result")).to_contain_text("the API keys are valid")
        card.get_by_test_id("sendcloud-disconnect").click()
        expect(page.get_by_role("alertdialog")).to_contain_text(
            "Labels will no longer be made; staff record carrier and tracking by hand"
        )
        page.get_by_test_id("sendcloud-disconnect-confirm").click()
        expect(_toast(page, "Sendcloud disconnected")).to_be_visible()
        expect(card.get_by_test_id("sendcloud-state")).to_have_text("Manual mode")
        expect(card.get_by_test_id("sendcloud-connect")).to_be_visible()
        with tenant_session(tenant.id) as s:
            assert shipping.connection(s) is None


def test_the_bench_in_manual_mode_lists_orders_and_prints_packing_slips(page: Page, app_url):
    tenant = factories.make_tenant("Manual Shipping Shop")
    admin = factories.make_user(tenant, "admin")
    env = {"tenant": tenant, "actor": _principal(tenant, admin.username)}
    order_id, number = _ready_order(env, "Hedy Lamarr", "Vienna", hours_ago=1)
    sign_in(page, admin.username, shop=tenant.slug, next_path="/shipping")
    page.wait_for_url("**/shipping")
    expect(page.get_by_test_id("shipping-manual-mode")).to_contain_text("Sendcloud is not connected")
    row = _bench_row(page, number)
    expect(row.get_by_test_id("label-state")).to_have_text("No Sendcloud")
    expect(row.get_by_test_id("row-create-label")).to_have_count(0)
    slip = row.get_by_test_id("row-pack")
    expect(slip).to_contain_text("Packing slip")
    assert _pdf_pages(page, slip.get_attribute("href") or "") >= 2  # a marked "no label" page, then the slip
    assert order_id in (slip.get_attribute("href") or "")
