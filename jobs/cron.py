"""Periodic work for `rq cron jobs/cron.py`.

Each entry enqueues a job on a queue; the workers run it. Later domains add
reconciliation and replenishment lines here.
"""

from rq import cron

from app.settings import get_settings
from jobs.events import sweep
from jobs.maintenance import purge_expired_sessions
from jobs.printing import reconcile_due as simplyprint_reconcile_due
from jobs.retry import sweep as retry_sweep

cron.register(sweep, queue_name="events", interval=get_settings().outbox_sweep_seconds)
cron.register(retry_sweep, queue_name="integrations", interval=30)
cron.register(purge_expired_sessions, queue_name="default", interval=3600)
# SimplyPrint reconciliation: checks every minute, polls each tenant every poll_minutes (default 5)
cron.register(simplyprint_reconcile_due, queue_name="integrations", interval=60)
