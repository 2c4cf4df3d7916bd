"""A customer follows their orders and their PC's build: My orders (their own
orders only, tracking, the build's progress), the build page the booklet's
QR code opens (parts, photos, test results, timeline, booklets), a link that
is not valid, the empty state, ordering a saved build from My builds at the
total its dialog shows, and all of it at 1440, 768 and 390 px."""

from __future__ import annotations

import io
import re
import uuid
from decimal import Decimal

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from app.builds import service as builds
from app.builds.models import Build
from app.customers import links
from app.customers import service as customers
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform import storage
from app.platform.db import tenant_session
from app.platform.models import Attachment
from tests import factories
from tests.e2e.conftest import ARTIFACTS, shot

PASSWORD = "a-long-customer-password"
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1440, "height": 900}


def _jpeg(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1200, 900), colour).save(buf, "JPEG")
    return buf.getvalue()


def _order(s, email: str, customer_id=None, *, source="manual", total="1499.00", **extra):
    order, _ = orders.create_order(
        s,
        OrderInput(
            source=source,
            lines=[
                LineInput(sku="CPU-7800X3D", title="AMD Ryzen 7 7800X3D", quantity=1, unit_price=Decimal("389")),
                LineInput(sku="GPU-4070S", title="GeForce RTX 4070 Super", quantity=1, unit_price=Decimal("619")),
                LineInput(
                    sku="RAM-32",
                    title="Corsair Vengeance DDR5",
                    variant_title="2 × 16 GB",
                    quantity=2,
                    unit_price=Decimal("110"),
                ),
            ],
            customer_name="Grace Hopper",
            customer_email=email,
            ship_country_code="NL",
            subtotal=Decimal(total),
            total=Decimal(total),
        ),
    )
    order.customer_id = customer_id
    for k, v in extra.items():
        setattr(order, k, v)
    s.add(order)
    s.flush()
    return order


@pytest.fixture(scope="module")
def customer(app_url):
    return customer_with_a_pc()


def customer_with_a_pc() -> dict:
    """In the storefront's shop: Grace with a PC in testing (photos, tests,
    a booklet) and a shipped order; Linus with an order of his own."""
    tenant = factories.default_tenant()
    actor = factories.staff_principal(tenant)
    tag = uuid.uuid4().hex[:6]
    email = f"grace-{tag}@example.com"
    with tenant_session(tenant.id) as s:
        grace = customers.sign_up(s, email=email, name="Grace Hopper", password=PASSWORD)
        linus = customers.sign_up(s, email=f"linus-{tag}@example.com", name="Linus", password=PASSWORD)
        pc = _order(s, email, grace.id, source="builder")
        shipped = _order(
            s,
            email,
            grace.id,
            total="89.90",
            fulfillment_status="shipped",
            tracking_number=f"3S{tag.upper()}",
            tracking_url=f"https://tracking.example/3S{tag}",
            tracking_carrier="PostNL",
        )
        other = _order(s, f"linus-{tag}@example.com", linus.id, total="42.00")
        s.commit()
        build = builds.create_build(s, pc.id, actor=actor)
        s.commit()
        bid = build.id
        for slot, colour in (("coverPhoto", (60, 70, 200)), ("mboIoPhoto", (200, 80, 60)), ("psuPhoto", (40, 160, 90))):
            builds.store_photo(s, bid, slot, _jpeg(colour), filename=f"{slot}.jpg", actor=actor)
        s.commit()
        builds.change_status(s, bid, "in_progress", actor=actor)
        builds.add_step(s, bid, "assembly", "Cables tied and routed", actor=actor)
        builds.update_qa(
            s,
            bid,
            builds.QAUpdate(
                temperatures={"cpuIdle": 36, "cpuLoad": 81, "gpuIdle": 33, "gpuLoad": 72, "ambient": 21},
                stress_tests=[{"tool": "OCCT", "durationMinutes": 30, "result": "passed", "maxTemp": 84}],
            ),
            actor=actor,
        )
        builds.add_benchmark(s, bid, name="3DMark Time Spy", score=18250, unit="points", actor=actor)
        builds.add_test_run(s, bid, type="memory_test", status="passed", notes="MemTest86, 4 passes", actor=actor)
        builds.change_status(s, bid, "testing", actor=actor)
        key = f"builds/booklets/{bid}/Quick-Start-Guide-e2e.pdf"
        storage.for_tenant(tenant.id).put(key, b"%PDF-1.7 e2e booklet", "application/pdf")
        att = Attachment(
            tenant_id=tenant.id,
            kind="booklet",
            key=key,
            filename=f"Quick-Start-Guide-{pc.number}.pdf",
            content_type="application/pdf",
            size=20,
        )
        s.add(att)
        b = s.get_one(Build, bid)
        b.quick_start_booklet_id = att.id
        s.add(b)
        s.commit()
        return {
            "email": email,
            "pc": pc.number,
            "shipped": shipped.number,
            "other": other.number,
            "tracking_url": f"https://tracking.example/3S{tag}",
            "link": links.build_page_path(tenant.id, bid),
            "tenant": tenant,
        }


