"""Spare parts for repairs as staff see them: a new part is added in the
dialog (a missing name is pointed at), stock is received with a toast, the
table and the part's ledger show it; a part issued to a worksheet elsewhere
reaches the open page live, and the low-stock filter finds it."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect
from sqlmodel import select

from app.inventory import service
from app.inventory.models import SparePart
from app.platform.db import tenant_session
from tests import factories
from tests.e2e.conftest import shot, sign_in


def test_a_part_is_added_received_and_its_ledger_follows_the_repairs(page: Page):
    shop = factories.make_tenant()
    admin = factories.make_user(shop, "admin", username=f"spares-{uuid.uuid4().hex[:6]}")
    sign_in(page, admin.username, shop=shop.slug, next_path="/inventory/spare-parts")
    page.wait_for_url("**/inventory/spare-parts")
    expect(page.get_by_text("No spare parts yet")).to_be_visible()

    # a new part: the name is missing at first
    page.get_by_test_id("spare-new").click()
    form = page.get_by_test_id("edit-dialog")
    form.get_by_test_id("field-sku").fill("SCR-IP12-OLED")
    form.get_by_test_id("field-manufacturer").fill("Apple")
    form.get_by_test_id("field-category").fill("screen")
    form.get_by_test_id("field-cost").fill("89.90")
    form.get_by_test_id("field-minimum").fill("2")
    form.get_by_test_id("field-location").fill("Shelf A1")
    form.get_by_test_id("field-models").fill("iPhone 12, iPhone 12 Pro")
    form.get_by_test_id("edit-submit").click()
    expect(form.get_by_test_id("error-name")).to_be_visible()
    shot(page, "spare-parts-form-error")
    form.get_by_test_id("field-name").fill("iPhone 12 screen, OLED")
    form.get_by_test_id("edit-submit").click()
    expect(form).to_be_hidden()
    expect(page.get_by_text("iPhone 12 screen, OLED (SCR-IP12-OLED) added.")).to_be_visible()
    row = page.get_by_test_id("spare-row").filter(has_text="SCR-IP12-OLED")
    expect(row.get_by_test_id("spare-stock")).to_have_text("0")
    expect(row.get_by_test_id("spare-status")).to_have_text("Out of stock")

    # a delivery
    row.get_by_test_id("spare-receive").click()
    move = page.get_by_test_id("move-dialog")
    move.get_by_test_id("field-quantity").fill("6")
    move.get_by_test_id("field-reason").fill("delivery 2291")
    move.get_by_test_id("move-submit").click()
    expect(move).to_be_hidden()
    expect(page.get_by_text("6 × iPhone 12 screen, OLED received: 6 on the shelf.")).to_be_visible()
    expect(row.get_by_test_id("spare-stock")).to_have_text("6")
    expect(row.get_by_test_id("spare-status")).to_have_text("In stock")
    shot(page, "spare-parts-table")

    # its ledger
    row.get_by_test_id("spare-ledger").click()
    dialog = page.get_by_test_id("spare-dialog")
    expect(dialog.get_by_test_id("ledger-row")).to_have_count(1)
    expect(dialog.get_by_test_id("ledger-type")).to_have_text("Received")
    expect(dialog.get_by_test_id("ledger-change")).to_have_text("+6")
    expect(dialog.get_by_test_id("ledger-reason")).to_have_text("delivery 2291")

    # a repair takes five to its worksheet: the open dialog and the table follow
    with tenant_session(shop.id) as s:
        part = s.exec(select(SparePart).where(SparePart.sku == "SCR-IP12-OLED")).one()
        service.issue_spare_part(
            s,
            part.id,
            5,
            worksheet_id=uuid.uuid4(),
            idempotency_key=uuid.uuid4().hex,
            actor=factories.staff_principal(shop),
        )
        s.commit()
    expect(row.get_by_test_id("spare-stock")).to_have_text("1")  # the table follows live
    expect(dialog.get_by_test_id("ledger-row")).to_have_count(2)
    newest = dialog.get_by_test_id("ledger-row").first
    expect(newest.get_by_test_id("ledger-type")).to_have_text("Issued to a worksheet")
    expect(newest.get_by_test_id("ledger-after")).to_have_text("1")
    expect(dialog.get_by_test_id("detail-status")).to_have_text("Low")
    shot(page, "spare-parts-ledger")
    page.keyboard.press("Escape")
    expect(row.get_by_test_id("spare-stock")).to_have_text("1")

    # the low-stock filter keeps it in view, and the address says so
    page.get_by_test_id("status-low").click()
    page.wait_for_url("**status=low**")
    expect(page.get_by_test_id("spare-row")).to_have_count(1)
    expect(page.get_by_test_id("spare-row").get_by_test_id("spare-status")).to_have_text("Low")
    shot(page, "spare-parts-low")
