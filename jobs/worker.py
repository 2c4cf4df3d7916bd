"""`python -m jobs.worker [queue ...]`: an RQ worker with the scheduler on
(needed for Retry intervals and enqueue_in). Defaults to every queue."""

from __future__ import annotations

import logging
import sys

from rq import Worker

import app.handlers  # noqa: F401  import once in the parent; forks inherit it
from jobs import QUEUES, queue, redis_conn


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    names = argv or list(QUEUES)
    worker = Worker([queue(n) for n in names], connection=redis_conn())
    worker.work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
