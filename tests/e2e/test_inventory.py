"""Inventory end to end (issue 15's "Resolved when", the printed products):
a shop of its own with SimplyPrint (the stand-in, stepped by the test)
connected and a product configured below its minimum. Outside the allowed
window a "Run now" plans nothing and the status card says why; inside it, it
plans the batches, which show in the batches view. The stand-in prints them
and the stock rises on the open page without a reload. A Shopify order for
the product is served from the shelf and its order page shows it ready. An
adjustment and a scrap made in their dialogs appear in the product's ledger,
and a batch printed for stock is cancelled after its confirmation. A viewer
sees the figures and no inputs; an operator reads the settings card."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import col, select

from app.inventory.models import StockBatch, StockBatchJob
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform.db import tenant_session
from app.platform.formatting import of_tenant
from app.platform.models import Tenant
from app.printing import service as printing
from app.printing.models import PrintJob
from standins.simplyprint import SimplyPrintStandin
from state.inventory import MINUS
from tests import factories
from tests.e2e.conftest import shot, sign_in
from tests.e2e.test_printfarm import _gcode, _principal, _wait

SECRET = "e2e-inventory-simplyprint-secret"
LIVE = 30_000  # ms: webhook → worker → live update, with slack for a busy machine


@pytest.fixture(scope="module")
def shop(app_url):  # the app and its worker must run: submissions and events are queued
    """A shop of its own with SimplyPrint (one printer, stepped by the test) connected and a
    one-part desk lamp shade mapped, its G-code uploaded."""
    tenant = factories.make_tenant("Inventory Shop")
    admin = factories.make_user(tenant, "admin")
    actor = _principal(tenant, admin.username)
    tag = uuid.uuid4().hex[:5].upper()
    sku = f"INV-SHADE-{tag}"
    with tenant_session(tenant.id) as s:
        url = printing.webhook_url(s)
    with SimplyPrintStandin(webhook_url=url, webhook_secret=SECRET, speed=50) as sp:
        sp.add_printer("Prusa MK4", model="MK4")
        with tenant_session(tenant.id) as s:
            printing.connect(
                s,
                company_id=sp.company_id,
                api_key=sp.api_key,
                webhook_secret=SECRET,
                api_base_url=sp.base_url,
                files_base_url=sp.files_url,
                actor=actor,
            )
            s.commit()
        with tenant_session(tenant.id) as s:
            mapping = printing.create_mapping(s, sku=sku, name="Desk lamp shade", actor=actor)
            part = printing.add_part(s, mapping.id, part_name="Shade", actor=actor)
            printing.upload_part_file(s, part.id, "shade.gcode", _gcode(40, 9.5), actor=actor)
            s.commit()
            mapping_id = str(mapping.id)
        yield {"tenant": tenant, "admin": admin, "sp": sp, "sku": sku, "mapping_id": mapping_id, "tag": tag}
    with tenant_session(tenant.id) as s:  # the stand-in is gone: leave the shop in manual mode
        if printing.connection(s) is not None:
            printing.disconnect(s, actor=actor)
            s.commit()


# --- helpers ---------------------------------------------------------------------------------------------


def _toast(page: Page, text: str | re.Pattern) -> None:
    expect(page.locator("[data-sonner-toast]").filter(has_text=text).first).to_be_visible()


def _hour(page: Page, card: Locator, name: str, hour: int) -> None:
    card.get_by_test_id(f"inv-{name}").click()
    page.get_by_role("option", name=f"{hour:02d}:00", exact=True).click()


def _save_window(page: Page, start: int, end: int, screenshot: str = "") -> None:
    """Settings › Inventory: replenishment on, allowed from `start` to `end` o'clock, saved."""
    page.goto("/settings")
    card = page.get_by_test_id("inventory-settings")
    expect(card).to_be_visible()
    switch = card.get_by_test_id("inv-replenishment")
    if switch.get_attribute("data-state") != "checked":
        switch.click()
    _hour(page, card, "start_hour", start)
    _hour(page, card, "end_hour", end)
    if screenshot:
        card.scroll_into_view_if_needed()
        shot(page, screenshot)
    card.get_by_test_id("inv-save").click()
    _toast(page, f"{start:02d}:00–{end:02d}:00")


def _shop_hour(tenant: Tenant) -> int:
    return of_tenant(tenant.id).local(datetime.now(UTC)).hour


