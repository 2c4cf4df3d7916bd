"""The workbench in Chromium: create a build from its order, upload photos,
fill QA and test runs, complete it and open both booklets."""

from __future__ import annotations

import io

import httpx
from PIL import Image
from playwright.sync_api import expect

from app.builds.models import REQUIRED_SLOTS
from app.settings import get_settings
from tests import factories
from tests.e2e.conftest import ARTIFACTS, shot, sign_in


def _photo(path, colour) -> str:
    img = Image.new("RGB", (1600, 1200), colour)
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return str(path)


def test_a_build_from_order_to_booklets(page, tmp_path):
    tenant = factories.default_tenant()
    operator = factories.make_user(tenant, "operator")
    sign_in(page, operator.username, next_path="/orders")
    page.wait_for_url("**/orders")

    # a manual PC order, then its build
    page.get_by_role("button", name="New order").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=customer_name]").fill("Grace Hopper")
    dialog.locator("input[name=title]").fill("Custom gaming PC")
    dialog.locator("input[name=price]").fill("1799")
    dialog.get_by_role("button", name="Create order").click()
    expect(page.get_by_text("created.")).to_be_visible()
    page.get_by_test_id("order-search").fill("Grace Hopper")
    page.get_by_test_id("orders-table").get_by_role("link").first.click()
    page.get_by_test_id("create-build").click()
    page.wait_for_url("**/builds/*")
    expect(page.get_by_test_id("build-status")).to_have_text("pending")

    page.get_by_test_id("move-in_progress").click()
    expect(page.get_by_test_id("build-status")).to_have_text("in_progress")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_test_id("assignee")).to_contain_text("Test Operator")

    # the photos are taken on a phone (390 px, touch) from the QR code's page
    phone_url = page.get_by_role("link", name="Phone page").get_attribute("href")
    phone = page.context.browser.new_context(
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
        storage_state=page.context.storage_state(),
    )
    mobile = phone.new_page()
    mobile.goto(phone_url)
    for i, slot in enumerate(REQUIRED_SLOTS):
        tile = mobile.get_by_test_id(f"tile-{slot}")
        with mobile.expect_file_chooser() as chooser:
            tile.locator("div").first.tap()
        chooser.value.set_files(_photo(tmp_path / f"{slot}.jpg", (40 + i * 20, 80, 160 - i * 10)))
        expect(tile.get_by_role("img")).to_be_visible()
    phone.close()
    # the workbench shows them without a reload
    for slot in REQUIRED_SLOTS:
        expect(page.get_by_test_id(f"photo-{slot}").get_by_role("img")).to_be_visible()
    shot(page, "20-workbench-photos")
    # and the workbench's own upload replaces one
    page.get_by_role("combobox", name="Photo slot").click()
    page.get_by_role("option", name="Cover", exact=True).click()
    page.locator("#photo_upload input[type=file]").set_input_files(_photo(tmp_path / "cover2.jpg", (200, 200, 40)))
    page.get_by_test_id("upload-photo").click()
    expect(page.get_by_text("Cover photo saved.")).to_be_visible()

    # QA, temperatures and a test run
    page.get_by_placeholder("Add a check").fill("All fans spin")
    page.get_by_role("button", name="Add", exact=True).first.click()
    expect(page.get_by_text("Check added.")).to_be_visible()
    page.get_by_role("checkbox").first.click()
    expect(page.get_by_text("Checklist updated.")).to_be_visible()
    expect(page.get_by_test_id("packaging-missing")).to_contain_text("QA sign-off")  # ticked is not signed off
    page.get_by_placeholder("QA notes").fill("Quiet under load; cable side tidy.")
    page.get_by_role("button", name="Save notes").click()
    expect(page.get_by_text("QA notes saved.")).to_be_visible()
    page.get_by_placeholder("Setting (e.g. BIOS)").fill("OS")
    page.get_by_placeholder("Value (e.g. F12, XMP on)").fill("Windows 11 Pro 24H2")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("System configuration saved.")).to_be_visible()
    page.get_by_test_id("qa-pass").click()
    expect(page.get_by_text("QA signed off as passed.")).to_be_visible()
    for name, value in (("cpuIdle", "35"), ("cpuLoad", "80"), ("gpuIdle", "31"), ("gpuLoad", "71"), ("ambient", "21")):
        page.locator(f"input[name={name}]").fill(value)
    page.get_by_role("button", name="Save temperatures").click()
    expect(page.get_by_text("Temperatures saved.")).to_be_visible()
    page.locator("input[name=score]").first.fill("17650")
    page.locator("input[name=notes]").fill("3DMark Time Spy")
    page.locator("form").filter(has=page.get_by_placeholder("Notes (e.g. 3DMark Time Spy)")).get_by_role(
        "button", name="Add"
    ).click()
    expect(page.get_by_text("Test run added.")).to_be_visible()
    run_row = page.get_by_role("row").filter(has_text="3DMark Time Spy")
    run_row.get_by_role("combobox").click()
    page.get_by_role("option", name="running", exact=True).click()
    expect(page.get_by_text("Test run marked running.")).to_be_visible()
    run_row.get_by_role("combobox").click()
    page.get_by_role("option", name="passed", exact=True).click()
    expect(page.get_by_text("Test run marked passed.")).to_be_visible()
    page.get_by_placeholder("Benchmark (e.g. Cinebench R23 multi)").fill("Cinebench R23 multi")
    page.get_by_placeholder("Score").last.fill("19850")
    page.get_by_placeholder("Unit").fill("pts")
    bench_form = page.locator("form").filter(has=page.get_by_placeholder("Benchmark (e.g. Cinebench R23 multi)"))
    bench_form.get_by_role("combobox").click()
    page.get_by_role("option", name="GPU I/O", exact=True).click()
    bench_form.get_by_role("button", name="Add").click()
    expect(page.get_by_text("Benchmark added.")).to_be_visible()
    # a stress test and a timeline step, entered on the page
    page.get_by_placeholder("Tool (e.g. OCCT)").fill("OCCT")
    page.get_by_placeholder("Minutes").fill("30")
    page.get_by_placeholder("Hottest °C").fill("84")
    page.get_by_test_id("add-stress-test").click()
    expect(page.get_by_text("Stress test added.")).to_be_visible()
    expect(page.get_by_test_id("stress-tests")).to_contain_text("84 °C")
    page.get_by_role("combobox", name="Timeline step").click()
    page.get_by_role("option", name="OS installed", exact=True).click()
    page.get_by_placeholder("Note (optional)").fill("Windows 11 Pro, drivers from the board's CD")
    page.get_by_test_id("add-step").click()
    expect(page.get_by_text("OS installed added to the timeline.")).to_be_visible()

    # complete: booklets render in the background and show up live
    page.get_by_test_id("move-testing").click()
    expect(page.get_by_test_id("build-status")).to_have_text("testing")
    page.get_by_test_id("move-completed").click()
    expect(page.get_by_test_id("build-status")).to_have_text("completed")
    expect(page.get_by_test_id("packaging-missing")).to_have_count(0)  # completed, photos, QA passed
    expect(page.get_by_test_id("booklet-status")).to_have_text("ready", timeout=90_000)
    shot(page, "21-workbench-completed")
    for testid in ("open-quick-start", "open-dossier"):
        href = page.get_by_test_id(testid).get_attribute("href")
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        r = httpx.get(href, cookies=cookies)
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        (ARTIFACTS / f"{testid}.pdf").write_bytes(r.content)
        assert httpx.get(href).status_code == 401  # not without a session
    assert get_settings().api_url in href
