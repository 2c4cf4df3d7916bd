"""Issue 17 in one story, through the pages only: a batch of three devices is
made and received on a phone; at a desk, the first is triaged repairable, the
second sent to a BER review; a diagnostic log names the third with a code no
mapping covers, which waits in the queue until it is mapped from there; the
first is repaired on a worksheet (a spare part issued, labour logged, its code
done, final QC passed), dispatched and finalized twice (one invoice); the
invoice is priced, sent and its PDF fetched; the dashboard shows the work."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlmodel import func, select

from app.inventory import service as inventory
from app.platform.db import tenant_session
from app.repairs.models import RepairAsset, RepairInvoice
from app.repairs.service.receiving import luhn_ok
from jobs.repairs_reports import snapshot
from tests import factories
from tests.e2e.conftest import ARTIFACTS, choose, shot, sign_in
from tests.repairs_factories import make_client, make_device_model

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
UNMAPPED = "DF-NFC-071"


def _imei() -> str:
    body = f"35{uuid.uuid4().int % 10**12:012d}"
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def _log(path: Path, imei: str) -> Path:
    """A diagnostic report in the tool's text format, with one failure no mapping covers."""
    path.write_text(
        "# Dr.Fone Toolkit - Device Diagnostics Report\n"
        "Tool: Dr.Fone Toolkit 13.2.1\n"
        "Tested: 2026-11-21T09:12:44Z\n"
        "Station: BENCH-01\n"
        "Device: Apple iPhone 12\n"
        f"IMEI: {imei}\n"
        "OS: iOS 17.1\n"
        "\n"
        "code,component,result,message\n"
        "DF-BAT-012,Battery,PASS,Battery health 88%\n"
        f'{UNMAPPED},NFC,FAIL,"NFC antenna not detected, reader idle"\n'
        "DF-SCR-001,Display,PASS,Dead-pixel scan complete\n"
        "DF-SYS-001,System software,WARN,Bootloader unlocked\n",
        encoding="utf-8",
    )
    return path


def _phone(browser: Browser, app_url: str) -> Page:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, base_url=app_url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _scan(page: Page, code: str) -> None:
    box = page.get_by_test_id("scan-code")
    box.fill(code)
    box.press("Enter")


def _numbers(tenant_id: uuid.UUID, imeis: list[str]) -> list[str]:
    with tenant_session(tenant_id) as s:
        found = {a.imei: a.number for a in s.exec(select(RepairAsset).where(RepairAsset.tenant_id == tenant_id))}
    return [found[i] for i in imeis]


def _status(tenant_id: uuid.UUID, number: str) -> str:
    with tenant_session(tenant_id) as s:
        return s.exec(select(RepairAsset.status).where(RepairAsset.number == number)).one()


