"""Reconciliation: the safety net for missed webhooks, polled every
poll_minutes per connected shop."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import true
from sqlmodel import Session, col, select

from app.integrations import simplyprint as sp
from app.platform.db import on_commit, session_tenant_id
from app.platform.models import utcnow
from app.printing import machine
from app.printing.models import Printer, PrintJob
from app.printing.service._common import _changed, _dict, _int, _job_by_item, _log, _upsert_printer
from app.printing.service.connection import client, connection
from app.printing.service.jobs import apply_remote, manual_mode
from app.printing.service.submission import pending_submissions
from app.printing.service.triggers import request_reconcile, submit_after_commit


@dataclass
class ReconcileResult:
    printers: int = 0
    corrected: int = 0
    progress: int = 0
    submitted_pending: int = 0
    skipped: str = ""
    errors: list[str] = field(default_factory=list)


def _epoch(value) -> int:
    if not value:
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC).timestamp())
    except ValueError:
        return 0


def reconcile(session: Session, *, history_pages: int = 2) -> ReconcileResult:
    """The safety net for missed webhooks: refresh the printer cache from
    printers/Get, then correct every job whose SimplyPrint history (via
    `queueItem.id`) or printer says otherwise, and queue the submission of
    jobs that never reached SimplyPrint. The caller commits."""
    result = ReconcileResult()
    conn = connection(session)
    c = client(session)
    if conn is None or c is None:
        result.skipped = "manual mode"
        return result
    try:
        remote_printers = c.printers()
        entries: list[dict] = []
        for page in range(1, history_pages + 1):
            batch, pages = c.jobs(page=page, page_size=100)
            entries.extend(batch)
            if page >= pages:
                break
    except sp.SimplyPrintError as exc:
        conn.last_error, conn.last_poll_at = exc.message[:1000], utcnow()
        session.add(conn)
        result.errors.append(exc.message)
        return result
    seen = set()
    current: dict[str, tuple[int, str, int | None]] = {}
    for p in remote_printers:
        pid = _int(p.get("id"))
        if pid is None:
            continue
        seen.add(pid)
        info = _dict(p.get("printer"))
        model = _dict(info.get("model"))
        rjob = _dict(p.get("job"))
        _upsert_printer(
            session,
            pid,
            name=str(info.get("name") or "")[:200],
            model=str(model.get("name") or "")[:100],
            state=str(info.get("state") or "offline")[:30],
            online=bool(info.get("online")),
            current_job_uid=str(rjob.get("uid") or "")[:64] or "",
            current_file=str(rjob.get("file") or "")[:255],
            percentage=_int(rjob.get("percentage")) or 0,
        )
        if rjob.get("uid"):
            current[str(rjob["uid"])] = (pid, str(info.get("name") or ""), _int(rjob.get("percentage")))
        result.printers += 1
    stale = session.exec(select(Printer).where(col(Printer.simplyprint_id).not_in(seen) if seen else true())).all()
    for printer in stale:
        session.delete(printer)
    # Oldest first, so a later attempt of the same queue item wins.
    for entry in sorted(entries, key=lambda e: _epoch(e.get("startDate")) or _int(e.get("id")) or 0):
        item = _dict(entry.get("queueItem"))
        job = _job_by_item(session, _int(item.get("id")))
        if job is None:
            continue
        target = machine.from_history(str(entry.get("status") or ""))
        uid = str(entry.get("uid") or "") or None
        on_printer = current.get(uid or "")
        outcome = apply_remote(
            session,
            job,
            target,
            via="reconcile",
            timestamp=_epoch(entry.get("endDate")) or _epoch(entry.get("startDate")),
            job_uid=uid,
            job_id=_int(entry.get("id")),
            printer_id=_int(entry.get("printer")),
            printer_name=on_printer[1] if on_printer else "",
            progress=_int(entry.get("currentPercentage")),
            error=f"SimplyPrint history says {entry.get('status')}",
        )
        if outcome == "applied":
            result.corrected += 1
    for uid, (pid, name, pct) in current.items():
        job = session.exec(select(PrintJob).where(PrintJob.simplyprint_job_uid == uid)).first()
        if job is not None and job.status == "PRINTING" and pct is not None and pct != job.progress:
            apply_remote(session, job, None, via="reconcile", progress=pct, printer_id=pid, printer_name=name)
            result.progress += 1
    result.submitted_pending = len(pending_submissions(session))
    if result.submitted_pending:
        submit_after_commit(session)
    conn.last_poll_at, conn.last_error = utcnow(), ""
    session.add(conn)
    _changed(session)
    if result.corrected:
        _log(
            session,
            None,
            "simplyprint.reconciled",
            f"Reconciliation corrected {result.corrected} print job(s) from SimplyPrint",
            severity="WARNING",
        )
    return result


def reconcile_now(session: Session) -> bool:
    """Staff ask for a poll now (normally every poll_minutes). In manual mode
    there is nothing to poll: False, and nothing is queued."""
    if manual_mode(session):
        return False
    tenant_id = session_tenant_id(session)
    on_commit(session, lambda: request_reconcile(tenant_id), key="printing.reconcile")
    return True


def reconcile_due(session: Session) -> bool:
    """Whether this tenant's poll is due (connected, enabled, interval passed)."""
    conn = connection(session)
    if conn is None or not conn.reconcile_enabled:
        return False
    if conn.last_poll_at is None:
        return True
    return (utcnow() - conn.last_poll_at).total_seconds() >= max(1, conn.poll_minutes) * 60 - 5
