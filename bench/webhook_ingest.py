"""Webhook ingest: sustained signed `orders/create` deliveries per second.

Two servers on this machine, driven by the same asyncio client (32 concurrent
connections, pre-signed bodies, 10% of deliveries replayed with the same
X-Shopify-Webhook-Id, as Shopify retries do):
- ceiling: a bare Starlette endpoint doing one INSERT per request (uvicorn);
- app: the real Shopfloor backend (`reflex run --backend-only`), i.e. HMAC
  check, dedup, order + line items + event log + outbox in one transaction.
Afterwards the database is checked: every accepted order stored once, no
duplicates from replays. Target: app ≥ 50 % of the ceiling, p99 < 100 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import stop, wait_for  # noqa: E402
from tests import testenv  # noqa: E402

testenv.apply()
from app import domains  # noqa: E402

domains.load()  # every handler registered, as in every entry point

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.orders.models import ShopifyShop  # noqa: E402
from app.platform.db import tenant_session  # noqa: E402
from standins import shopify as standin  # noqa: E402
from tests import factories  # noqa: E402

DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
SECRET = "bench-secret"
APP_PORT, CEILING_PORT = 8201, 8202
WORKERS = int(os.environ.get("BENCH_WORKERS", "5"))  # server processes for both: what reflex prod starts on 2 cores

CEILING_APP = """
import sys
sys.path.insert(0, {root!r})
from tests import testenv
testenv.apply()
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route
from sqlalchemy import text
from app.platform.db import get_engine

def insert(body):
    with get_engine().begin() as conn:
        conn.execute(text("INSERT INTO bench_ceiling (body) VALUES (:b)"), {{"b": body}})

async def hook(request):
    body = await request.body()
    await run_in_threadpool(insert, body.decode())
    return JSONResponse({{"status": "created"}})

