"""Grid jobs: the pipeline of one generation job (the `slicing` queue, per
shop) and the hourly cleanup (cron, per shop)."""

from __future__ import annotations

from app.grid import service
from app.platform import tasks
from app.platform.db import tenant_session


@tasks.on_abandoned(service.pipeline_abandoned)
def run_pipeline(tenant_id: str, job_id: str) -> str:
    return service.run(tenant_id, job_id)


def expire(tenant_id: str) -> dict:
    """Cron, per shop, every hour: expire unused jobs, delete unused pieces,
    queue again the runs that were lost."""
    with tenant_session(tenant_id) as s:
        result = service.expire_unused(s)
        s.commit()
    return {"expired": result.expired_jobs, "deleted": result.deleted_pieces, "requeued": result.requeued_jobs}
