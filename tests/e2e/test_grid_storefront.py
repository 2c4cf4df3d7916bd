"""The storefront's Gridfinity page as a customer uses it (issue 16's
"Resolved when": the storefront generator shows the 3D preview and the
price, and orders it): type the held-out drawer (371 × 254 mm, magnets),
see the baseplate load in the 3D viewer with its price, plates and print
time, order it as a guest, and find the order with its GRID-CUSTOM line
and the generation job the pipeline started for it. On a phone (390 px)
the page fits the screen and the viewer still loads."""

from __future__ import annotations

import dataclasses
import json
import struct
import time
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.grid import service
from app.orders.models import LineItem, Order
from app.platform.db import tenant_session
from app.settings import get_settings
from tests import factories
from tests.e2e.conftest import shot
from tests.e2e.test_printfarm import _principal

PHONE = {"width": 390, "height": 844}
LOADED = "() => { const el = document.querySelector('model-viewer'); return !!el && el.loaded === true; }"


@pytest.fixture(scope="module")
def shop(app_url):
    """The storefront's shop (the default one) sells baseplates from a 256 mm bed."""
    tenant = factories.default_tenant()
    admin = factories.make_user(tenant, "admin")
    actor = _principal(tenant, admin.username)
    with tenant_session(tenant.id) as s:
        before = service.grid_settings(s)
        service.save_grid_settings(
            s,
            dataclasses.replace(before, enabled=True, print_settings={"printer": "bambu-a1"}, max_sync_grid_size=256),
            actor=actor,
        )
        s.commit()
    yield tenant
    with tenant_session(tenant.id) as s:  # the other tests' default shop as it was
        service.save_grid_settings(s, before, actor=actor)
        s.commit()


def _expected(tenant_id, width: float, depth: float, magnets: str = "press-fit") -> service.Quote:
    with tenant_session(tenant_id) as s:
        options = service.grid_settings(s).options(drawer_width_mm=width, drawer_depth_mm=depth, magnets=magnets)
        return service.quote_for(s, options)


def glb_pieces(data: bytes) -> int:
    """How many plates a GLB scene holds (its nodes named piece-N)."""
    (length,) = struct.unpack("<I", data[12:16])
    nodes = json.loads(data[20 : 20 + length]).get("nodes", [])
    return sum(1 for n in nodes if str(n.get("name", "")).startswith("piece-"))


def wait_for_src(page: Page, part: str) -> str:
    """The viewer's model address once it holds `part`. (The element's `src`
    property: React sets a defined custom element's props as properties, so
    its attribute keeps the first address.)"""
    page.wait_for_function(
        "part => { const el = document.querySelector('model-viewer'); return !!el && String(el.src).includes(part); }",
        arg=part,
        timeout=30_000,
    )
    return str(page.evaluate("() => document.querySelector('model-viewer').src"))


def _type_drawer(page: Page, width: str, depth: str) -> None:
    page.get_by_test_id("drawer-width").fill(width)
    page.get_by_test_id("drawer-depth").fill(depth)


def _magnets_on(page: Page) -> None:
    switch = page.get_by_test_id("drawer-magnets")
    if switch.get_attribute("data-state") != "checked":
        switch.click()
    expect(switch).to_have_attribute("data-state", "checked")


def _wait_for_model(page: Page) -> None:
    """The 3D viewer fetched the GLB from the API and drew it (model-viewer's `loaded`),
    with its settings: it turns under the mouse, and looks down on the plates from 40°."""
    page.wait_for_function(LOADED, timeout=90_000)
    settings = page.evaluate(
        "() => { const el = document.querySelector('model-viewer');"
        " return [el.cameraControls, el.autoRotate, Math.round(el.getCameraOrbit().phi * 180 / Math.PI)]; }"
    )
    assert settings == [True, True, 40], settings


