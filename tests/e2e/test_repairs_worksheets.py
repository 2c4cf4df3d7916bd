"""A repair on a worksheet, as the technician and the QC checker click it:
open a worksheet for an asset in repair, assign a technician, log 45
minutes, issue a spare part (its stock goes down once), tick the asset's
repair code done, send it to final QC, fail it once with notes (back to
repair), send it again and pass it: the asset reads "Ready for dispatch"."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from app.inventory import service as inventory
from app.platform.db import tenant_session
from app.repairs.models import DeviceRepairCode, RepairAsset, RepairCode, Technician
from tests import factories
from tests.e2e.conftest import choose, shot, sign_in
from tests.repairs_factories import make_asset, make_device_model


@pytest.fixture
def shop(app_url) -> dict:
    """A shop of its own with an asset in repair (a code found in triage), a
    technician and a spare part with three on the shelf; an operator signs in."""
    tenant = factories.make_tenant("Repair Shop")
    operator = factories.make_user(tenant, "operator")
    actor = factories.staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        model = make_device_model(s, "Apple", f"iPhone 12 {uuid.uuid4().hex[:4]}")
        asset = make_asset(s, status="in_repair", device_model_id=model.id, fault="Cracked screen")
        code = s.exec(select(RepairCode).where(col(RepairCode.tenant_id).is_(None)).order_by(RepairCode.code)).first()
        assert code is not None
        s.add(DeviceRepairCode(tenant_id=tenant.id, asset_id=asset.id, repair_code_id=code.id, source="triage"))
        s.add(Technician(tenant_id=tenant.id, name="Grace Hopper"))
        part = inventory.create_spare_part(
            s,
            inventory.SparePartData(sku="SCR-IP12", name="iPhone 12 screen (OLED)", unit_cost="89.90", stock=3),
            actor=actor,
        )
        s.commit()
        return {
            "tenant": tenant,
            "operator": operator,
            "asset_id": asset.id,
            "asset": asset.number,
            "code": code.code,
            "part_id": part.id,
        }


def _stock(shop: dict) -> int:
    with tenant_session(shop["tenant"].id) as s:
        return inventory.get_spare_part(s, shop["part_id"]).current_stock


def _asset_status(shop: dict) -> str:
    with tenant_session(shop["tenant"].id) as s:
        return s.get_one(RepairAsset, shop["asset_id"]).status


def test_a_repair_from_worksheet_to_ready_for_dispatch(page: Page, shop: dict):
    sign_in(page, shop["operator"].username, shop=shop["tenant"].slug, next_path="/repairs/worksheets")
    expect(page.get_by_test_id("repairs-tab-worksheets")).to_be_visible()
    expect(page.get_by_text("No worksheets yet")).to_be_visible()
    shot(page, "repairs-worksheets-01-empty")

    # open a worksheet for the asset in repair
    page.get_by_test_id("open-worksheet").click()
    dialog = page.get_by_test_id("open-dialog")
    expect(dialog.get_by_test_id("eligible-asset")).to_have_count(1)
    expect(dialog.get_by_test_id("eligible-asset")).to_contain_text(shop["asset"])
    shot(page, "repairs-worksheets-02-open-dialog")
    dialog.get_by_test_id("open-for-asset").click()
    expect(page).to_have_url(re.compile(r"/repairs/worksheets/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("worksheet-title")).to_contain_text("WS-")
    expect(page.get_by_test_id("sheet-status")).to_have_text("Open")
    expect(page.get_by_test_id("asset-number")).to_have_text(shop["asset"])
    expect(page.get_by_test_id("asset-status")).to_have_text("In repair")

    # assign a technician
    choose(page, page.get_by_test_id("assign-technician"), "technician-Grace Hopper")
    expect(page.get_by_test_id("assign-technician")).to_contain_text("Grace Hopper")
    expect(page.get_by_test_id("history-line").first).to_contain_text("Assigned to Grace Hopper")

    # log 45 minutes
    page.get_by_test_id("labour-minutes").fill("45")
    page.get_by_test_id("labour-note").fill("Screen swap")
    page.get_by_test_id("labour-submit").click()
    expect(page.get_by_test_id("labour-total")).to_have_text("45 min")
    expect(page.get_by_test_id("labour-line")).to_contain_text("45 min: Screen swap")
    # a bad figure is refused on the form
    page.get_by_test_id("labour-minutes").fill("-5")
    page.get_by_test_id("labour-submit").click()
    expect(page.get_by_test_id("labour-error")).to_be_visible()
    expect(page.get_by_test_id("labour-total")).to_have_text("45 min")

    # issue a spare part: a double click issues one
    page.get_by_test_id("spare-search").fill("iphone 12")
    expect(page.get_by_test_id("spare-row")).to_have_count(1)
    expect(page.get_by_test_id("spare-row")).to_contain_text("3 in stock")
    page.get_by_test_id("spare-issue").click()
    expect(page.get_by_test_id("move-dialog")).to_be_visible()
    shot(page, "repairs-worksheets-03-issue-dialog")
    page.get_by_test_id("move-submit").dblclick()
    expect(page.get_by_test_id("move-dialog")).to_be_hidden()
    expect(page.get_by_test_id("held-part")).to_have_count(1)
    expect(page.get_by_test_id("part-used")).to_have_text("1")
    expect(page.get_by_test_id("spare-row")).to_contain_text("2 in stock")
    assert _stock(shop) == 2

    # mark the asset's code done
    code_row = page.get_by_test_id("code-row").filter(has_text=shop["code"])
    code_row.get_by_test_id("code-done").click()
    expect(code_row).to_contain_text("Done here")
    shot(page, "repairs-worksheets-04-worked")

    # to final QC, fail once with notes
    page.get_by_test_id("submit-qc").click()
    expect(page.get_by_test_id("sheet-status")).to_have_text("In final QC")
    expect(page.get_by_test_id("asset-status")).to_have_text("Final QC")
    page.get_by_test_id("qc-fail").click()
    page.get_by_test_id("fail-submit").click()
    expect(page.get_by_test_id("fail-error")).to_be_visible()  # notes are required
    page.get_by_test_id("fail-notes").fill("Touch dead in the top corner")
    shot(page, "repairs-worksheets-05-fail-dialog")
    page.get_by_test_id("fail-submit").click()
    expect(page.get_by_test_id("sheet-status")).to_have_text("Open")
    expect(page.get_by_test_id("asset-status")).to_have_text("In repair")
    expect(page.get_by_test_id("qc-failed-banner")).to_contain_text("Touch dead in the top corner")
    expect(page.get_by_test_id("qc-failures")).to_contain_text("1 time(s)")
    shot(page, "repairs-worksheets-06-failed")

    # again, and pass
    page.get_by_test_id("submit-qc").click()
    expect(page.get_by_test_id("sheet-status")).to_have_text("In final QC")
    page.get_by_test_id("qc-pass").click()
    expect(page.get_by_test_id("sheet-status")).to_have_text("Passed QC")
    expect(page.get_by_test_id("asset-status")).to_have_text("Ready for dispatch")
    expect(page.get_by_test_id("submit-qc")).to_have_count(0)
    shot(page, "repairs-worksheets-07-passed")
    assert _asset_status(shop) == "ready_for_dispatch"
    assert _stock(shop) == 2

    # the table shows it passed
    page.get_by_role("link", name="Worksheets").first.click()
    page.get_by_test_id("status-passed").click()
    row = page.get_by_test_id("worksheet-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("worksheet-status")).to_have_text("Passed QC")
    expect(row.get_by_test_id("worksheet-assignee")).to_have_text("Grace Hopper")
    expect(row).to_contain_text("45 min")
    shot(page, "repairs-worksheets-08-list")


def test_the_asset_pages_link_opens_a_worksheet_and_a_viewer_cannot(page: Page, shop: dict):
    sign_in(
        page,
        shop["operator"].username,
        shop=shop["tenant"].slug,
        next_path=f"/repairs/worksheets/new?asset={shop['asset_id']}",
    )
    expect(page.get_by_test_id("worksheet-title")).to_contain_text("WS-")
    first = page.url
    # the same link again leads to the worksheet already open
    page.goto(f"/repairs/worksheets/new?asset={shop['asset_id']}")
    expect(page.get_by_test_id("worksheet-title")).to_be_visible()
    assert page.url == first
    # a viewer reads but changes nothing
    viewer = factories.make_user(shop["tenant"], "viewer")
    page.context.clear_cookies()
    sign_in(page, viewer.username, shop=shop["tenant"].slug, next_path=urlparse(first).path)
    expect(page.get_by_test_id("worksheet-title")).to_be_visible()
    expect(page.get_by_test_id("submit-qc")).to_have_count(0)
    expect(page.get_by_test_id("labour-submit")).to_have_count(0)
    expect(page.get_by_test_id("spare-search")).to_have_count(0)
