"""Every page a person uses, at a desktop, a tablet and a phone width, on the
demo shop's data: nothing on screen is a raw identifier (a camelCase field
name, an UPPER_SNAKE or snake_case status, a dotted event name, a Python
exception, a database id), and no page scrolls sideways.

Each page's screenshot lands in test-artifacts/e2e/every-page/ for a person
to look at.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from app import demo, domains, routes
from app.platform.db import tenant_session
from app.platform.machine import StatusTable
from tests import testenv
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.e2e.test_account import _sign_in as account_sign_in
from tests.e2e.test_account import customer_with_a_pc

WIDTHS = {"desktop": 1440, "tablet": 768, "phone": 390}
OUT = ARTIFACTS / "every-page"

# Words in capitals that are words, not statuses: units, standards, brands.
CAPITAL_WORDS = {
    "AMD", "ATX", "CPU", "CSV", "DDR4", "DDR5", "EUR", "GBP", "GPU", "HDD", "ID", "I/O", "OK", "OS", "PC",
    "PCIE", "PDF", "PSU", "QA", "QR", "RAM", "RGB", "SKU", "SSD", "USB", "USD", "NVME", "LED", "FAQ", "API",
    "URL", "CET", "UTC", "PETG", "PLA", "ABS", "TPU", "ASA", "AIO", "SATA", "WIFI", "ITX", "SFX", "HDMI",
}  # fmt: skip
# camelCase words that are names people write that way.
CAMEL_WORDS = {
    "iPhone", "iPad", "macOS", "iOS", "eBay", "iCUE", "mATX", "mITX", "eATX", "GeForce", "PrusaSlicer",
    "mAh",  # a battery's capacity
}  # fmt: skip


def _status_values() -> set[str]:
    """Every status value of every lifecycle written in capitals (QUEUED, READY_TO_SHIP…)."""
    domains.load()
    values: set[str] = set()
    import gc

    for obj in gc.get_objects():
        if isinstance(obj, StatusTable):
            values |= {v for v in obj.values if v.isupper() and len(v) > 2}
    return values - CAPITAL_WORDS


RAW_PATTERNS = {
    "snake_case": re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b"),
    "UPPER_SNAKE": re.compile(r"\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b"),
    "camelCase": re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]+)+\b"),
    "exception": re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b|Traceback"),
    "event name": re.compile(
        r"\b(?:order|build|print-job|booklet|integration|grid|shipment|stock|catalog|tenant|customer)"
        r"\.[a-z]+(?:-[a-z]+)*\b"
    ),
    "database id": re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
    "Python value": re.compile(r"\bNone\b|\[\]|\{\}|Decimal\("),
}
_EMAIL_OR_URL = re.compile(r"\S+@\S+|https?://\S+|/[\w\-/\[\]?=&.%]+")


def raw_identifiers(text: str, statuses: set[str]) -> list[str]:
    """What in `text` reads as a program's identifier rather than a word."""
    text = _EMAIL_OR_URL.sub(" ", text)
    found = []
    for kind, pattern in RAW_PATTERNS.items():
        for m in pattern.findall(text):
            if kind == "camelCase" and m in CAMEL_WORDS:
                continue
            found.append(f"{kind}: {m}")
    words = set(re.findall(r"\b[A-Z][A-Z_]{2,}\b", text))
    found += [f"status value: {w}" for w in sorted(words & statuses)]
    return sorted(set(found))