def test_a_customer_sees_the_baseplate_in_3d_and_orders_it(page: Page, shop):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/gridfinity")
    expect(page.get_by_test_id("grid-options")).to_be_visible()
    _type_drawer(page, "371", "254")
    _magnets_on(page)

    q = _expected(shop.id, 371, 254)
    assert q.segments > 1 and not q.problems  # the held-out drawer is a plate set on a 256 mm bed
    expect(page.get_by_test_id("grid-plates")).to_have_text(str(q.segments))
    price = page.get_by_test_id("grid-price")
    expect(price).to_contain_text(f"{q.price:.2f}".split(".")[0])
    expect(page.get_by_test_id("grid-time")).not_to_have_text("")
    viewer = page.locator("model-viewer")
    expect(viewer).to_have_count(1)
    src = wait_for_src(page, "/api/v1/shop/grid/preview.glb?width=371&depth=254&magnets=press-fit&")
    assert glb_pieces(httpx.get(src, timeout=60).content) == q.segments  # the 3D view shows the plates quoted
    _wait_for_model(page)
    page.wait_for_timeout(1500)  # the first frames after the model arrives
    shot(page, "grid-storefront-1440")

    # a side over the shop's maximum is refused under the field, and the price goes
    _type_drawer(page, "371", "9000")
    expect(page.get_by_test_id("drawer-depth-error")).to_contain_text("maximum")
    expect(page.get_by_test_id("grid-order")).to_be_disabled()
    _type_drawer(page, "371", "254")
    expect(page.get_by_test_id("grid-plates")).to_have_text(str(q.segments))

    # order it as a guest
    page.get_by_test_id("grid-order").click()
    dialog = page.get_by_test_id("order-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("order-total")).to_have_text(price.inner_text())
    tag = uuid.uuid4().hex[:6]
    for key, value in (
        ("name", "Gerda Grid"),
        ("email", f"gerda-{tag}@example.com"),
        ("street", "Prinsengracht"),
        ("house_number", "263"),
        ("postal_code", "1016 GV"),
        ("city", "Amsterdam"),
    ):
        dialog.get_by_test_id(f"order-{key}").fill(value)
    shot(page, "grid-storefront-order-dialog")
    dialog.get_by_test_id("place-order").click()
    placed = page.get_by_test_id("order-placed")
    expect(placed).to_be_visible()
    number = page.get_by_test_id("order-number").inner_text()
    shot(page, "grid-storefront-order-placed")

    # the order has the grid line, and the pipeline took it up (order.created in the worker)
    with tenant_session(shop.id) as s:
        order = s.exec(select(Order).where(Order.number == number)).one()
        lines = list(s.exec(select(LineItem).where(LineItem.order_id == order.id)))
        assert len(lines) == 1
        assert lines[0].sku.startswith("GRID-CUSTOM-")
        assert order.customer_email == f"gerda-{tag}@example.com"
        assert f"{order.total:.2f}" == f"{q.price:.2f}"
        line_id = lines[0].id
    deadline = time.time() + 60
    job = None
    while time.time() < deadline and job is None:
        with tenant_session(shop.id) as s:
            job = service.order_job(s, line_id)
        if job is None:
            time.sleep(1)
    assert job is not None, "no generation job for the storefront order"
    assert job.origin == "order" and job.segment_count == q.segments
    assert job.parameters["drawer_width_mm"] == 371 and job.parameters["magnets"] == "press-fit"


def test_the_page_on_a_phone(browser, app_url, shop):
    """At 390 px with touch: the form stacks above the viewer, nothing scrolls sideways, the model loads."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, base_url=app_url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto("/gridfinity")
        expect(page.get_by_test_id("grid-options")).to_be_visible()
        _type_drawer(page, "300", "200")
        _magnets_on(page)
        q = _expected(shop.id, 300, 200)
        expect(page.get_by_test_id("grid-plates")).to_have_text(str(q.segments))
        _wait_for_model(page)
        page.wait_for_timeout(1500)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "grid-storefront-390-form")
        page.locator("model-viewer").scroll_into_view_if_needed()
        shot(page, "grid-storefront-390-viewer")
    finally:
        context.close()


def test_a_drawer_too_large_for_the_instant_view_still_has_a_price(page: Page, shop):
    page.goto("/gridfinity")
    _type_drawer(page, "990", "990")
    q = _expected(shop.id, 990, 990)
    expect(page.get_by_test_id("grid-plates")).to_have_text(str(q.segments))
    expect(page.get_by_test_id("grid-preview-note")).to_contain_text("too large for the instant 3D view")
    expect(page.locator("model-viewer")).to_have_count(0)


def test_nothing_is_sold_while_the_shop_has_grids_off(page: Page, shop):
    """Flag off: the page says so, and the public preview route answers 404."""
    admin = factories.make_user(shop, "admin")
    actor = _principal(shop, admin.username)
    with tenant_session(shop.id) as s:
        st = service.grid_settings(s)
        service.save_grid_settings(s, dataclasses.replace(st, enabled=False), actor=actor)
        s.commit()
    try:
        page.goto("/gridfinity")
        expect(page.get_by_test_id("grid-not-on-sale")).to_be_visible()
        expect(page.get_by_test_id("grid-options")).to_have_count(0)
        preview = f"{get_settings().api_url}/api/v1/shop/grid/preview.glb?width=200&depth=200"
        assert httpx.get(preview, timeout=30).status_code == 404
    finally:
        with tenant_session(shop.id) as s:
            st = service.grid_settings(s)
            service.save_grid_settings(s, dataclasses.replace(st, enabled=True), actor=actor)
            s.commit()