def _stock_row(page: Page, sku: str) -> Locator:
    return page.get_by_test_id("stock-table").get_by_test_id("stock-row").filter(has_text=sku)


def _open_row_action(page: Page, sku: str, kind: str) -> Locator:
    _stock_row(page, sku).get_by_test_id("row-actions").click()
    page.get_by_test_id(f"action-{kind}").click()
    dialog = page.get_by_test_id("stock-dialog")
    expect(dialog).to_be_visible()
    return dialog


def _batch_jobs(tenant: Tenant) -> list[PrintJob]:
    with tenant_session(tenant.id) as s:
        return list(
            s.exec(
                select(PrintJob)
                .join(StockBatchJob, col(StockBatchJob.print_job_id) == PrintJob.id)
                .join(StockBatch, col(StockBatch.id) == StockBatchJob.stock_batch_id)
                .where(StockBatch.status == "IN_PROGRESS")
            )
        )


def _shopify_order(tenant: Tenant, sku: str, tag: str) -> tuple[str, str]:
    """A Shopify order for one shade, created the way the webhook creates it: the worker's
    order.created handler serves it (from the shelf, here)."""
    data = OrderInput(
        source="shopify",
        shopify_order_id=str(random.randint(10**12, 9 * 10**12)),
        name=f"#INV-{tag}-1",
        customer_name="Grace Lampwright",
        customer_email="grace@example.com",
        ship_city="Leiden",
        ship_country_code="NL",
        total=Decimal("29.00"),
        lines=[LineInput(sku=sku, title="Desk lamp shade", quantity=1, unit_price=Decimal("29.00"))],
    )
    with tenant_session(tenant.id) as s:
        order, created = orders.create_order(s, data)
        s.commit()
        assert created
        return str(order.id), order.number


def _tall(page: Page, name: str, height: int = 1300) -> None:
    page.set_viewport_size({"width": 1280, "height": height})
    shot(page, name)
    page.set_viewport_size({"width": 1280, "height": 800})


# --- the test ----------------------------------------------------------------------------------------------


