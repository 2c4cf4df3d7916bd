"""First page load: how long a newcomer waits, in Chromium, against the real app.

Starts the app on the test ports (as the e2e suite does), then measures:
- the sign-in page's first load (navigation start → load event), cold and warm;
- sign-in → the home page showing the shop's name.
Baseline: "back-office budget" — 2000 ms for each (a page a person waits on).
The last line prints the figures and their ratios to the baseline (< 1 is better).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import testenv

testenv.apply()
from app import domains  # noqa: E402

domains.load()  # every handler registered, as in every entry point

from playwright.sync_api import sync_playwright  # noqa: E402

from tests import factories  # noqa: E402
from tests.e2e import conftest as e2e  # noqa: E402

BASELINE_NAME = "back-office budget"
BASELINE_MS = 2000.0


def main() -> None:
    server = e2e.app_url.__wrapped__()  # the e2e fixture's generator: start the app
    url = next(server)
    try:
        user = factories.make_user(factories.default_tenant(), "operator")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=e2e.CHROMIUM_ARGS)
            loads = []
            for _ in range(5):
                ctx = browser.new_context(base_url=url)
                page = ctx.new_page()
                page.goto("/login")
                page.wait_for_selector("#username")
                loads.append(
                    page.evaluate(
                        "() => { const n = performance.getEntriesByType('navigation')[0];"
                        " return n.loadEventEnd - n.startTime; }"
                    )
                )
                ctx.close()
            signins = []
            for _ in range(3):
                ctx = browser.new_context(base_url=url)
                page = ctx.new_page()
                page.goto("/login")
                page.wait_for_selector("#username")
                page.fill("#username", user.username)
                page.fill("#password", factories.PASSWORD)
                t0 = time.perf_counter()
                page.click("[data-testid=sign-in]")
                page.wait_for_selector("[data-testid=welcome]:has-text('Test Default Shop')", timeout=60_000)
                signins.append((time.perf_counter() - t0) * 1000)
                ctx.close()
            browser.close()
    finally:
        for _ in server:
            pass
    cold, warm = loads[0], statistics.median(loads[1:])
    signin = statistics.median(signins[1:])
    startup = (e2e.ARTIFACTS / "startup-seconds.txt").read_text().strip()
    print(f"server start to ready: {startup} s (dev mode, includes compile)")
    print(f"login page load: cold {cold:.0f} ms, warm median {warm:.0f} ms")
    print(f"sign-in to home: median {signin:.0f} ms (first {signins[0]:.0f} ms)")
    print(
        f"first page load {cold:.0f} ms (ratio {cold / BASELINE_MS:.2f}), warm {warm:.0f} ms "
        f"(ratio {warm / BASELINE_MS:.2f}), sign-in→home {signin:.0f} ms (ratio {signin / BASELINE_MS:.2f}) "
        f"vs {BASELINE_NAME} {BASELINE_MS:.0f} ms"
    )


if __name__ == "__main__":
    main()