def _sign_in(page: Page, email: str, next_path: str = "/account") -> None:
    page.goto(f"/account/login?next={next_path}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_test_id("account-submit").click()
    page.wait_for_url(f"**{next_path}")


def _full(page: Page, name: str) -> None:
    """The whole page, top to bottom (the build page is long on a phone)."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _fits(page: Page, width: int) -> None:
    """Nothing wider than the screen, and no step's words spill into the next step."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(
        "Array.from(document.querySelectorAll('[data-testid=progress-step]'))"
        ".every(e => e.scrollWidth <= e.clientWidth + 1)"
    )


def test_my_orders_and_the_build_page(browser, app_url, customer):
    ctx = browser.new_context(viewport=DESKTOP, base_url=app_url)
    try:
        page = ctx.new_page()
        _sign_in(page, customer["email"], "/account/builds")
        page.get_by_test_id("account-tab-orders").click()  # My builds → My orders
        page.wait_for_url("**/account")
        cards = page.get_by_test_id("customer-order")
        expect(cards).to_have_count(2)
        expect(page.get_by_text(customer["other"])).to_have_count(0)  # Linus's order is his alone

        pc = cards.filter(has_text=customer["pc"])
        expect(pc.get_by_test_id("order-total")).to_have_text("€1,499.00")
        expect(pc.get_by_test_id("order-status")).to_have_text("Processing")
        steps = pc.get_by_test_id("progress-step")
        expect(steps).to_have_count(5)
        expect(steps.nth(0)).to_have_attribute("data-state", "done")
        expect(steps.nth(2)).to_have_attribute("data-state", "current")
        expect(steps.nth(2)).to_contain_text("Testing")

        sent = cards.filter(has_text=customer["shipped"])
        expect(sent.get_by_test_id("order-total")).to_have_text("€89.90")
        expect(sent).to_contain_text("Shipped")
        expect(sent.get_by_test_id("order-track")).to_have_attribute("href", customer["tracking_url"])
        expect(sent.get_by_test_id("order-progress")).to_have_count(0)  # not a PC: nothing to follow
        for raw in ("PROCESSING", "in_progress", "unfulfilled"):
            expect(page.get_by_text(raw, exact=True)).to_have_count(0)
        shot(page, "account-orders-1440")

        pc.get_by_test_id("order-build-link").click()
        page.wait_for_url(f"**{customer['link']}")
        expect(page.get_by_test_id("build-order")).to_contain_text(customer["pc"])
        expect(page.get_by_test_id("build-status")).to_have_text("Testing")
        expect(page.get_by_test_id("build-part")).to_have_count(3)
        expect(page.get_by_test_id("build-parts")).to_contain_text("2 × 16 GB")
        photos = page.get_by_test_id("build-photo")
        expect(photos).to_have_count(3)
        expect(photos.first).to_contain_text("Cover")
        expect(page.get_by_test_id("build-photos")).to_contain_text("Motherboard I/O")
        page.wait_for_function(
            "Array.from(document.querySelectorAll('[data-testid=build-photo] img')).every(i => i.naturalWidth > 0)"
        )
        results = page.get_by_test_id("build-test-results")
        expect(results.get_by_test_id("test-type")).to_have_text("Memory test")
        expect(results).to_contain_text("3DMark Time Spy")
        expect(results).to_contain_text("18,250 points")
        expect(results).to_contain_text("OCCT")
        expect(results).to_contain_text("81 °C")
        expect(page.get_by_test_id("build-timeline")).to_contain_text("Cables tied and routed")
        expect(page.get_by_test_id("build-timeline")).to_contain_text("Build started")
        booklet = page.get_by_test_id("build-booklet")
        expect(booklet).to_contain_text("Quick Start Guide")
        href = booklet.get_attribute("href")
        assert href
        pdf = page.request.get(href)
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        for raw in ("memory_test", "mboIoPhoto", "coverPhoto", "testing"):
            expect(page.get_by_text(raw, exact=True)).to_have_count(0)
        page.wait_for_timeout(300)
        _full(page, "customer-build-1440")

        page.set_viewport_size(TABLET)
        page.wait_for_timeout(300)
        _fits(page, TABLET["width"])
        _full(page, "customer-build-768")
        page.get_by_test_id("customer-menu").click()  # back to My orders from the header
        page.get_by_test_id("customer-my-orders").click()
        page.wait_for_url("**/account")
        expect(page.get_by_test_id("customer-order")).to_have_count(2)
        _fits(page, TABLET["width"])
        shot(page, "account-orders-768")
    finally:
        ctx.close()


