"""Submitting jobs to SimplyPrint: QUEUED jobs without a queue item go out in
queue order (ORDER before STOCK, FIFO within each: seed ADR-063), a batch at
a time, safe to repeat or resume after a crash; failures go to the retry
queue."""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.integrations import simplyprint as sp
from app.platform import retry, tasks
from app.platform.db import session_tenant_id, tenant_session
from app.platform.models import utcnow
from app.printing import machine
from app.printing.models import AssemblyPart, PrintJob
from app.printing.service._common import _changed, _int, _log
from app.printing.service.connection import client, connection
from app.printing.service.mappings import _ensure_remote_file
from app.printing.service.triggers import _come_back_later, _submit_key, request_submission

SUBMIT_BATCH = 20  # jobs claimed, added and recorded together


def _queue_lock(tenant_id: uuid.UUID, *, wait: bool = True) -> contextlib.AbstractContextManager[bool]:
    """One submitter per tenant at a time (keeps the SimplyPrint queue FIFO)."""
    return tasks.advisory_lock(f"simplyprint-queue:{tenant_id}", wait=wait)


def pending_submissions(session: Session) -> list[uuid.UUID]:
    rows = session.exec(
        select(PrintJob.id, PrintJob.purpose, PrintJob.sequence).where(
            PrintJob.status == "QUEUED", col(PrintJob.simplyprint_queue_item_id).is_(None)
        )
    ).all()
    return [r[0] for r in sorted(rows, key=lambda r: machine.queue_key(r[1], r[2] or 0))]


def submit_pending(tenant_id: uuid.UUID | str, *, wait_busy: bool = True, slice_s: float | None = None) -> int:
    """Add every QUEUED job without a queue item to SimplyPrint, in queue order,
    SUBMIT_BATCH at a time (claim in one transaction, AddItem each, record in
    one transaction). Safe to run any number of times, concurrently, or after
    a crash: a job with a queue item id is skipped, and an item a killed run
    added but never recorded is found in the queue and adopted instead of
    added twice. The worker's run passes wait_busy=False (when another run
    holds the queue lock it comes back in a moment instead of waiting) and a
    `slice_s`: after that long it queues its continuation and returns, so a
    big backlog does not keep other work off its worker."""
    tid = uuid.UUID(str(tenant_id))
    with contextlib.suppress(Exception):  # from here on, a new trigger queues another run
        tasks.release_once(_submit_key(tid))
    started = time.monotonic()
    more = False
    with _queue_lock(tid, wait=wait_busy) as got:
        if not got:
            _come_back_later("submit", tid, _submit_key(tid))
            return 0
        done, seen = 0, set()
        files: dict[uuid.UUID, str] = {}
        while not more:  # until nothing new is pending: jobs created meanwhile go out in this run
            with tenant_session(tid) as s:
                c = client(s)
                conn = connection(s) if c is not None else None
                if c is None or conn is None:  # manual mode (or disconnected since client() read it)
                    return done
                group = conn.queue_group
                pending = [j for j in pending_submissions(s) if j not in seen]
            if not pending:
                break
            for start in range(0, len(pending), SUBMIT_BATCH):
                if slice_s is not None and time.monotonic() - started > slice_s:
                    more = True  # the rest goes in the continuation
                    break
                chunk = pending[start : start + SUBMIT_BATCH]
                seen.update(chunk)
                batch = _SubmitBatch(tid, c, group, files)
                try:
                    batch.run(chunk)
                except sp.SimplyPrintError as exc:
                    _submission_failed(tid, batch.failed_job, exc)
                    return done + batch.recorded
                done += batch.recorded
    if more:  # after the lock is let go
        request_submission(tid)
    return done


def _submission_failed(tid: uuid.UUID, job_id: uuid.UUID | None, exc: sp.SimplyPrintError) -> None:
    with tenant_session(tid) as s:
        job = s.get(PrintJob, job_id) if job_id else None
        if job is not None:
            job.error = f"SimplyPrint: {exc.message}"[:1000]
            job.updated_at = utcnow()
            s.add(job)
            _changed(s, job)
        conn = connection(s)
        if conn is not None:
            conn.last_error = f"{exc.message}"[:1000]
            s.add(conn)
        _retry_later(s, job, exc.message)
        s.commit()


def _retry_later(s: Session, job: PrintJob | None, error: str) -> None:
    """One PRINT_JOB_CREATION entry in the retry queue submits what is still
    pending, with backoff (and shows on the queue dashboard once it gives up)."""
    from app.platform.models import RetryEntry

    waiting = s.exec(
        select(RetryEntry.id).where(
            RetryEntry.job_type == "PRINT_JOB_CREATION", col(RetryEntry.status).in_(("PENDING", "PROCESSING"))
        )
    ).first()
    if waiting is None:
        retry.schedule(
            s,
            "PRINT_JOB_CREATION",
            order_id=job.order_id if job else None,
            payload={"printJobId": str(job.id) if job else "", "error": error[:500]},
        )


