"""Import the BuildCores OpenDB files into the global parts catalog.

`import_catalog()` reads the eight gzip JSON Lines files (`normalize.SOURCE_FILES`),
normalises each record and upserts it into `catalog_parts` by its `opendb_id`:
batches of `INSERT ... ON CONFLICT (id) DO UPDATE ... WHERE source_hash differs`,
so re-running creates nothing twice and rewrites only records that changed.
`source_hash` covers the upstream record and its normalised fields, so a change
in `normalize.py` also reaches the stored specs on the next run.

Progress is kept on a `CatalogImport` row and published on the live channel
`catalog` (see `service.CATALOG_CHANNEL`) after every batch; one import runs at
a time (a PostgreSQL advisory lock, released even if the process dies).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col

from app.catalog import normalize
from app.catalog.models import CatalogImport, CatalogPart
from app.catalog.slots import SLOTS
from app.platform import live
from app.platform.db import get_engine, platform_session
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import utcnow
from app.settings import get_settings

log = logging.getLogger(__name__)

BATCH = 500
LOCK_KEY = 0x5F0CA7A1  # pg advisory lock: one catalog import at a time
CATALOG_CHANNEL = "catalog"  # live.publish/subscribe key of the (global) import progress


@dataclass(frozen=True)
class Record:
    slot: str
    id: uuid.UUID
    name: str
    manufacturer: str
    specs: dict
    raw: dict
    source_hash: str


def data_dir_or_default(data_dir: str | Path | None) -> Path:
    path = Path(data_dir) if data_dir else Path(get_settings().catalog_data_path)
    missing = [f for f in normalize.SOURCE_FILES.values() if not (path / f).is_file()]
    if missing:
        raise ValidationFailed(
            f"the catalog data folder {path} lacks {', '.join(missing)} (set CATALOG_DATA_PATH to the pc-parts folder)"
        )
    return path


def record_hash(name: str, manufacturer: str, specs: dict, raw: dict) -> str:
    blob = json.dumps([name, manufacturer, specs, raw], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def read_records(data_dir: Path) -> tuple[list[Record], int, int]:
    """Every importable record of every slot, plus (records read, skipped).
    Skipped: no or malformed `opendb_id`, no name, or an id seen before."""
    records: list[Record] = []
    seen: set[uuid.UUID] = set()
    read = skipped = 0
    for slot in SLOTS:
        for raw in normalize.iter_records(data_dir, slot):
            read += 1
            try:
                part_id = uuid.UUID(str(raw.get("opendb_id") or ""))
            except ValueError:
                skipped += 1
                continue
            name, manufacturer, specs = normalize.normalize(slot, raw)
            if not name or part_id in seen:
                skipped += 1
                continue
            seen.add(part_id)
            records.append(
                Record(
                    slot,
                    part_id,
                    name[:400],
                    manufacturer[:100],
                    specs,
                    raw,
                    record_hash(name, manufacturer, specs, raw),
                )
            )
    return records, read, skipped


# --- one import at a time ---------------------------------------------------------------


@contextmanager
def _import_lock() -> Iterator[bool]:
    """A session-level advisory lock on its own connection: held for the whole
    import, gone when the connection closes (a killed worker releases it)."""
    with get_engine().connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})


def import_running() -> bool:
    """True while some process holds the import lock."""
    with _import_lock() as got:
        return not got


QUEUED_GRACE_SECONDS = 60


def job_id(run_id: uuid.UUID | str) -> str:
    return f"catalog-import-{run_id}"


def _job_waiting(run_id: uuid.UUID) -> bool:
    """Whether the RQ job of a QUEUED run still exists (queued or running).
    Unknown (Redis unreachable) counts as waiting."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from app.platform.tasks import redis_conn

    try:
        job = Job.fetch(job_id(run_id), connection=redis_conn())
        return job.get_status(refresh=False) not in ("finished", "failed", "stopped", "canceled")
    except NoSuchJobError:
        return False
    except Exception:
        return True


