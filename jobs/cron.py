"""Periodic work for `rq cron jobs/cron.py`: what every domain's door declares
(`Domain.periodic`). A per-shop task is one fan-out job that enqueues one job
per shop; it never loops over the shops inside one job."""

from rq import cron

from app import domains
from app.platform import logs, tasks
from app.settings import get_settings
from jobs.periodic import for_each_shop

logs.setup()
domains.load()

for p in domains.periodic():
    every = int(getattr(get_settings(), p.every)) if isinstance(p.every, str) else p.every
    if p.per_shop:
        cron.register(for_each_shop, queue_name=p.queue, interval=every, args=(p.target, p.queue))
    else:
        cron.register(tasks.resolve(p.target), queue_name=p.queue, interval=every)
