"""Repairs (issue 17), part by part; choose with `--parts` (default: all).

(a) 1,000 diagnostic logs (the documented text format, each a different
    device with two to four failed tests, some codes mapped, some not) are
    uploaded and parsed one after the other, each upload committed and its
    parse job run at once (JOBS_SYNC: the job's own two transactions, as a
    worker runs them). Per log: the upload with its parse. Reported: logs per
    second and the p95 per log. Baseline: reading the same file with the pure
    parser (`app.repairs.drfone.read`, no database): the ratio is what
    storing, matching the asset and writing its codes cost over reading it.

(b) A 10,000-row asset CSV (one batch, valid IMEIs, a model and a repair code
    each) is checked and applied (`imports.preview` then `imports.apply`, the
    job's body, run in this process, in chunks of 1,000, each one transaction with progress).
    Baseline: a bare `COPY` of the same rows into a table shaped like
    `repair_assets` (no checks, numbers, history or codes). Ratio: import
    seconds over COPY seconds.

(c) Races that must give exactly one answer: 50 threads finalize one
    dispatch of 20 ready assets at once (one invoice, one finalized event),
    and 50 threads take the first invoice numbers of a new shop at once
    (INV-<year>-00001 to 00050: consecutive, no gap, no duplicate). The bench
    FAILS (exit 1) when either does not hold. Ratio: the 50 concurrent
    finalize calls' wall time over one finalize alone.

It runs in a database (`shopfloor_bench`) and Redis db (2) of its own, like
bench/inventory.py (TEST_DATABASE_URL, TEST_MIGRATIONS_DATABASE_URL and
TEST_REDIS_URL override them); each run adds shops of its own.

The last line carries every chosen part's headline figures and ratio.

    python -m bench.repairs [--parts abc] [--logs 1000] [--rows 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RACERS = 50
DISPATCH_ASSETS = 20
_ready = False


def _bench_database() -> None:
    global _ready
    if _ready:
        return
    os.environ.setdefault(
        "TEST_DATABASE_URL", "postgresql+psycopg://shopfloor_app:shopfloor_app@127.0.0.1:5432/shopfloor_bench"
    )
    os.environ.setdefault(
        "TEST_MIGRATIONS_DATABASE_URL",
        "postgresql+psycopg://shopfloor_owner:shopfloor_owner@127.0.0.1:5432/shopfloor_bench",
    )
    os.environ.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
    from app.settings import get_settings
    from tests import testenv

    testenv.apply()
    get_settings.cache_clear()
    testenv.prepare_database()
    from app import domains

    domains.load()
    _ready = True


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return body + str((10 - total % 10) % 10)


def _imei(n: int) -> str:
    return _luhn(f"35{n:012d}")


def _shop(name: str):
    from app.platform.db import tenant_session
    from tests import factories
    from tests.repairs_factories import make_batch, make_client, make_device_model

    tenant = factories.make_tenant(f"Bench repairs {name} {uuid.uuid4().hex[:6]}")
    user = factories.make_user(tenant, "admin")
    actor = factories.staff_principal(tenant)
    actor = dataclasses.replace(actor, user_id=user.id)
    with tenant_session(tenant.id) as s:
        client = make_client(s, "Bench Insurance")
        make_device_model(s, "Apple", "iPhone 12")
        batch = make_batch(s, client, client_reference="BENCH-1")
        s.commit()
        return tenant, actor, batch.id, client.id


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


# --- (a) diagnostic logs -------------------------------------------------------------------------

FAILS = [
    ("DF-BAT-012", "Battery", "Battery health 71% (below 80%)"),
    ("DF-CHG-004", "Charging", "Charging current 0.2 A, expected 1.0 A or more"),
    ("DF-SCR-007", "Display", "Touch dead zone in the upper left"),
    ("DF-CAM-021", "Rear camera", "Autofocus does not lock"),
    ("DF-SPK-003", "Loudspeaker", "Distortion above 60 % volume"),
    ("DF-NFC-099", "NFC", "No response from the NFC controller"),
    ("DF-BIO-044", "Face ID", "Dot projector not found"),
]


def _log_text(n: int, imei: str) -> str:
    rows = ["code,component,result,message", "DF-SYS-000,System,PASS,Boot check"]
    for code, component, message in random.Random(n).sample(FAILS, random.Random(n).randint(2, 4)):
        rows.append(f'{code},{component},FAIL,"{message}"')
    head = [
        "# Dr.Fone Toolkit - Device Diagnostics Report",
        "Tool: Dr.Fone Toolkit 13.2.1",
        f"Tested: 2026-11-{1 + n % 28:02d}T10:{n % 60:02d}:00Z",
        "Device: Apple iPhone 12",
        f"IMEI: {imei}",
        f"Serial: BENCH{n:07d}",
        "OS: iOS 17.1",
        "",
    ]
    return "\n".join(head + rows) + "\n"


def part_a(args) -> str:
    _bench_database()
    os.environ["JOBS_SYNC"] = "1"  # after the test environment set it off
    from app.platform.db import tenant_session
    from app.repairs import drfone
    from app.repairs.service import diagnostics
    from app.settings import get_settings

    get_settings.cache_clear()
    tenant, actor, _, _ = _shop("logs")
    with tenant_session(tenant.id) as s:
        for code, rc in (("DF-BAT-012", "BAT-REPL"), ("DF-CHG-004", "CHG-PORT"), ("DF-SCR-007", "SCR-REPL")):
            rid = next(c.id for c in diagnostics.repair_code_choices(s) if c.code == rc)
            diagnostics.create_mapping(s, code, rid, actor=actor)
        s.commit()
    files = [_log_text(n, _imei(900_000 + n)).encode() for n in range(args.logs)]
    parse_s = []
    for data in files:
        t0 = time.perf_counter()
        drfone.read(data)
        parse_s.append(time.perf_counter() - t0)
    per_log = []
    for n, data in enumerate(files):
        t0 = time.perf_counter()
        with tenant_session(tenant.id) as s:
            diagnostics.upload_log(s, f"bench-{n}.txt", data, actor=actor)
            s.commit()  # the parse job runs here (JOBS_SYNC)
        per_log.append(time.perf_counter() - t0)
    with tenant_session(tenant.id) as s:
        parsed = diagnostics.log_counts(s).get("parsed", 0)
        waiting = diagnostics.unmapped_count(s)
    if parsed != args.logs:
        print(f"FAIL: {parsed} of {args.logs} logs parsed")
        sys.exit(1)
    total = sum(per_log)
    rate, p95 = args.logs / total, _pct(per_log, 95) * 1000
    ratio = statistics.mean(per_log) / statistics.mean(parse_s)
    print(
        f"(a) {args.logs} logs uploaded and parsed in {total:.1f} s: {rate:.0f} logs/s, p50 "
        f"{_pct(per_log, 50) * 1000:.1f} ms, p95 {p95:.1f} ms per log; pure parse p95 "
        f"{_pct(parse_s, 95) * 1000:.2f} ms; {waiting} code rows waiting unmapped"
    )
    return f"(a) {rate:.0f} logs/s, p95 {p95:.1f} ms/log, {ratio:.0f}x pure parse"


# --- (b) bulk asset import -------------------------------------------------------------------------


def part_b(args) -> str:
    os.environ["JOBS_SYNC"] = "0"
    _bench_database()
    from sqlalchemy import text

    from app.platform.db import get_engine, tenant_session
    from app.repairs.models import RepairAsset
    from app.repairs.service import imports
    from app.settings import get_settings

    get_settings.cache_clear()
    tenant, actor, batch_id, client_id = _shop("import")
    lines = ["batch,imei,model,condition,fault,declared value,codes"]
    rows = []
    for n in range(args.rows):
        imei = _imei(n)
        lines.append(f"BENCH-1,{imei},iPhone 12,B,Cracked screen,250.00,SCR-REPL")
        rows.append((imei, f"B-{n:06d}"))
    data = ("\n".join(lines) + "\n").encode()

    t0 = time.perf_counter()
    with tenant_session(tenant.id) as s:
        p = imports.preview(s, "assets", "bench.csv", data, actor=actor)
        s.commit()
        upload_id = p.upload.id
    t_check = time.perf_counter() - t0
    t1 = time.perf_counter()
    done = imports.apply(tenant.id, upload_id)
    t_apply = time.perf_counter() - t1
    if done.created_rows != args.rows:
        print(f"FAIL: {done.created_rows} of {args.rows} assets created")
        sys.exit(1)
    with tenant_session(tenant.id) as s:
        count = s.execute(text("SELECT count(*) FROM repair_assets WHERE batch_id = :b"), {"b": batch_id}).scalar()
    assert count == args.rows

    # baseline: a bare COPY of the same rows into a table shaped like repair_assets
    buf = io.StringIO()
    now = "2026-11-30 12:00:00+00"
    for imei, number in rows:
        buf.write(
            f"{tenant.id}\t{uuid.uuid4()}\t{number}\t{batch_id}\t{client_id}\t{imei}\t\tB\tCracked screen\t250.00\t"
            f"received\t[]\t{now}\t{now}\t{now}\n"
        )
    payload = buf.getvalue()
    cols = (
        "tenant_id, id, number, batch_id, client_id, imei, serial, condition, fault, declared_value, status, "
        "accessories, received_at, status_changed_at, updated_at"
    )
    raw = get_engine().raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"CREATE TEMP TABLE bench_assets AS SELECT * FROM {RepairAsset.__tablename__} WITH NO DATA")
        t2 = time.perf_counter()
        with cur.copy(f"COPY bench_assets ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            copy.write(payload)
        t_copy = time.perf_counter() - t2
        raw.rollback()
    finally:
        raw.close()
    ratio = (t_check + t_apply) / t_copy
    print(
        f"(b) {args.rows:,} asset rows: checked in {t_check:.2f} s, applied in {t_apply:.2f} s "
        f"({args.rows / t_apply:,.0f} rows/s, with numbers, history and codes); bare COPY {t_copy:.3f} s"
    )
    return f"(b) {args.rows:,} rows imported in {t_check + t_apply:.1f} s, {ratio:.0f}x bare COPY"


# --- (c) races ---------------------------------------------------------------------------------


def _together(n: int, fn) -> tuple[list, float]:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - t0


def _ready_dispatch(tenant, actor, batch_id, client_id, count: int):
    from app.platform.db import tenant_session
    from app.repairs.models import ExpectedBatch
    from app.repairs.service import billing
    from tests.repairs_factories import make_asset

    with tenant_session(tenant.id) as s:
        batch = s.get(ExpectedBatch, batch_id)
        assets = [make_asset(s, status="ready_for_dispatch", batch=batch) for _ in range(count)]
        d = billing.create_dispatch(s, client_id, actor=actor)
        billing.add_assets(s, d.id, [a.id for a in assets], actor=actor)
        s.commit()
        return d.id


def part_c(args) -> str:
    os.environ["JOBS_SYNC"] = "0"
    _bench_database()
    from sqlmodel import select

    from app.platform import numbering
    from app.platform.db import tenant_session
    from app.platform.models import Outbox
    from app.repairs.models import RepairInvoice
    from app.repairs.service import billing
    from app.settings import get_settings

    get_settings.cache_clear()
    tenant, actor, batch_id, client_id = _shop("races")
    single = _ready_dispatch(tenant, actor, batch_id, client_id, DISPATCH_ASSETS)
    t0 = time.perf_counter()
    with tenant_session(tenant.id) as s:
        billing.finalize_dispatch(s, single, actor=actor)
        s.commit()
    t_one = time.perf_counter() - t0

    raced = _ready_dispatch(tenant, actor, batch_id, client_id, DISPATCH_ASSETS)

    def finalize(_: int):
        with tenant_session(tenant.id) as s:
            inv = billing.finalize_dispatch(s, raced, actor=actor)
            s.commit()
            return inv.id

    results, t_race = _together(RACERS, finalize)
    errors = [r for r in results if isinstance(r, Exception)]
    with tenant_session(tenant.id) as s:
        invoices = s.exec(select(RepairInvoice).where(RepairInvoice.dispatch_id == raced)).all()
        events = [
            o
            for o in s.exec(select(Outbox).where(Outbox.event_type == "repair-dispatch.finalized")).all()
            if (o.payload or {}).get("dispatchId") == str(raced)
        ]
    ok_finalize = not errors and len(invoices) == 1 and len({str(r) for r in results}) == 1 and len(events) == 1

    fresh, _, _, _ = _shop("numbers")

    def take(_: int):
        with tenant_session(fresh.id) as s:
            value, _ = numbering.reserve_value(s, "invoice")
            s.commit()
            return value

    values, t_numbers = _together(RACERS, take)
    ok_numbers = sorted(v for v in values if isinstance(v, int)) == list(range(1, RACERS + 1))
    print(
        f"(c) {RACERS} concurrent finalize calls on one dispatch of {DISPATCH_ASSETS} assets: "
        f"{len(invoices)} invoice, {len(events)} event, {len(errors)} errors, {t_race:.2f} s "
        f"(one finalize alone {t_one * 1000:.0f} ms); {RACERS} concurrent first invoice numbers: "
        f"{'1..' + str(RACERS) + ' consecutive, no gap' if ok_numbers else 'WRONG: ' + str(sorted(map(str, values)))} "
        f"in {t_numbers:.2f} s"
    )
    if not (ok_finalize and ok_numbers):
        print("FAIL: a race gave more than one answer")
        sys.exit(1)
    return f"(c) 50 finalize -> 1 invoice, 50 numbers -> 1..50, race {t_race / t_one:.1f}x one finalize"


PARTS = {"a": part_a, "b": part_b, "c": part_c}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logs", type=int, default=1000, help="diagnostic logs (a)")
    parser.add_argument("--rows", type=int, default=10_000, help="asset rows in the CSV (b)")
    parser.add_argument("--parts", default="".join(PARTS), help="which parts to run, e.g. 'bc'")
    args = parser.parse_args()
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}: available are {', '.join(PARTS)}")
    if (load := os.getloadavg()[0]) > (os.cpu_count() or 1):
        print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs: other work is slowing these timings")
    headlines = [PARTS[part](args) for part in PARTS if part in args.parts]
    print("; ".join(headlines))


if __name__ == "__main__":
    main()