def create_run(started_by: str = "", started_by_tenant_id: uuid.UUID | None = None) -> CatalogImport:
    """A QUEUED import row for a job to run, naming who asked and from which
    shop (None: the platform itself). Refuses while another import is queued
    or running; rows left RUNNING by a dead worker are closed as FAILED."""
    with platform_session() as s:
        open_runs = list(
            s.execute(
                select(CatalogImport).where(col(CatalogImport.status).in_(("QUEUED", "RUNNING"))).with_for_update()
            ).scalars()
        )
        running = bool(open_runs) and import_running()  # after the rows are locked: no run can start between
        for run in open_runs:
            age = (utcnow() - run.created_at).total_seconds()
            if run.status == "RUNNING" and not running:
                run.status, run.error, run.finished_at = "FAILED", "interrupted: the worker stopped", utcnow()
            elif run.status == "QUEUED" and age > QUEUED_GRACE_SECONDS and not _job_waiting(run.id):
                run.status, run.error, run.finished_at = "FAILED", "its job was lost before it started", utcnow()
            else:
                raise Conflict("a catalog import is already queued or running")
            s.add(run)
        run = CatalogImport(status="QUEUED", started_by=started_by[:200], started_by_tenant_id=started_by_tenant_id)
        s.add(run)
        s.commit()
        return run


@dataclass
class Progress:
    """The counters of a running import, written to its CatalogImport row."""

    id: uuid.UUID
    status: str = "RUNNING"
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    error: str = ""
    finished_at: datetime | None = None

    @property
    def percent(self) -> int:
        if self.status == "COMPLETED":
            return 100
        return min(99, int(100 * self.processed / self.total)) if self.total else 0

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "status": self.status,
            "total": self.total,
            "processed": self.processed,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "error": self.error,
        }


ProgressFn = Callable[[Progress], None]


def publish_progress(p: Progress) -> None:
    live.publish(CATALOG_CHANNEL, "catalog-import", **p.as_dict())


def _save(p: Progress, progress: ProgressFn | None, session: Session | None = None) -> None:
    values = {
        k: getattr(p, k)
        for k in ("status", "total", "processed", "created", "updated", "unchanged", "skipped", "error", "finished_at")
    }
    stmt = update(CatalogImport).where(col(CatalogImport.id) == p.id).values(**values)
    if session is None:
        with platform_session() as s:
            s.execute(stmt)
            s.commit()
    else:
        session.execute(stmt)
        session.commit()
    publish_progress(p)
    if progress is not None:
        progress(p)


def _upsert(session: Session, batch: list[Record]) -> tuple[int, int]:
    """Insert new parts, rewrite changed ones; returns (created, updated)."""
    now = utcnow()
    stmt = insert(CatalogPart).values(
        [
            {
                "id": r.id,
                "slot": r.slot,
                "name": r.name,
                "manufacturer": r.manufacturer,
                "specs": r.specs,
                "raw": r.raw,
                "source_hash": r.source_hash,
                "imported_at": now,
                "updated_at": now,
            }
            for r in batch
        ]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={
            "slot": stmt.excluded.slot,
            "name": stmt.excluded.name,
            "manufacturer": stmt.excluded.manufacturer,
            "specs": stmt.excluded.specs,
            "raw": stmt.excluded.raw,
            "source_hash": stmt.excluded.source_hash,
            "updated_at": stmt.excluded.updated_at,
        },
        where=col(CatalogPart.source_hash) != stmt.excluded.source_hash,
    ).returning(literal_column("xmax = 0"))
    created = updated = 0
    for (inserted,) in session.execute(stmt):
        if inserted:
            created += 1
        else:
            updated += 1
    return created, updated


def _begin(run_id: uuid.UUID | str | None, started_by: str) -> tuple[uuid.UUID, bool]:
    """The run's id (a new row without `run_id`) and whether it still needs running."""
    with platform_session() as s:
        if run_id is None:
            run = CatalogImport(status="RUNNING", started_by=started_by[:200])
            s.add(run)
            s.commit()
            return run.id, True
        run = s.get(CatalogImport, uuid.UUID(str(run_id)))
        if run is None:
            raise NotFound("no such catalog import")
        return run.id, run.status in ("QUEUED", "RUNNING")


