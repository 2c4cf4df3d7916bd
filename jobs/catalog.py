"""RQ entry points of the catalog domain."""

from __future__ import annotations

from app.catalog import importer
from app.platform import tasks


@tasks.on_abandoned(importer.import_abandoned)
def run_import(run_id: str) -> str:
    """Run a queued catalog import; progress goes to its row, the live
    channel and this job's meta."""
    from rq import get_current_job

    job = get_current_job()

    def progress(p: importer.Progress) -> None:
        if job is not None:
            job.meta["progress"] = p.as_dict()
            job.save_meta()

    return importer.import_catalog(run_id=run_id, progress=progress).status
