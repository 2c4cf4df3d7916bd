"""The staff parts catalog: counts, a catalog import with live progress, and a
price-list upload with a bad row reported while the good row is applied."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect
from sqlmodel import select

from app.catalog import demo, importer, service
from app.catalog.models import CatalogPart, PartOffer
from app.platform.db import tenant_session
from tests import factories
from tests.e2e.conftest import shot, sign_in


def test_admin_imports_catalog_and_uploads_a_price_list(page):
    tenant = factories.make_tenant("Catalog Shop")
    admin = factories.make_user(tenant, "admin")
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
    expect(status).to_have_text(re.compile("QUEUED|RUNNING"))
    expect(status).to_have_text("COMPLETED", timeout=90_000)  # no reload: pushed by the live watcher
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
    expect(page.get_by_test_id("offer-total")).to_have_text("1 offers")
    row = page.get_by_test_id("offer-row")
    expect(row).to_contain_text("EUR 777.77")
    expect(row).to_contain_text(part.name)
    expect(row).not_to_contain_text("demo price")  # a real price now
    page.set_viewport_size({"width": 1280, "height": 1250})  # the whole page in the screenshot
    shot(page, "catalog")
    with tenant_session(tenant.id) as s:
        saved = s.exec(select(PartOffer).where(PartOffer.part_id == part.id)).one()
    assert str(saved.price) == "777.77" and saved.stock == 7 and not saved.is_demo

    # a single edit in the dialog
    row.get_by_role("button", name="Edit offer").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=price]").fill("799")
    dialog.locator("input[name=stock]").fill("2")
    dialog.get_by_test_id("offer-save").click()
    expect(row).to_contain_text("EUR 799.00")
    expect(dialog).to_have_count(0)
