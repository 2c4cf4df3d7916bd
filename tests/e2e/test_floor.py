"""The phone page at 390 px: tap a tile, take the photo, see it stored."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from app.builds import service as builds
from app.builds.models import REQUIRED_SLOTS
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform import auth
from app.platform.db import tenant_session
from tests import factories
from tests.e2e.conftest import shot


def _order(s, customer: str):
    order, _ = orders.create_order(
        s,
        OrderInput(
            source="manual",
            customer_name=customer,
            customer_email="phone@example.com",
            ship_street="Damrak",
            ship_house_number="1",
            ship_postal_code="1012 LG",
            ship_city="Amsterdam",
            ship_country_code="NL",
            lines=[LineInput(sku="PC", title="PC", quantity=1)],
        ),
    )
    return order


def test_phone_page_takes_all_photos(browser, app_url, tmp_path):
    tenant = factories.default_tenant()
    user = factories.make_user(tenant, "operator")
    principal = auth.login(user.username, factories.PASSWORD).principal
    with tenant_session(tenant.id) as s:
        order = _order(s, "Phone Test")
        build = builds.create_build(s, order.id, actor=principal)
        s.commit()

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2, base_url=app_url
    )
    page = context.new_page()
    page.goto(f"/login?next=/floor/builds/{build.id}/photos")
    page.locator("#username").fill(user.username)
    page.locator("#password").fill(factories.PASSWORD)
    page.get_by_test_id("sign-in").tap()
    page.wait_for_url(f"**/floor/builds/{build.id}/photos")
    expect(page.get_by_test_id("floor-count")).to_contain_text("0 of 9")
    expect(page.locator("input[type=file]").first).to_have_attribute("capture", "environment")
    shot(page, "30-floor-empty")

    # a file dropped on a tile lands in that tile, with no tap choosing it first (the file travels
    # over HTTP with its slot; a slot read back from the page's state could be a tap behind)
    dropped = tmp_path / "dropped.jpg"
    Image.new("RGB", (800, 600), (90, 30, 160)).save(dropped, "JPEG")
    page.get_by_test_id("tile-psuPhoto").locator("input[type=file]").set_input_files(str(dropped))
    expect(page.get_by_test_id("tile-psuPhoto").get_by_role("img")).to_be_visible()
    expect(page.get_by_test_id("floor-count")).to_contain_text("1 of 9")

    for i, slot in enumerate(REQUIRED_SLOTS):
        img = Image.new("RGB", (1200, 1600), (20 * i, 120, 200 - 15 * i))
        path = tmp_path / f"{slot}.jpg"
        buf = io.BytesIO()
        img.save(buf, "JPEG")
        path.write_bytes(buf.getvalue())
        tile = page.get_by_test_id(f"tile-{slot}")
        with page.expect_file_chooser() as chooser:
            tile.locator("div").first.tap()
        chooser.value.set_files(str(path))
        expect(tile.get_by_role("img")).to_be_visible()
    expect(page.get_by_test_id("floor-count")).to_contain_text("9 of 9")
    shot(page, "31-floor-done")

    # a broken file shows an error on its tile, with a retry
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8not really a jpeg")
    tile = page.get_by_test_id("tile-thermalPhoto")
    with page.expect_file_chooser() as chooser:
        tile.locator("div").first.tap()
    chooser.value.set_files(str(bad))
    expect(tile.get_by_role("button", name="Retry")).to_be_visible()
    shot(page, "32-floor-error")
    with tenant_session(tenant.id) as s:
        assert builds.missing_for_packaging(s, builds.get_build(s, build.id)) == ["QA checklist"]
    context.close()


def test_a_cancelled_builds_phone_page_takes_no_photos(browser, app_url):
    tenant = factories.default_tenant()
    user = factories.make_user(tenant, "operator")
    actor = factories.staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        order = _order(s, "Cancelled Phone")
        build = builds.create_build(s, order.id, actor=actor)
        orders.cancel(s, order.id, actor=actor, reason="customer")
        s.commit()
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, base_url=app_url
    )
    page = context.new_page()
    page.goto(f"/login?next=/floor/builds/{build.id}/photos")
    page.locator("#username").fill(user.username)
    page.locator("#password").fill(factories.PASSWORD)
    page.get_by_test_id("sign-in").tap()
    page.wait_for_url(f"**/floor/builds/{build.id}/photos")
    expect(page.get_by_test_id("floor-cancelled")).to_contain_text("was cancelled")
    expect(page.get_by_test_id("tile-coverPhoto")).to_contain_text("Cover")
    expect(page.locator("input[type=file]")).to_have_count(0)
    shot(page, "33-floor-cancelled")
    context.close()
