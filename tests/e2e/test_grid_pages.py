"""Staff /grid end to end, in a shop of its own with Gridfinity on: the
generator quotes as a size is typed and shows the plates in 3D, refuses a
drawer over the shop's maximum under the field, and generates a small
plate set that the worker really generates and slices while the table
follows it to Completed; its dialog offers the plate's STL, which
downloads. A job that failed at slicing shows the step and the reason,
and Retry runs it to Completed. Settings › Gridfinity saves new prices and
the generator's quote follows them; an operator reads the card."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
from playwright.sync_api import Locator, Page, expect

from app.grid import service
from app.grid.geometry.spec import GridOptions, Magnets
from app.grid.service import pipeline
from app.platform.db import tenant_session
from tests import factories
from tests.e2e.conftest import shot, sign_in
from tests.e2e.test_grid_storefront import glb_pieces, wait_for_src
from tests.e2e.test_printfarm import _principal

LOADED = "() => { const el = document.querySelector('model-viewer'); return !!el && el.loaded === true; }"
SLICED = 300_000  # ms: generation and a real slicer run in the worker on a busy two-core machine


@pytest.fixture(scope="module")
def shop(app_url):
    tenant = factories.make_tenant("Grid Shop")
    admin = factories.make_user(tenant, "admin")
    actor = _principal(tenant, admin.username)
    with tenant_session(tenant.id) as s:
        st = service.grid_settings(s)
        service.save_grid_settings(
            s,
            dataclasses.replace(
                st,
                enabled=True,
                base_price=Decimal("5.00"),
                unit_price=Decimal("0.75"),
                currency="EUR",
                max_dimension_mm=1000.0,
                print_settings={"printer": "bambu-a1"},
            ),
            actor=actor,
        )
        s.commit()
    return {"tenant": tenant, "admin": admin, "actor": actor}


def _toast(page: Page, text: str | re.Pattern) -> None:
    expect(page.locator("[data-sonner-toast]").filter(has_text=text).first).to_be_visible()


def _quote(tenant_id, width: float, depth: float, magnets: str = "none") -> service.Quote:
    with tenant_session(tenant_id) as s:
        options = GridOptions(drawer_width_mm=width, drawer_depth_mm=depth, magnets=cast(Magnets, magnets))
        return service.quote_for(s, options)


def _money(amount: Decimal) -> re.Pattern:
    """The amount as the page writes it, in any locale's separators ("€8.00", "€ 8,00")."""
    whole, cents = f"{amount:.2f}".split(".")
    return re.compile(rf"{whole}[.,]{cents}")


def _type(page: Page, width: str, depth: str) -> None:
    page.get_by_test_id("gen-width").fill(width)
    page.get_by_test_id("gen-depth").fill(depth)


def _row(page: Page, drawer: str) -> Locator:
    return page.get_by_test_id("jobs-table").get_by_test_id("job-row").filter(has_text=drawer)


