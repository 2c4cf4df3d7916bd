"""The orders pages as staff use them every day: a view kept in the URL (a
bookmark opens it, the back button returns to it), "/" to search, ticking
orders for bulk steps, cancelling and exporting, the CSV of the filters, a
manual order typed in with a SKU lookup and errors next to the fields, the
words on one order's page, what a viewer sees, and both pages at 768 and 390 px."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, expect

from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.platform.db import tenant_session
from app.platform.models import RetryEntry
from app.printing import service as printing
from tests import factories
from tests.e2e.conftest import shot, sign_in

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


def _orders(tenant, tag: str, n: int, *, status: str = "PENDING", total_parts: int = 0, start: int = 0) -> list[str]:
    """`n` manual orders named "<tag> <i>" (from `start`), in `status`."""
    ids = []
    with tenant_session(tenant.id) as s:
        for i in range(start, start + n):
            order, _ = orders.create_order(
                s,
                OrderInput(
                    source="manual",
                    customer_name=f"{tag} {i:02d}",
                    customer_email=f"c{i}@example.com",
                    ship_city="Utrecht",
                    ship_country_code="NL",
                    total=Decimal("49.95"),
                    lines=[LineInput(sku="VASE-1", title="Spiral vase", quantity=1, unit_price=Decimal("49.95"))],
                ),
            )
            order.status, order.total_parts = status, total_parts
            s.add(order)
            ids.append(str(order.id))
        s.commit()
    return ids


def _numbers(tenant, ids: list[str]) -> list[str]:
    with tenant_session(tenant.id) as s:
        return [_get(s, i).number for i in ids]


def _get(s, order_id: str) -> Order:
    order = s.get(Order, uuid.UUID(order_id))
    assert order is not None
    return order


def _rows(path) -> list[list[str]]:
    """A downloaded CSV's rows (its BOM dropped)."""
    return list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


def test_the_view_lives_in_the_url_and_slash_searches(page):
    tag = f"Url{uuid.uuid4().hex[:5]}"
    tenant = factories.default_tenant()
    operator = factories.make_user(tenant, "operator")
    _orders(tenant, tag, 30, status="PROCESSING")
    _orders(tenant, tag, 2, status="PENDING", start=30)

    # a bookmark opens the same view: filter and page
    bookmark = f"/orders?search={tag}&status=PROCESSING&page=2"
    sign_in(page, operator.username, next_path=quote(bookmark, safe="/"))
    page.wait_for_url("**/orders?*")
    expect(page.get_by_test_id("order-total")).to_have_text("30 orders")
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.get_by_role("combobox", name="Status")).to_have_text("Processing")
    expect(page.get_by_test_id("order-search")).to_have_value(tag)
    expect(page.get_by_test_id("orders-table").locator("tbody tr")).to_have_count(5)
    expect(page.get_by_test_id("orders-table")).not_to_contain_text("PROCESSING")  # words, not identifiers
    expect(page.get_by_test_id("orders-table")).to_contain_text("Processing")
    expect(page.get_by_test_id("orders-table")).to_contain_text("€49.95")

    # another filter is another URL; the back button returns to the view before
    page.get_by_role("combobox", name="Status").click()
    page.get_by_role("option", name="Pending").click()
    page.wait_for_url("**status=PENDING*")
    expect(page.get_by_test_id("order-total")).to_have_text("2 orders")
    assert "page=" not in page.url  # a new filter starts at the first page
    page.get_by_test_id("sort-customer").click()
    page.wait_for_url("**sort=customer*")
    first_row = page.get_by_test_id("orders-table").locator("tbody tr").first
    expect(first_row).to_contain_text(f"{tag} 30")  # ascending by name: the pending ones are 30 and 31
    page.go_back()
    page.wait_for_url("**status=PENDING*")
    page.go_back()
    page.wait_for_url("**status=PROCESSING*")
    expect(page.get_by_test_id("order-total")).to_have_text("30 orders")
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()

    # "/" puts the cursor in the search box; typing narrows (and the URL follows)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("/")
    expect(page.get_by_test_id("order-search")).to_be_focused()
    page.keyboard.type(f"{tag} 07")
    page.wait_for_url(f"**search={tag}+07*")
    expect(page.get_by_test_id("order-total")).to_have_text("1 order")
    shot(page, "orders-url-view")


