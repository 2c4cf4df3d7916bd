"""`python -m jobs.worker [queue ...]`: an RQ worker with the scheduler on
(needed for Retry intervals and enqueue_in). Defaults to every queue.

It runs jobs in its own process (`tasks.ShopWorker`, RQ's SimpleWorker)
instead of forking a work-horse per job: a fork costs 0.1–0.3 s here (a fresh
process, new database and Redis connections), which made the print farm's
many small event jobs wait on each other (bench/order_pipeline.py). Handlers
are short and idempotent; a crashed worker's job is retried from the
started-job registry as before. Set WORKER_FORK=1 to fork per job (memory
isolation for odd workloads). Every log record carries the job's shop and
correlation id."""

from __future__ import annotations

import os
import sys

from app import domains
from app.platform import logs, tasks


def main(argv: list[str]) -> None:
    logs.setup()
    domains.load()  # once in the parent; forks inherit it
    worker = tasks.make_worker(argv or list(tasks.QUEUES), fork=os.environ.get("WORKER_FORK") == "1")
    worker.work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
