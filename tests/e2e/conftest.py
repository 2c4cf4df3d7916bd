"""Start the real app (reflex run, test database, ports 3100/8100) once per
session, and drive Debian's Chromium with Playwright."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from app.platform.db import reset_engine
from app.platform.tasks import redis_conn
from app.settings import ROOT, get_settings
from tests import factories, testenv

expect.set_options(timeout=30_000)  # the dev server compiles a page on its first visit
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
            if httpx.get(url, timeout=5).status_code == 200:
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
    quiet_dir = ROOT / "var" / "e2e-no-reload"  # nothing changes here: no hot reload mid-test
    quiet_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REFLEX_USE_NPM": "1",
        "REFLEX_HOT_RELOAD_OVERRIDE_PATHS": str(quiet_dir),
        "PATH": f"{ROOT}/.tools/node_modules/.bin:{ROOT}/.venv/bin:{os.environ.get('PATH', '')}",
    }
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["reflex", "run", "--env", "dev", "--loglevel", "info"],
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


def sign_in(
    page: Page, username: str, password: str = factories.PASSWORD, shop: str | None = None, next_path: str | None = None
) -> None:
    page.goto("/login" + (f"?next={next_path}" if next_path else ""))
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    if shop:
        page.get_by_text("Another shop?").click()
        page.locator("#shop").fill(shop)
    page.get_by_test_id("sign-in").click()