def test_generate_a_plate_set_see_it_complete_and_download_its_stl(page: Page, shop):
    tenant = shop["tenant"]
    sign_in(page, shop["admin"].username, shop=tenant.slug, next_path="/grid")
    page.wait_for_url("**/grid")
    expect(page.get_by_test_id("generator")).to_be_visible()
    expect(page.get_by_test_id("grid-off")).to_have_count(0)

    # a drawer over the shop's maximum: the error is under the field, nothing to generate
    _type(page, "1200", "84")
    expect(page.get_by_test_id("gen-error-width")).to_contain_text("maximum of 1,000 mm")
    expect(page.get_by_test_id("generate")).to_be_disabled()

    # the quote as the size is typed, and the plates in 3D (a cross-origin GLB with the session cookie):
    # a drawer wider than the bed is two plates, in the quote and in the 3D view alike
    _type(page, "300", "88")
    wide = _quote(tenant.id, 300, 88)
    assert wide.segments == 2
    expect(page.get_by_test_id("quote-plates")).to_have_text("2")
    expect(page.get_by_test_id("gen-error-width")).to_have_count(0)
    src = wait_for_src(page, "/api/v1/grid/preview.glb?width=300&depth=88&")
    page.wait_for_function(LOADED, timeout=90_000)
    assert glb_pieces(page.request.get(src).body()) == 2
    page.wait_for_timeout(1000)
    shot(page, "grid-staff-generator")

    _type(page, "130", "88")
    q = _quote(tenant.id, 130, 88)
    expect(page.get_by_test_id("quote-plates")).to_have_text(str(q.segments))
    expect(page.get_by_test_id("quote-price")).to_have_text(_money(q.price))

    # generate: a staff job the worker generates and slices; the table follows it live
    page.get_by_test_id("generate").click()
    _toast(page, "Generating 130 × 88 mm")
    row = _row(page, "130 × 88 mm")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "COMPLETED", timeout=SLICED)
    expect(row.get_by_test_id("job-status")).to_have_text("Completed")
    expect(row.get_by_test_id("job-plates")).to_contain_text(str(q.segments))
    last = page.get_by_test_id("last-job")  # the generator follows its own job too
    expect(last.get_by_test_id("job-status")).to_have_text("Completed")
    row.scroll_into_view_if_needed()
    shot(page, "grid-staff-jobs")

    # its dialog: the plates with their files; the STL downloads
    last.get_by_test_id("last-job-files").click()
    dialog = page.get_by_test_id("job-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("segment-row")).to_have_count(q.segments)
    with page.expect_download() as download:
        dialog.get_by_test_id("segment-stl").first.click()
    assert download.value.suggested_filename.endswith(".stl")
    data = Path(download.value.path()).read_bytes()
    assert len(data) > 84  # more than a binary STL's header: triangles
    page.wait_for_function(LOADED, timeout=90_000)  # the generated pieces in 3D
    page.wait_for_timeout(1000)
    shot(page, "grid-staff-job-dialog")
    dialog.get_by_role("tab", name="Picture").click()
    expect(dialog.get_by_test_id("job-png")).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=job-png]'); return !!i && i.naturalWidth > 0; }",
        timeout=60_000,
    )
    shot(page, "grid-staff-job-picture")


def _failed_job(shop: dict, width: float, depth: float) -> str:
    """A staff job that failed at slicing (made through the pipeline's own steps, not run)."""
    tenant = shop["tenant"]
    with tenant_session(tenant.id) as s:
        settings = service.grid_settings(s)
        profile = settings.profile()
        options = pipeline.on_bed(GridOptions(drawer_width_mm=width, drawer_depth_mm=depth), profile)
        job = pipeline.new_job(s, options, profile, origin="staff", settings=settings, created_by="e2e")
        s.commit()
        job_id = job.id
    pipeline.fail(
        tenant.id, job_id, service.SLICING, "the slicer stopped: no profile for this printer", schedule_retry=False
    )
    return str(job_id)


def test_a_failed_job_shows_its_step_and_retry_completes_it(page: Page, shop):
    tenant = shop["tenant"]
    _failed_job(shop, 172, 88)
    sign_in(page, shop["admin"].username, shop=tenant.slug, next_path="/grid?status=failed")
    page.wait_for_url("**/grid?status=failed")
    row = _row(page, "172 × 88 mm")
    expect(row).to_have_attribute("data-status", "FAILED")
    expect(row.get_by_test_id("job-error")).to_contain_text("Failed at slicing")
    expect(row.get_by_test_id("job-error")).to_contain_text("no profile for this printer")
    row.scroll_into_view_if_needed()
    shot(page, "grid-staff-failed")

    page.goto("/grid")
    row = _row(page, "172 × 88 mm")
    row.get_by_test_id("job-retry").click()
    _toast(page, "Retrying 172 × 88 mm")
    expect(row).to_have_attribute("data-status", "COMPLETED", timeout=SLICED)
    expect(row.get_by_test_id("job-retry")).to_have_count(0)
    row.get_by_test_id("job-files").click()
    dialog = page.get_by_test_id("job-dialog")
    expect(dialog.get_by_test_id("segment-row").first.get_by_test_id("segment-gcode")).to_be_visible()


def test_settings_save_prices_and_the_quote_follows(page: Page, shop):
    tenant = shop["tenant"]
    sign_in(page, shop["admin"].username, shop=tenant.slug, next_path="/settings")
    page.wait_for_url("**/settings")
    card = page.get_by_test_id("grid-settings")
    expect(card).to_be_visible()
    expect(card.get_by_test_id("grid-enabled")).to_have_attribute("data-state", "checked")

    # a bad amount is refused under its field
    card.get_by_test_id("grid-base_price").fill("-3")
    card.get_by_test_id("grid-save").click()
    expect(card.get_by_test_id("grid-error-basePrice")).to_be_visible()

    card.get_by_test_id("grid-base_price").fill("9.50")
    card.get_by_test_id("grid-unit_price").fill("1.25")
    card.scroll_into_view_if_needed()
    shot(page, "grid-settings-card")
    card.get_by_test_id("grid-save").click()
    _toast(page, "Gridfinity settings saved")
    with tenant_session(tenant.id) as s:
        st = service.grid_settings(s)
    assert (st.base_price, st.unit_price) == (Decimal("9.50"), Decimal("1.25"))

    page.goto("/grid")
    _type(page, "210", "168")
    q = _quote(tenant.id, 210, 168)
    assert q.price > Decimal("9.50")  # the new base price and more
    expect(page.get_by_test_id("quote-price")).to_have_text(_money(q.price))


