"""Receiving a client's batch on a phone (390 x 844, touch): a batch with a
three-line manifest is made in the "New batch" dialog; the phone page scans
two manifest devices and one the client did not list (flagged "Not on the
batch"), takes a photo of the first, and closes the session; the batch's page
shows the progress, the device still waiting and the flagged one; the asset's
page shows the photo, the history and the moves made by hand (start triage)."""

from __future__ import annotations

import io
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, expect

from app.platform.db import tenant_session
from app.repairs.service.receiving import luhn_ok
from tests import factories
from tests.e2e.conftest import choose, shot, sign_in
from tests.repairs_factories import make_client, make_device_model

PHONE: ViewportSize = {"width": 390, "height": 844}


def _imei(n: int) -> str:
    body = f"35{n:012d}"
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def _photo(path: Path) -> Path:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 120, 200)).save(out, "JPEG")
    path.write_bytes(out.getvalue())
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


def test_a_batch_is_received_on_a_phone(browser, app_url, tmp_path):
    tenant = factories.make_tenant()
    user = factories.make_user(tenant, "operator")
    with tenant_session(tenant.id) as s:
        make_client(s, "Acme Mobile Leasing")
        make_device_model(s, "Apple", "iPhone 12")
        s.commit()
    known = [_imei(101), _imei(102), _imei(103)]
    stranger = _imei(999)

    page = _phone(browser, app_url)
    sign_in(page, user.username, shop=tenant.slug, next_path="/repairs/batches")
    expect(page.get_by_test_id("new-batch")).to_be_visible()
    shot(page, "repairs-receiving-01-batches-empty")

    # a new batch with a three-line manifest
    page.get_by_test_id("new-batch").click()
    dialog = page.get_by_test_id("new-batch-dialog")
    choose(page, dialog.get_by_test_id("field-client"), "client-option")
    dialog.get_by_test_id("field-reference").fill("RMA-2291")
    dialog.get_by_test_id("field-manifest").fill(
        f"{known[0]},,Apple iPhone 12,Cracked screen,120\n{known[1]},,Apple iPhone 12,No power,90\n"
        f"{known[2]},,,Battery swollen,60\n"
    )
    shot(page, "repairs-receiving-02-new-batch")
    dialog.get_by_test_id("create-batch").click()
    expect(page.get_by_test_id("batch-title")).to_contain_text("Batch")
    expect(page.get_by_test_id("batch-progress-text")).to_have_text("0 of 3 expected")
    expect(page.get_by_test_id("manifest-row")).to_have_count(3)
    batch_url = page.url

    # the phone page: two manifest devices, one stranger, a photo
    page.get_by_test_id("receive").click()
    expect(page.get_by_test_id("receive-title")).to_be_visible()
    expect(page.get_by_test_id("receive-count")).to_have_text("0 of 3 in")
    page.get_by_test_id("condition-B").click()
    page.get_by_test_id("accessory-charger").click()
    _scan(page, known[0])
    expect(page.get_by_test_id("scan-result")).to_contain_text("received")
    expect(page.get_by_test_id("scanned-row")).to_have_count(1)
    page.locator("#intake_photo input[type=file]").set_input_files(_photo(tmp_path / "front.jpg"))
    expect(page.get_by_text("saved.").first).to_be_visible()
    shot(page, "repairs-receiving-03-phone-first-scan")

    _scan(page, known[1])
    expect(page.get_by_test_id("scanned-row")).to_have_count(2)
    _scan(page, known[1])  # the scanner fired twice: the same asset
    expect(page.get_by_test_id("scan-result")).to_contain_text("already received")
    expect(page.get_by_test_id("scanned-row")).to_have_count(2)
    _scan(page, stranger)
    expect(page.get_by_test_id("scan-result")).to_contain_text("not on the batch")
    expect(page.get_by_test_id("scanned-row")).to_have_count(3)
    expect(page.get_by_test_id("not-on-batch")).to_have_count(1)
    expect(page.get_by_test_id("receive-count")).to_have_text("3 of 3 in")
    # nothing sticks out sideways at phone width
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shot(page, "repairs-receiving-04-phone-three-scanned")

    page.get_by_test_id("close-session").click()
    page.wait_for_url(batch_url)
    expect(page.get_by_test_id("batch-progress-text")).to_have_text("3 of 3 expected")
    expect(page.get_by_test_id("figure-flagged")).to_have_text("1")
    expect(page.get_by_test_id("figure-waiting")).to_have_text("1")
    expect(page.get_by_test_id("flagged-row")).to_have_count(1)
    expect(page.get_by_test_id("manifest-state").filter(has_text="Waiting")).to_have_count(1)
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    expect(page.get_by_test_id("batch-status")).to_have_text("Receiving")  # the third manifest device is missing
    shot(page, "repairs-receiving-05-batch-detail")

    # the first device's page: photo, history, start triage
    page.get_by_test_id("manifest-row").filter(has_text=known[0]).get_by_role("link").click()
    expect(page.get_by_test_id("asset-title")).to_be_visible()
    expect(page.get_by_test_id("asset-status").first).to_have_text("Received")
    expect(page.get_by_test_id("asset-imei")).to_have_text(known[0])
    expect(page.get_by_test_id("asset-condition")).to_have_text("B")
    expect(page.get_by_test_id("asset-accessories")).to_have_text("Charger")
    expect(page.get_by_test_id("asset-fault")).to_have_text("Cracked screen")
    expect(page.get_by_test_id("asset-photo")).to_have_count(1)
    expect(page.get_by_test_id("history-row")).to_have_count(1)
    shot(page, "repairs-receiving-06-asset")
    page.get_by_test_id("move-in_triage").click()
    expect(page.get_by_test_id("asset-status").first).to_have_text("In triage")
    expect(page.get_by_test_id("history-row")).to_have_count(2)
    shot(page, "repairs-receiving-07-asset-in-triage")

    # the assets table finds it by IMEI
    page.goto(f"/repairs/assets?search={known[0]}")
    expect(page.get_by_test_id("asset-row")).to_have_count(1)
    shot(page, "repairs-receiving-08-assets")
    page.context.close()
