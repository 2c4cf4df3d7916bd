"""PC parts for builds, as a shopper and as staff see them: a CPU with three
on hand reads "In stock" in the builder; builder orders reserve it, and the
builder reads "2 left", then "Back-order"; /inventory/parts shows the units
reserved, the orders holding them and the ledger, follows a cancelled order
live, and an adjustment by hand (a reason required) makes the part available
again."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from app.builder import index
from app.builder import service as builder
from app.catalog import service as catalog_service
from app.catalog.demo import ensure_catalog_and_demo_prices
from app.catalog.models import CatalogPart, PartOffer
from app.inventory.models import PartReservation
from app.orders import service as orders
from app.platform.db import tenant_session
from tests import factories
from tests.e2e.conftest import shot, sign_in

ADDRESS = {
    "name": "Ada Lovelace",
    "street": "Damrak",
    "house_number": "1",
    "postal_code": "1012 LG",
    "city": "Amsterdam",
    "country_code": "NL",
    "phone": "+31 20 123 4567",
}


@pytest.fixture(scope="module")
def shop():
    tenant = factories.default_tenant()  # the storefront's shop
    ensure_catalog_and_demo_prices(tenant.id)
    return tenant


def _fresh_cpu(tenant) -> tuple[PartOffer, CatalogPart]:
    """A CPU the shop sells that no order ever held, with three on hand: one the
    catalog lists once (the picker shows a product listed twice only once)."""
    entries = index.catalog().by_slot["cpu"]
    twins = Counter(e.identity or e.id for e in entries)
    names = Counter(e.name for e in entries)
    single = {e.id for e in entries if twins[e.identity or e.id] == 1 and names[e.name] == 1}
    with tenant_session(tenant.id) as s:
        held = select(PartReservation.part_offer_id)  # never reserved: a rerun starts clean
        rows = s.exec(
            select(PartOffer, CatalogPart)
            .join(CatalogPart, col(CatalogPart.id) == PartOffer.part_id)
            .where(PartOffer.slot == "cpu", col(PartOffer.active), col(PartOffer.id).not_in(held))
            .order_by(CatalogPart.name)
        ).all()
        offer, part = next((o, p) for o, p in rows if str(p.id) in single)
        catalog_service.set_offer(s, part.id, price=offer.price, stock=3, actor=None)
        s.commit()
        return offer, part


def _order(tenant, part_id: str):
    with tenant_session(tenant.id) as s:
        order = builder.order_slots(s, {"cpu": [part_id]}, ADDRESS, email="e2e-parts@example.com")
        s.commit()
        return order


def _wait_reserved(tenant, order_id, timeout: float = 30) -> None:
    """The worker handles order.created: the order's parts are reserved."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with tenant_session(tenant.id) as s:
            if s.exec(select(PartReservation).where(PartReservation.order_id == order_id)).first():
                return
        time.sleep(0.3)
    raise AssertionError("the builder order's parts were not reserved")


def _build_line(page: Page, part_id: str):
    page.goto(f"/build?cpu={part_id}")
    line = page.get_by_test_id("slot-cpu").get_by_test_id("part-availability")
    expect(line).to_be_visible()
    return line