def test_a_drawer_is_saved_as_a_preset_started_from_and_deleted(page: Page, shop):
    tenant = shop["tenant"]
    sign_in(page, shop["admin"].username, shop=tenant.slug, next_path="/grid")
    page.wait_for_url("**/grid")
    expect(page.get_by_test_id("generator")).to_be_visible()

    _type(page, "371", "254")
    page.get_by_test_id("gen-magnets").get_by_role("radio", name="Press-fit").click()
    expect(page.get_by_test_id("quote-plates")).to_be_visible()
    page.get_by_test_id("presets-open").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("preset-row").first).to_be_visible()  # the system's presets
    dialog.get_by_test_id("preset-name").fill("Bench drawer K7")
    dialog.get_by_test_id("preset-save").click()
    _toast(page, "Preset “Bench drawer K7” saved")
    ours = dialog.get_by_test_id("preset-row").filter(has_text="Bench drawer K7")
    expect(ours).to_contain_text("371 × 254 mm · Press-fit magnets")
    expect(ours).to_contain_text("Ours, private")
    # the same name again is refused on the field
    dialog.get_by_test_id("preset-name").fill("Bench drawer K7")
    dialog.get_by_test_id("preset-save").click()
    expect(dialog.get_by_test_id("preset-error")).to_contain_text("already has a preset called")
    shot(page, "grid-presets")
    dialog.get_by_role("button", name="Close").click()

    # another drawer, then back to the preset: the form takes its size and magnets
    _type(page, "130", "88")
    page.get_by_test_id("gen-preset").click()
    page.get_by_role("option", name="Bench drawer K7").click()
    expect(page.get_by_test_id("gen-width")).to_have_value("371")
    expect(page.get_by_test_id("gen-depth")).to_have_value("254")

    # deleting it asks first
    page.get_by_test_id("presets-open").click()
    ours.get_by_test_id("preset-delete").click()
    page.get_by_test_id("preset-delete-confirm").click()
    _toast(page, "Bench drawer K7 deleted.")
    expect(dialog.get_by_test_id("preset-row").filter(has_text="Bench drawer K7")).to_have_count(0)
    with tenant_session(tenant.id) as s:
        assert "Bench drawer K7" not in [r.name for r in service.list_presets(s)]


def test_an_operator_reads_the_settings_and_generates_nothing_without_write(browser, app_url, shop):
    tenant = shop["tenant"]
    operator = factories.make_user(tenant, "operator")
    viewer = factories.make_user(tenant, "viewer")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=app_url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, operator.username, shop=tenant.slug, next_path="/settings")
        page.wait_for_url("**/settings")
        card = page.get_by_test_id("grid-settings")
        expect(card.get_by_test_id("grid-words")).to_contain_text("A baseplate costs")
        expect(card.get_by_test_id("grid-save")).to_have_count(0)
        page.context.clear_cookies()
        sign_in(page, viewer.username, shop=tenant.slug, next_path="/grid")
        page.wait_for_url("**/grid")
        expect(page.get_by_test_id("generator")).to_be_visible()
        _type(page, "130", "88")
        expect(page.get_by_test_id("quote-plates")).to_be_visible()
        expect(page.get_by_test_id("generate")).to_have_count(0)
        expect(page.get_by_test_id("job-retry")).to_have_count(0)
    finally:
        context.close()


def test_phone_width(browser, app_url, shop):
    tenant = shop["tenant"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, base_url=app_url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, shop["admin"].username, shop=tenant.slug, next_path="/grid")
        page.wait_for_url("**/grid")
        _type(page, "130", "88")
        expect(page.get_by_test_id("quote-plates")).to_be_visible()
        page.wait_for_function(LOADED, timeout=90_000)
        page.wait_for_timeout(1000)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        shot(page, "grid-staff-390")
    finally:
        context.close()