# Each visible text node on its own line (so two neighbouring words never run
# together into something that looks like camelCase); code samples (a CSV's
# column names, a SKU) are meant to read as code and are left out.
VISIBLE_TEXT = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const node = walk.currentNode, el = node.parentElement;
    if (!el || !node.nodeValue.trim()) continue;
    if (el.closest('code, kbd, script, style, noscript')) continue;
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    out.push(node.nodeValue.trim());
  }
  return out.join('\\n');
}"""


@dataclass
class Stop:
    name: str
    path: str


def _demo_records() -> dict[str, str]:
    """Ids of demo records, for the pages that show one record."""
    from app.builds.models import Build
    from app.orders.models import Order
    from app.printing.models import ProductMapping

    tenant = demo.ensure_tenant(demo.DEMO_SLUG, "Demo Shop")
    with tenant_session(tenant.id) as s:
        order = s.exec(select(Order.id).order_by(col(Order.placed_at).desc())).first()
        build = s.exec(select(Build.id).order_by(col(Build.created_at).desc())).first()
        product = s.exec(select(ProductMapping.id)).first()
    return {"/orders/[id]": str(order), "/builds/[id]": str(build), "/printing/products/[id]": str(product),
            "/floor/builds/[id]/photos": str(build), "/inventory/products/[mapping_id]": str(product)}  # fmt: skip


def staff_stops() -> Iterator[Stop]:
    domains.load_pages()
    ids = _demo_records()
    for route in routes.ROUTES:
        path = route.path
        if "[" in path:
            if path not in ids or ids[path] == "None":
                continue
            path = re.sub(r"\[[^\]]+\]", ids[path], path)
        yield Stop(route.title, path)


@pytest.fixture(scope="module")
def account_customer(app_url):
    return customer_with_a_pc()


@pytest.fixture(scope="module")
def demo_shop(app_url):
    testenv.free_demo_shopify_domain()  # another test's demo load may hold the stand-in shop's domain
    demo.load_demo()
    return demo.DEMO_SLUG


def _settled(page: Page) -> None:
    """The page has drawn its data: its title is up and no skeleton or spinner is left."""
    page.wait_for_load_state("networkidle")
    expect(page.locator(".rt-Skeleton")).to_have_count(0, timeout=20_000)
    with contextlib.suppress(AssertionError):  # a spinner may be background work (a booklet rendering)
        expect(page.locator(".rt-Spinner")).to_have_count(0, timeout=10_000)
    page.wait_for_timeout(300)


def _check(page: Page, name: str, width_name: str, statuses: set[str], problems: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    page.screenshot(path=str(OUT / f"{width_name}-{slug}.png"), full_page=True)
    text = page.evaluate(VISIBLE_TEXT)
    for raw in raw_identifiers(text, statuses):
        problems.append(f"{width_name} {name}: {raw}")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 1:
        problems.append(f"{width_name} {name}: the page scrolls sideways by {overflow}px")


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_every_staff_page_reads_as_words_and_fits(browser, app_url, demo_shop, width_name):
    statuses = _status_values()
    context = browser.new_context(viewport={"width": WIDTHS[width_name], "height": 900}, base_url=app_url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    try:
        sign_in(page, "admin", demo.DEMO_USERS["admin"][0], shop=demo_shop)
        expect(page.get_by_test_id("page-title")).to_be_visible()
        for stop in staff_stops():
            page.goto(stop.path)
            _settled(page)  # (the phone pages have no title bar; every page shows a spinner until it is ready)
            _check(page, stop.name, width_name, statuses, problems)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_customer_pages_read_as_words_and_fit(browser, app_url, account_customer, width_name):
    """The storefront's shop: a customer with a PC in testing and a shipped order."""
    statuses = _status_values()
    context = browser.new_context(viewport={"width": WIDTHS[width_name], "height": 900}, base_url=app_url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    try:
        page.goto("/account/login")
        _settled(page)
        _check(page, "customer sign-in", width_name, statuses, problems)
        account_sign_in(page, account_customer["email"])
        for name, path in (("customer orders", "/account"), ("customer builds", "/account/builds"),
                           ("builder", "/build"), ("customer build page", account_customer["link"])):  # fmt: skip
            page.goto(path)
            _settled(page)
            _check(page, name, width_name, statuses, problems)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_the_checks_find_raw_identifiers():
    """The patterns above catch what a person should never read."""
    statuses = {"READY_TO_SHIP", "QUEUED"}
    text = "mboIoPhoto · READY_TO_SHIP · QUEUED · in_progress · ValueError · order.created · None · " + (
        "3f2b1c4d-1111-2222-3333-444455556666"
    )
    found = raw_identifiers(text, statuses)
    assert {f.split(": ")[0] for f in found} == {
        "camelCase", "UPPER_SNAKE", "status value", "snake_case", "exception", "event name", "Python value",
        "database id",
    }  # fmt: skip
    assert raw_identifiers("Motherboard I/O · Ready to ship · 29 Nov 2026 · anna_b@example.com · GPU", statuses) == []
