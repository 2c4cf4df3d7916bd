"""Two repairs pages in the browser: the bulk upload (a sheet of assets with
one good row and one bad IMEI is checked, shows its one problem, is applied
after a confirmation and its progress reaches Done live) and the owner
dashboard of a shop with a month of history (the charts, the work in
progress, the late table, and the SLA limits saved, 0 refused)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, WebSocketRoute, expect
from sqlmodel import select

from app.inventory import demo as inventory_demo
from app.platform import config
from app.platform.db import tenant_session
from app.repairs import demo
from app.repairs.models import RepairAsset
from app.repairs.service import reports
from app.repairs.service.receiving import luhn_ok
from tests import factories
from tests.e2e.conftest import shot, sign_in
from tests.repairs_factories import make_batch, make_client, make_device_model


def _imei() -> str:
    body = f"35{uuid.uuid4().int % 10**12:012d}"
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def test_a_sheet_of_assets_is_checked_applied_and_followed_to_done(page: Page, tmp_path: Path):
    tenant = factories.make_tenant("Upload Repairs")
    operator = factories.make_user(tenant, "operator")
    with tenant_session(tenant.id) as s:
        client = make_client(s, "Northwind Leasing")
        make_batch(s, client, client_reference="PO-4410")
        make_device_model(s, "Apple", "iPhone 12")
        s.commit()
    good = _imei()
    sheet = tmp_path / "legacy-assets.csv"
    sheet.write_text(
        "batch,imei,model,condition,fault,declared value,codes\n"
        f"PO-4410,{good},Apple iPhone 12,B,Cracked screen,250.00,SCR-REPL\n"
        "PO-4410,12345,Apple iPhone 12,C,No power,90.00,\n",
        encoding="utf-8",
    )

    sign_in(page, operator.username, shop=tenant.slug, next_path="/repairs/imports")
    expect(page.get_by_test_id("repairs-tab-imports")).to_be_visible()
    expect(page.get_by_text("No uploads yet")).to_be_visible()
    template = page.get_by_test_id("import-template")
    page.get_by_test_id("import-kind").get_by_role("radio", name="Spare parts").click()
    expect(template).to_have_attribute("href", "/api/v1/repairs/imports/templates/parts.csv")
    page.get_by_test_id("import-kind").get_by_role("radio", name="Assets").click()
    expect(template).to_have_attribute("href", "/api/v1/repairs/imports/templates/assets.csv")
    href = template.get_attribute("href")
    assert href
    r = page.request.get(href)
    assert r.status == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text().splitlines()[0].startswith("batch,imei,serial,model")
    shot(page, "repairs-pages-01-imports")

    page.locator("#repairs_import_upload input[type=file]").set_input_files(str(sheet))
    expect(page.get_by_test_id("import-drop")).to_contain_text("legacy-assets.csv")
    page.get_by_test_id("import-check").click()
    preview = page.get_by_test_id("import-preview")
    expect(preview).to_be_visible()
    expect(preview.get_by_test_id("preview-status")).to_have_text("Checked, not applied")
    expect(preview.get_by_test_id("preview-good")).to_have_text("1 fine")
    expect(preview.get_by_test_id("preview-bad")).to_have_text("1 with problems")
    problem = preview.get_by_test_id("import-problem")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("3")  # the sheet's row (the header is row 1)
    expect(problem).to_contain_text("imei")
    expect(problem).to_contain_text("the IMEI '12345' is not 15 digits")
    shot(page, "repairs-pages-02-import-preview")

    preview.get_by_test_id("import-apply").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Apply this upload?")
    page.get_by_test_id("import-apply-confirm").click()
    expect(preview.get_by_test_id("preview-status")).to_have_text("Done")  # the job's progress, live
    expect(preview).to_contain_text("2 of 2 rows")
    row = page.get_by_test_id("upload-row").filter(has_text="legacy-assets.csv")
    expect(row).to_contain_text("1 added · 0 updated · 1 skipped")
    shot(page, "repairs-pages-03-import-done")
    with tenant_session(tenant.id) as s:
        imported = s.exec(select(RepairAsset).where(RepairAsset.imei == good)).one()
        assert imported.condition == "B" and imported.status == "received"
        assert s.exec(select(RepairAsset).where(RepairAsset.imei == "12345")).first() is None

    page.goto(f"/repairs/assets?search={good}")
    expect(page.get_by_test_id("asset-row")).to_have_count(1)


def test_the_dashboard_of_a_shop_with_a_month_of_history(page: Page):
    tenant = factories.make_tenant("Dashboard Repairs")
    admin = factories.make_user(tenant, "admin", username=f"owner-{uuid.uuid4().hex[:6]}")
    with tenant_session(tenant.id) as s:
        inventory_demo.load(s)  # the spare parts the demo's repairs use
        demo.load(s)
    with tenant_session(tenant.id) as s:
        wip = reports.wip_counts(s)
        late, late_total = reports.late_assets(s)
    assert late_total > 0 and sum(wip.values()) > 0

    sockets: list[WebSocketRoute] = []  # the page's socket, relayed so that a step can drop it

    def relay(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/_event"), relay)
    sign_in(page, admin.username, shop=tenant.slug, next_path="/repairs")
    dashboard = page.get_by_test_id("repairs-dashboard")
    expect(dashboard).to_be_visible()
    expect(page.get_by_test_id("stat-in-shop")).to_have_text(str(sum(wip.values())))
    expect(page.get_by_test_id("stat-late")).to_have_text(str(late_total))
    # the charts draw their month: bars of assets moved, an area of money invoiced
    flow = page.get_by_test_id("chart-flow")
    expect(flow.locator("svg.recharts-surface").first).to_be_visible()
    expect(flow.locator(".recharts-bar-rectangle").first).to_be_attached()
    invoiced = page.get_by_test_id("chart-invoiced")
    expect(invoiced.locator("svg.recharts-surface").first).to_be_visible()
    expect(invoiced.locator(".recharts-area-area").first).to_be_attached()
    # the work in progress, status by status
    expect(page.get_by_test_id("wip")).to_be_visible()
    for status, n in wip.items():
        expect(page.get_by_test_id(f"wip-{status}")).to_have_text(str(n))
    # the late table, longest over first
    rows = page.get_by_test_id("late-row")
    expect(rows).to_have_count(len(late))
    expect(rows.first).to_contain_text(late[0].number)
    page.wait_for_timeout(1500)  # the charts draw themselves in; the picture waits for them
    shot(page, "repairs-pages-04-dashboard")
    page.get_by_test_id("late-table").scroll_into_view_if_needed()
    shot(page, "repairs-pages-05-dashboard-late")

    # the SLA limits: 0 and more than the longest limit are refused in the dialog, with the rule's words
    page.get_by_test_id("sla-open").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("SLA limits")
    field = page.get_by_test_id("sla-in_repair")
    expect(field).to_have_value("72")
    field.fill("0")
    page.get_by_test_id("sla-save").click()
    expect(dialog.get_by_text("must be between 1 and 2160 hours")).to_be_visible()
    expect(dialog).to_be_visible()
    field.fill("5000")
    page.get_by_test_id("sla-save").click()
    expect(dialog.get_by_text("must be between 1 and 2160 hours")).to_be_visible()
    shot(page, "repairs-pages-06-sla-refused")
    with tenant_session(tenant.id) as s:
        assert reports.sla_hours(s)["in_repair"] == 72
    # the socket drops (a phone changing networks, a missed ping): the page reconnects and
    # loads itself again, and the dialog stays open with what was typed and its error
    connected = len(sockets)
    sockets[-1].close()
    for _ in range(100):
        if len(sockets) > connected:
            break
        page.wait_for_timeout(100)
    assert len(sockets) > connected, "the page did not reconnect"
    expect(page.get_by_test_id("stat-late")).to_have_text(str(late_total))  # loaded again
    page.wait_for_timeout(1000)  # the reload's answer has come and gone
    expect(dialog).to_be_visible()
    expect(field).to_have_value("5000")
    expect(dialog.get_by_text("must be between 1 and 2160 hours")).to_be_visible()
    field.fill("96")
    page.get_by_test_id("sla-save").click()
    expect(page.get_by_text("SLA limits saved.")).to_be_visible()
    expect(dialog).to_be_hidden()
    with tenant_session(tenant.id) as s:
        assert reports.sla_hours(s)["in_repair"] == 96
        assert config.get(s, reports.SLA_KEY)["in_repair"] == 96
    page.get_by_test_id("sla-open").click()
    expect(page.get_by_test_id("sla-in_repair")).to_have_value("96")