ABANDONED = "The worker stopped while sending this job to SimplyPrint; it is sent again shortly"


def submission_abandoned(tenant_id: uuid.UUID | str, *, retrying: bool) -> None:
    """The platform found a submission run dead with its worker. Its retry
    resumes the batch (what SimplyPrint already added is adopted, not added
    twice). With no retry left, the jobs it was sending say why they are not
    on SimplyPrint yet, and the retry queue sends them with backoff."""
    if retrying:
        return
    tid = uuid.UUID(str(tenant_id))
    with tenant_session(tid) as s:
        stuck = list(
            s.exec(
                select(PrintJob)
                .where(
                    PrintJob.status == "QUEUED",
                    col(PrintJob.simplyprint_queue_item_id).is_(None),
                    col(PrintJob.submitting_at).is_not(None),
                )
                .with_for_update()
            )
        )
        for job in stuck:
            job.error, job.updated_at = ABANDONED, utcnow()
            s.add(job)
            _changed(s, job)
        if stuck or pending_submissions(s):
            _retry_later(s, stuck[0] if stuck else None, ABANDONED)
        s.commit()


@retry.operation("PRINT_JOB_CREATION")
def _retry_submission(session: Session, entry) -> None:
    """Retry queue: submit what is still pending; raises while SimplyPrint refuses."""
    tid = session_tenant_id(session)
    with tenant_session(tid) as s:
        c = client(s)
        if c is None:
            return
        c.test()  # raises while SimplyPrint is unreachable: counts as a failed attempt
        pending = pending_submissions(s)
    if pending:
        submit_pending(tid)
        with tenant_session(tid) as s:
            left = pending_submissions(s)
        if left and left[0] in pending:
            raise RuntimeError(f"{len(left)} print job(s) still not on SimplyPrint")


def _retriable(exc: sp.SimplyPrintError) -> bool:
    """Worth trying again later as it is (SimplyPrint busy or unreachable)."""
    return exc.status_code is None or exc.status_code >= 500 or exc.status_code == 429


@dataclass
class _Claim:
    job_id: uuid.UUID
    part_id: uuid.UUID
    file_id: str
    filename: str
    resumed: bool  # an earlier run claimed it and may have added its item before dying
    purpose: str


