"""The fulfillment gates through the pages: a PC ordered through the builder
offers no "Mark ready" until its build is done and says why; cancelling an
order stops its build on the workbench (banner, no moves) and leaves no stale
"before you can…" banner on the order."""

from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import expect

from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform.db import tenant_session
from tests import factories
from tests.e2e.conftest import shot, sign_in


def _builder_order(tenant, name: str) -> str:
    with tenant_session(tenant.id) as s:
        order, _ = orders.create_order(
            s,
            OrderInput(
                source="builder",
                customer_name=name,
                ship_country_code="NL",
                lines=[LineInput(sku="PC-CPU-1", title="Ryzen 5 7600", quantity=1, unit_price=Decimal("199"))],
            ),
        )
        s.commit()
        return str(order.id)


def test_a_builder_order_waits_for_its_build_and_cancelling_stops_it(page):
    tenant = factories.default_tenant()
    operator = factories.make_user(tenant, "operator")
    oid = _builder_order(tenant, "Ada Gate")
    sign_in(page, operator.username, next_path=f"/orders/{oid}")
    page.wait_for_url(f"**/orders/{oid}")

    # no hand-made "ready" for a PC: the banner says what it waits for
    expect(page.get_by_test_id("next-step-missing")).to_contain_text("the PC's build (none started yet)")
    expect(page.get_by_test_id("action-ready")).to_have_count(0)
    shot(page, "gates-01-builder-order-waits")

    page.get_by_test_id("create-build").click()
    page.wait_for_url("**/builds/*")
    page.get_by_test_id("move-in_progress").click()
    expect(page.get_by_test_id("build-status")).to_have_text("In progress")
    expect(page.get_by_test_id("packaging-missing")).to_contain_text("the build is in progress")

    # cancel the order: the build leaves the workbench flow
    page.goto(f"/orders/{oid}")
    expect(page.get_by_test_id("next-step-missing")).to_contain_text("the build is in progress (it must be completed)")
    page.get_by_test_id("action-cancel").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Cancelled")
    expect(page.get_by_test_id("order-fulfillment")).to_have_text("Cancelled")
    expect(page.get_by_test_id("next-step-missing")).to_have_count(0)  # no stale banner
    shot(page, "gates-02-order-cancelled")

    page.get_by_text("Open build").click()
    page.wait_for_url("**/builds/*")
    expect(page.get_by_test_id("build-status")).to_have_text("Cancelled")
    expect(page.get_by_test_id("build-cancelled")).to_be_visible()
    expect(page.get_by_test_id("move-testing")).to_have_count(0)
    expect(page.get_by_test_id("packaging-missing")).to_have_count(0)
    shot(page, "gates-03-build-cancelled")
