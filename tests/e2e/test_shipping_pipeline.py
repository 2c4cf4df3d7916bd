"""Issue 14's run, end to end with all three stand-ins: Shopify orders arrive
by webhook, the SimplyPrint stand-in prints them, each becomes ready and its
Sendcloud label appears on the packing bench by itself; the bench prints one
batch PDF (rendered with pdftoppm for a look); the Sendcloud stand-in's
webhooks move the first parcel to in transit and delivered live on its order
page and Shopify receives the fulfillment with its tracking; the second order
is cancelled after its label was made and the label is voided; the third, in
transit, refuses cancellation (staff and Shopify alike)."""

from __future__ import annotations

import io
import subprocess
import time
import uuid

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlmodel import select

from app.orders.models import Order, ShopifyShop
from app.platform.db import tenant_session
from app.printing import service as printing
from app.settings import get_settings
from app.shipping import service as shipping
from app.shipping.models import Shipment
from standins import shopify as shopify_standin
from standins.sendcloud import SendcloudStandin
from standins.simplyprint import SimplyPrintStandin
from tests import factories
from tests.e2e.conftest import ARTIFACTS, shot, sign_in
from tests.e2e.test_printfarm import _gcode, _principal, _wait
from tests.e2e.test_printfarm_pipeline import SHOPIFY_SECRET, _shopify_sends_order

SP_SECRET = "e2e-dispatch-simplyprint-secret"
LIVE = 30_000


@pytest.fixture(scope="module")
def dispatch(app_url):
    """A shop connected to Shopify, SimplyPrint (two printers, stepped by the test) and
    Sendcloud, selling a one-part printed planter."""
    tenant = factories.make_tenant("Dispatch Shop")
    admin = factories.make_user(tenant, "admin")
    actor = _principal(tenant, admin.username)
    domain = f"{tenant.slug}.myshopify.com"
    tag = uuid.uuid4().hex[:5]
    api = get_settings().api_url
    with (
        shopify_standin.ShopifyStandin() as shop,
        SimplyPrintStandin(
            webhook_url=f"{api}/api/v1/webhooks/simplyprint/{tenant.slug}", webhook_secret=SP_SECRET, speed=100
        ) as sp,
        SendcloudStandin(webhook_url=f"{api}/api/v1/webhooks/sendcloud/{tenant.slug}") as sendcloud,
    ):
        sp.add_printer("Prusa MK4 left", model="MK4")
        sp.add_printer("Prusa MK4 right", model="MK4")
        with tenant_session(tenant.id) as s:
            s.add(
                ShopifyShop(
                    tenant_id=tenant.id,
                    shop_domain=domain,
                    access_token=shop.access_token,
                    webhook_secret=SHOPIFY_SECRET,
                    api_base_url=shop.base_url,
                )
            )
            printing.connect(
                s,
                company_id=sp.company_id,
                api_key=sp.api_key,
                webhook_secret=SP_SECRET,
                api_base_url=sp.base_url,
                files_base_url=sp.files_url,
                actor=actor,
            )
            shipping.connect(
                s,
                public_key=sendcloud.public_key,
                secret_key=sendcloud.secret_key,
                api_base_url=sendcloud.base_url,
                actor=actor,
            )
            s.commit()
        with tenant_session(tenant.id) as s:
            planter = printing.create_mapping(s, sku=f"DS-PLANTER-{tag}", name="Planter", actor=actor)
            part = printing.add_part(s, planter.id, part_name="Pot", actor=actor)
            printing.upload_part_file(s, part.id, "planter-pot.gcode", _gcode(40, 88.0), actor=actor)
            s.commit()
        yield {
            "tenant": tenant,
            "shop": shop,
            "sp": sp,
            "sendcloud": sendcloud,
            "domain": domain,
            "tag": tag,
            "sku": f"DS-PLANTER-{tag}",
            "actor": actor,
        }
        with tenant_session(tenant.id) as s:  # the stand-ins are going: manual mode
            printing.disconnect(s, actor=actor)
            shipping.disconnect(s, actor=actor)
            s.commit()


def _order(env: dict, order_id: str) -> Order:
    with tenant_session(env["tenant"].id) as s:
        found = s.get(Order, uuid.UUID(order_id))
        assert found is not None
        return found


def _shipment(env: dict, order_id: str) -> Shipment | None:
    with tenant_session(env["tenant"].id) as s:
        return s.exec(select(Shipment).where(Shipment.order_id == uuid.UUID(order_id))).first()


def _print_everything(env: dict, order_ids: list[str]) -> None:
    """Step the printers until every order is ready (its last part printed)."""
    for _ in range(40):
        if all(_order(env, oid).fulfillment_status == "ready" for oid in order_ids):
            return
        env["sp"].step()
        env["sp"].flush_webhooks(timeout=10)
        time.sleep(1.0)  # the worker applies the deliveries
    raise AssertionError("the printers did not finish the orders")


def _bench_row(page: Page, number: str):
    return page.get_by_test_id("bench-table").get_by_test_id("bench-row").filter(has_text=number)


