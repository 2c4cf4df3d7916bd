"""Start the real app (`reflex run --env prod`: the production build, pages
and API on one port as in production; test database, test port 8100 or a
free one when that is taken) once per session, and drive Debian's Chromium
with Playwright."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app.platform.db import reset_engine
from app.platform.tasks import redis_conn
from app.settings import ROOT, get_settings
from tests import factories, testenv

expect.set_options(timeout=30_000)  # generous: a busy machine slows the live updates tests wait for
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]


def _wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=5, follow_redirects=True).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def app_url():
    testenv.prepare_database()
    reset_engine()
    factories.default_tenant()
    redis_conn().flushdb()  # the test Redis database: queues start empty
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "server.log"
    s = get_settings()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REFLEX_USE_NPM": "1",
        # Two backend processes sharing state through Redis, as production
        # runs several: a test passes only if the app does not depend on
        # meeting the same process twice.
        "GRANIAN_WORKERS": "2",
        "PATH": f"{ROOT}/.tools/node_modules/.bin:{ROOT}/.venv/bin:{os.environ.get('PATH', '')}",
    }
    with open(log, "w") as out:
        # The production build, not the dev server: bundled pages load at
        # once and never re-bundle or reload mid-test (the dev server compiled
        # each page on its first visit and reloaded open pages when it met a
        # new library, which made tests on a busy machine wait out their
        # timeouts on a sign-in's navigation).
        proc = subprocess.Popen(
            ["reflex", "run", "--env", "prod", "--loglevel", "info"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with open(ARTIFACTS / "worker.log", "w") as out:  # background work (imports, events) as in make dev
        worker = subprocess.Popen(
            [sys.executable, "-m", "jobs.worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = time.time()
    try:
        _wait_for(f"{s.api_url}/health/ready", proc, log, 600)
        _wait_for(f"{s.app_url}/login", proc, log, 600)
        (ARTIFACTS / "startup-seconds.txt").write_text(f"{time.time() - started:.1f}\n")
        yield s.app_url
    finally:
        for p in (worker,):
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=app_url)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def shot(page: Page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in_with_form(
    page: Page, username: str, password: str = factories.PASSWORD, shop: str | None = None, next_path: str | None = None
) -> None:
    """Signs in through the sign-in page as a person does (the page's own tests use it)."""
    page.goto("/login" + (f"?next={next_path}" if next_path else ""))
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    if shop:
        page.get_by_text("Another shop?").click()
        page.locator("#shop").fill(shop)
    page.get_by_test_id("sign-in").click()


def sign_in(
    page: Page, username: str, password: str = factories.PASSWORD, shop: str | None = None, next_path: str | None = None
) -> None:
    """Signs in for a test about another page: the same request the sign-in page sends
    (POST /api/v1/auth/login from the browser's own context, which keeps the HttpOnly
    session cookie), then opens `next_path`. The form itself is driven by the sign-in
    tests (sign_in_with_form). In whole-suite runs the form's move to the next page has
    hung the browser's page for minutes a handful of times in some eighty sign-ins (not
    seen alone, in 30 in a row), and each stalled test then failed on its time limit."""
    r = page.request.post("/api/v1/auth/login", data={"username": username, "password": password, "shop": shop or None})
    if not r.ok:  # refused: show it as the sign-in page does, where the test can see it
        sign_in_with_form(page, username, password, shop, next_path)
        return
    page.goto(unquote(next_path) if next_path else "/")  # a `next` may come quoted for the sign-in address


def choose(page: Page, trigger: Locator, item_testid: str, attempts: int = 4) -> None:
    """Opens a dropdown menu and picks an item. A live page may re-render or shift the rows
    between the moment the trigger is found and the click landing (another worker's push), so
    a menu that did not open is opened again, as a person would."""
    item = page.get_by_test_id(item_testid)
    for _ in range(attempts - 1):
        trigger.click()
        try:
            item.wait_for(state="visible", timeout=4000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        item.click()
        return
    trigger.click()
    item.click()


def tick_rows(page: Page, rows: Locator, n: int, attempts: int = 4) -> None:
    """Ticks the first `n` rows of a table (and no other) and waits for the bulk bar to count
    them. On a live page a redraw between finding a box and the click landing has lost a click,
    or let it land on a neighbour (seen in whole-suite runs): every box is looked at again, and
    one in the wrong state is clicked again, as a person would. Wait for the view first: right
    after a `goto` the tab shows its last view of the page until the loader answers."""
    count, want = page.get_by_test_id("selected-count"), f"{n} selected"
    for _ in range(attempts):
        try:
            for i in range(rows.count()):
                box = rows.nth(i).get_by_test_id("select-row")
                if (box.get_attribute("data-state", timeout=2_000) == "checked") != (i < n):
                    box.click(timeout=4_000)
                    expect(box).to_have_attribute("data-state", "checked" if i < n else "unchecked", timeout=4_000)
            boxes = rows.get_by_test_id("select-row")
            states = [boxes.nth(i).get_attribute("data-state", timeout=2_000) for i in range(boxes.count())]
        except (AssertionError, PlaywrightTimeout):
            continue  # the rows were drawn again meanwhile: look again
        if states[:n] == ["checked"] * n and "checked" not in states[n:]:
            try:
                expect(count).to_have_text(want, timeout=8_000)
                return
            except AssertionError:
                continue
    expect(count).to_have_text(want)