def test_a_builder_order_reserves_a_part_the_builder_and_staff_see_it(page: Page, shop):
    _, part = _fresh_cpu(shop)
    pid = str(part.id)

    # the shopper: three on hand, low at two or fewer
    page.goto("/build")
    page.get_by_test_id("choose-cpu").click()
    picker = page.get_by_test_id("picker")
    picker.get_by_test_id("picker-search").fill(part.name)
    item = picker.get_by_test_id("picker-item").filter(has=page.get_by_text(part.name, exact=True))
    expect(item.get_by_test_id("picker-availability")).to_have_text("In stock")
    shot(page, "parts-builder-picker")
    expect(_build_line(page, pid)).to_have_text("· In stock")
    shot(page, "parts-builder-in-stock")

    # a builder order reserves one: the builder says how many are left
    first = _order(shop, pid)
    _wait_reserved(shop, first.id)
    line = _build_line(page, pid)
    expect(line).to_have_text("· 2 left")
    shot(page, "parts-builder-two-left")

    second, third = _order(shop, pid), _order(shop, pid)
    _wait_reserved(shop, second.id)
    _wait_reserved(shop, third.id)
    expect(_build_line(page, pid)).to_have_text("· Back-order")
    shot(page, "parts-builder-back-order")

    # staff: the part, its reservations and its ledger
    admin = factories.make_user(shop, "admin", username=f"parts-{uuid.uuid4().hex[:6]}")
    sign_in(page, admin.username, shop=shop.slug, next_path="/inventory/parts")
    page.wait_for_url("**/inventory/parts")
    expect(page.get_by_test_id("tab-parts")).to_be_visible()
    page.get_by_test_id("parts-search").fill(part.name)
    row = page.get_by_test_id("part-row").filter(has=page.get_by_text(part.name, exact=True))
    expect(row.get_by_test_id("part-on-hand")).to_have_text("3")
    expect(row.get_by_test_id("part-reserved")).to_have_text("3")
    expect(row.get_by_test_id("part-available")).to_have_text("0")
    expect(row.get_by_test_id("part-status")).to_have_text("Back-order")
    assert "search=" in page.url  # the view is in the address
    shot(page, "parts-table")

    row.get_by_test_id("part-ledger").click()
    dialog = page.get_by_test_id("part-dialog")
    expect(dialog.get_by_test_id("reservation-row")).to_have_count(3)
    for o in (first, second, third):
        held = dialog.get_by_test_id("reservation-row").filter(has_text=o.number)
        expect(held.get_by_test_id("reservation-status")).to_have_text("Reserved")
        expect(dialog.get_by_test_id("ledger-order").filter(has_text=o.number)).to_be_visible()
    expect(dialog.get_by_test_id("ledger-type").filter(has_text="Reserved for a build")).to_have_count(3)
    shot(page, "parts-ledger-dialog")

    # a cancelled order frees its part: the open page follows without a reload
    with tenant_session(shop.id) as s:
        orders.cancel(s, third.id, actor=None, reason="customer")
        s.commit()
    expect(dialog.get_by_test_id("detail-reserved")).to_have_text("2 reserved")
    released = dialog.get_by_test_id("reservation-row").filter(has_text=third.number)
    expect(released.get_by_test_id("reservation-status")).to_have_text("Released")
    newest = dialog.get_by_test_id("ledger-row").first
    expect(newest.get_by_test_id("ledger-type")).to_have_text("Reservation released")
    expect(newest.get_by_test_id("ledger-order")).to_have_text(f"Order {third.number}")
    shot(page, "parts-ledger-released")
    page.keyboard.press("Escape")
    expect(row.get_by_test_id("part-reserved")).to_have_text("2")
    expect(row.get_by_test_id("part-status")).to_have_text("Low")

    # received by hand: a reason is required
    row.get_by_test_id("part-adjust").click()
    form = page.get_by_test_id("adjust-dialog")
    form.get_by_test_id("field-quantity").fill("4")
    form.get_by_test_id("adjust-submit").click()
    expect(form.get_by_test_id("error-reason")).to_be_visible()
    shot(page, "parts-adjust-error")
    form.get_by_test_id("field-reason").fill("delivery from the wholesaler")
    form.get_by_test_id("adjust-submit").click()
    expect(form).to_be_hidden()
    expect(page.get_by_text(f"4 × {part.name} received: 7 on hand.")).to_be_visible()
    expect(row.get_by_test_id("part-on-hand")).to_have_text("7")
    expect(row.get_by_test_id("part-available")).to_have_text("5")
    expect(row.get_by_test_id("part-status")).to_have_text("In stock")
    shot(page, "parts-after-adjust")

    # and the builder shows it in stock again
    expect(_build_line(page, pid)).to_have_text("· In stock")
    with tenant_session(shop.id) as s:
        for o in (first, second):
            orders.cancel(s, o.id, actor=None, reason="other")  # leave the shop as it was
        s.commit()
