"""`python -m jobs.worker [queue ...]`: an RQ worker with the scheduler on
(needed for Retry intervals and enqueue_in). Defaults to every queue.

It runs jobs in its own process (RQ's SimpleWorker) instead of forking a
work-horse per job: a fork costs 0.1–0.3 s here (a fresh process, new database
and Redis connections), which made the print farm's many small event jobs wait
on each other (bench/order_pipeline.py). Handlers are short and idempotent;
a crashed worker's job is retried from the started-job registry as before.
Set WORKER_FORK=1 to fork per job (memory isolation for odd workloads)."""

from __future__ import annotations

import logging
import os
import sys

from rq import SimpleWorker, Worker

import app.handlers  # noqa: F401  import once in the parent; forks inherit it
from jobs import QUEUES, queue, redis_conn


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    names = argv or list(QUEUES)
    worker_class = Worker if os.environ.get("WORKER_FORK") == "1" else SimpleWorker
    worker = worker_class([queue(n) for n in names], connection=redis_conn())
    worker.work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