def test_staff_tick_orders_for_bulk_steps_cancel_and_export(page):
    tag = f"Bulk{uuid.uuid4().hex[:5]}"
    tenant = factories.default_tenant()
    operator = factories.make_user(tenant, "operator")
    plain = _orders(tenant, tag, 2)
    waiting = _orders(tenant, f"{tag}w", 1, total_parts=2)  # its printed parts are not printed yet
    waiting_number = _numbers(tenant, waiting)[0]
    sign_in(page, operator.username, next_path=f"/orders?search={tag}")
    page.wait_for_url("**/orders?*")
    expect(page.get_by_test_id("order-total")).to_have_text("3 orders")

    # mark all three ready: two may, the third is named with why not
    page.get_by_test_id("select-all").click()
    expect(page.get_by_test_id("selected-count")).to_have_text("3 selected")
    page.get_by_test_id("bulk-ready").click()
    toast = page.locator("[data-sonner-toast]").filter(has_text="2 orders now ready.")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text(waiting_number)
    expect(toast).to_contain_text("printed part(s) not printed yet")
    shot(page, "orders-bulk-ready")
    expect(page.get_by_test_id("bulk-bar")).to_have_count(0)  # done: nothing ticked any more
    with tenant_session(tenant.id) as s:
        assert [_get(s, i).fulfillment_status for i in plain] == ["ready", "ready"]
        assert _get(s, waiting[0]).fulfillment_status == "unfulfilled"

    # export the ticked orders
    rows = page.get_by_test_id("orders-table").locator("tbody tr")
    rows.filter(has_text=f"{tag} 00").get_by_test_id("select-row").click()
    rows.filter(has_text=f"{tag} 01").get_by_test_id("select-row").click()
    expect(page.get_by_test_id("selected-count")).to_have_text("2 selected")
    with page.expect_download() as download:
        page.get_by_test_id("bulk-export").click()
    picked = _rows(download.value.path())
    assert sorted(r[2] for r in picked[1:]) == [f"{tag} 00", f"{tag} 01"]
    assert {r[5] for r in picked[1:]} == {"Ready"}

    # cancel them, after confirming
    page.get_by_test_id("bulk-cancel").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Cancel 2 order(s)?")
    dialog.get_by_role("button", name="Cancel orders").click()
    expect(page.locator("[data-sonner-toast]").filter(has_text="2 orders cancelled.")).to_be_visible()
    expect(rows.filter(has_text=f"{tag} 00")).to_contain_text("Cancelled")

    # the CSV of the filters: every matching order, whatever the page
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    assert download.value.suggested_filename.startswith("orders-")
    everything = _rows(download.value.path())
    assert everything[0][:3] == ["Number", "Placed", "Customer"]
    assert sorted(r[2] for r in everything[1:]) == [f"{tag} 00", f"{tag} 01", f"{tag}w 00"]
    assert {r[4] for r in everything[1:]} == {"Cancelled", "Pending"}


def test_a_manual_order_with_lookup_lines_and_errors_next_to_the_fields(page):
    tag = uuid.uuid4().hex[:5].upper()
    tenant = factories.default_tenant()
    admin = factories.make_user(tenant, "admin")
    with tenant_session(tenant.id) as s:
        printing.create_mapping(s, sku=f"LAMP-{tag}", name=f"Moon lamp {tag}", actor=factories.staff_principal(tenant))
        s.commit()
    sign_in(page, admin.username, next_path="/orders")
    page.wait_for_url("**/orders")
    page.get_by_test_id("new-order").click()
    dialog = page.get_by_role("dialog")

    # nothing filled in: each field says what it needs, the dialog stays open
    page.get_by_test_id("create-order").click()
    expect(page.get_by_test_id("error-customer_name")).to_have_text("Enter the customer's name.")
    expect(page.get_by_test_id("error-customer_email")).to_be_visible()
    expect(page.get_by_test_id("error-ship_street")).to_be_visible()
    expect(dialog.get_by_test_id("line-error").first).to_have_text("Give the line a title.")

    dialog.locator("input[name=customer_name]").fill(f"Ada Lovelace {tag}")
    dialog.locator("input[name=customer_email]").fill("ada-at-example")
    dialog.locator("input[name=customer_phone]").fill("+31 6 1234 5678")
    dialog.locator("input[name=ship_street]").fill("Oudegracht")
    dialog.locator("input[name=ship_house_number]").fill("12")
    dialog.locator("input[name=ship_postal_code]").fill("3511 AB")
    dialog.locator("input[name=ship_city]").fill("Utrecht")

    # line 1 from the lookup: typing a name suggests the printed product
    dialog.get_by_test_id("line-sku").first.fill(f"moon lamp {tag}".lower())
    dialog.get_by_test_id("sku-suggestion").filter(has_text=f"LAMP-{tag}").click()
    expect(dialog.get_by_test_id("line-sku").first).to_have_value(f"LAMP-{tag}")
    expect(dialog.get_by_test_id("line-title").first).to_have_value(f"Moon lamp {tag}")
    dialog.get_by_test_id("line-price").first.fill("35")
    dialog.get_by_test_id("line-quantity").first.fill("2")
    # line 2 by hand, with a quantity that is not allowed
    dialog.get_by_test_id("add-line").click()
    dialog.get_by_test_id("line-title").nth(1).fill("Gift wrapping")
    dialog.get_by_test_id("line-quantity").nth(1).fill("0")
    dialog.get_by_test_id("line-price").nth(1).fill("2.50")
    dialog.get_by_test_id("draft-shipping").fill("6.95")
    expect(dialog.get_by_test_id("draft-total")).to_have_text("€76.95")  # 2 × 35 + 0 × 2.50 + 6.95
    page.get_by_test_id("create-order").click()
    expect(page.get_by_test_id("error-customer_email")).to_contain_text("is not an email address")
    expect(dialog.get_by_test_id("line-error")).to_have_text(["The quantity is at least 1."])
    expect(dialog.locator("input[name=ship_city]")).to_have_value("Utrecht")  # what was typed stays
    shot(page, "orders-new-order-errors")

    dialog.locator("input[name=customer_email]").fill("ada@example.com")
    dialog.get_by_test_id("line-quantity").nth(1).fill("1")
    expect(dialog.get_by_test_id("draft-total")).to_have_text("€79.45")
    page.get_by_test_id("create-order").click()
    expect(page.locator("[data-sonner-toast]").filter(has_text="created.")).to_be_visible()
    expect(dialog).to_have_count(0)
    page.get_by_test_id("order-search").fill(f"Ada Lovelace {tag}")
    expect(page.get_by_test_id("order-total")).to_have_text("1 order")
    page.get_by_test_id("orders-table").get_by_role("link").first.click()
    expect(page.get_by_test_id("line-items")).to_contain_text("Gift wrapping")
    expect(page.get_by_test_id("line-items")).to_contain_text("€35.00")
    expect(page.get_by_text("+31 6 1234 5678")).to_be_visible()