def test_from_shopify_through_the_print_farm_to_the_door(page: Page, dispatch: dict):
    env, sendcloud = dispatch, dispatch["sendcloud"]
    orders = [_shopify_sends_order(env, n) for n in (1, 2, 3)]
    ids = [oid for oid, _ in orders]
    (first_id, first), (second_id, second), (third_id, third) = orders

    # 1. the printers print them; each order becomes ready and its label is made by itself
    _print_everything(env, ids)
    operator = factories.make_user(env["tenant"], "operator")
    sign_in(page, operator.username, shop=env["tenant"].slug, next_path="/shipping")
    page.wait_for_url("**/shipping")
    for _, number in orders:
        expect(_bench_row(page, number).get_by_test_id("label-state")).to_have_text("Label made", timeout=90_000)
    parcels = {
        oid: _wait(lambda oid=oid: (sh := _shipment(env, oid)) and sh.sendcloud_parcel_id, "a parcel") for oid in ids
    }
    assert len({p for p in parcels.values()}) == 3 and len(sendcloud.parcels) == 3  # one parcel each, no more
    shot(page, "shipping-pipeline-01-bench")

    # 2. tick all three: one PDF, label then slip, in pack order; look at it
    page.get_by_test_id("select-all").click()
    expect(page.get_by_test_id("selected-count")).to_have_text("3 selected")
    href = page.get_by_test_id("print-selected").get_attribute("href") or ""
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"].startswith("application/pdf")
    pdf = response.body()
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 6
    texts = [p.extract_text() or "" for p in reader.pages]
    assert first in texts[1] and second in texts[3] and third in texts[5]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / "shipping-pipeline-labels.pdf"
    out.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(out), str(ARTIFACTS / "shipping-pipeline-labels")],
        check=True,
    )
    assert (ARTIFACTS / "shipping-pipeline-labels-1.png").stat().st_size > 5_000  # a label, not a blank page
    page.get_by_text("Clear selection").click()

    # 3. the carrier takes the first parcel, then delivers it: its order page follows live
    _bench_row(page, first).get_by_test_id("bench-order").click()
    page.wait_for_url(f"**/orders/{first_id}")
    card = page.get_by_test_id("shipment-card")
    expect(card.get_by_test_id("shipment-status")).to_have_text("Label made")
    sendcloud.advance(parcels[first_id], 22)
    expect(card.get_by_test_id("shipment-status")).to_have_text("In transit", timeout=LIVE)
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Shipped", timeout=LIVE)
    sendcloud.advance(parcels[first_id], 11)
    expect(card.get_by_test_id("shipment-status")).to_have_text("Delivered", timeout=LIVE)
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Completed", timeout=LIVE)
    shot(page, "shipping-pipeline-02-delivered")
    # Shopify has the fulfillment, with the tracking Sendcloud gave
    tracking = _order(env, first_id).tracking_number
    shopify_id = _order(env, first_id).shopify_order_id
    fulfilled = _wait(lambda: env["shop"].fulfillments_of(shopify_id), "the Shopify fulfillment", timeout=60)
    assert len(fulfilled) == 1
    assert tracking and [t["number"] for t in fulfilled[0]["trackingInfo"]] == [tracking]

    # 4. the second order is cancelled after its label was made: the label is voided
    page.goto(f"/orders/{second_id}")
    expect(page.get_by_test_id("shipment-card").get_by_test_id("shipment-status")).to_have_text("Label made")
    page.get_by_test_id("action-cancel").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Cancelled")
    expect(page.get_by_test_id("shipment-card").get_by_test_id("shipment-status")).to_have_text("Cancelled")
    assert sendcloud.parcel(parcels[second_id])["status"]["id"] in (2000, 1999)  # voided at Sendcloud
    expect(page.get_by_test_id("timeline")).to_contain_text("voided at Sendcloud")
    shot(page, "shipping-pipeline-03-voided")

    # 5. the third is in transit: it can no longer be cancelled, by staff or by Shopify
    sendcloud.advance(parcels[third_id], 22)
    page.goto(f"/orders/{third_id}")
    expect(page.get_by_test_id("shipment-card").get_by_test_id("shipment-status")).to_have_text(
        "In transit", timeout=LIVE
    )
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Shipped", timeout=LIVE)
    expect(page.get_by_test_id("action-cancel")).to_have_count(0)  # not offered
    refused = page.request.post(
        f"{get_settings().api_url}/api/v1/orders/{third_id}/cancel", data={"reason": "customer"}
    )
    assert refused.status == 409 and "no longer be cancelled" in refused.text()
    payload = env["shop"].find_order(_order(env, third_id).shopify_order_id)
    r = shopify_standin.send_webhook(
        f"{get_settings().api_url}/api/v1/webhooks/shopify",
        "orders/cancelled",
        {**payload, "cancelled_at": "2026-11-30T10:00:00Z", "cancel_reason": "customer"},
        SHOPIFY_SECRET,
        shop_domain=env["domain"],
        timeout=30,
    )
    assert r.status_code == 200  # accepted, so Shopify stops redelivering it …
    expect(page.get_by_test_id("timeline")).to_contain_text("after shipping", timeout=LIVE)  # … and recorded
    assert _order(env, third_id).status != "CANCELLED"
    assert sendcloud.parcel(parcels[third_id])["status"]["id"] == 22  # the parcel goes on
    shot(page, "shipping-pipeline-04-in-transit-not-cancelled")