def test_on_a_phone_the_qr_code_opens_the_build_without_signing_in(browser, app_url, customer):
    ctx = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, base_url=app_url)
    try:
        page = ctx.new_page()
        page.goto(customer["link"])  # as the booklet's QR code does: nobody signed in
        expect(page.get_by_test_id("build-order")).to_contain_text(customer["pc"])
        expect(page.get_by_test_id("build-photo")).to_have_count(3)
        expect(page.get_by_test_id("build-booklet")).to_be_visible()
        page.wait_for_timeout(300)
        _fits(page, PHONE["width"])
        box = page.get_by_test_id("build-progress").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        _full(page, "customer-build-390")

        _sign_in(page, customer["email"])
        expect(page.get_by_test_id("customer-order")).to_have_count(2)
        page.wait_for_timeout(300)
        _fits(page, PHONE["width"])
        _full(page, "account-orders-390")
    finally:
        ctx.close()


def test_a_link_that_is_not_valid_says_so(page, customer):
    token = customer["link"].rsplit("/", 1)[-1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for path in ("/my-build/not-a-real-link", f"/my-build/{forged}"):
        page.goto(path)
        expect(page.get_by_test_id("build-link-invalid")).to_be_visible()
        expect(page.get_by_text("This link is not valid")).to_be_visible()
        expect(page.get_by_test_id("customer-build")).to_have_count(0)
    shot(page, "customer-build-invalid")


def test_a_new_customer_has_no_orders_yet_and_is_sent_to_the_builder(page, customer):
    tenant = customer["tenant"]
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    with tenant_session(tenant.id) as s:
        customers.sign_up(s, email=email, name="Newcomer", password=PASSWORD)
        s.commit()
    page.goto("/account")
    page.wait_for_url("**/account/login**")  # not signed in: sign in first
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_test_id("account-submit").click()
    page.wait_for_url("**/account")
    empty = page.get_by_test_id("orders-empty")
    expect(empty).to_contain_text("No orders yet")
    shot(page, "account-orders-empty")
    page.get_by_test_id("account-tab-builds").click()
    page.wait_for_url("**/account/builds")
    page.get_by_test_id("account-tab-orders").click()
    page.wait_for_url("**/account")
    expect(page.get_by_test_id("orders-empty")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the page's data is in: the empty state stays put
    page.get_by_test_id("orders-empty").get_by_role("link", name="Build a PC").click()
    page.wait_for_url("**/build")


# --- My builds: ordering a saved build at the total its dialog shows ------------------------------

EARLIER = {
    "name": "Ada Lovelace",
    "street": "Vrijthof",
    "house_number": "7",
    "postal_code": "6211 LD",
    "city": "Maastricht",
    "country_code": "NL",
}


def _cpu_on_sale(tenant_id) -> tuple[str, Decimal]:
    """A CPU the shop sells, and its price (a lone CPU always fits: nothing to acknowledge)."""
    from sqlmodel import col, select

    from app.catalog.models import CatalogPart, PartOffer

    with tenant_session(tenant_id) as s:
        offer = s.exec(
            select(PartOffer)
            .join(CatalogPart, col(CatalogPart.id) == PartOffer.part_id)
            .where(col(PartOffer.active), CatalogPart.slot == "cpu")
            .order_by(col(CatalogPart.name))
        ).first()
    assert offer is not None, "the shop sells no CPU"
    return str(offer.part_id), Decimal(offer.price)


def _reprice(tenant_id, part_id: str, price: Decimal) -> None:
    """Change what the shop charges for a part (as a price list import would)."""
    from sqlmodel import select

    from app.catalog.models import PartOffer
    from app.catalog.versions import bump_offers_version

    with tenant_session(tenant_id) as s:
        offer = s.exec(select(PartOffer).where(PartOffer.part_id == uuid.UUID(part_id))).one()
        offer.price = price
        s.add(offer)
        s.commit()
    bump_offers_version(tenant_id)


@pytest.fixture(scope="module")
def builder_customer(app_url):
    """Ada, who ordered once before (to Maastricht) and has "Studio PC" saved."""
    from app.builder import service as builder
    from app.catalog.demo import ensure_catalog_and_demo_prices

    tenant = factories.default_tenant()
    ensure_catalog_and_demo_prices(tenant.id)
    cpu, price = _cpu_on_sale(tenant.id)
    email = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    with tenant_session(tenant.id) as s:
        ada = customers.sign_up(s, email=email, name="Ada Lovelace", password=PASSWORD)
        build = builder.save_build(s, ada, {"cpu": [cpu]}, "Studio PC")
        builder.order_build(s, ada, build.id, EARLIER)
        s.commit()
        customer_id = ada.id
    return {"tenant": tenant, "email": email, "cpu": cpu, "price": price, "customer_id": customer_id}


def _open_order_dialog(page: Page, email: str):
    _sign_in(page, email, "/account/builds")
    card = page.get_by_test_id("saved-build").filter(has_text="Studio PC")
    expect(card).to_have_count(1)
    card.get_by_test_id("order-build").click()
    dialog = page.get_by_test_id("order-dialog")
    expect(dialog).to_be_visible()
    page.wait_for_timeout(300)  # the dialog's opening animation
    return dialog


def _expect_totals(dialog, quote, fmt) -> None:
    expect(dialog.get_by_test_id("order-parts")).to_have_text(fmt.money(quote.parts, quote.currency))
    expect(dialog.get_by_test_id("order-assembly")).to_have_text(fmt.money(quote.assembly, quote.currency))
    expect(dialog.get_by_test_id("order-shipping")).to_have_text(fmt.money(quote.shipping, quote.currency))
    expect(dialog.get_by_test_id("order-total")).to_have_text(fmt.money(quote.total, quote.currency))


def test_my_builds_order_shows_the_totals_and_charges_exactly_them(browser, app_url, builder_customer):
    from sqlmodel import col, select

    from app.builder import service as builder
    from app.orders.models import Order
    from app.platform.formatting import of_tenant

    tenant, cpu, price = builder_customer["tenant"], builder_customer["cpu"], builder_customer["price"]
    fmt = of_tenant(tenant.id)

    def quote():
        with tenant_session(tenant.id) as s:
            return builder.quote_slots(s, {"cpu": [cpu]})

    def orders_of_ada() -> list[Order]:
        with tenant_session(tenant.id) as s:
            return list(
                s.exec(
                    select(Order)
                    .where(Order.customer_id == builder_customer["customer_id"])
                    .order_by(col(Order.placed_at))
                )
            )

    ctx = browser.new_context(viewport=DESKTOP, base_url=app_url)
    try:
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        dialog = _open_order_dialog(page, builder_customer["email"])

        # parts, assembly and testing, shipping and the total, in the shop's format
        shown = quote()
        _expect_totals(dialog, shown, fmt)
        expect(dialog.get_by_test_id("place-order")).to_contain_text(fmt.money(shown.total, shown.currency))
        # the address of the last order, the country by its name
        expect(dialog.get_by_test_id("order-name")).to_have_value("Ada Lovelace")
        expect(dialog.get_by_test_id("order-street")).to_have_value("Vrijthof")
        expect(dialog.get_by_test_id("order-house_number")).to_have_value("7")
        expect(dialog.get_by_test_id("order-city")).to_have_value("Maastricht")
        expect(dialog.get_by_test_id("order-country")).to_contain_text("Netherlands")
        expect(dialog).to_contain_text(builder_customer["email"])
        expect(dialog.get_by_test_id("order-country")).not_to_have_text("NL")
        shot(page, "account-order-dialog-1440")

        # a missing street is said next to the field, and nothing is ordered
        dialog.get_by_test_id("order-street").fill("")
        dialog.evaluate("el => el.querySelector('form').noValidate = true")  # past the browser's own check
        dialog.get_by_test_id("place-order").click()
        expect(dialog.get_by_test_id("order-street-error")).to_have_text("Enter the street.")
        expect(dialog.get_by_test_id("order-error")).to_contain_text("street")
        assert len(orders_of_ada()) == 1
        dialog.get_by_test_id("order-street").fill("Vrijthof")

        # the price changes while the dialog is open: refused, and the dialog shows the new total
        _reprice(tenant.id, cpu, price + Decimal("10.00"))
        try:
            dialog.get_by_test_id("place-order").click()
            changed = quote()
            assert changed.total == shown.total + Decimal("10.00")
            new_total = fmt.money(changed.total, changed.currency)
            expect(dialog.get_by_test_id("order-error")).to_contain_text("price of this build changed")
            expect(dialog.get_by_test_id("order-error")).to_contain_text(new_total)
            _expect_totals(dialog, changed, fmt)
            expect(dialog.get_by_test_id("order-street-error")).to_have_count(0)
            assert len(orders_of_ada()) == 1
            shot(page, "account-order-price-changed-1440")

            # ordered at the new total: the order in the database carries exactly the amounts shown
            dialog.get_by_test_id("place-order").click()
            placed = page.get_by_test_id("order-placed")
            expect(placed).to_be_visible()
            expect(dialog).to_be_hidden()
        finally:
            _reprice(tenant.id, cpu, price)
        number = re.search(r"B-\d{5}", placed.inner_text())
        assert number
        ordered = orders_of_ada()
        assert len(ordered) == 2 and ordered[-1].number == number.group(0)
        order = ordered[-1]
        assert (order.subtotal, order.shipping_total, order.total) == (
            changed.subtotal,
            changed.shipping,
            changed.total,
        )
        assert (order.ship_street, order.ship_city, order.ship_country_code) == ("Vrijthof", "Maastricht", "NL")
        shot(page, "account-order-placed-1440")
    finally:
        ctx.close()


def test_my_builds_order_dialog_fits_a_tablet_and_a_phone(browser, app_url, builder_customer):
    from app.builder import service as builder
    from app.platform.formatting import of_tenant

    tenant = builder_customer["tenant"]
    fmt = of_tenant(tenant.id)
    with tenant_session(tenant.id) as s:
        shown = builder.quote_slots(s, {"cpu": [builder_customer["cpu"]]})
    for viewport, name in ((TABLET, "account-order-dialog-768"), (PHONE, "account-order-dialog-390")):
        phone = viewport is PHONE
        ctx = browser.new_context(viewport=viewport, has_touch=phone, is_mobile=phone, base_url=app_url)
        try:
            page = ctx.new_page()
            page.set_default_timeout(20_000)
            dialog = _open_order_dialog(page, builder_customer["email"])
            _expect_totals(dialog, shown, fmt)
            expect(dialog.get_by_test_id("order-street")).to_have_value("Vrijthof")
            width = viewport["width"]
            box = dialog.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            totals = dialog.get_by_test_id("order-totals").bounding_box()
            assert totals and totals["x"] + totals["width"] <= width, totals
            shot(page, name)
            dialog.get_by_test_id("place-order").scroll_into_view_if_needed()
            button = dialog.get_by_test_id("place-order").bounding_box()
            assert button and button["x"] >= 0 and button["x"] + button["width"] <= width, button
            shot(page, f"{name}-bottom")
        finally:
            ctx.close()
