"""The staff home page, the live notification bell, Settings › Shop and the
audit log's filters, in Chromium, at desktop, tablet and phone widths."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from playwright.sync_api import Page, expect

from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform import audit
from app.platform.db import tenant_session
from app.platform.models import utcnow
from app.printing.models import PrintJob
from tests import factories
from tests.e2e.conftest import shot, sign_in


def _order(tenant, customer: str, price: str, fulfillment: str = ""):
    with tenant_session(tenant.id) as s:
        order = orders.create_manual_order(
            s,
            OrderInput(
                source="manual",
                customer_name=customer,
                lines=[LineInput(sku="PC-1", title="Gaming PC", quantity=1, unit_price=Decimal(price))],
            ),
            actor=factories.staff_principal(tenant),
        )
        if fulfillment:
            order.fulfillment_status = fulfillment
            s.add(order)
        s.commit()
        s.refresh(order)
        return order


def _fits(page: Page) -> None:
    """Nothing makes the page scroll sideways."""
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


def test_home_shows_the_work_and_the_bell_updates_live(page):
    tenant = factories.make_tenant("Bell Shop")
    admin = factories.make_user(tenant, "admin")
    _order(tenant, "Ben Ohr", "250.00", fulfillment="ready")
    with tenant_session(tenant.id) as s:
        s.add(PrintJob(tenant_id=tenant.id, part_name="Bracket", filename="bracket.gcode", status="FAILED"))
        s.commit()

    sign_in(page, admin.username, shop=tenant.slug)
    expect(page.get_by_test_id("welcome")).to_have_text("Welcome, Test Admin")
    expect(page.get_by_test_id("tile-orders.to-ship").get_by_test_id("tile-value")).to_have_text("1")
    expect(page.get_by_test_id("tile-orders.revenue").get_by_test_id("tile-value")).to_have_text("€250.00")
    expect(page.get_by_test_id("tile-orders.revenue").get_by_test_id("revenue-chart")).to_be_visible()
    expect(page.get_by_test_id("tile-printing.failed").get_by_test_id("tile-value")).to_have_text("1")
    activity = page.get_by_test_id("recent-activity")
    expect(activity.get_by_role("link", name=re.compile(r"New order M-\d+ from Ben Ohr"))).to_be_visible()
    shot(page, "home-01-desktop")

    # the failed-prints tile leads to the failed jobs
    page.get_by_test_id("tile-printing.failed").get_by_role("link").click()
    page.wait_for_url("**/printfarm?status=FAILED")

    # on another page now: the bell still follows the shop live
    page.goto("/admin/users")
    expect(page.get_by_test_id("page-title")).to_have_text("Staff & roles")
    expect(page.get_by_test_id("bell-count")).to_have_text("1")  # Ben Ohr's order
    page.wait_for_timeout(1500)  # the bell's watcher is listening
    order = _order(tenant, "Anna Schmidt", "1042.00")
    expect(page.get_by_test_id("bell-count")).to_have_text("2", timeout=30_000)  # no reload
    page.get_by_test_id("bell").click()
    newest = page.get_by_test_id("notification").first
    expect(newest).to_contain_text(f"New order {order.number} from Anna Schmidt")
    expect(newest).to_contain_text("€1,042.00")
    shot(page, "home-02-bell")
    newest.click()
    page.wait_for_url(f"**/orders/{order.id}")
    expect(page.get_by_test_id("bell-count")).to_have_text("1")  # the one opened is read


def test_home_fits_a_tablet_and_a_phone(page):
    tenant = factories.make_tenant("Narrow Shop")
    operator = factories.make_user(tenant, "operator")
    _order(tenant, "Clara Jones", "99.00", fulfillment="ready")
    sign_in(page, operator.username, shop=tenant.slug)
    expect(page.get_by_test_id("tile-orders.revenue")).to_be_visible()
    for width, name in ((768, "tablet"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        _fits(page)
        shot(page, f"home-03-{name}")


def test_shop_settings_change_the_money_everywhere_and_viewers_only_read(page, browser, app_url):
    tenant = factories.make_tenant("Format Shop")
    admin = factories.make_user(tenant, "admin")
    _order(tenant, "Jörg Weber", "1234.50")
    sign_in(page, admin.username, shop=tenant.slug, next_path="/settings")
    page.wait_for_url("**/settings")
    card = page.get_by_test_id("shop-card")
    expect(card.get_by_test_id("sample-money")).to_have_text("€1,234.56")
    card.get_by_test_id("shop-locale").click()
    page.get_by_role("option", name=re.compile("^Deutsch")).click()
    card.get_by_test_id("shop-currency").click()
    page.get_by_role("option", name="CHF", exact=True).click()
    card.get_by_test_id("shop-timezone").fill("Mars/Olympus")
    card.get_by_test_id("shop-save").click()
    expect(card.get_by_test_id("error-timezone")).to_contain_text("Unknown time zone")
    shot(page, "settings-01-error")
    card.get_by_test_id("shop-timezone").fill("Europe/Zurich")
    card.get_by_test_id("shop-save").click()
    expect(page.get_by_text(re.compile(r"^Saved\. Money now reads"))).to_be_visible()
    expect(card.get_by_test_id("sample-money")).to_have_text("1.234,56\xa0CHF")
    shot(page, "settings-02-saved")

    page.goto("/")
    # the shop's orders are in euros, its money now CHF: this week's CHF takings are none, written the German way
    expect(page.get_by_test_id("tile-orders.revenue").get_by_test_id("tile-value")).to_have_text("0,00\xa0CHF")

    # an operator may read the settings, not change them: values as text, no inputs, no buttons
    operator = factories.make_user(tenant, "operator")
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=app_url)
    phone = context.new_page()
    try:
        sign_in(phone, operator.username, shop=tenant.slug, next_path="/settings")
        phone.wait_for_url("**/settings")
        shop = phone.get_by_test_id("shop-card")
        expect(shop.get_by_test_id("shop-currency-value")).to_have_text("CHF")
        expect(shop.get_by_test_id("shop-timezone-value")).to_have_text("Europe/Zurich")
        expect(shop.locator("input, button, [role=combobox]")).to_have_count(0)
        _fits(phone)
        shot(phone, "settings-03-operator-phone")
    finally:
        context.close()


def test_audit_filters_live_in_the_url_export_and_long_values_stay_inside(page):
    tenant = factories.make_tenant("Audit Shop")
    admin = factories.make_user(tenant, "admin", f"anna-{uuid.uuid4().hex[:4]}")
    other = factories.make_user(tenant, "viewer", f"ben-{uuid.uuid4().hex[:4]}")
    with tenant_session(tenant.id) as s:
        audit.record(
            s,
            "integration.shopify.connected",
            actor_user_id=admin.id,
            target_type="shop",
            target_id="audit-shop.myshopify.com",
            meta={"userAgent": "Mozilla/5.0 " + "(very long browser description) " * 20, "at": utcnow().isoformat()},
        )
        s.commit()
    sign_in(page, admin.username, shop=tenant.slug, next_path="/admin/audit")
    page.wait_for_url("**/admin/audit")
    table = page.get_by_test_id("audit-table")
    expect(table.get_by_role("row").filter(has_text="Shopify connected")).to_have_count(1)

    # filter by who did it: the URL keeps it, a reload keeps it, the back button returns
    page.get_by_test_id("filter-user").click()
    page.get_by_role("option", name=other.username, exact=True).click()
    page.wait_for_url(re.compile(rf"/admin/audit\?user={other.username}$"))
    expect(page.get_by_test_id("audit-total")).to_have_text("0 entries")
    page.reload()
    expect(page.get_by_test_id("filter-user")).to_have_text(other.username)
    page.go_back()
    page.wait_for_url(re.compile(r"/admin/audit$"))
    expect(table.get_by_role("row").filter(has_text="Shopify connected")).to_have_count(1)

    page.get_by_test_id("filter-user").click()
    page.get_by_role("option", name=admin.username, exact=True).click()
    page.wait_for_url(re.compile(rf"user={admin.username}"))
    today = page.evaluate("() => new Date().toISOString().slice(0, 10)")
    page.get_by_test_id("filter-from").fill(today)
    page.wait_for_url(re.compile(rf"date_from={today}"))
    expect(table.get_by_role("row").filter(has_text="Shopify connected")).to_have_count(1)

    # the download matches the filters
    export = page.get_by_test_id("audit-export")
    expect(export).to_have_attribute("href", re.compile(rf"export\.csv\?.*user={admin.username}.*from={today}"))
    href = export.get_attribute("href")
    csv = page.evaluate("async (u) => (await fetch(u, {credentials: 'include'})).text()", href)
    lines = [ln for ln in csv.lstrip("\ufeff").splitlines() if ln]
    assert lines[0].startswith("When,Action,Who")
    assert any("Shopify connected" in ln for ln in lines[1:])
    assert all(admin.username in ln for ln in lines[1:])

    # a long value is cut on the page, whole behind "show all"
    row = table.get_by_role("row").filter(has_text="Shopify connected")
    box = row.get_by_text(re.compile("user agent: Mozilla")).bounding_box()
    assert box is not None and box["width"] <= 300
    row.get_by_test_id("show-details").click()
    expect(page.get_by_test_id("details-full")).to_contain_text("(very long browser description)")
    shot(page, "audit-01-details")
    page.keyboard.press("Escape")

    for width, name in ((768, "tablet"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        _fits(page)
        shot(page, f"audit-02-{name}")


def test_admin_pages_fit_a_phone_and_speak_words(page):
    tenant = factories.make_tenant("Phone Admin Shop")
    admin = factories.make_user(tenant, "admin")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, admin.username, shop=tenant.slug)
    expect(page.get_by_test_id("welcome")).to_be_visible()
    for path, name in (
        ("/admin/users", "users"),
        ("/admin/api-keys", "api-keys"),
        ("/admin/queues", "queues"),
        ("/settings", "settings"),
    ):
        page.goto(path)
        expect(page.get_by_test_id("page-title")).to_be_visible()
        page.wait_for_load_state("networkidle")
        expect(page.locator(".rt-Skeleton")).to_have_count(0)
        _fits(page)
        shot(page, f"admin-phone-{name}")
    page.goto("/admin/users")
    cards = page.get_by_test_id("role-card")
    expect(cards.filter(has_text="Legacy admin")).to_have_count(1)
    expect(cards.filter(has_text="Viewer").first).to_contain_text("See orders and their fulfillment")

    page.context.clear_cookies()
    page.goto("/login")
    expect(page.locator("#username")).to_be_visible()
    _fits(page)
    shot(page, "login-phone")
