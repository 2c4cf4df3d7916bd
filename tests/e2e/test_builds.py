"""The workbench in Chromium: create a build from its order, upload photos,
fill QA and test runs (with a screenshot), complete it and open both booklets."""

from __future__ import annotations

import io
import re
import subprocess
from decimal import Decimal

import httpx
from PIL import Image
from playwright.sync_api import expect

from app.builds.models import REQUIRED_SLOTS
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform.db import tenant_session
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
    with tenant_session(tenant.id) as s:  # a manual PC order (the orders page has its own tests)
        order, _ = orders.create_order(
            s,
            OrderInput(
                source="manual",
                customer_name="Grace Hopper",
                customer_email="grace@example.com",
                ship_street="Damrak",
                ship_house_number="1",
                ship_postal_code="1012 LG",
                ship_city="Amsterdam",
                ship_country_code="NL",
                lines=[LineInput(sku="PC", title="Custom gaming PC", quantity=1, unit_price=Decimal("1799"))],
            ),
        )
        s.commit()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, operator.username, next_path=f"/orders/{order.id}")
    page.wait_for_url(f"**/orders/{order.id}")
    page.get_by_test_id("create-build").click()
    page.wait_for_url("**/builds/*")
    expect(page.get_by_test_id("build-status")).to_have_text("Pending")

    page.get_by_test_id("move-in_progress").click()
    expect(page.get_by_test_id("build-status")).to_have_text("In progress")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_test_id("assignee")).to_contain_text("Test Operator")

    # the photos are taken on a phone (390 px, touch) from the QR code's page, or its link
    expect(page.get_by_test_id("phone-qr")).to_be_visible()
    phone_url = page.get_by_test_id("phone-link").get_attribute("href")
    expect(page.get_by_test_id("phone-url")).to_have_text(phone_url or "")
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
    run_row = page.get_by_test_id("test-run").filter(has_text="3DMark Time Spy")
    expect(run_row).to_contain_text("Benchmark")
    run_row.get_by_role("combobox", name="Test result").click()
    page.get_by_role("option", name="Running", exact=True).click()
    expect(page.get_by_text("Test run marked running.")).to_be_visible()
    run_row.get_by_role("combobox", name="Test result").click()
    page.get_by_role("option", name="Passed", exact=True).click()
    expect(page.get_by_text("Test run marked passed.")).to_be_visible()
    # its screenshot: uploaded, viewed larger, removed, uploaded again
    run_row.get_by_test_id("run-shot-upload").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Screenshot for the benchmark test run")
    dialog.locator("#run_shot_upload input[type=file]").set_input_files(_photo(tmp_path / "timespy.jpg", (20, 20, 20)))
    dialog.get_by_test_id("run-shot-save").click()
    expect(page.get_by_text("Screenshot saved for the benchmark test run.")).to_be_visible()
    expect(run_row.get_by_test_id("run-shot")).to_be_visible()
    run_row.get_by_test_id("run-shot").click()
    expect(page.get_by_role("dialog")).to_contain_text("Screenshot: Benchmark")
    shot(page, "22-test-run-screenshot")
    page.get_by_role("dialog").get_by_role("button", name="Close").click()
    run_row.get_by_role("button", name="Remove").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Screenshot removed.")).to_be_visible()
    expect(run_row.get_by_test_id("run-shot")).to_have_count(0)
    run_row.get_by_test_id("run-shot-upload").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("#run_shot_upload input[type=file]").set_input_files(_photo(tmp_path / "timespy2.jpg", (20, 90, 20)))
    dialog.get_by_test_id("run-shot-save").click()
    expect(run_row.get_by_test_id("run-shot")).to_be_visible()
    run_row.screenshot(path=str(ARTIFACTS / "24-test-run-row.png"))
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
    expect(page.get_by_test_id("build-status")).to_have_text("Testing")
    page.get_by_test_id("move-completed").click()
    expect(page.get_by_test_id("build-status")).to_have_text("Completed")
    expect(page.get_by_test_id("packaging-missing")).to_have_count(0)  # completed, photos, QA passed
    expect(page.get_by_test_id("booklet-status")).to_have_text("Ready", timeout=90_000)
    # words, not identifiers; dates in the shop's format
    text = page.get_by_test_id("workbench").inner_text()
    assert not re.search(r"\b[a-z]+(?:[A-Z][a-z]*)+Photo\b|\b(in_progress|stress_test|parts_received)\b", text)
    assert re.search(r"Started \d{1,2} \w{3,4} \d{4}, \d{2}:\d{2}", text)  # "Started 29 Nov 2026, 14:05"
    expect(page.get_by_test_id("feed-entry").filter(has_text="OS installed").first).to_be_visible()
    shot(page, "21-workbench-completed")
    for width in (768, 390):
        page.set_viewport_size({"width": width, "height": 900})
        expect(page.get_by_test_id("workbench")).to_be_visible()
        wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert wide <= 1, f"the workbench scrolls sideways by {wide}px at {width}px"
        shot(page, f"23-workbench-{width}")
    page.set_viewport_size({"width": 1440, "height": 900})
    for testid in ("open-quick-start", "open-dossier"):
        href = page.get_by_test_id(testid).get_attribute("href")
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        r = httpx.get(href, cookies=cookies)
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        (ARTIFACTS / f"{testid}.pdf").write_bytes(r.content)
        assert httpx.get(href).status_code == 401  # not without a session
    assert get_settings().api_url in href
    dossier = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=(ARTIFACTS / "open-dossier.pdf").read_bytes(),
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert "Screenshot" in dossier and "Benchmark" in dossier and "3DMark Time Spy" in dossier