app = Starlette(routes=[Route("/api/v1/webhooks/shopify", hook, methods=["POST"])])
"""


def _deliveries(domain: str, n: int) -> list[tuple[bytes, dict]]:
    out = []
    tag = uuid.uuid4().hex[:6]
    for i in range(n):
        payload = standin.make_order(i % 500, seed=tag)
        payload["id"] = 7_000_000_000_000 + i + int(tag, 16) * 100_000
        payload["name"] = f"#B{tag}-{i}"
        body = json.dumps(payload, separators=(",", ":")).encode()
        out.append((body, standin.webhook_headers(body, topic="orders/create", secret=SECRET, shop_domain=domain)))
    return out


async def _drive(url: str, deliveries: list[tuple[bytes, dict]]) -> tuple[list[float], dict[str, int], int]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    sent = 0
    idx = 0
    stop_at = time.perf_counter() + DURATION

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal idx, sent
        while time.perf_counter() < stop_at and idx < len(deliveries):
            i = idx
            idx += 1
            # every 10th delivery is a replay of an earlier one (same webhook id)
            body, headers = deliveries[i - 5] if i % 10 == 9 and i >= 5 else deliveries[i]
            t0 = time.perf_counter()
            r = await client.post(url, content=body, headers=headers)
            latencies.append((time.perf_counter() - t0) * 1000)
            sent += 1
            key = str(r.status_code) if r.status_code != 200 else r.json().get("status", "ok")
            statuses[key] = statuses.get(key, 0) + 1

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    statuses["_elapsed_ms"] = int(elapsed * 1000)
    return latencies, statuses, sent


async def _paced(url: str, deliveries: list[tuple[bytes, dict]], rate: float, seconds: float) -> list[float]:
    """Open loop at a fixed arrival rate: latency counted from each request's
    scheduled time, so queueing shows (no coordinated omission)."""
    latencies: list[float] = []
    n = int(rate * seconds)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body, headers = deliveries[i]
            r = await client.post(url, content=body, headers=headers)
            r.raise_for_status()
            latencies.append((time.perf_counter() - due) * 1000)

        await asyncio.gather(*(one(i) for i in range(n)))
    return latencies


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    testenv.prepare_database()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REFLEX_USE_NPM": "1",
        "PATH": f"{ROOT}/.tools/node_modules/.bin:{ROOT}/.venv/bin:{os.environ.get('PATH', '')}",
        "BACKEND_PORT": str(APP_PORT),
        "REFLEX_HOT_RELOAD_OVERRIDE_PATHS": str(ROOT / "var" / "e2e-no-reload"),
    }
    (ROOT / "var" / "e2e-no-reload").mkdir(parents=True, exist_ok=True)

    # ceiling
    from sqlalchemy import create_engine

    from app.settings import get_settings

    admin = create_engine(get_settings().migrations_database_url)
    with admin.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_ceiling"))
        conn.execute(text("CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, body text NOT NULL)"))
        conn.execute(text("GRANT SELECT, INSERT ON bench_ceiling TO shopfloor_app"))
        conn.execute(text("GRANT USAGE ON SEQUENCE bench_ceiling_id_seq TO shopfloor_app"))
    ceiling_file = ROOT / "var" / "bench_ceiling_app.py"
    ceiling_file.write_text(CEILING_APP.format(root=str(ROOT)))
    ceiling = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--port",
            str(CEILING_PORT),
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
            "--working-dir",
            str(ceiling_file.parent),
            "bench_ceiling_app:app",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{CEILING_PORT}/", ceiling)
        c_lat, c_status, c_sent = asyncio.run(
            _drive(f"http://127.0.0.1:{CEILING_PORT}/api/v1/webhooks/shopify", _deliveries("x", 20000))
        )
    finally:
        stop(ceiling)
    with admin.begin() as conn:
        stored_ceiling = conn.execute(text("SELECT count(*) FROM bench_ceiling")).scalar()
        conn.execute(text("DROP TABLE bench_ceiling"))

    # the real app
    tenant = factories.make_tenant("Bench shop")
    domain = f"{tenant.slug}.myshopify.com"
    with tenant_session(tenant.id) as s:
        s.add(ShopifyShop(tenant_id=tenant.id, shop_domain=domain, access_token="x", webhook_secret=SECRET))
        s.commit()
    log = open(ROOT / "var" / "bench_app.log", "w")  # noqa: SIM115
    app = subprocess.Popen(
        ["reflex", "run", "--env", "prod", "--backend-only", "--backend-port", str(APP_PORT), "--loglevel", "warning"],
        cwd=ROOT,
        env={**env, "GRANIAN_WORKERS": str(WORKERS)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{APP_PORT}/health/live", app)
        deliveries = _deliveries(domain, 20000)
        url = f"http://127.0.0.1:{APP_PORT}/api/v1/webhooks/shopify"
        a_lat, a_status, a_sent = asyncio.run(_drive(url, deliveries))
        a_rate_max = a_sent / (a_status["_elapsed_ms"] / 1000)
        paced_rate = max(5.0, round(a_rate_max / 2))
        paced = asyncio.run(_paced(url, deliveries[a_sent + 10 :], paced_rate, DURATION))
    finally:
        stop(app)
    with tenant_session(tenant.id) as s:
        stored, distinct = s.execute(text("SELECT count(*), count(DISTINCT shopify_order_id) FROM orders")).one()

    c_rate = c_sent / (c_status["_elapsed_ms"] / 1000)
    a_rate = a_sent / (a_status["_elapsed_ms"] / 1000)
    created = a_status.get("created", 0)
    lost = created + len(paced) - stored
    duplicated = stored - distinct + max(0, stored - created - len(paced))
    print(
        f"ceiling (bare Starlette, one INSERT): {c_rate:.0f} req/s, p50 {statistics.median(c_lat):.1f} ms, "
        f"p99 {_pct(c_lat, 0.99):.1f} ms, stored {stored_ceiling}/{c_sent}"
    )
    print(
        f"app (Shopfloor webhook): {a_rate:.0f} req/s, p50 {statistics.median(a_lat):.1f} ms, "
        f"p99 {_pct(a_lat, 0.99):.1f} ms, answers {dict((k, v) for k, v in a_status.items() if k[0] != '_')}"
    )
    print(
        f"app at a steady {paced_rate:.0f} req/s (half its maximum): p50 {statistics.median(paced):.1f} ms, "
        f"p99 {_pct(paced, 0.99):.1f} ms over {len(paced)} deliveries"
    )
    print(f"orders stored {stored} for {created + len(paced)} created answers; lost {lost}, duplicated {duplicated}")
    print(
        f"webhook ingest: app {a_rate:.0f}/s vs ceiling {c_rate:.0f}/s = ratio {a_rate / c_rate:.2f} "
        f"(target >= 0.50); steady-load p99 {_pct(paced, 0.99):.1f} ms (target < 100); "
        f"lost {lost}, duplicated {duplicated}"
    )


if __name__ == "__main__":
    main()