class _SubmitBatch:
    """One batch of submissions: claim → AddItem (or adopt an orphan) → record
    → ORDER items moved before the STOCK items. Raises SimplyPrintError after
    recording what did go through; `failed_job` names the job it stopped at."""

    def __init__(self, tid: uuid.UUID, c: sp.SimplyPrintClient, group: int | None, files: dict) -> None:
        self.tid, self.c, self.group, self.files = tid, c, group, files
        self.recorded = 0
        self.failed_job: uuid.UUID | None = None

    def run(self, job_ids: list[uuid.UUID]) -> None:
        claims = self._claim(job_ids)
        if not claims:
            return
        orphans = self._orphan_finder(claims)
        added: list[tuple[_Claim, int]] = []
        try:
            for claim in claims:
                self.failed_job = claim.job_id
                item_id = orphans(claim) if orphans else None
                added.append((claim, item_id if item_id is not None else self._add(claim)))
            self.failed_job = None
        finally:
            recorded = self._record(added) if added else []
            self.recorded = len(recorded)
        ordered = [item for claim, item in recorded if claim.purpose == "ORDER"]
        if ordered:
            _place_before_stock(self.tid, self.c, ordered, self.group)

    def _claim(self, job_ids: list[uuid.UUID]) -> list[_Claim]:
        claims: list[_Claim] = []
        with tenant_session(self.tid) as s:
            jobs = {j.id: j for j in s.exec(select(PrintJob).where(col(PrintJob.id).in_(job_ids)).with_for_update())}
            part_ids = {j.assembly_part_id for j in jobs.values() if j.assembly_part_id}
            if part_ids:  # into the identity map: the loop below runs no query, its writes go in one flush
                list(s.exec(select(AssemblyPart).where(col(AssemblyPart.id).in_(part_ids))))
            for job_id in job_ids:  # queue order
                job = jobs.get(job_id)
                if job is None or job.status != "QUEUED" or job.simplyprint_queue_item_id:
                    continue
                part = s.get(AssemblyPart, job.assembly_part_id) if job.assembly_part_id else None
                if part is None or not (part.simplyprint_file_id or part.file_key):
                    message = "no file for this part: upload its G-code on the product's page"
                    if job.error != message:
                        job.error, job.updated_at = message, utcnow()
                        s.add(job)
                        _log(s, job, "print-job.not-submitted", f"{job.part_name}: {message}", severity="WARNING")
                    continue
                if part.id not in self.files:
                    self.failed_job = job.id
                    self.files[part.id] = _ensure_remote_file(s, self.c, part)
                claims.append(
                    _Claim(
                        job.id,
                        part.id,
                        self.files[part.id],
                        job.filename or part.filename,
                        job.submitting_at is not None,
                        job.purpose,
                    )
                )
                job.submitting_at = utcnow()
                job.filename = job.filename or part.filename
                s.add(job)
            s.commit()
        self.failed_job = None
        return claims

    def _orphan_finder(self, claims: list[_Claim]):
        """For resumed claims: a queue item an interrupted run added but never
        recorded (same file, nothing printed yet, known to none of our jobs)."""
        if not any(c.resumed for c in claims):
            return None
        items = sorted(self.c.queue_items(self.group), key=lambda i: int(i.get("id") or 0))
        with tenant_session(self.tid) as s:
            taken = set(
                s.exec(
                    select(PrintJob.simplyprint_queue_item_id).where(
                        col(PrintJob.simplyprint_queue_item_id).is_not(None)
                    )
                )
            )

        def find(claim: _Claim) -> int | None:
            if not claim.resumed:
                return None
            for item in items:
                item_id = _int(item.get("id"))
                if (
                    item_id is None
                    or item_id in taken
                    or (item.get("filename") or "") != claim.filename
                    or int(item.get("printed") or 0)
                ):
                    continue
                taken.add(item_id)
                return item_id
            return None

        return find

    def _add(self, claim: _Claim) -> int:
        try:
            return self.c.add_to_queue(claim.file_id, amount=1, group=self.group)
        except sp.SimplyPrintError as exc:
            if _retriable(exc):
                raise
        with tenant_session(self.tid) as s:  # the upload expired or was unknown: upload again, once
            part = s.get(AssemblyPart, claim.part_id)
            if part is None or not part.file_key:
                raise sp.SimplyPrintError(f"SimplyPrint does not know the file of {claim.filename}")
            self.files[claim.part_id] = _ensure_remote_file(s, self.c, part, force=True)
            s.commit()
        claim.file_id = self.files[claim.part_id]
        return self.c.add_to_queue(claim.file_id, amount=1, group=self.group)

    def _record(self, added: list[tuple[_Claim, int]]) -> list[tuple[_Claim, int]]:
        recorded, stray = [], []
        with tenant_session(self.tid) as s:
            jobs = {
                j.id: j
                for j in s.exec(
                    select(PrintJob).where(col(PrintJob.id).in_([c.job_id for c, _ in added])).with_for_update()
                )
            }
            for claim, item_id in added:
                job = jobs.get(claim.job_id)
                if job is None or job.simplyprint_queue_item_id or job.status != "QUEUED":
                    # cancelled (or recorded by someone else) meanwhile: take our item back out
                    if job is None or job.simplyprint_queue_item_id != item_id:
                        stray.append(item_id)
                    continue
                job.simplyprint_queue_item_id = item_id
                job.error, job.updated_at = "", utcnow()
                s.add(job)
                _log(
                    s,
                    job,
                    "print-job.submitted",
                    f"{job.part_name} #{job.copy_number} queued on SimplyPrint (queue item {item_id})",
                    meta={"queueItemId": item_id},
                )
                recorded.append((claim, item_id))
            s.commit()
        for item_id in stray:
            with contextlib.suppress(sp.SimplyPrintError):
                self.c.delete_queue_item(item_id)
        return recorded


def _item_position(item: dict, fallback: int) -> int:
    for key in ("index", "sort_order"):
        try:
            if item.get(key) is not None:
                return int(item[key])
        except (TypeError, ValueError):
            continue
    return fallback


def _place_before_stock(tid: uuid.UUID, c: sp.SimplyPrintClient, item_ids: list[int], group: int | None) -> None:
    """ADR-063: each new ORDER item goes right before the first STOCK item, in
    the order given (so ORDER items stay FIFO among themselves, and every
    STOCK item waits behind them)."""
    with tenant_session(tid) as s:
        stock = set(
            s.exec(
                select(PrintJob.simplyprint_queue_item_id).where(
                    PrintJob.purpose == "STOCK",
                    col(PrintJob.status).in_(("QUEUED", "ASSIGNED")),
                    col(PrintJob.simplyprint_queue_item_id).is_not(None),
                )
            )
        )
    if not stock:
        return  # nothing to overtake: the items are already behind every ORDER item (FIFO)
    items = c.queue_items(group)
    listed = [(_item_position(i, n), _int(i.get("id"))) for n, i in enumerate(items, 1)]
    order = [item_id for _, item_id in sorted(listed, key=lambda p: p[0]) if item_id is not None]
    for item_id in item_ids:
        stock_at = [n for n, i in enumerate(order) if i in stock]
        if item_id not in order or not stock_at:
            continue
        mine, first_stock = order.index(item_id), min(stock_at)
        if mine > first_stock:
            c.set_order(item_id, to=first_stock + 1, frm=mine + 1)
            order.insert(first_stock, order.pop(mine))