def test_a_batch_from_the_phone_to_a_sent_invoice_and_the_dashboard(browser, app_url, tmp_path):
    tenant = factories.make_tenant("Flow Repairs")
    operator = factories.make_user(tenant, "operator", username=f"flow-{uuid.uuid4().hex[:6]}")
    with tenant_session(tenant.id) as s:
        make_client(s, "Northwind Leasing", billing_address="Keizersgracht 1\n1015 CJ Amsterdam")
        make_device_model(s, "Apple", "iPhone 12", typical_value=Decimal("300"))
        s.commit()
    with tenant_session(tenant.id) as s:
        part = inventory.create_spare_part(
            s,
            inventory.SparePartData(sku="SCR-IP12", name="iPhone 12 screen (OLED)", unit_cost="89.90", stock=3),
            actor=factories.staff_principal(tenant),
        )
        s.commit()
        part_id = part.id
    imeis = [_imei(), _imei(), _imei()]

    # --- on the phone: a batch with a three-line manifest, received ---------------------------------
    page = _phone(browser, app_url)
    sign_in(page, operator.username, shop=tenant.slug, next_path="/repairs/batches")
    page.get_by_test_id("new-batch").click()
    dialog = page.get_by_test_id("new-batch-dialog")
    choose(page, dialog.get_by_test_id("field-client"), "client-option")
    dialog.get_by_test_id("field-reference").fill("RMA-7001")
    dialog.get_by_test_id("field-manifest").fill(
        f"{imeis[0]},,Apple iPhone 12,Cracked screen,250\n"
        f"{imeis[1]},,Apple iPhone 12,Dropped in water,250\n"
        f"{imeis[2]},,Apple iPhone 12,NFC payments fail,250\n"
    )
    shot(page, "repairs-flow-01-new-batch")
    dialog.get_by_test_id("create-batch").click()
    expect(page.get_by_test_id("batch-progress-text")).to_have_text("0 of 3 expected")
    batch_url = page.url

    page.get_by_test_id("receive").click()
    page.wait_for_url(re.compile(r"/repairs/receive/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("receive-count")).to_have_text("0 of 3 in")
    for n, imei in enumerate(imeis, start=1):
        _scan(page, imei)
        expect(page.get_by_test_id("scanned-row")).to_have_count(n)
        expect(page.get_by_test_id("scan-result")).to_contain_text("received")
    expect(page.get_by_test_id("receive-count")).to_have_text("3 of 3 in")
    expect(page.get_by_test_id("not-on-batch")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shot(page, "repairs-flow-02-phone-received")
    page.get_by_test_id("close-session").click()
    page.wait_for_url(batch_url)
    expect(page.get_by_test_id("batch-progress-text")).to_have_text("3 of 3 expected")
    first, second, third = _numbers(tenant.id, imeis)

    # --- at a desk: triage --------------------------------------------------------------------------
    page.set_viewport_size(DESKTOP)
    page.goto("/repairs/qc")
    rows = page.get_by_test_id("triage-row")
    expect(rows).to_have_count(3)
    shot(page, "repairs-flow-03-triage-queue")
    rows.filter(has_text=first).get_by_test_id("triage-open").click()
    triage = page.get_by_test_id("triage-dialog")
    expect(triage).to_be_visible()
    triage.get_by_test_id("code-search").fill("screen repl")
    triage.get_by_test_id("code-option").filter(has_text="SCR-REPL").click()
    expect(triage.get_by_test_id("chosen-code")).to_have_count(1)
    triage.get_by_test_id("field-notes").fill("Screen cracked across; touch fine.")
    triage.get_by_test_id("triage-submit").click()
    expect(page.get_by_text(f"Asset {first} is repairable: it goes on to repair.")).to_be_visible()
    expect(rows).to_have_count(2)

    rows.filter(has_text=second).get_by_test_id("triage-open").click()
    expect(triage).to_be_visible()
    triage.get_by_test_id("result-ber_suspected").click()
    triage.get_by_test_id("field-estimated_parts").fill("220")
    triage.get_by_test_id("field-estimated_labour").fill("60")
    triage.get_by_test_id("field-notes").fill("Board corroded around the charging IC.")
    triage.get_by_test_id("triage-submit").click()
    expect(page.get_by_text(f"Asset {second} may be beyond economic repair: it waits in BER review.")).to_be_visible()
    expect(rows).to_have_count(1)
    page.get_by_test_id("view-ber").click()
    page.wait_for_url("**/repairs/qc?view=ber")
    review = page.get_by_test_id("review-row")
    expect(review).to_have_count(1)
    expect(review).to_contain_text(second)
    shot(page, "repairs-flow-04-ber-queue")
    assert _status(tenant.id, first) == "in_repair" and _status(tenant.id, second) == "ber_review"

    # --- a diagnostic log with a code no mapping covers -----------------------------------------------
    page.goto("/repairs/unmapped")
    expect(page.get_by_text("No code is waiting")).to_be_visible()
    page.get_by_test_id("log-upload").locator("input[type=file]").set_input_files(
        str(_log(tmp_path / "bench01_third.txt", imeis[2]))
    )
    expect(page.get_by_test_id("log-upload-selected")).to_contain_text("bench01_third.txt")
    page.get_by_test_id("log-upload-submit").click()
    expect(page.get_by_text("1 log(s) uploaded.")).to_be_visible()
    log = page.get_by_test_id("log-row").filter(has_text="bench01_third.txt")
    expect(log.get_by_test_id("log-status")).to_have_text("Parsed")  # read by the worker, followed live
    expect(log.get_by_test_id("log-device")).to_have_text(third)
    expect(log.get_by_test_id("log-waiting")).to_have_text("1")
    waiting = page.get_by_test_id("queue-row")
    expect(waiting).to_have_count(1)
    expect(waiting.get_by_test_id("queue-code")).to_have_text(UNMAPPED)
    expect(waiting.get_by_test_id("queue-examples")).to_have_text(third)
    expect(page.get_by_test_id("count-waiting")).to_have_text("1")
    shot(page, "repairs-flow-05-code-waiting")

    waiting.get_by_test_id("queue-map").click()
    mapping = page.get_by_test_id("map-dialog")
    expect(mapping).to_contain_text(f"Map {UNMAPPED}")
    choose(page, mapping.get_by_test_id("map-choice"), "code-option-WIFI-BT")
    mapping.get_by_test_id("map-submit").click()
    expect(page.get_by_text(f"{UNMAPPED} mapped to WIFI-BT: 1 waiting row(s) updated.")).to_be_visible()
    expect(waiting).to_have_count(0)
    expect(page.get_by_text("No code is waiting")).to_be_visible()
    expect(page.get_by_test_id("count-waiting")).to_have_text("0")
    expect(log.get_by_test_id("log-waiting")).to_have_text("0")
    shot(page, "repairs-flow-06-queue-empty")

    page.goto(f"/repairs/assets?search={imeis[2]}")
    expect(page.get_by_test_id("asset-row")).to_have_count(1)
    page.get_by_test_id("asset-row").get_by_role("link").first.click()
    expect(page.get_by_test_id("asset-title")).to_have_text(third)
    expect(page.get_by_test_id("asset-codes")).to_contain_text("WIFI-BT")
    shot(page, "repairs-flow-07-third-asset-code")

    # --- the first device's repair on a worksheet --------------------------------------------------
    page.goto("/repairs/worksheets")
    page.get_by_test_id("open-worksheet").click()
    opening = page.get_by_test_id("open-dialog")
    expect(opening.get_by_test_id("eligible-asset")).to_have_count(1)
    expect(opening.get_by_test_id("eligible-asset")).to_contain_text(first)
    opening.get_by_test_id("open-for-asset").click()
    expect(page).to_have_url(re.compile(r"/repairs/worksheets/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("asset-number")).to_have_text(first)
    expect(page.get_by_test_id("sheet-status")).to_have_text("Open")

    page.get_by_test_id("spare-search").fill("iphone 12")
    expect(page.get_by_test_id("spare-row")).to_have_count(1)
    expect(page.get_by_test_id("spare-row")).to_contain_text("3 in stock")
    page.get_by_test_id("spare-issue").click()
    expect(page.get_by_test_id("move-dialog")).to_be_visible()
    page.get_by_test_id("move-submit").click()
    expect(page.get_by_test_id("move-dialog")).to_be_hidden()
    expect(page.get_by_test_id("held-part")).to_have_count(1)
    expect(page.get_by_test_id("spare-row")).to_contain_text("2 in stock")
    with tenant_session(tenant.id) as s:
        assert inventory.get_spare_part(s, part_id).current_stock == 2

    page.get_by_test_id("labour-minutes").fill("40")
    page.get_by_test_id("labour-note").fill("Screen swap and seal")
    page.get_by_test_id("labour-submit").click()
    expect(page.get_by_test_id("labour-total")).to_have_text("40 min")
    code_row = page.get_by_test_id("code-row").filter(has_text="SCR-REPL")
    code_row.get_by_test_id("code-done").click()
    expect(code_row).to_contain_text("Done here")
    shot(page, "repairs-flow-08-worksheet")

    page.get_by_test_id("submit-qc").click()
    expect(page.get_by_test_id("sheet-status")).to_have_text("In final QC")
    page.get_by_test_id("qc-pass").click()
    expect(page.get_by_test_id("sheet-status")).to_have_text("Passed QC")
    expect(page.get_by_test_id("asset-status")).to_have_text("Ready for dispatch")
    shot(page, "repairs-flow-09-passed-qc")
    assert _status(tenant.id, first) == "ready_for_dispatch"

    # --- dispatch, finalized twice: one invoice ----------------------------------------------------
    page.goto("/repairs/dispatches")
    page.get_by_test_id("dispatch-new").click()
    expect(page.get_by_test_id("dispatch-client")).to_contain_text("Northwind Leasing · 1 ready")
    page.get_by_test_id("dispatch-create").click()
    page.wait_for_url(re.compile(r"/repairs/dispatches/[0-9a-f-]{36}$"))
    dispatch_url = page.url
    ready = page.get_by_test_id("ready-asset").filter(has_text=first)
    expect(ready).to_have_count(1)
    ready.get_by_test_id("asset-add").click()
    expect(page.get_by_test_id("dispatch-asset")).to_have_count(1)
    expect(page.get_by_test_id("dispatch-asset")).to_contain_text(first)
    shot(page, "repairs-flow-10-dispatch")
    page.get_by_test_id("dispatch-finalize").click()
    page.get_by_test_id("dispatch-finalize-confirm").click()
    page.wait_for_url(re.compile(r"/repairs/invoices/[0-9a-f-]{36}$"))
    invoice_url = page.url
    expect(page.get_by_test_id("invoice-status")).to_have_text("Draft")

    page.goto(dispatch_url)  # finalize again, after a reload: the same invoice
    expect(page.get_by_test_id("dispatch-status")).to_have_text("Finalized")
    page.get_by_test_id("dispatch-finalize-again").click()
    page.wait_for_url(invoice_url)
    with tenant_session(tenant.id) as s:
        invoices = s.exec(select(func.count()).select_from(RepairInvoice)).one()
        assert invoices == 1
        assert str(s.exec(select(RepairInvoice.id)).one()) == invoice_url.rsplit("/", 1)[-1]

    # --- price what is flagged, send, fetch the PDF --------------------------------------------------
    expect(page.get_by_test_id("line-row").first).to_be_visible()
    shot(page, "repairs-flow-11-draft-invoice")
    flagged = page.get_by_test_id("line-row").filter(has=page.get_by_test_id("line-warning"))
    for _ in range(flagged.count()):
        flagged.first.get_by_test_id("line-edit").click()
        page.get_by_test_id("field-unit-price").fill("79.00")
        page.get_by_test_id("line-save").click()
        expect(page.get_by_test_id("line-dialog")).to_be_hidden()
    expect(page.get_by_test_id("line-warning")).to_have_count(0)
    # the repair 79.00 + the screen at cost 89.90 = 168.90, + 21 % VAT (35.47) = 204.37
    expect(page.get_by_test_id("invoice-total")).to_have_text("€204.37")
    page.get_by_test_id("invoice-send").click()
    page.get_by_test_id("invoice-send-confirm").click()
    expect(page.get_by_test_id("invoice-status")).to_have_text("Sent")
    expect(page.get_by_test_id("invoice-title")).to_contain_text(re.compile(r"INV-\d{4}-\d{5}"))
    link = page.get_by_test_id("invoice-pdf")
    expect(link).to_be_visible(timeout=60_000)  # rendering…, then the link, live
    shot(page, "repairs-flow-12-invoice-sent")
    href = link.get_attribute("href")
    assert href
    r = page.request.get(href)
    assert r.status == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.body()
    assert pdf.startswith(b"%PDF")
    (ARTIFACTS / "repairs-flow-invoice.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", "-",
             str(ARTIFACTS / "repairs-flow-13-invoice-pdf")],
            input=pdf,
            check=True,
        )  # fmt: skip
    assert _status(tenant.id, first) == "invoiced"  # sent on the invoice

    # --- the dashboard -----------------------------------------------------------------------------
    page.goto("/repairs")
    expect(page.get_by_test_id("repairs-dashboard")).to_be_visible()
    expect(page.get_by_test_id("stat-in-shop")).to_have_text("2")  # the second in BER review, the third received
    expect(page.get_by_test_id("stat-unmapped")).to_have_text("0")
    expect(page.get_by_test_id("wip-ber_review")).to_have_text("1")
    expect(page.get_by_test_id("wip-received")).to_have_text("1")
    expect(page.get_by_test_id("wip-ready_for_dispatch")).to_have_text("0")
    shot(page, "repairs-flow-14-dashboard")
    # the hourly report job writes today's row: the month's figures and charts follow, live
    snapshot(str(tenant.id))
    expect(page.get_by_test_id("stat-received")).to_have_text("3")
    expect(page.get_by_test_id("stat-dispatched")).to_have_text("1")
    expect(page.get_by_test_id("stat-invoiced")).to_have_text("€204.37")
    expect(page.get_by_test_id("chart-flow").locator(".recharts-bar-rectangle").first).to_be_attached()
    expect(page.get_by_test_id("chart-invoiced").locator(".recharts-area-area").first).to_be_attached()
    page.wait_for_timeout(1500)  # the charts draw themselves in; the picture waits for them
    shot(page, "repairs-flow-15-dashboard-after-snapshot")
    page.context.close()
