"""Dispatch and invoicing in the browser: a dispatch is opened for a client,
takes the client's two devices that are ready to leave and is finalized
twice (the second click shows the same invoice: one invoice); the draft flags
the repair without a price rule until it is priced; Send gives it its number
and the PDF (rendering…, then a download link that serves a real PDF); Mark
paid settles it."""

from __future__ import annotations

import re
import subprocess
import uuid
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlmodel import col, func, select

from app.inventory import service as inventory
from app.platform.db import tenant_session
from app.repairs.models import DeviceRepairCode, PriceRule, RepairCode, RepairInvoice, Worksheet
from app.repairs.service import billing
from tests import factories
from tests.e2e.conftest import ARTIFACTS, shot, sign_in
from tests.repairs_factories import make_asset, make_batch, make_client, make_device_model


def _shop():
    tenant = factories.make_tenant("Fix & Return Ltd")
    user = factories.make_user(tenant, "operator")
    actor = factories.staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        client = make_client(
            s, "Phone Fleet BV", payment_terms_days=30, billing_address="Keizersgracht 1\n1015 CJ Amsterdam"
        )
        model = make_device_model(s, "Apple", "iPhone 13")
        batch = make_batch(s, client)
        repaired = make_asset(s, status="ready_for_dispatch", batch=batch, device_model_id=model.id)
        make_asset(s, status="return_unrepaired", batch=batch, device_model_id=model.id)
        ws = Worksheet(tenant_id=tenant.id, number=f"T-W-{uuid.uuid4().hex[:6]}", asset_id=repaired.id, status="passed")
        s.add(ws)
        s.flush()
        codes = {
            c.code: c
            for c in s.exec(
                select(RepairCode).where(
                    col(RepairCode.code).in_(["SCR-REPL", "BAT-REPL"]), col(RepairCode.tenant_id).is_(None)
                )
            )
        }
        for code in codes.values():
            s.add(
                DeviceRepairCode(
                    tenant_id=tenant.id,
                    asset_id=repaired.id,
                    repair_code_id=code.id,
                    source="worksheet",
                    worksheet_id=ws.id,
                    done=True,
                )
            )
        s.add(PriceRule(tenant_id=tenant.id, repair_code_id=codes["SCR-REPL"].id, price=Decimal("89.95")))
        s.commit()
        ws_id = ws.id
    with tenant_session(tenant.id) as s:
        part = inventory.create_spare_part(
            s,
            inventory.SparePartData(sku="SCR-IP13", name="iPhone 13 screen (OLED)", unit_cost="62.40", stock=4),
            actor=actor,
        )
        s.flush()
        inventory.issue_spare_part(s, part.id, 1, worksheet_id=ws_id, idempotency_key=uuid.uuid4().hex, actor=actor)
        s.commit()
    return tenant, user


