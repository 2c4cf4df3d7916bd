"""The order pipeline end to end (issue 6): a shop connected to Shopify (the
stand-in) and SimplyPrint (the stand-in, two simulated printers driven step by
step by the test) has one STOCK part waiting. Order 1 arrives as a signed
`orders/create` webhook; its parts show on /printfarm ahead of the stock part,
the printers print them live and the order becomes ready for fulfillment.
Order 2 arrives the same way and is cancelled on its order page while two of
its parts print: the waiting part is cancelled (and leaves the SimplyPrint
queue), the printing ones are flagged for review."""

from __future__ import annotations

import random
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.inventory import service as inventory
from app.inventory.models import StockBatchJob
from app.orders.models import Order, ShopifyShop
from app.platform.db import tenant_session
from app.platform.models import Tenant
from app.printing import service as printing
from app.settings import get_settings
from standins import shopify as shopify_standin
from standins.simplyprint import SimplyPrintStandin
from tests import factories
from tests.e2e.conftest import shot, sign_in
from tests.e2e.test_printfarm import _gcode, _jobs, _principal, _wait

SHOPIFY_SECRET = "e2e-pipeline-shopify-secret"
SP_SECRET = "e2e-pipeline-simplyprint-secret"
LIVE = 30_000  # ms: webhook → worker → live update, with slack for a busy machine


