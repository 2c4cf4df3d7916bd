"""Per-shop fairness: how long shop B's one job waits while shop A has a
burst of jobs on the same queue, with one worker.

Shop A enqueues BENCH_BURST (default 1,000) jobs of BENCH_JOB_MS (5 ms) each on
the `default` queue; right after, shop B enqueues one job; one in-process RQ
worker (`tasks.ShopWorker`, as `python -m jobs.worker` runs it) works the queue.
Measured: B's wait from enqueue to done, and the time to drain A's burst.

Baseline: "B alone", the same job of B on an idle queue. Also shown, "FIFO":
the same burst with the per-shop cap lifted (SHOP_JOB_CAP = burst size), which
is what one queue without fairness does. The last line prints B's wait with
fairness, and its ratio to the idle baseline (lower is better; FIFO's ratio is
the starvation fairness prevents). Runs in Redis db 3 of its own.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import testenv  # noqa: E402

testenv.apply()
os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL_FAIRNESS", "redis://127.0.0.1:6379/3")
from app import domains  # noqa: E402

domains.load()  # every handler registered, as in every entry point

from app.platform import tasks  # noqa: E402
from app.settings import get_settings  # noqa: E402

BURST = int(os.environ.get("BENCH_BURST", "1000"))
JOB_MS = float(os.environ.get("BENCH_JOB_MS", "5"))
DONE = "bench:fairness:done"


def work(shop: str, n: int) -> None:
    """A job: a little work, then note when it finished."""
    time.sleep(JOB_MS / 1000)
    tasks.redis_conn().hset(DONE, f"{shop}:{n}", repr(time.time()))


def _run(burst: int, cap: int) -> tuple[float, float]:
    """(B's wait, time to finish everything) in seconds."""
    get_settings().shop_job_cap = cap
    r = tasks.redis_conn()
    r.flushdb()
    shop_a, shop_b = uuid.uuid4(), uuid.uuid4()
    for i in range(burst):
        tasks.enqueue("bench.shop_fairness.work", "A", i, queue_name="default", shop=shop_a)
    started = time.time()
    tasks.enqueue("bench.shop_fairness.work", "B", 0, queue_name="default", shop=shop_b)
    tasks.make_worker(["default"]).work(burst=True, logging_level="WARNING")  # one worker
    finished = r.hgetall(DONE)
    b_done = float(finished[b"B:0"])
    assert len(finished) == burst + 1, f"{len(finished)} of {burst + 1} jobs ran"
    return b_done - started, max(float(v) for v in finished.values()) - started


def main() -> None:
    alone, _ = _run(0, 2)
    fair, fair_all = _run(BURST, 2)
    fifo, fifo_all = _run(BURST, BURST + 1)
    print(f"B alone: {alone * 1000:.0f} ms")
    print(f"FIFO (no cap): B waited {fifo * 1000:.0f} ms behind A's {BURST} jobs; all done in {fifo_all:.1f} s")
    print(f"fair (cap 2): B waited {fair * 1000:.0f} ms; A's burst done in {fair_all:.1f} s")
    print(
        f"shop B's wait with a {BURST}-job burst of shop A: {fair * 1000:.0f} ms, ratio {fair / alone:.1f} of "
        f"'B alone' ({alone * 1000:.0f} ms; FIFO would be {fifo / alone:.0f}); "
        f"A's burst takes {fair_all / fifo_all:.2f}x the time it takes without fairness"
    )


if __name__ == "__main__":
    main()