def test_an_order_page_speaks_words_and_a_viewer_gets_no_buttons(browser, app_url):
    tag = f"View{uuid.uuid4().hex[:5]}"
    tenant = factories.default_tenant()
    viewer = factories.make_user(tenant, "viewer")
    operator = factories.make_user(tenant, "operator")
    oid = _orders(tenant, tag, 1)[0]
    with tenant_session(tenant.id) as s:
        s.add(
            RetryEntry(
                tenant_id=tenant.id,
                job_type="FULFILLMENT",
                order_id=uuid.UUID(oid),
                status="FAILED",
                attempts=5,
                needs_attention=True,
                last_error="ShopifyError: Shopify unreachable: [Errno 111] Connection refused",
            )
        )
        s.commit()

    for width in (TABLET, PHONE):
        ctx = browser.new_context(viewport=width, has_touch=width is PHONE, base_url=app_url)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        try:
            sign_in(page, operator.username, next_path=f"/orders/{oid}")
            page.wait_for_url(f"**/orders/{oid}")
            expect(page.get_by_test_id("order-status")).to_have_text("Pending")
            expect(page.get_by_test_id("order-fulfillment")).to_have_text("Unfulfilled")
            expect(page.get_by_test_id("line-items")).to_contain_text("Pending")
            expect(page.get_by_test_id("timeline")).to_contain_text("Order received")
            expect(page.get_by_test_id("timeline")).not_to_contain_text("order.created")
            retry = page.get_by_test_id("retry-row")
            expect(retry).to_contain_text("Shopify fulfillment")
            expect(retry).to_contain_text("Gave up")
            expect(page.get_by_test_id("retry-problem")).to_have_text("Shopify could not be reached.")
            expect(page.get_by_text("Errno 111")).not_to_be_visible()  # the detail waits behind the toggle
            page.get_by_text("Show details").click()
            expect(page.get_by_text("Errno 111")).to_be_visible()
            expect(page.get_by_test_id("retry-now")).to_be_visible()
            _no_sideways_scroll(page)
            shot(page, f"order-page-{width['width']}")

            page.goto(f"/orders?search={tag}")
            expect(page.get_by_test_id("order-total")).to_have_text("1 order")
            expect(page.get_by_test_id("orders-table")).to_contain_text("Manual")
            _no_sideways_scroll(page)
            shot(page, f"orders-list-{width['width']}")
        finally:
            ctx.close()

    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=app_url)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, viewer.username, next_path=f"/orders?search={tag}")
        page.wait_for_url("**/orders?*")
        expect(page.get_by_test_id("order-total")).to_have_text("1 order")
        expect(page.get_by_test_id("export-csv")).to_be_visible()  # reading includes exporting
        expect(page.get_by_test_id("new-order")).to_have_count(0)
        expect(page.get_by_test_id("select-all")).to_have_count(0)
        expect(page.get_by_test_id("select-row")).to_have_count(0)
        page.get_by_test_id("orders-table").get_by_role("link").first.click()
        expect(page.get_by_test_id("order-status")).to_have_text("Pending")
        for action in ("action-ready", "action-cancel", "retry-now", "create-build"):
            expect(page.get_by_test_id(action)).to_have_count(0)
        expect(page.get_by_test_id("retry-problem")).to_be_visible()  # a viewer still sees what is wrong
        shot(page, "order-page-viewer")
    finally:
        ctx.close()