@pytest.fixture(scope="module")
def pipeline(app_url):  # the app and its worker must run: set-up work is queued
    """A shop of its own with Shopify (webhook secret) and SimplyPrint (two printers, stepped by the
    test) connected, a printed product of two parts (Body ×1, Lid ×2) and a one-part keychain, all
    G-code uploaded; one keychain queued for stock."""
    tenant = factories.make_tenant("Pipeline Shop")
    admin = factories.make_user(tenant, "admin")
    actor = _principal(tenant, admin.username)
    domain = f"{tenant.slug}.myshopify.com"
    tag = uuid.uuid4().hex[:5]
    with tenant_session(tenant.id) as s:
        url = printing.webhook_url(s)
    with (
        shopify_standin.ShopifyStandin() as shop,
        SimplyPrintStandin(webhook_url=url, webhook_secret=SP_SECRET, speed=50) as sp,
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
            s.commit()
        with tenant_session(tenant.id) as s:
            vase = printing.create_mapping(s, sku=f"PF-VASE-{tag}", name="Spiral vase", actor=actor)
            for name, qty, minutes, grams in (("Body", 1, 62, 12.5), ("Lid", 2, 25, 4.0)):
                part = printing.add_part(s, vase.id, part_name=name, quantity_per_product=qty, actor=actor)
                printing.upload_part_file(s, part.id, f"vase-{name.lower()}.gcode", _gcode(minutes, grams), actor=actor)
            keychain = printing.create_mapping(s, sku=f"PF-KEY-{tag}", name="Keychain", actor=actor)
            part = printing.add_part(s, keychain.id, part_name="Tag", actor=actor)
            printing.upload_part_file(s, part.id, "keychain-tag.gcode", _gcode(14, 3.2), actor=actor)
            s.commit()
        with tenant_session(tenant.id) as s:
            (batch,) = inventory.create_batches(s, keychain.id, 1, actor=actor)
            stock_id = s.exec(select(StockBatchJob.print_job_id).where(StockBatchJob.stock_batch_id == batch.id)).one()
            s.commit()
        yield {
            "tenant": tenant,
            "shop": shop,
            "sp": sp,
            "domain": domain,
            "tag": tag,
            "sku": f"PF-VASE-{tag}",
            "stock_id": stock_id,
        }
    with tenant_session(tenant.id) as s:  # the stand-in is gone: leave the shop in manual mode
        if printing.connection(s) is not None:
            printing.disconnect(s, actor=actor)
            s.commit()


# --- helpers ---------------------------------------------------------------------------------------


def _shopify_sends_order(env: dict, n: int, quantity: int = 1) -> tuple[str, str]:
    """The stand-in Shopify takes an order for the vase and POSTs the signed `orders/create` webhook
    to the running backend; returns the order's id and number once the app has stored it."""
    payload = shopify_standin.make_order(n, seed=env["tag"], skus=[(env["sku"], quantity, "Spiral vase")])
    payload["id"] = random.randint(10**12, 9 * 10**12)
    payload["admin_graphql_api_id"] = f"gid://shopify/Order/{payload['id']}"
    payload["name"] = f"#PF-{env['tag']}-{n}"
    env["shop"].add_order(payload)
    r = shopify_standin.send_webhook(
        f"{get_settings().api_url}/api/v1/webhooks/shopify",
        "orders/create",
        payload,
        SHOPIFY_SECRET,
        shop_domain=env["domain"],
        timeout=30,
    )
    assert r.status_code == 200, r.text

    def stored() -> Order | None:
        with tenant_session(env["tenant"].id) as s:
            return s.exec(select(Order).where(Order.shopify_order_id == str(payload["id"]))).first()

    order = _wait(stored, f"order {payload['name']} stored")
    return str(order.id), order.number


def _item_ids(tenant: Tenant, order_id: str) -> list[int]:
    """The order's SimplyPrint queue item ids, once every job of it has one."""
    jobs = _wait(
        lambda: (js := _jobs(tenant, order_id)) and all(j.simplyprint_queue_item_id for j in js) and js,
        "every job of the order on the SimplyPrint queue",
    )
    return [j.simplyprint_queue_item_id for j in jobs]


def _stock_item(tenant: Tenant, job_id: uuid.UUID) -> int:
    def item() -> int | None:
        with tenant_session(tenant.id) as s:
            return printing.get_job(s, job_id).simplyprint_queue_item_id

    return _wait(item, "the stock job on the SimplyPrint queue")


def _sp_queue(sp: SimplyPrintStandin) -> list[int]:
    return [i["id"] for i in sp.queue_snapshot()]


def _queue_rows(page: Page, number: str):
    return page.get_by_test_id("order-queue").get_by_test_id("queue-row").filter(has_text=number)


def _job_rows(page: Page, number: str):
    return page.get_by_test_id("jobs-table").get_by_test_id("job-row").filter(has_text=number)


def _with_status(rows, status: str):
    return rows.get_by_test_id("job-status").filter(has_text=status)


def _tall(page: Page, name: str, height: int = 1300) -> None:
    page.set_viewport_size({"width": 1280, "height": height})
    shot(page, name)
    page.set_viewport_size({"width": 1280, "height": 800})


# --- the test ----------------------------------------------------------------------------------------


def test_order_pipeline_from_shopify_to_ready_and_cancelled_mid_print(page, pipeline):
    tenant, sp = pipeline["tenant"], pipeline["sp"]
    operator = factories.make_user(tenant, "operator")

    # 1. the operator opens the print farm: only the stock keychain waits
    stock_item = _stock_item(tenant, pipeline["stock_id"])
    assert _sp_queue(sp) == [stock_item]
    sign_in(page, operator.username, shop=tenant.slug, next_path="/printfarm")
    page.wait_for_url("**/printfarm")
    stock_rows = page.get_by_test_id("stock-queue").get_by_test_id("queue-row")
    expect(stock_rows).to_have_count(1)
    expect(stock_rows.nth(0)).to_contain_text("Keychain")
    expect(stock_rows.nth(0).get_by_test_id("job-status")).to_have_text("Queued")
    expect(page.get_by_test_id("order-queue")).to_contain_text("No order parts waiting.")

    # 2. order 1 arrives from Shopify by webhook: its three parts appear live (no reload), FIFO,
    #    in the order queue above the stock part; on SimplyPrint too they go ahead of it
    order1_id, number1 = _shopify_sends_order(pipeline, 1)
    rows1 = _queue_rows(page, number1)
    expect(rows1).to_have_count(3, timeout=LIVE)
    for n, part in enumerate(("Body", "Lid", "Lid")):
        expect(rows1.nth(n)).to_contain_text(f"#{n + 1}")
        expect(rows1.nth(n)).to_contain_text(part)
        expect(rows1.nth(n).get_by_test_id("job-status")).to_have_text("Queued")
    expect(rows1.nth(0).get_by_test_id("job-order")).to_have_attribute("href", f"/orders/{order1_id}")
    expect(stock_rows).to_have_count(1)
    expect(stock_rows.nth(0).get_by_test_id("job-status")).to_have_text("Queued")
    orders_box = page.get_by_test_id("order-queue").bounding_box()
    stock_box = page.get_by_test_id("stock-queue").bounding_box()
    assert orders_box and stock_box and orders_box["y"] + orders_box["height"] <= stock_box["y"]
    expect(page.get_by_test_id("stat-queued")).to_have_text("4")
    items1 = _item_ids(tenant, order1_id)
    _wait(lambda: _sp_queue(sp) == [*items1, stock_item], "order 1's items ahead of the stock item on SimplyPrint")
    shot(page, "pipeline-01-order-queued")

    # 3. both printers start, on the order's first two parts; the second Lid and the stock part wait
    sp.step()
    expect(_with_status(rows1, "Printing")).to_have_count(2, timeout=LIVE)
    expect(rows1.nth(0)).to_contain_text("Body")
    for n in (0, 1):
        expect(rows1.nth(n)).to_contain_text("Prusa MK4")  # on which printer
    expect(rows1.nth(2).get_by_test_id("job-status")).to_have_text("Queued")
    expect(rows1.nth(2)).to_contain_text("Lid")
    expect(stock_rows.nth(0).get_by_test_id("job-status")).to_have_text("Queued")
    expect(page.get_by_test_id("stat-printing")).to_have_text("2")
    expect(page.get_by_test_id("stat-queued")).to_have_text("2")
    shot(page, "pipeline-02-printing")

    # 4. those two finish (live); the printers take the second Lid, then the stock part
    sp.step()  # 50 %
    sp.step()  # 100 %: done; the idle printers take the next two queue items
    expect(_with_status(_job_rows(page, number1), "Completed")).to_have_count(2, timeout=LIVE)
    expect(rows1).to_have_count(1, timeout=LIVE)
    expect(rows1.nth(0)).to_contain_text("Lid")
    expect(rows1.nth(0).get_by_test_id("job-status")).to_have_text("Printing", timeout=LIVE)
    expect(stock_rows.nth(0).get_by_test_id("job-status")).to_have_text("Printing", timeout=LIVE)
    expect(page.get_by_test_id("stat-done-today")).to_have_text("2")
    _tall(page, "pipeline-03-two-done")

    # 5. everything is printed: the queue empties live, order 1 is ready for fulfillment
    sp.step()
    sp.step()
    expect(page.get_by_text("Nothing to print")).to_be_visible(timeout=LIVE)
    expect(_with_status(_job_rows(page, number1), "Completed")).to_have_count(3, timeout=LIVE)
    expect(page.get_by_test_id("stat-done-today")).to_have_text("4")
    expect(page.get_by_test_id("stat-printing")).to_have_text("0")
    _tall(page, "pipeline-04-all-done", 1000)

    page.get_by_test_id("nav-orders").click()
    page.wait_for_url("**/orders")
    page.get_by_test_id("order-search").fill(number1)
    expect(page.get_by_test_id("order-total")).to_have_text("1 order")
    row = page.get_by_test_id("orders-table").get_by_role("row").filter(has_text=number1)
    expect(row).to_contain_text("Ready", timeout=LIVE)  # live, should the last event still be on its way
    page.get_by_role("link", name=number1).click()
    expect(page.get_by_test_id("order-number")).to_have_text(f"Order {number1}")
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Ready")
    expect(page.get_by_test_id("timeline")).to_contain_text("all 3 part(s) printed")
    _tall(page, "pipeline-05-order1-ready", 1700)

    # 6. order 2 arrives the same way; the printers take two of its three parts
    page.goto("/printfarm")
    expect(page.get_by_text("Nothing to print")).to_be_visible()
    order2_id, number2 = _shopify_sends_order(pipeline, 2)
    rows2 = _queue_rows(page, number2)
    expect(rows2).to_have_count(3, timeout=LIVE)
    items2 = _item_ids(tenant, order2_id)
    _wait(lambda: _sp_queue(sp) == items2, "order 2's items on the SimplyPrint queue")
    sp.step()
    expect(_with_status(rows2, "Printing")).to_have_count(2, timeout=LIVE)
    expect(rows2.nth(2).get_by_test_id("job-status")).to_have_text("Queued")
    by_status = {j.status: j for j in _jobs(tenant, order2_id)}
    waiting = by_status["QUEUED"]
    printing_ids = {j.id for j in _jobs(tenant, order2_id) if j.status == "PRINTING"}
    assert len(printing_ids) == 2
    shot(page, "pipeline-06-order2-printing")

    # 7. the operator opens order 2 from its queue row and cancels it, after confirming
    rows2.nth(0).get_by_test_id("job-order").click()
    page.wait_for_url(f"**/orders/{order2_id}")
    expect(page.get_by_test_id("order-number")).to_have_text(f"Order {number2}")
    page.get_by_test_id("action-cancel").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Cancel order {number2}?")
    shot(page, "pipeline-07-cancel-confirm")
    dialog.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Cancelled")
    expect(page.get_by_test_id("action-cancel")).to_have_count(0)

    # 8. on the print farm (live): the waiting part is cancelled, the two printing ones need review
    page.goto("/printfarm")
    flagged = page.get_by_test_id("attention").get_by_test_id("attention-row").filter(has_text=number2)
    expect(flagged).to_have_count(2, timeout=LIVE)
    expect(flagged.get_by_test_id("job-needs-review")).to_have_count(2)
    expect(_with_status(flagged, "Printing")).to_have_count(2)
    expect(rows2).to_have_count(2)  # only the printing two are left in the queue …
    expect(rows2.get_by_test_id("job-needs-review")).to_have_count(2)
    cancelled = _job_rows(page, number2).filter(has=page.get_by_test_id("job-status").filter(has_text="Cancelled"))
    expect(cancelled).to_have_count(1, timeout=LIVE)  # … and the waiting one is cancelled
    expect(cancelled).to_contain_text(waiting.part_name)
    expect(cancelled.get_by_test_id("job-needs-review")).to_have_count(0)
    expect(page.get_by_test_id("stat-queued")).to_have_text("0")
    _tall(page, "pipeline-08-order2-cancelled-flagged")

    jobs2 = {j.id: j for j in _jobs(tenant, order2_id)}
    assert jobs2[waiting.id].status == "CANCELLED" and not jobs2[waiting.id].needs_review
    assert all(jobs2[i].status == "PRINTING" and jobs2[i].needs_review for i in printing_ids)
    # SimplyPrint no longer holds the cancelled part; the printing ones are still on their printers
    _wait(lambda: waiting.simplyprint_queue_item_id not in _sp_queue(sp), "the cancelled item off SimplyPrint")
    assert sp.find_item(waiting.simplyprint_queue_item_id) is None
    assert sum(1 for p in sp.printers.values() if p["job"] is not None) == 2

    # 9. the order page tells what happened to its prints
    page.goto(f"/orders/{order2_id}")
    expect(page.get_by_test_id("order-status")).to_have_text("Cancelled")
    expect(page.get_by_test_id("timeline")).to_contain_text(
        "Printing: 1 job(s) cancelled, 2 printing job(s) flagged for review"
    )
    _tall(page, "pipeline-09-order2-timeline", 1700)

    # 10. the printers finish the flagged prints and nothing else starts: the cancelled part is never printed
    sp.run_until_idle()
    assert all(j["queue_item_id"] != waiting.simplyprint_queue_item_id for j in sp.jobs)
    assert all(p["job"] is None for p in sp.printers.values())
    _wait(
        lambda: all(j.status != "PRINTING" for j in _jobs(tenant, order2_id) if j.id in printing_ids),
        "the flagged prints reported finished",
    )
    with tenant_session(tenant.id) as s:
        order2 = s.get(Order, uuid.UUID(order2_id))
        assert order2.status == "CANCELLED" and order2.fulfillment_status != "ready"
    assert next(j for j in _jobs(tenant, order2_id) if j.id == waiting.id).status == "CANCELLED"
