"""Diagnostic logs in the browser: an operator uploads two exports (one with a
code no mapping covers, one malformed), watches them being read, finds the
codes in the unmapped queue, maps them from there (the queue empties, the
log's codes show their repair codes, and so does the asset), and deletes a
mapping behind a confirmation."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from app.platform.db import tenant_session
from app.repairs import drfone
from app.repairs.service import diagnostics as service
from tests import factories
from tests.e2e.conftest import choose, shot, sign_in
from tests.repairs_factories import make_asset

SAMPLES = {p.name: p for p in drfone.sample_files()}


def test_upload_a_log_map_its_codes_from_the_queue_and_see_the_asset_follow(page: Page):
    shop = factories.make_tenant()
    with tenant_session(shop.id) as s:
        asset = make_asset(s, imei="355447123456786", serial="28151FDH2004ZW")
        s.commit()
    operator = factories.make_user(shop, "operator", username=f"diag-{uuid.uuid4().hex[:6]}")
    sign_in(page, operator.username, shop=shop.slug, next_path="/repairs/unmapped")

    expect(page.get_by_test_id("repairs-tabs")).to_be_visible()
    expect(page.get_by_text("No code is waiting")).to_be_visible()
    expect(page.get_by_text("No logs yet")).to_be_visible()
    shot(page, "repairs-diagnostics-01-empty")

    page.get_by_test_id("log-upload").locator("input[type=file]").set_input_files(
        [str(SAMPLES["pixel7_unknown_nfc_code.txt"]), str(drfone.malformed_samples()[0])]
    )
    expect(page.get_by_test_id("log-upload-selected")).to_contain_text("pixel7_unknown_nfc_code.txt")
    page.get_by_test_id("log-upload-submit").click()
    expect(page.get_by_text("2 log(s) uploaded.")).to_be_visible()
    expect(page.get_by_test_id("upload-line")).to_have_count(2)

    # the worker reads them; the page follows live
    pixel = page.get_by_test_id("log-row").filter(has_text="pixel7_unknown_nfc_code.txt")
    expect(pixel.get_by_test_id("log-status")).to_have_text("Parsed")
    expect(pixel.get_by_test_id("log-device")).to_have_text(asset.number)
    expect(pixel.get_by_test_id("log-waiting")).to_have_text("2")
    broken = page.get_by_test_id("log-row").filter(has_text="malformed_truncated.txt")
    expect(broken.get_by_test_id("log-status")).to_have_text("Failed")
    expect(broken.get_by_test_id("log-error")).to_contain_text("line 6")
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("count-waiting")).to_have_text("2")
    nfc = rows.filter(has_text="DF-NFC-044")
    expect(nfc.get_by_test_id("queue-message")).to_contain_text("NFC controller timed out")
    expect(nfc.get_by_test_id("queue-examples")).to_have_text(asset.number)
    shot(page, "repairs-diagnostics-02-queue")

    # the same file again changes nothing
    page.get_by_test_id("log-upload").locator("input[type=file]").set_input_files(
        str(SAMPLES["pixel7_unknown_nfc_code.txt"])
    )
    page.get_by_test_id("log-upload-submit").click()
    expect(page.get_by_text("0 log(s) uploaded, 1 already uploaded.")).to_be_visible()
    expect(page.get_by_test_id("log-row")).to_have_count(2)

    nfc.get_by_test_id("queue-map").click()
    dialog = page.get_by_test_id("map-dialog")
    expect(dialog).to_contain_text("Map DF-NFC-044")
    dialog.get_by_test_id("map-submit").click()  # nothing chosen yet (no suggestion for NFC)
    expect(dialog.get_by_test_id("map-error")).to_have_text("Choose the repair code this failure needs.")
    choose(page, dialog.get_by_test_id("map-choice"), "code-option-WIFI-BT")
    shot(page, "repairs-diagnostics-03-map-dialog")
    dialog.get_by_test_id("map-submit").click()
    expect(page.get_by_text("DF-NFC-044 mapped to WIFI-BT: 1 waiting row(s) updated.")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("count-waiting")).to_have_text("1")

    # the volume code's suggestion is chosen already
    rows.filter(has_text="DF-VOL-002").get_by_test_id("queue-map").click()
    expect(dialog.get_by_test_id("map-choice")).to_contain_text("BTN-VOL")
    dialog.get_by_test_id("map-submit").click()
    expect(page.get_by_text("DF-VOL-002 mapped to BTN-VOL: 1 waiting row(s) updated.")).to_be_visible()
    expect(page.get_by_text("No code is waiting")).to_be_visible()
    expect(page.get_by_test_id("count-waiting")).to_have_text("0")
    expect(pixel.get_by_test_id("log-waiting")).to_have_text("0")  # its codes have repair codes now
    shot(page, "repairs-diagnostics-04-queue-empty")

    pixel.get_by_test_id("log-name").click()
    log_dialog = page.get_by_test_id("log-dialog")
    expect(log_dialog.get_by_test_id("log-code-repair")).to_have_text(["WIFI-BT", "BTN-VOL"])
    expect(log_dialog.get_by_test_id("log-code-waiting")).to_have_count(0)
    shot(page, "repairs-diagnostics-05-log-codes")
    page.keyboard.press("Escape")

    with tenant_session(shop.id) as s:
        on_asset = {(c.row.drfone_code, c.repair_code, c.row.source) for c in service.asset_codes(s, asset.id)}
    assert on_asset == {("DF-NFC-044", "WIFI-BT", "drfone"), ("DF-VOL-002", "BTN-VOL", "drfone")}

    mappings = page.get_by_test_id("mapping-row")
    expect(mappings).to_have_count(2)
    mappings.filter(has_text="DF-VOL-002").get_by_test_id("mapping-delete").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Delete the mapping of DF-VOL-002?")
    shot(page, "repairs-diagnostics-06-delete-confirm")
    page.get_by_test_id("mapping-delete-confirm").click()
    expect(page.get_by_text("Mapping of DF-VOL-002 deleted.", exact=False)).to_be_visible()
    expect(mappings).to_have_count(1)
    expect(mappings.get_by_test_id("mapping-code")).to_have_text("DF-NFC-044")
    shot(page, "repairs-diagnostics-07-mappings")
