"""Repairs bulk upload jobs: apply a previewed upload (thin: ids in, service
call), and the sweep that queues again uploads whose job was lost (cron, per shop)."""

from __future__ import annotations

import logging

from rq import get_current_job

from app.platform import tasks
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.repairs.service import imports

log = logging.getLogger(__name__)


def _abandoned(tenant_id: str, import_id: str, *, retrying: bool) -> None:
    """Its worker died mid-upload: it runs again (the rows written so far are
    upserted again as no-ops), or it is marked failed with a way to start it again."""
    if not retrying:
        imports.apply_failed(tenant_id, import_id, "the worker applying it stopped; start it again")


@tasks.on_abandoned(_abandoned)
def apply(tenant_id: str, import_id: str) -> dict:
    job = get_current_job()
    try:
        upload = imports.apply(tenant_id, import_id, job_id=job.id if job else "")
    except DomainError as exc:  # the file or the shop's data says no: running it again will not help
        imports.apply_failed(tenant_id, import_id, exc.message)
        return {"failed": exc.message}
    except Exception:
        if job is None or not tasks.will_retry(job):
            imports.apply_failed(tenant_id, import_id, "the upload could not be applied (an unexpected error)")
        log.exception("repairs upload %s failed", import_id)
        raise
    return {"created": upload.created_rows, "updated": upload.updated_rows, "errors": upload.error_rows}


def sweep(tenant_id: str) -> dict:
    """Cron, per shop, every few minutes: uploads whose job was lost are queued again."""
    with tenant_session(tenant_id) as s:
        requeued = imports.requeue_stale(s)
        s.commit()
    return {"requeued": requeued}