def test_finalize_twice_send_download_the_pdf_and_mark_paid(page: Page):
    tenant, user = _shop()
    sign_in(page, user.username, shop=tenant.slug, next_path="/repairs/dispatches")
    expect(page.get_by_test_id("repairs-tabs")).to_be_visible()
    expect(page.get_by_text("No dispatches yet")).to_be_visible()

    # a new dispatch for the client (the only one, chosen already)
    page.get_by_test_id("dispatch-new").click()
    expect(page.get_by_test_id("dispatch-client")).to_contain_text("Phone Fleet BV · 2 ready")
    shot(page, "repairs-billing-01-new-dispatch")
    page.get_by_test_id("dispatch-create").click()
    page.wait_for_url(re.compile(r"/repairs/dispatches/[0-9a-f-]{36}$"))
    dispatch_url = page.url
    expect(page.get_by_test_id("ready-asset")).to_have_count(2)
    page.get_by_test_id("asset-add-all").click()
    expect(page.get_by_test_id("dispatch-asset")).to_have_count(2)
    shot(page, "repairs-billing-02-dispatch")

    # finalize (confirmed), then again from the finalized dispatch: the same invoice
    page.get_by_test_id("dispatch-finalize").click()
    page.get_by_test_id("dispatch-finalize-confirm").click()
    page.wait_for_url(re.compile(r"/repairs/invoices/[0-9a-f-]{36}$"))
    invoice_url = page.url
    expect(page.get_by_test_id("invoice-status")).to_have_text("Draft")
    page.goto(dispatch_url)
    expect(page.get_by_test_id("dispatch-status")).to_have_text("Finalized")
    page.get_by_test_id("dispatch-finalize-again").click()
    page.wait_for_url(invoice_url)
    invoice_id = invoice_url.rsplit("/", 1)[-1]
    with tenant_session(tenant.id) as s:
        dispatch_id = s.exec(select(RepairInvoice.dispatch_id).where(RepairInvoice.id == uuid.UUID(invoice_id))).one()
        assert s.exec(select(func.count()).where(RepairInvoice.dispatch_id == dispatch_id)).one() == 1

    # the draft flags the battery (no price rule) until it is priced
    expect(page.get_by_test_id("line-row")).to_have_count(3)
    expect(page.get_by_test_id("invoice-warnings")).to_be_visible()
    shot(page, "repairs-billing-03-draft")
    page.get_by_test_id("invoice-send").click()
    page.get_by_test_id("invoice-send-confirm").click()
    expect(page.get_by_text("still need a price")).to_be_visible()
    flagged = page.get_by_test_id("line-row").filter(has=page.get_by_test_id("line-warning"))
    flagged.get_by_test_id("line-edit").click()
    page.get_by_test_id("field-unit-price").fill("39.00")
    page.get_by_test_id("line-save").click()
    expect(page.get_by_test_id("line-warning")).to_have_count(0)
    # 89.95 + 39.00 + 62.40 = 191.35, + 21 % (40.1835 → 40.18) = 231.53
    expect(page.get_by_test_id("invoice-total")).to_have_text("€231.53")

    page.get_by_test_id("invoice-send").click()
    page.get_by_test_id("invoice-send-confirm").click()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Sent")
    expect(page.get_by_test_id("invoice-title")).to_contain_text(re.compile(r"INV-\d{4}-\d{5}"))
    link = page.get_by_test_id("invoice-pdf")
    expect(link).to_be_visible(timeout=60_000)  # rendering…, then the download link, live
    shot(page, "repairs-billing-04-sent")
    href = link.get_attribute("href")
    assert href
    r = page.request.get(href)
    assert r.status == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.body()
    assert pdf.startswith(b"%PDF")
    (ARTIFACTS / "repairs-billing-invoice.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "70",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            "-",
            str(ARTIFACTS / "repairs-billing-05-pdf"),
        ],
        input=pdf,
        check=True,
    )

    page.get_by_test_id("invoice-paid").click()
    page.get_by_test_id("invoice-paid-confirm").click()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Paid")
    expect(page.get_by_test_id("invoice-paid")).to_have_count(0)
    shot(page, "repairs-billing-06-paid")

    page.goto("/repairs/invoices?status=paid")
    expect(page.get_by_test_id("invoice-row")).to_have_count(1)
    expect(page.get_by_test_id("invoice-status")).to_have_text("Paid")
    shot(page, "repairs-billing-07-invoices")


def test_an_admin_sets_the_invoice_settings_and_an_operator_reads_them(page: Page):
    tenant = factories.make_tenant("Fix & Return Ltd")
    admin = factories.make_user(tenant, "admin")
    sign_in(page, admin.username, shop=tenant.slug, next_path="/repairs/invoices")
    expect(page.get_by_test_id("billing-words")).to_contain_text("VAT 21 %")
    page.get_by_test_id("billing-settings-open").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_test_id("billing-shop_address").fill("Fix & Return Ltd\nPrinsengracht 263\n1016 GV Amsterdam")
    dialog.get_by_test_id("billing-shop_vat_number").fill("NL853621004B01")
    dialog.get_by_test_id("billing-vat_percent").fill("121")  # a mistake: refused on its field
    dialog.get_by_test_id("billing-assessment_fee").fill("15")
    dialog.get_by_test_id("billing-save").click()
    expect(dialog.get_by_test_id("billing-error-vat_percent")).to_contain_text("from 0 to 100")
    shot(page, "repairs-billing-settings-error")
    dialog.get_by_test_id("billing-vat_percent").fill("9")
    dialog.get_by_test_id("billing-save").click()
    expect(page.get_by_text("Invoice settings saved.")).to_be_visible()
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("billing-words")).to_contain_text("VAT 9 %")
    expect(page.get_by_test_id("billing-words")).to_contain_text("15.00")
    shot(page, "repairs-billing-settings")
    with tenant_session(tenant.id) as s:
        st = billing.billing_settings(s)
        assert st.vat_percent == Decimal("9.00") and st.shop_vat_number == "NL853621004B01"
        assert st.shop_address.splitlines() == ["Fix & Return Ltd", "Prinsengracht 263", "1016 GV Amsterdam"]

    # an operator reads how the shop charges, with no way to change it
    operator = factories.make_user(tenant, "operator")
    other = page.context.browser.new_context(base_url=page.url.split("/repairs")[0])
    p2 = other.new_page()
    sign_in(p2, operator.username, shop=tenant.slug, next_path="/repairs/invoices")
    expect(p2.get_by_test_id("billing-words")).to_contain_text("VAT 9 %")
    expect(p2.get_by_test_id("billing-settings-open")).to_have_count(0)
    other.close()