def import_catalog(
    data_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
    started_by: str = "",
    *,
    run_id: uuid.UUID | str | None = None,
    batch_size: int = BATCH,
) -> CatalogImport:
    """Upsert the catalog from `data_dir` (default: settings.catalog_data_path).

    With `run_id` it runs that QUEUED row (the RQ job); without, it creates its
    own row (CLI, demo, tests). `progress(p)` is called after every batch.
    Returns the finished row: COMPLETED, or FAILED when another import holds
    the lock. Errors in the data (missing files, malformed lines) mark the row
    FAILED and raise."""
    from app.catalog.versions import bump_catalog_version

    with _import_lock() as got:
        ident, todo = _begin(run_id, started_by)
        if not todo:
            return get_run(ident)
        p = Progress(ident)
        if not got:
            p.status, p.error, p.finished_at = "FAILED", "another catalog import was running", utcnow()
            _save(p, progress)
            return get_run(ident)
        _save(p, progress)
        changed = False
        try:
            records, read, skipped = read_records(data_dir_or_default(data_dir))
            p.total, p.skipped, p.processed = read, skipped, skipped
            _save(p, progress)
            with platform_session() as s:
                known = dict(s.execute(select(col(CatalogPart.id), col(CatalogPart.source_hash))).all())
                for start in range(0, len(records), batch_size):
                    chunk = records[start : start + batch_size]
                    pending = [r for r in chunk if known.get(r.id) != r.source_hash]
                    created, updated = _upsert(s, pending) if pending else (0, 0)
                    changed = changed or bool(created or updated)
                    p.created += created
                    p.updated += updated
                    p.unchanged += len(chunk) - created - updated
                    p.processed += len(chunk)
                    _save(p, progress, s)  # the batch and its progress commit together
            p.status, p.finished_at = "COMPLETED", utcnow()
            _save(p, progress)
        except Exception as exc:
            log.exception("catalog import %s failed", ident)
            p.status, p.finished_at = "FAILED", utcnow()
            p.error = (exc.message if isinstance(exc, ValidationFailed) else f"{type(exc).__name__}: {exc}")[:2000]
            _save(p, progress)
            raise
        finally:
            if changed:
                bump_catalog_version()
    return get_run(ident)


ABANDONED = "The worker stopped during the import; start it again"


def import_abandoned(run_id: uuid.UUID | str, *, retrying: bool) -> None:
    """The platform found the import's job dead with its worker: unless a run
    of it is still going (it holds the import lock), or the job is retried,
    the row shows FAILED with the reason, and the catalog page's import button
    starts a new one."""
    if retrying:
        return  # the retry runs it again and moves the row itself
    with platform_session() as s:
        run = s.execute(
            select(CatalogImport).where(col(CatalogImport.id) == uuid.UUID(str(run_id))).with_for_update()
        ).scalar_one_or_none()
        if run is None or run.status not in ("QUEUED", "RUNNING") or import_running():
            return
        run.status, run.error, run.finished_at = "FAILED", ABANDONED, utcnow()
        s.add(run)
        s.commit()
        p = Progress(
            run.id,
            status=run.status,
            total=run.total,
            processed=run.processed,
            created=run.created,
            updated=run.updated,
            unchanged=run.unchanged,
            skipped=run.skipped,
            error=run.error,
            finished_at=run.finished_at,
        )
    publish_progress(p)


def latest_run() -> CatalogImport | None:
    with platform_session() as s:
        return (
            s.execute(select(CatalogImport).order_by(col(CatalogImport.created_at).desc()).limit(1)).scalars().first()
        )


def get_run(run_id: uuid.UUID | str) -> CatalogImport:
    try:
        ident = uuid.UUID(str(run_id))
    except ValueError as exc:
        raise NotFound("no such catalog import") from exc
    with platform_session() as s:
        run = s.get(CatalogImport, ident)
        if run is None:
            raise NotFound("no such catalog import")
        return run
