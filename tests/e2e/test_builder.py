"""The PC builder as a new customer uses it: build from scratch with the
compatible-only picker, hit a block and fix it with a suggested part, reload
(the URL is the build), save anonymously, sign up (the build is claimed),
share the link and open it in a fresh browser, order the build, and see the
order on the staff orders page."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.catalog.demo import ensure_catalog_and_demo_prices
from app.catalog.models import CatalogPart, PartOffer
from app.platform.db import tenant_session
from tests import factories
from tests.e2e.conftest import shot, sign_in

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def shop():
    tenant = factories.default_tenant()
    ensure_catalog_and_demo_prices(tenant.id)
    return tenant


def _long_gpu_and_compact_case(tenant_id) -> tuple[str, str, int, int]:
    """A case the shop sells with a known, small GPU clearance, and a GPU it
    sells that is longer than that (both from the real catalog)."""
    with tenant_session(tenant_id) as s:
        rows = s.exec(
            select(CatalogPart, PartOffer)
            .join(PartOffer, PartOffer.part_id == CatalogPart.id)
            .where(PartOffer.active, CatalogPart.slot.in_(["case", "gpu"]))
        ).all()
    cases = sorted(
        (
            (p.specs.get("max_gpu_length_mm"), p.name)
            for p, _ in rows
            if p.slot == "case"
            and p.specs.get("max_gpu_length_mm")
            and "ATX" in (p.specs.get("board_form_factors") or [])
        ),
        key=lambda c: c[0],
    )
    fits, case_name = cases[0]
    gpus = sorted(
        (
            (p.specs.get("length_mm"), p.name)
            for p, _ in rows
            if p.slot == "gpu" and (p.specs.get("length_mm") or 0) > fits + 20
        ),
        key=lambda g: -g[0],
    )
    length, gpu_name = gpus[0]
    return gpu_name, case_name, length, fits


def _pick(page: Page, slot: str, search: str | None = None, *, compatible: bool = True) -> None:
    page.get_by_test_id(f"choose-{slot}").click()
    picker = page.get_by_test_id("picker")
    expect(picker).to_be_visible()
    expect(picker.get_by_test_id("picker-item").first).to_be_visible()
    if not compatible:
        picker.get_by_test_id("compatible-only").click()
        expect(picker.get_by_test_id("compatible-only")).to_have_attribute("data-state", "unchecked")
    if search:
        picker.get_by_test_id("picker-search").fill(search)
        item = picker.get_by_test_id("picker-item").filter(has_text=search).first
    else:
        item = picker.get_by_test_id("picker-item").first
    expect(item).to_be_visible()
    if compatible:
        expect(item).to_have_attribute("data-compatible", "true")
    item.get_by_test_id("pick-part").click()
    expect(picker).to_be_hidden()
    expect(page.get_by_test_id(f"slot-{slot}").get_by_test_id("part-name").first).to_be_visible()


def test_new_customer_builds_saves_shares_and_orders(browser, app_url, page, shop):
    tag = uuid.uuid4().hex[:6]
    gpu_name, case_name, gpu_len, case_fits = _long_gpu_and_compact_case(shop.id)

    # 1. an empty build: eight slots, nothing chosen
    page.goto("/build")
    for slot in ("cpu", "motherboard", "ram", "gpu", "storage", "psu", "case", "cooler"):
        expect(page.get_by_test_id(f"slot-{slot}")).to_be_visible()
    expect(page.get_by_test_id("data-credit")).to_contain_text("BuildCores OpenDB")
    expect(page.get_by_test_id("data-credit")).to_contain_text("ODC-By 1.0")

    # 2. from scratch with the compatible-only picker
    _pick(page, "cpu")
    assert "cpu=" in page.url
    # the board list is compatible-only: every listed board takes this CPU
    page.get_by_test_id("choose-motherboard").click()
    expect(page.get_by_test_id("picker-item").first).to_be_visible()
    expect(page.get_by_test_id("picker").locator("[data-compatible='false']")).to_have_count(0)
    shot(page, "builder-picker")
    page.get_by_test_id("picker-item").first.get_by_test_id("pick-part").click()
    expect(page.get_by_test_id("picker")).to_be_hidden()
    for slot in ("ram", "storage", "cooler"):
        _pick(page, slot)
    _pick(page, "case", case_name)
    expect(page.get_by_test_id("overall-banner")).not_to_have_attribute("data-overall", "block")

    # 3. a GPU that is too long for this case: shown as incompatible, chosen anyway → block
    _pick(page, "gpu", gpu_name, compatible=False)
    verdict = page.get_by_test_id("verdict-gpu_length")
    expect(verdict).to_have_attribute("data-severity", "block")
    expect(verdict).to_contain_text(f"{gpu_len} mm")
    expect(verdict).to_contain_text(f"{case_fits} mm")
    expect(page.get_by_test_id("overall-banner")).to_have_attribute("data-overall", "block")
    shot(page, "builder-block")

    # 4. fixed with one click on a suggested part
    verdict.get_by_test_id("suggestion").first.click()
    expect(page.locator("[data-testid=verdict-gpu_length][data-severity=block]")).to_have_count(0)
    expect(page.get_by_text("Suggested part applied.")).to_be_visible()
    _pick(page, "psu")
    expect(page.get_by_test_id("overall-banner")).not_to_have_attribute("data-overall", "block")
    expect(page.get_by_test_id("build-state")).to_contain_text("Complete")
    names = page.get_by_test_id("part-name").all_inner_texts()
    total = page.get_by_test_id("total-price").inner_text()
    assert len(names) == 8 and total.startswith("€")
    shot(page, "builder-complete")

    # 5. the URL is the build: reload, and back/forward
    page.reload()
    expect(page.get_by_test_id("part-name")).to_have_count(8)
    assert page.get_by_test_id("part-name").all_inner_texts() == names
    page.go_back()
    expect(page.get_by_test_id("part-name")).to_have_count(7)  # before the PSU
    page.go_forward()
    expect(page.get_by_test_id("part-name")).to_have_count(8)
    build_url = page.url

    # 6. save without an account: a signed cookie in this browser
    page.get_by_test_id("save-build").click()
    expect(page.get_by_text("Saved in this browser")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "build_session")
    assert cookie["value"] and cookie["expires"] > 0

    # 7. sign up: the same response claims the cookied build into the account
    page.get_by_test_id("nav-sign-in").click()
    page.get_by_test_id("to-signup").click()
    page.locator("#name").fill("Casey Customer")
    page.locator("#email").fill(f"casey-{tag}@example.com")
    page.locator("#password").fill("a-long-enough-password")
    page.get_by_test_id("account-submit").click()
    page.wait_for_url("**/account/builds")
    expect(page.get_by_test_id("saved-build")).to_have_count(1)
    assert not [c for c in page.context.cookies() if c["name"] == "build_session" and c["value"]]
    shot(page, "account-builds")

    # 8. share it, and open the link in a fresh browser (nobody signed in)
    page.get_by_test_id("build-menu").click()
    page.get_by_test_id("share-saved").click()
    share_url = page.get_by_test_id("account-share-url").input_value()
    assert re.search(r"/b/[\w-]{8,}$", share_url), share_url
    page.keyboard.press("Escape")
    other = browser.new_context(viewport=PHONE, has_touch=True, base_url=app_url)
    try:
        guest = other.new_page()
        guest.goto(share_url)
        expect(guest.get_by_test_id("part-name")).to_have_count(8)
        assert guest.get_by_test_id("part-name").all_inner_texts() == names
        expect(guest.get_by_test_id("total-price")).to_have_text(total)
        expect(guest.get_by_test_id("choose-cpu")).to_have_count(0)  # read-only
        shot(guest, "shared-build-phone")
        guest.get_by_test_id("open-in-builder").click()
        guest.wait_for_url("**/build?**")
        expect(guest.get_by_test_id("part-name")).to_have_count(8)
    finally:
        other.close()

    # 9. order the build with a shipping address
    page.get_by_test_id("order-build").click()
    page.get_by_test_id("order-street").fill("Keizersgracht")
    page.get_by_test_id("order-house_number").fill("123")
    page.get_by_test_id("order-postal_code").fill("1015 CJ")
    page.get_by_test_id("order-city").fill("Amsterdam")
    page.get_by_test_id("place-order").click()
    placed = page.get_by_test_id("order-placed")
    expect(placed).to_be_visible()
    number = re.search(r"B-\d{5}", placed.inner_text()).group(0)
    shot(page, "order-placed")

    # 10. staff see it on the orders page, ready for the workbench
    staff = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=app_url)
    try:
        sp = staff.new_page()
        admin = factories.make_user(shop, "admin")
        sign_in(sp, admin.username, next_path="/orders")
        sp.wait_for_url("**/orders")
        sp.get_by_placeholder(re.compile("Search", re.I)).fill(number)
        row = sp.get_by_role("row").filter(has_text=number)
        expect(row).to_be_visible()
        expect(row).to_contain_text("Casey Customer")
        shot(sp, "staff-orders-builder-order")
        row.get_by_role("link").first.click()
        expect(sp.get_by_test_id("line-items").get_by_text(names[0])).to_be_visible()
        expect(sp.get_by_text("Parts reserved for the build")).to_be_visible()  # held for its build
    finally:
        staff.close()
    assert build_url.count("=") >= 8


def test_deleted_build_share_link_is_gone(browser, app_url, page, shop):
    """Deleting a saved build makes its share link answer 410 with a friendly page."""
    tag = uuid.uuid4().hex[:6]
    page.goto("/build")
    _pick(page, "cpu")
    page.get_by_test_id("save-build").click()
    expect(page.get_by_text("Saved in this browser")).to_be_visible()
    page.goto("/account/signup")
    page.locator("#name").fill("Dana Deleter")
    page.locator("#email").fill(f"dana-{tag}@example.com")
    page.locator("#password").fill("a-long-enough-password")
    page.get_by_test_id("account-submit").click()
    page.wait_for_url("**/account/builds")
    page.get_by_test_id("build-menu").click()
    page.get_by_test_id("share-saved").click()
    share_url = page.get_by_test_id("account-share-url").input_value()
    page.keyboard.press("Escape")
    page.get_by_test_id("delete-saved").click()
    page.get_by_test_id("confirm-delete").click()
    expect(page.get_by_test_id("saved-build")).to_have_count(0)
    response = page.goto(share_url)
    assert response is not None and response.status == 410  # the server's own page, a real status
    expect(page.get_by_role("heading", name="This build is gone")).to_be_visible()
    expect(page.get_by_role("link", name="Start your own build")).to_be_visible()
    shot(page, "shared-build-gone")


def test_builder_on_a_phone(browser, app_url, shop):
    """At 390 px with touch: the slots stack, the picker fills the screen, a tap chooses."""
    ctx = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, base_url=app_url)
    try:
        page = ctx.new_page()
        page.goto("/build")
        expect(page.get_by_test_id("slot-cpu")).to_be_visible()
        expect(page.get_by_test_id("overall-banner")).to_contain_text("Pick your parts")  # not "fits" when empty
        page.get_by_test_id("choose-cpu").tap()
        picker = page.get_by_test_id("picker")
        expect(picker.get_by_test_id("picker-item").first).to_be_visible()
        page.wait_for_timeout(400)  # the dialog's opening animation
        box = picker.bounding_box()
        shot(page, "builder-phone-picker")
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["width"] >= 330, box
        shot(page, "builder-phone-picker")
        picker.get_by_test_id("picker-item").first.get_by_test_id("pick-part").tap()
        expect(page.get_by_test_id("slot-cpu").get_by_test_id("part-name")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "builder-phone")
    finally:
        ctx.close()


# --- the build kept in this browser, the order dialog, at three widths ---------------------------------

ADDRESS = {
    "name": "Gwen Guest",
    "email": "gwen.guest@example.com",
    "street": "Keizersgracht",
    "house_number": "123",
    "postal_code": "1015 CJ",
    "city": "Amsterdam",
}


def _slots_in(url: str) -> dict:
    from urllib.parse import parse_qs, urlsplit

    from app.builder import slotmap

    return slotmap.parse_query({k: v[0] for k, v in parse_qs(urlsplit(url).query).items()})


def _names(page: Page) -> list[str]:
    return page.get_by_test_id("part-name").all_inner_texts()


def test_the_build_stays_in_the_browser_and_the_order_costs_what_its_dialog_says(browser, app_url, shop):
    from app.builder import service as builder
    from app.orders.models import Order
    from app.platform.formatting import of_tenant

    fmt = of_tenant(shop.id)
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=app_url)
    try:
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        page.goto("/build")
        expect(page.get_by_test_id("overall-banner")).to_have_attribute("data-overall", "empty")
        expect(page.get_by_test_id("overall-banner")).not_to_contain_text("fits")
        for slot in ("cpu", "motherboard", "ram"):
            _pick(page, slot)
        names = _names(page)
        assert len(names) == 3

        # no save button pressed: away and back, reload, and the build is still there
        page.goto("/account/login")
        page.goto("/build")
        expect(page.get_by_test_id("part-name")).to_have_count(3)
        assert _names(page) == names
        assert "cpu=" in page.url  # the restored build is in the URL again
        page.reload()
        expect(page.get_by_test_id("part-name")).to_have_count(3)
        assert _names(page) == names

        # the order dialog: parts, assembly, shipping and the total, in the shop's format
        slots = _slots_in(page.url)
        with tenant_session(shop.id) as s:
            quote = builder.quote_slots(s, slots)
        page.get_by_test_id("order-build").click()
        dialog = page.get_by_test_id("order-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_test_id("order-parts")).to_have_text(fmt.money(quote.parts, quote.currency))
        expect(dialog.get_by_test_id("order-assembly")).to_have_text(fmt.money(quote.assembly, quote.currency))
        expect(dialog.get_by_test_id("order-shipping")).to_have_text(fmt.money(quote.shipping, quote.currency))
        expect(dialog.get_by_test_id("order-total")).to_have_text(fmt.money(quote.total, quote.currency))
        expect(dialog.get_by_test_id("order-country")).to_contain_text("Netherlands")  # a country's name, not "NL"
        page.wait_for_timeout(300)  # the dialog's opening animation
        shot(page, "builder-order-dialog-1440")

        # a bad email is said next to the field, and nothing is ordered
        for key, value in ADDRESS.items():
            dialog.get_by_test_id(f"order-{key}").fill(value)
        dialog.get_by_test_id("order-email").fill("gwen-at-example")
        dialog.evaluate("el => el.querySelector('form').noValidate = true")  # past the browser's own check
        dialog.get_by_test_id("place-order").click()
        expect(dialog.get_by_test_id("order-email-error")).to_be_visible()
        expect(dialog.get_by_test_id("order-error")).to_contain_text("email")
        dialog.get_by_test_id("order-email").fill(ADDRESS["email"])
        dialog.get_by_test_id("place-order").click()
        placed = page.get_by_test_id("order-placed")
        expect(placed).to_be_visible()
        number = re.search(r"B-\d{5}", placed.inner_text()).group(0)
        with tenant_session(shop.id) as s:
            order = s.exec(select(Order).where(Order.number == number)).one()
        assert (order.subtotal, order.shipping_total, order.total) == (quote.subtotal, quote.shipping, quote.total)
        assert order.customer_email == ADDRESS["email"] and order.ship_street == ADDRESS["street"]

        # next time, this browser remembers what the guest typed
        page.reload()
        expect(page.get_by_test_id("part-name")).to_have_count(3)
        page.get_by_test_id("order-build").click()
        for key, value in ADDRESS.items():
            expect(page.get_by_test_id(f"order-{key}")).to_have_value(value)
        page.keyboard.press("Escape")

        # a shared link or an explicit query wins over what the browser keeps
        cpu_only = {"cpu": slots["cpu"]}
        from app.builder import slotmap

        page.goto(slotmap.builder_url(cpu_only))
        expect(page.get_by_test_id("part-name")).to_have_count(1)
        assert _names(page) == names[:1]

        # clearing is kept too: an empty build comes back empty, and never says everything fits
        page.get_by_test_id("clear-build").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Clear").click()
        expect(page.get_by_test_id("part-name")).to_have_count(0)
        page.goto("/build")
        expect(page.get_by_test_id("slot-cpu")).to_be_visible()
        expect(page.get_by_test_id("part-name")).to_have_count(0)
        expect(page.get_by_test_id("overall-banner")).to_contain_text("Pick your parts")
    finally:
        ctx.close()


def test_a_signed_in_customer_gets_the_address_of_the_last_order(browser, app_url, shop):
    from app.builder import service as builder
    from app.customers import service as customers
    from app.settings import get_settings

    tag = uuid.uuid4().hex[:6]
    email, password = f"olga-{tag}@example.com", "a-long-enough-password"
    with tenant_session(shop.id) as s:
        account = customers.sign_up(s, email=email, name="Olga Orderer", password=password)
        cpu = s.exec(
            select(CatalogPart.id)
            .join(PartOffer, PartOffer.part_id == CatalogPart.id)
            .where(PartOffer.active, CatalogPart.slot == "cpu")
        ).first()
        builder.order_slots(
            s,
            {"cpu": [str(cpu)]},
            {
                "name": "Olga Orderer",
                "street": "Vrijthof",
                "house_number": "7",
                "postal_code": "6211 LD",
                "city": "Maastricht",
                "country_code": "NL",
            },
            customer=account,
        )
        s.commit()
    for width, height, name in ((768, 1024, "builder-order-dialog-768"), (390, 844, "builder-order-dialog-390")):
        ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=app_url, has_touch=width < 500)
        try:
            api = get_settings().api_url.rstrip("/")
            r = ctx.request.post(f"{api}/api/v1/shop/customers/login", data={"email": email, "password": password})
            assert r.ok, r.text()
            page = ctx.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"/build?cpu={cpu}")
            expect(page.get_by_test_id("customer-menu")).to_be_visible()
            page.get_by_test_id("order-build").click()
            dialog = page.get_by_test_id("order-dialog")
            expect(dialog.get_by_test_id("order-street")).to_have_value("Vrijthof")
            expect(dialog.get_by_test_id("order-city")).to_have_value("Maastricht")
            expect(dialog.get_by_test_id("order-name")).to_have_value("Olga Orderer")
            expect(dialog).to_contain_text(email)
            page.wait_for_timeout(300)
            box = dialog.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            shot(page, name)
        finally:
            ctx.close()
