"""The builds board in Chromium at 1440, 768 and 390 px: columns by status,
the assignee filter and "My builds", finished builds folded away, the list
view, and a card that opens the workbench. Also the workbench as a viewer sees
it, a cancelled build, and the phone link beside the QR code on a phone."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect

from app.builds import service as builds
from app.builds.models import Build
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform.db import tenant_session
from app.platform.models import utcnow
from tests import factories
from tests.e2e.conftest import shot, sign_in

# Identifiers that must never reach a page: camelCase slot names, snake_case values.
RAW = re.compile(r"\b[a-z]+(?:[A-Z][a-z]*)+Photo\b|\b[a-z]+_[a-z_]+\b")


def _order(s, customer: str):
    order, _ = orders.create_order(
        s,
        OrderInput(
            source="manual",
            customer_name=customer,
            customer_email="pc@example.com",
            ship_street="Damrak",
            ship_house_number="1",
            ship_postal_code="1012 LG",
            ship_city="Amsterdam",
            ship_country_code="NL",
            lines=[LineInput(sku="PC", title="Gaming PC", quantity=1, unit_price=Decimal("1500"))],
        ),
    )
    return order


def _builds(tenant, tag: str, assignee_id) -> dict[str, str]:
    """Four builds: waiting, in testing (assigned), completed, cancelled."""
    actor = factories.staff_principal(tenant)
    ids = {}
    with tenant_session(tenant.id) as s:
        for name in ("Waiting", "Testing", "Done", "Cancelled"):
            order = _order(s, f"{name} {tag}")
            ids[name] = str(builds.create_build(s, order.id, actor=actor).id)
        for status in ("in_progress", "testing"):
            builds.change_status(s, ids["Testing"], status, actor=actor)
            builds.change_status(s, ids["Done"], status, actor=actor)
        builds.assign(s, ids["Testing"], assignee_id, actor=actor)
        builds.update_qa(s, ids["Done"], builds.QAUpdate(checklist=[{"item": "Fans spin", "done": True}]), actor=actor)
        builds.sign_off_qa(s, ids["Done"], True, actor=actor)
        builds.change_status(s, ids["Done"], "completed", actor=actor)
        cancelled = s.get_one(Build, ids["Cancelled"])
        orders.cancel(s, cancelled.order_id, actor=actor, reason="customer")
        s.flush()
        for name, ago in (("Waiting", timedelta(days=3, hours=1)), ("Testing", timedelta(hours=5, minutes=5))):
            b = s.get_one(Build, ids[name])
            b.status_changed_at = utcnow() - ago
            s.add(b)
        s.commit()
    return ids


def _no_page_scroll(page: Page) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 1, f"the page scrolls sideways by {wide}px"


def _card(page: Page, text: str):
    return page.get_by_test_id("build-card").filter(has_text=text)


def test_the_builds_board(page: Page):
    tenant = factories.default_tenant()
    operator = factories.make_user(tenant, "operator")
    tag = uuid.uuid4().hex[:6]
    ids = _builds(tenant, tag, operator.id)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, operator.username, next_path="/builds")
    page.wait_for_url("**/builds")

    # columns in the lifecycle's order, with the status's words
    expect(page.get_by_test_id("builds-board")).to_be_visible()
    headers = page.get_by_test_id("builds-board").locator("[data-testid^=column-]")
    expect(headers).to_have_count(5)  # completed and cancelled folded away
    assert [h.get_attribute("data-testid") for h in headers.all()] == [
        "column-pending",
        "column-in_progress",
        "column-paused",
        "column-testing",
        "column-failed",
    ]
    expect(page.get_by_test_id("column-testing")).to_contain_text("Testing")
    waiting = _card(page, f"Waiting {tag}")
    expect(waiting).to_contain_text("waiting 3 days")
    expect(waiting).to_contain_text("Nobody yet")
    testing = _card(page, f"Testing {tag}")
    expect(testing).to_contain_text("in testing for 5 hours")
    expect(testing).to_contain_text("Test Operator")
    expect(page.get_by_test_id("column-testing").get_by_test_id("build-card").filter(has_text=tag)).to_have_count(1)
    expect(_card(page, f"Done {tag}")).to_have_count(0)
    expect(_card(page, f"Cancelled {tag}")).to_have_count(0)
    assert not RAW.search(page.get_by_test_id("builds-board").inner_text())
    shot(page, "40-board-1440")

    # finished builds on request
    page.get_by_test_id("show-closed").click()
    expect(page.get_by_test_id("column-completed").get_by_test_id("build-card").filter(has_text=tag)).to_have_count(1)
    expect(_card(page, f"Done {tag}")).to_contain_text("completed")
    expect(page.get_by_test_id("column-cancelled")).to_contain_text(f"Cancelled {tag}")
    page.get_by_test_id("show-closed").click()
    expect(page.get_by_test_id("column-completed")).to_have_count(0)

    # My builds: only the one assigned to me
    page.get_by_test_id("my-builds").click()
    expect(_card(page, f"Testing {tag}")).to_be_visible()
    expect(_card(page, f"Waiting {tag}")).to_have_count(0)
    page.get_by_test_id("my-builds").click()
    expect(_card(page, f"Waiting {tag}")).to_be_visible()

    # the assignee filter: nobody yet
    page.get_by_role("combobox", name="Assignee").click()
    page.get_by_role("option", name="Nobody yet").click()
    expect(_card(page, f"Waiting {tag}")).to_be_visible()
    expect(_card(page, f"Testing {tag}")).to_have_count(0)
    page.get_by_role("combobox", name="Assignee").click()
    page.get_by_role("option", name="Everyone").click()
    expect(_card(page, f"Testing {tag}")).to_be_visible()

    # the list view shows the same builds as rows
    page.get_by_role("radio", name="List").click()
    table = page.get_by_test_id("builds-list")
    expect(table.get_by_role("row").filter(has_text=f"Testing {tag}")).to_contain_text("in testing for 5 hours")
    expect(table.get_by_role("row").filter(has_text=f"Testing {tag}")).to_contain_text("Testing")
    shot(page, "41-board-list-1440")
    page.get_by_role("radio", name="Board").click()

    # tablet and phone: the columns scroll inside the board, not the page
    for width, height in ((768, 1024), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        expect(page.get_by_test_id("builds-board")).to_be_visible()
        _no_page_scroll(page)
        board = page.get_by_test_id("builds-board")
        assert board.evaluate("b => b.scrollWidth > b.clientWidth + 50")
        box = board.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width + 1
        shot(page, f"42-board-{width}")

    # a card opens the workbench
    page.set_viewport_size({"width": 1440, "height": 900})
    _card(page, f"Waiting {tag}").click()
    page.wait_for_url(f"**/builds/{ids['Waiting']}")
    expect(page.get_by_test_id("build-status")).to_have_text("Pending")


def test_a_viewer_and_a_cancelled_build_see_no_inputs(browser, app_url):
    tenant = factories.default_tenant()
    viewer = factories.make_user(tenant, "viewer")
    operator = factories.make_user(tenant, "operator")
    tag = uuid.uuid4().hex[:6]
    ids = _builds(tenant, tag, operator.id)
    with tenant_session(tenant.id) as s:
        actor = factories.staff_principal(tenant)
        run = builds.add_test_run(s, ids["Testing"], type="stress_test", status="passed", notes="OCCT", actor=actor)
        s.commit()
        builds.store_test_run_photo(s, ids["Testing"], run.id, _png(), filename="occt.png", actor=actor)
        s.commit()

    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=app_url)
    page = context.new_page()
    sign_in(page, viewer.username, next_path=f"/builds/{ids['Testing']}")
    page.wait_for_url(f"**/builds/{ids['Testing']}")
    expect(page.get_by_test_id("build-status")).to_have_text("Testing")
    expect(page.get_by_test_id("read-only")).to_be_visible()
    _no_inputs(page)
    expect(page.get_by_test_id("temps-read-only")).to_be_visible()
    expect(page.get_by_test_id("test-run").filter(has_text="OCCT")).to_contain_text("Stress test")
    # the screenshot still opens larger
    page.get_by_test_id("run-shot").click()
    expect(page.get_by_role("dialog")).to_contain_text("Screenshot: Stress test")
    shot(page, "43-workbench-viewer")
    page.keyboard.press("Escape")
    context.close()

    # a cancelled build: read-only with the reason, even for an operator
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=app_url)
    page = context.new_page()
    sign_in(page, operator.username, next_path=f"/builds/{ids['Cancelled']}")
    page.wait_for_url(f"**/builds/{ids['Cancelled']}")
    expect(page.get_by_test_id("build-cancelled")).to_contain_text("was cancelled")
    expect(page.get_by_test_id("build-status")).to_have_text("Cancelled")
    _no_inputs(page)
    expect(page.get_by_test_id("read-only")).to_have_count(0)  # an operator: the banner says why
    body = page.get_by_test_id("workbench").inner_text()
    assert not RAW.search(body), RAW.search(body)
    shot(page, "44-workbench-cancelled")
    context.close()


def _no_inputs(page: Page) -> None:
    """Nothing that looks editable: no fields, drop-downs, checkboxes, uploads or moves."""
    expect(page.get_by_test_id("photo-coverPhoto")).to_be_visible()
    editable = page.get_by_test_id("workbench").locator(
        "input:not([type=hidden]), textarea, select, [role=combobox], [role=checkbox], [role=switch]"
    )
    expect(editable).to_have_count(0)
    for name in ("To testing", "Upload", "Choose photo", "Add", "Assign to me", "Regenerate", "Add screenshot"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.locator("[data-testid^=move-]")).to_have_count(0)
    expect(page.get_by_test_id("phone-link")).to_have_count(0)


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1280, 720), (30, 160, 90)).save(out, "PNG")
    return out.getvalue()


def test_the_phone_link_sits_beside_the_qr_code_on_a_phone(browser, app_url):
    tenant = factories.default_tenant()
    operator = factories.make_user(tenant, "operator")
    actor = factories.staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        order = _order(s, f"Phone {uuid.uuid4().hex[:6]}")
        build = builds.create_build(s, order.id, actor=actor)
        s.commit()
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, base_url=app_url
    )
    page = context.new_page()
    sign_in(page, operator.username, next_path=f"/builds/{build.id}")
    page.wait_for_url(f"**/builds/{build.id}")
    panel = page.get_by_test_id("phone-panel")
    panel.scroll_into_view_if_needed()
    expect(page.get_by_test_id("phone-qr")).to_be_visible()
    expect(page.get_by_test_id("phone-url")).to_have_text(re.compile(rf"/floor/builds/{build.id}/photos$"))
    for testid in ("phone-qr", "phone-link", "phone-url"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (testid, box)
    _no_page_scroll(page)
    shot(page, "45-workbench-phone-390")
    page.get_by_test_id("phone-link").tap()
    page.wait_for_url(f"**/floor/builds/{build.id}/photos")
    expect(page.get_by_test_id("floor-count")).to_contain_text("0 of 9")
    context.close()
