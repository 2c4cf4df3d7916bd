"""The print farm for staff and viewers, in manual mode: a shop with 28 parts
waiting sees a short queue preview and a paged job list whose filters, search,
sort and page live in the URL (bookmarks, the back button); "/" focuses the
search. An operator starts a queued job by hand, ticks jobs and moves, cancels
and requeues them in bulk (refused ones named); errors read as sentences with
their detail behind "Show details". A viewer sees no inputs or buttons that
change anything. The pages fit 768 and 390 px wide."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from app.inventory import service as inventory
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform.db import tenant_session
from app.platform.models import Tenant
from app.printing import service as printing
from app.printing.models import PrintJob
from tests import factories
from tests.e2e.conftest import choose, shot, sign_in, tick_rows
from tests.e2e.test_printfarm import _principal

PARTS = 28


def _order(tenant: Tenant, sku: str, quantity: int) -> tuple[str, str]:
    """A manual order for `quantity` clips; its print jobs are made right away."""
    data = OrderInput(
        source="manual",
        customer_name="Grace Hopper",
        customer_email="grace@example.com",
        lines=[LineInput(sku=sku, title="Cable clip", quantity=quantity, unit_price=Decimal("2.50"))],
    )
    with tenant_session(tenant.id) as s:
        order, _ = orders.create_order(s, data)
        printing.create_jobs_for_order(s, order.id)
        s.commit()
        return str(order.id), order.number


def _jobs(tenant: Tenant) -> list[PrintJob]:
    with tenant_session(tenant.id) as s:
        return list(s.exec(select(PrintJob).order_by(col(PrintJob.sequence))))


def _set(tenant: Tenant, job_id: uuid.UUID, **values) -> None:
    with tenant_session(tenant.id) as s:
        job = s.get(PrintJob, job_id)
        assert job is not None
        for name, value in values.items():
            setattr(job, name, value)
        s.add(job)
        s.commit()


@pytest.fixture(scope="module")
def shop():
    """A shop of its own in manual mode: a cable clip of one part, an order for 28 of them,
    a stock print of a vase, and a failed job whose SimplyPrint upload could not get through."""
    tenant = factories.make_tenant("Clip Farm")
    admin = factories.make_user(tenant, "admin")
    actor = _principal(tenant, admin.username)
    tag = uuid.uuid4().hex[:5]
    with tenant_session(tenant.id) as s:
        clip = printing.create_mapping(s, sku=f"CLIP-{tag}", name="Cable clip", actor=actor)
        printing.add_part(s, clip.id, part_name="Clip", actor=actor)
        vase = printing.create_mapping(
            s,
            sku=f"VASE-{tag}",
            name="Spiral vase",
            weight_grams=1250,
            length_cm=30,
            width_cm=20,
            height_cm=20,
            actor=actor,
        )
        printing.add_part(s, vase.id, part_name="Body", actor=actor)
        s.commit()
        vase_id = str(vase.id)
    _, number = _order(tenant, f"CLIP-{tag}", PARTS)
    with tenant_session(tenant.id) as s:
        inventory.create_batches(s, vase_id, 1, actor=actor)
        s.commit()
    first = _jobs(tenant)[0]
    _set(
        tenant,
        first.id,
        status="FAILED",
        error="SimplyPrint: SimplyPrint unreachable (queue/AddItem): [Errno 111] Connection refused",
    )
    return tenant, admin, number, vase_id


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


def test_staff_page_filter_search_and_act_on_print_jobs(page: Page, shop):
    tenant, _, number, _ = shop
    operator = factories.make_user(tenant, "operator")
    sign_in(page, operator.username, shop=tenant.slug, next_path="/printfarm")
    page.wait_for_url("**/printfarm")

    # a short queue preview (not every waiting part) and a paged list: no endless page
    queue = page.get_by_test_id("order-queue")
    expect(queue.get_by_test_id("queue-row")).to_have_count(10)
    expect(page.get_by_test_id("order-queue-count")).to_have_text(str(PARTS - 1))
    expect(page.get_by_test_id("job-row")).to_have_count(25)
    expect(page.get_by_test_id("job-total")).to_have_text(f"{PARTS + 1} jobs")
    assert page.evaluate("document.documentElement.scrollHeight") < 9000
    expect(queue.get_by_test_id("job-printer").first).to_have_text("Not assigned")
    expect(queue.get_by_test_id("job-status").first).to_have_text("Queued")

    # the failed job says what happened in words; the detail waits behind "Show details"
    failed = page.get_by_test_id("attention").get_by_test_id("attention-row")
    expect(failed.get_by_test_id("job-error")).to_have_text("SimplyPrint could not be reached.")
    detail = failed.get_by_test_id("job-error-details")
    expect(detail.locator("code")).not_to_be_visible()
    detail.get_by_text("Show details").click()
    expect(detail.locator("code")).to_contain_text("Connection refused")
    expect(page.locator("body")).not_to_contain_text("Error:")
    shot(page, "printfarm-views-01-staff")

    # the pager and the filters live in the URL; the back button returns to the last view
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/printfarm?page=2")
    expect(page.get_by_test_id("job-row")).to_have_count(PARTS + 1 - 25)
    page.get_by_test_id("queue-row").first.scroll_into_view_if_needed()
    page.get_by_test_id("order-queue-all").click()
    page.wait_for_url("**status=QUEUED*")
    assert "purpose=ORDER" in page.url and "descending=0" in page.url
    expect(page.get_by_test_id("job-total")).to_have_text(f"{PARTS - 1} jobs")
    page.go_back()
    page.wait_for_url("**/printfarm?page=2")
    expect(page.get_by_test_id("job-total")).to_have_text(f"{PARTS + 1} jobs")
    page.goto("/printfarm?status=FAILED")  # a bookmark
    expect(page.get_by_test_id("job-row")).to_have_count(1)
    expect(page.get_by_role("combobox", name="Status")).to_have_text("Failed")

    # "/" focuses the search; a product's name finds its jobs
    page.goto("/printfarm")
    expect(page.get_by_test_id("job-row")).to_have_count(25)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("/")
    expect(page.get_by_test_id("job-search")).to_be_focused()
    page.keyboard.type("Spiral vase")
    page.wait_for_url("**search=Spiral+vase*")
    expect(page.get_by_test_id("job-total")).to_have_text("1 job")
    page.get_by_role("button", name="Clear filters").click()
    page.wait_for_url("**/printfarm")
    expect(page.get_by_test_id("job-total")).to_have_text(f"{PARTS + 1} jobs")

    # start a queued job by hand (manual mode): the progress column shows it printing
    rows = page.get_by_test_id("jobs-table").get_by_test_id("job-row")
    first = rows.filter(has_text=number).first
    choose(page, first.get_by_test_id("job-move"), "job-move-PRINTING")
    expect(page.locator("[data-sonner-toast]").filter(has_text="moved to printing")).to_be_visible()
    expect(first.get_by_test_id("job-status")).to_have_text("Printing")
    expect(first.get_by_test_id("job-progress")).to_contain_text("0%")
    expect(first.get_by_test_id("job-time")).to_contain_text("printed")

    # bulk: tick three, complete them; the failed one cannot be completed and is named
    page.goto("/printfarm?status=FAILED")
    expect(page.get_by_test_id("job-row")).to_have_count(1)
    page.get_by_test_id("select-all").click()
    page.goto("/printfarm?status=QUEUED&sort=queued&descending=0")
    expect(page.get_by_test_id("job-total")).to_have_text(f"{PARTS - 1} jobs")  # the new view, loaded
    expect(page.get_by_test_id("bulk-bar")).to_have_count(0)  # a new view: nothing ticked
    rows = page.get_by_test_id("jobs-table").get_by_test_id("job-row")
    tick_rows(page, rows, 2)
    page.get_by_test_id("bulk-move").click()
    page.get_by_test_id("bulk-move-COMPLETED").click()
    expect(page.locator("[data-sonner-toast]").filter(has_text="2 print job(s) moved to completed")).to_be_visible()
    expect(page.get_by_test_id("bulk-bar")).to_have_count(0)
    expect(page.get_by_test_id("job-total")).to_have_text(f"{PARTS - 3} jobs")  # less the failed and printing ones

    page.goto("/printfarm?sort=status&descending=0")
    rows = page.get_by_test_id("jobs-table").get_by_test_id("job-row")
    expect(rows.first.get_by_test_id("job-status")).to_have_text("Queued")
    page.goto("/printfarm?sort=status")  # completed and failed first
    rows = page.get_by_test_id("jobs-table").get_by_test_id("job-row")
    expect(rows.nth(0).get_by_test_id("job-status")).to_have_text("Failed")
    tick_rows(page, rows, 3)  # the failed one and two completed ones
    page.get_by_test_id("bulk-move").click()
    page.get_by_test_id("bulk-move-PRINTING").click()
    toast = page.locator("[data-sonner-toast]").filter(has_text="Not changed")
    expect(toast).to_contain_text("a completed job cannot be moved to printing")
    expect(toast).to_contain_text("Clip #")
    shot(page, "printfarm-views-02-bulk-refused")

    # cancel in bulk, after confirming; then requeue them
    page.goto("/printfarm?status=QUEUED")
    expect(page.get_by_test_id("job-total")).to_have_text(f"{PARTS - 3} jobs")  # the new view, loaded
    rows = page.get_by_test_id("jobs-table").get_by_test_id("job-row")
    tick_rows(page, rows, 3)
    page.get_by_role("button", name="Cancel jobs").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel jobs").click()
    expect(page.locator("[data-sonner-toast]").filter(has_text="3 print job(s) cancelled")).to_be_visible()
    page.goto("/printfarm?status=CANCELLED")
    expect(page.get_by_test_id("job-row")).to_have_count(3)
    page.get_by_test_id("select-all").click()
    expect(page.get_by_test_id("selected-count")).to_have_text("3 selected")
    page.get_by_test_id("bulk-requeue").click()
    expect(page.locator("[data-sonner-toast]").filter(has_text="3 print job(s) queued again")).to_be_visible()
    expect(page.get_by_text("No print jobs match")).to_be_visible()
    statuses = [j.status for j in _jobs(tenant)]
    assert statuses.count("CANCELLED") == 0 and statuses.count("COMPLETED") == 2

    # narrow screens: filters wrap, tables scroll inside their card, the page does not
    page.goto("/printfarm")
    expect(page.get_by_test_id("job-row")).to_have_count(25)
    for width, name in ((768, "tablet"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(300)
        _no_sideways_scroll(page)
        shot(page, f"printfarm-views-03-{name}")
        page.get_by_test_id("jobs-table").scroll_into_view_if_needed()
        shot(page, f"printfarm-views-04-{name}-jobs")


def test_viewers_see_the_farm_and_products_without_controls(page: Page, shop):
    tenant, _, _, vase_id = shop
    viewer = factories.make_user(tenant, "viewer")
    sign_in(page, viewer.username, shop=tenant.slug, next_path="/printfarm")
    page.wait_for_url("**/printfarm")
    expect(page.get_by_test_id("job-row")).to_have_count(25)
    for testid in ("select-row", "select-all", "job-move", "job-cancel", "job-requeue", "bulk-bar", "farm-sync"):
        expect(page.get_by_test_id(testid)).to_have_count(0)
    page.get_by_test_id("job-search").fill("vase")  # filtering is reading, not changing
    page.wait_for_url("**search=vase*")
    expect(page.get_by_test_id("job-row")).to_have_count(1)

    page.goto("/printing/products")
    expect(page.get_by_test_id("mapping-row")).to_have_count(2)
    expect(page.get_by_test_id("new-mapping")).to_have_count(0)
    expect(page.get_by_test_id("mapping-row").first.get_by_test_id("mapping-state")).to_have_text("Active")
    page.goto(f"/printing/products/{vase_id}")
    facts = page.get_by_test_id("mapping-facts")
    expect(facts).to_contain_text("Spiral vase")
    expect(facts).to_contain_text("1,250 g")
    expect(facts).to_contain_text("30 × 20 × 20 cm")
    expect(page.locator("form, textarea, select, input:not([data-search])")).to_have_count(0)
    for testid in ("mapping-save", "part-add", "print-stock", "part-upload-open"):
        expect(page.get_by_test_id(testid)).to_have_count(0)
    expect(page.get_by_role("button", name="Delete mapping")).to_have_count(0)
    shot(page, "printfarm-views-05-viewer-product")
    # a product without packing figures: its label weighs the printed parts
    page.goto("/printing/products")
    page.get_by_test_id("mapping-row").filter(has_text="Cable clip").get_by_test_id("mapping-link").click()
    expect(page.get_by_test_id("mapping-name")).to_have_text("Cable clip")
    facts = page.get_by_test_id("mapping-facts")
    expect(facts).to_contain_text("— uses the printed parts' weight")
    expect(facts).to_contain_text("— the shop's default parcel size")


def test_product_pages_and_the_simplyprint_card_fit_narrow_screens(page: Page, shop):
    tenant, admin, _, vase_id = shop
    sign_in(page, admin.username, shop=tenant.slug, next_path="/printing/products")
    page.wait_for_url("**/printing/products")
    expect(page.get_by_test_id("mapping-row")).to_have_count(2)
    for width, name in ((768, "tablet"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/printing/products")
        expect(page.get_by_test_id("mapping-row")).to_have_count(2)
        _no_sideways_scroll(page)
        shot(page, f"printfarm-views-06-products-{name}")
        page.goto(f"/printing/products/{vase_id}")
        expect(page.get_by_test_id("mapping-name")).to_have_text("Spiral vase")
        expect(page.locator("input[name=sku]")).to_be_visible()  # staff edit it
        _no_sideways_scroll(page)
        shot(page, f"printfarm-views-07-product-{name}")
        page.goto("/settings/integrations")
        card = page.get_by_test_id("simplyprint-card")
        expect(card.get_by_test_id("simplyprint-sync")).to_have_text("Manual mode")
        card.scroll_into_view_if_needed()
        _no_sideways_scroll(page)
        shot(page, f"printfarm-views-08-simplyprint-{name}")