def test_replenishment_batches_stock_from_stock_orders_ledger_and_cancel(page, shop):
    tenant, sp, sku = shop["tenant"], shop["sp"], shop["sku"]
    now_hour = _shop_hour(tenant)
    sign_in(page, shop["admin"].username, shop=tenant.slug, next_path="/inventory")
    page.wait_for_url("**/inventory")

    # 1. stock management is off: the page says so, and the figures are readable
    expect(page.get_by_test_id("stock-off")).to_contain_text("Stock management is off")
    expect(_stock_row(page, sku).get_by_test_id("stock-status")).to_have_text("OK")
    expect(page.get_by_test_id("replenishment-summary")).to_have_text("The scheduler has not run yet.")
    shot(page, "inventory-01-off")

    # 2. an admin turns it on in Settings › Inventory
    page.goto("/settings")
    card = page.get_by_test_id("inventory-settings")
    card.get_by_test_id("inv-stock-management").click()
    _toast(page, "Stock management is on")
    expect(card.get_by_test_id("inv-stock-management")).to_have_attribute("data-state", "checked")
    card.get_by_test_id("inv-interval_minutes").fill("0")  # a bad value is refused at its field
    card.get_by_test_id("inv-save").click()
    expect(card.get_by_test_id("inv-error-intervalMinutes")).to_have_text("The interval is from 1 to 1,440 minutes.")

    # 3. the product is configured below its minimum; a maximum under the minimum is refused at its field
    page.goto("/inventory")
    expect(page.get_by_test_id("stock-off")).to_have_count(0)
    dialog = _open_row_action(page, sku, "configure")
    dialog.locator("input[name=minimum]").fill("2")
    dialog.locator("input[name=maximum]").fill("1")
    dialog.locator("input[name=batch_size]").fill("2")
    dialog.get_by_test_id("dialog-submit").click()
    expect(dialog.get_by_test_id("error-maximumStock")).to_have_text("The maximum (1) cannot be below the minimum (2).")
    shot(page, "inventory-02-configure-error")
    dialog.locator("input[name=maximum]").fill("")
    dialog.get_by_test_id("dialog-submit").click()
    expect(dialog).to_have_count(0)
    _toast(page, f"{sku}: minimum 2, no maximum")
    row = _stock_row(page, sku)
    expect(row.get_by_test_id("stock-status")).to_have_text("Low")
    expect(row.get_by_test_id("stock-minimum")).to_have_text("2")
    expect(page.get_by_test_id("status-low")).to_contain_text("1")

    # 4. outside the allowed window "Run now" plans nothing, and the status card says why
    start, end = (now_hour + 2) % 24, (now_hour + 3) % 24
    _save_window(page, start, end, "inventory-03a-settings-card")
    page.goto("/inventory")
    page.get_by_test_id("run-now").click()
    window = f"{start:02d}:00–{end:02d}:00"
    _toast(page, f"outside allowed hours ({window})")
    status = page.get_by_test_id("replenishment-status")
    expect(status.get_by_test_id("replenishment-summary")).to_have_text(
        f"Nothing planned: outside allowed hours ({window})."
    )
    expect(status.get_by_test_id("replenishment-condition")).to_have_count(6)
    hours = status.get_by_test_id("replenishment-condition").filter(has_text="Allowed hours")
    expect(hours).to_contain_text(f"Outside allowed hours ({window}).")
    expect(hours.get_by_label("does not hold")).to_be_visible()
    expect(status.get_by_test_id("replenishment-condition").filter(has_text="Below minimum")).to_contain_text(
        "1 product(s) below their minimum."
    )
    expect(status.get_by_test_id("replenishment-last")).to_contain_text("run by hand")
    expect(row.get_by_test_id("stock-printing")).to_have_text("—")
    shot(page, "inventory-03-skipped-outside-hours")

    # 5. inside the window it plans two batches (the minimum, two units per run), shown in the batches view
    start, end = (now_hour + 23) % 24, (now_hour + 2) % 24
    _save_window(page, start, end)
    page.goto("/inventory")
    page.get_by_test_id("run-now").click()
    _toast(page, "Planned 2 batch(es) for 1 product(s).")
    expect(status.get_by_test_id("replenishment-summary")).to_have_text("Planned 2 batch(es) for 1 product(s).")
    expect(status.get_by_label("does not hold")).to_have_count(0)
    expect(row.get_by_test_id("stock-printing")).to_have_text("2")
    shot(page, "inventory-04-planned")
    page.get_by_test_id("tab-batches").click()
    page.wait_for_url("**/inventory?view=batches")
    batches = page.get_by_test_id("batches-table").get_by_test_id("batch-row")
    expect(batches).to_have_count(2)
    for n in range(2):
        expect(batches.nth(n)).to_contain_text(sku)
        expect(batches.nth(n)).to_contain_text("Scheduler")
        expect(batches.nth(n).get_by_test_id("batch-status")).to_have_text("Printing")
        expect(batches.nth(n).get_by_test_id("batch-done")).to_have_text("0 of 1 print(s) done")
    expect(page.get_by_test_id("batches-active")).to_contain_text("2")
    shot(page, "inventory-05-batches")

    # 6. the stand-in prints both batches: the stock rises on the open page, without a reload
    page.get_by_test_id("tab-stock").click()
    page.wait_for_url(re.compile(r".*/inventory$"))
    row = _stock_row(page, sku)
    expect(row.get_by_test_id("stock-current")).to_have_text("0")
    page.evaluate("window.__noReload = 'still here'")
    _wait(
        lambda: (jobs := _batch_jobs(tenant)) and len(jobs) == 2 and all(j.simplyprint_queue_item_id for j in jobs),
        "both batches' prints on the SimplyPrint queue",
    )
    sp.run_until_idle()  # the printer prints one, then the other
    expect(row.get_by_test_id("stock-current")).to_have_text("2", timeout=LIVE)
    expect(row.get_by_test_id("stock-status")).to_have_text("OK")
    expect(row.get_by_test_id("stock-printing")).to_have_text("—", timeout=LIVE)
    assert page.evaluate("window.__noReload") == "still here"
    shot(page, "inventory-06-stock-rose-live")

    # 7. a Shopify order for one shade is served from the shelf and goes straight to ready
    order_id, number = _shopify_order(tenant, sku, shop["tag"])
    expect(row.get_by_test_id("stock-current")).to_have_text("1", timeout=LIVE)
    expect(row.get_by_test_id("stock-status")).to_have_text("Low")
    page.goto(f"/orders/{order_id}")
    expect(page.get_by_test_id("order-number")).to_have_text(f"Order {number}")
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Ready", timeout=LIVE)
    expect(page.get_by_test_id("timeline")).to_contain_text(f"1 of 1 × {sku} taken from stock")
    _tall(page, "inventory-07-order-ready", 1500)
    with tenant_session(tenant.id) as s:
        assert printing.jobs_for_order(s, uuid.UUID(order_id)) == []  # nothing printed for it

    # 8. the product's page: its ledger has the two units produced and the order's
    page.goto("/inventory")
    _stock_row(page, sku).get_by_test_id("stock-sku").click()
    page.wait_for_url(f"**/inventory/products/{shop['mapping_id']}")
    expect(page.get_by_test_id("product-sku")).to_have_text(sku)
    expect(page.get_by_test_id("product-current")).to_have_text("1")
    ledger = page.get_by_test_id("ledger-table").get_by_test_id("ledger-row")
    expect(ledger).to_have_count(3)
    expect(ledger.nth(0).get_by_test_id("ledger-type")).to_have_text("Consumed by an order")
    expect(ledger.nth(0).get_by_test_id("ledger-change")).to_have_text(MINUS + "1")
    expect(ledger.nth(0).get_by_test_id("ledger-order")).to_have_attribute("href", f"/orders/{order_id}")
    for n in (1, 2):
        expect(ledger.nth(n).get_by_test_id("ledger-type")).to_have_text("Produced")
        expect(ledger.nth(n).get_by_test_id("ledger-change")).to_have_text("+1")

    # 9. an adjustment: too many out is refused with the shelf's count; three in are added
    page.get_by_test_id("product-adjust").click()
    dialog = page.get_by_test_id("stock-dialog")
    dialog.get_by_test_id("field-direction").click()
    page.get_by_role("option", name="Take off the shelf").click()
    dialog.locator("input[name=quantity]").fill("50")
    dialog.locator("textarea[name=reason]").fill("Counted the shelf")
    dialog.get_by_test_id("dialog-submit").click()
    expect(dialog.get_by_test_id("dialog-error")).to_have_text(
        f"Only 1 unit(s) of {sku} are on the shelf; 50 cannot be taken off."
    )
    shot(page, "inventory-08-adjust-refused")
    dialog.get_by_test_id("field-direction").click()
    page.get_by_role("option", name="Add to the shelf").click()
    dialog.locator("input[name=quantity]").fill("3")
    dialog.locator("textarea[name=reason]").fill("Found in the back room")
    dialog.get_by_test_id("dialog-submit").click()
    expect(dialog).to_have_count(0)
    _toast(page, f"3 × {sku} added to the shelf: 4 on it now.")
    expect(page.get_by_test_id("product-current")).to_have_text("4")
    expect(ledger.nth(0).get_by_test_id("ledger-type")).to_have_text("Adjusted in")
    expect(ledger.nth(0).get_by_test_id("ledger-change")).to_have_text("+3")
    expect(ledger.nth(0).get_by_test_id("ledger-reason")).to_have_text("Found in the back room")
    expect(ledger.nth(0)).to_contain_text(shop["admin"].username)

    # 10. a scrap, behind its confirmation
    page.get_by_test_id("product-scrap").click()
    dialog = page.get_by_test_id("stock-dialog")
    dialog.locator("input[name=quantity]").fill("1")
    dialog.locator("textarea[name=reason]").fill("Cracked rim")
    dialog.get_by_test_id("dialog-submit").click()
    expect(dialog.get_by_test_id("scrap-confirm-text")).to_contain_text(f"Scrap 1 × {sku}?")
    shot(page, "inventory-09-scrap-confirm")
    dialog.get_by_test_id("scrap-confirm").click()
    expect(dialog).to_have_count(0)
    _toast(page, f"1 × {sku} scrapped: 3 left on the shelf.")
    expect(page.get_by_test_id("product-current")).to_have_text("3")
    expect(ledger).to_have_count(5)
    expect(ledger.nth(0).get_by_test_id("ledger-type")).to_have_text("Scrapped")
    expect(ledger.nth(0).get_by_test_id("ledger-change")).to_have_text(MINUS + "1")
    expect(ledger.nth(0).get_by_test_id("ledger-reason")).to_have_text("Cracked rim")
    expect(page.get_by_test_id("stock-chart").locator(".recharts-area")).to_be_visible()

    # 11. one more printed for stock by hand, then cancelled after its confirmation
    page.get_by_test_id("product-print").click()
    dialog = page.get_by_test_id("stock-dialog")
    dialog.locator("input[name=quantity]").fill("1")
    dialog.get_by_test_id("dialog-submit").click()
    _toast(page, f"1 stock batch(es) of {sku} queued behind every order")
    batches = page.get_by_test_id("batches-table").get_by_test_id("batch-row")
    printing_batch = batches.filter(has=page.get_by_test_id("batch-status").filter(has_text="Printing"))
    expect(printing_batch).to_have_count(1)
    expect(printing_batch).to_contain_text("By hand")
    expect(page.get_by_test_id("product-printing")).to_have_text("1")
    _tall(page, "inventory-10-product", 2000)
    printing_batch.get_by_test_id("batch-cancel").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text(f"Cancel this stock batch of {sku}?")
    shot(page, "inventory-11-cancel-confirm")
    confirm.get_by_test_id("batch-cancel-confirm").click()
    _toast(page, f"Stock batch of {sku} cancelled")
    expect(batches.filter(has=page.get_by_test_id("batch-status").filter(has_text="Cancelled"))).to_have_count(1)
    expect(page.get_by_test_id("batch-cancel")).to_have_count(0)
    expect(page.get_by_test_id("product-printing")).to_have_text("0")
    expect(page.get_by_test_id("product-current")).to_have_text("3")  # the shelf does not change
    with tenant_session(tenant.id) as s:
        cancelled = s.exec(select(StockBatch).where(StockBatch.status == "CANCELLED")).all()
        assert len(cancelled) == 1
        job_ids = s.exec(select(StockBatchJob.print_job_id).where(StockBatchJob.stock_batch_id == cancelled[0].id))
        assert [printing.get_job(s, j).status for j in job_ids] == ["CANCELLED"]


