"""The staff parts catalog: counts, a catalog import with live progress, a
price-list upload with a bad row reported while the good row is applied, and
prices, dates and statuses in the shop's words at 1440, 768 and 390 px."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect
from sqlmodel import select

from app.catalog import demo, importer, service
from app.catalog.models import CatalogPart, PartOffer
from app.platform.db import tenant_session
from app.platform.formatting import for_shop
from tests import factories
from tests.e2e.conftest import shot, sign_in


def test_admin_imports_catalog_and_uploads_a_price_list(page):
    tenant = factories.make_tenant("Catalog Shop")
    admin = factories.make_user(tenant, "admin")
    factories.make_platform_operator(tenant, admin)  # the shared catalog's re-import is platform work
    demo.ensure_catalog_and_demo_prices(tenant.id)
    total_parts = sum(service.slot_counts().values())
    with tenant_session(tenant.id) as s:
        _offer, part = s.exec(
            select(PartOffer, CatalogPart)
            .join(CatalogPart, CatalogPart.id == PartOffer.part_id)
            .where(PartOffer.slot == "gpu")
            .order_by(CatalogPart.name)
        ).first()
    before = importer.latest_run()

    sign_in(page, admin.username, shop=tenant.slug, next_path="/catalog")
    page.wait_for_url("**/catalog")
    expect(page.get_by_test_id("catalog-total")).to_have_text(f"{total_parts} parts")
    expect(page.get_by_test_id("demo-prices-badge")).to_be_visible()
    expect(page.get_by_test_id("opendb-credit")).to_contain_text("BuildCores OpenDB (ODC-By 1.0)")

    # the catalog import runs as a job; the page follows it live
    status = page.get_by_test_id("catalog-import-status")
    page.get_by_test_id("catalog-import-start").click()
    expect(status).to_have_text(re.compile("Queued|Running"))
    expect(status).to_have_text("Completed", timeout=90_000)  # no reload: pushed by the live watcher
    latest = importer.latest_run()
    assert latest.id != (before.id if before else None) and latest.status == "COMPLETED"
    assert latest.processed == latest.total == total_parts
    expect(page.get_by_test_id("catalog-import-counts")).to_contain_text(f"{latest.unchanged} unchanged")

    # a price list: one good row (a new price for a demo offer), one unknown part
    unknown = uuid.uuid4()
    csv_text = f"opendb_id;price;stock\n{part.id};777,77;7\n{unknown};10;1\n"
    page.get_by_test_id("price-upload").locator("input[type=file]").set_input_files(
        {"name": "prices.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}
    )
    expect(page.get_by_test_id("price-upload-selected")).to_have_text("prices.csv")
    page.get_by_test_id("price-upload-submit").click()
    errors = page.get_by_test_id("price-upload-errors")
    expect(errors).to_contain_text(str(unknown))
    expect(errors).to_contain_text("unknown part")
    expect(page.get_by_test_id("price-upload-result")).to_contain_text("1 changed")

    page.get_by_test_id("offer-search").fill(str(part.id))
    expect(page.get_by_test_id("offer-total")).to_have_text("1 offer")
    row = page.get_by_test_id("offer-row")
    fmt = for_shop(tenant)
    expect(row.get_by_test_id("offer-price")).to_have_text(fmt.money(777.77, "EUR"))  # "€777.77", the shop's way
    expect(row).to_contain_text(part.name)
    expect(row).not_to_contain_text(str(part.id))  # names, not ids
    expect(row.get_by_test_id("offer-status")).to_have_text("For sale")
    expect(row).not_to_contain_text("Demo price")  # a real price now
    with tenant_session(tenant.id) as s:
        saved = s.exec(select(PartOffer).where(PartOffer.part_id == part.id)).one()
    assert str(saved.price) == "777.77" and saved.stock == 7 and not saved.is_demo
    expect(row.get_by_test_id("offer-updated")).to_have_text(fmt.when(saved.updated_at))
    page.set_viewport_size({"width": 1440, "height": 1250})  # the whole page in the screenshot
    shot(page, "catalog-1440")

    # a single edit in the dialog
    row.get_by_role("button", name="Edit offer").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=price]").fill("799")
    dialog.locator("input[name=stock]").fill("2")
    dialog.get_by_test_id("offer-save").click()
    expect(row.get_by_test_id("offer-price")).to_have_text(fmt.money(799, "EUR"))
    expect(dialog).to_have_count(0)

    # narrower screens: the filters wrap, and the table scrolls inside its card, not the page
    page.get_by_test_id("offer-search").fill("")
    expect(page.get_by_test_id("offer-row").first).to_be_visible()
    for width, height in ((768, 1024), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        card = page.get_by_test_id("offers-card")
        card.scroll_into_view_if_needed()
        box = card.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
        shot(page, f"catalog-{width}")
    scrolls_in_place = page.get_by_test_id("offers-card").evaluate(
        """card => [card, ...card.querySelectorAll('*')].some(el =>
            el.scrollWidth > el.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))"""
    )
    assert scrolls_in_place  # the wide table scrolls sideways inside its card