def test_a_viewer_sees_the_stock_and_no_inputs_an_operator_reads_the_settings(browser, app_url, shop):
    tenant, sku = shop["tenant"], shop["sku"]
    viewer = factories.make_user(tenant, "viewer")
    operator = factories.make_user(tenant, "operator")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=app_url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, viewer.username, shop=tenant.slug, next_path="/inventory")
        page.wait_for_url("**/inventory")
        expect(page.get_by_test_id("nav-inventory")).to_be_visible()
        expect(_stock_row(page, sku)).to_be_visible()
        expect(page.get_by_test_id("replenishment-status")).to_be_visible()
        expect(page.get_by_test_id("run-now")).to_have_count(0)
        expect(page.get_by_test_id("row-actions")).to_have_count(0)
        expect(page.locator("input:not([data-search='1']), textarea")).to_have_count(0)
        shot(page, "inventory-12-viewer")
        page.get_by_test_id("tab-batches").click()
        page.wait_for_url("**/inventory?view=batches")
        page.get_by_test_id("batches-all").click()
        expect(page.get_by_test_id("batch-row").first).to_be_visible()
        expect(page.get_by_test_id("batch-cancel")).to_have_count(0)
        page.goto(f"/inventory/products/{shop['mapping_id']}")
        expect(page.get_by_test_id("product-sku")).to_have_text(sku)
        expect(page.get_by_test_id("ledger-row").first).to_be_visible()
        expect(page.get_by_test_id("product-adjust")).to_have_count(0)
        expect(page.locator("input, textarea, button[role=switch]")).to_have_count(0)
        page.goto("/settings")
        expect(page.get_by_test_id("forbidden")).to_be_visible()
        page.goto(f"/inventory/products/{uuid.uuid4()}")
        expect(page.get_by_text("Product not found")).to_be_visible()
        shot(page, "inventory-13-not-found")
        context.clear_cookies()

        sign_in(page, operator.username, shop=tenant.slug, next_path="/settings")
        page.wait_for_url("**/settings")
        card = page.get_by_test_id("inventory-settings")
        expect(card.get_by_test_id("inv-stock-management-value")).to_have_text("On")
        expect(card.get_by_test_id("inv-words")).to_contain_text("Replenishment is on")
        expect(card.locator("input, button[role=switch], button[role=combobox]")).to_have_count(0)
        card.scroll_into_view_if_needed()
        shot(page, "inventory-14-operator-settings")
    finally:
        context.close()
