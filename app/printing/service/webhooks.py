"""SimplyPrint webhooks: each delivery is verified and stored in the inbox
(processed_simplyprint_webhooks) at once; a worker drains the inbox, matches
each delivery to our job and applies what it reports."""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.integrations import simplyprint as sp
from app.orders.models import Order
from app.platform import live, tasks
from app.platform.db import tenant_session
from app.platform.errors import Unauthorized, ValidationFailed
from app.platform.models import utcnow
from app.printing import machine
from app.printing.models import PrintJob, ProcessedSimplyPrintWebhook
from app.printing.service._common import _changed, _dict, _int, _job_by_item, _upsert_printer
from app.printing.service.connection import _route, client, forget_routes
from app.printing.service.jobs import apply_remote
from app.printing.service.triggers import _come_back_later, _drain_key, request_drain

log = logging.getLogger(__name__)


@dataclass
class WebhookResult:
    status: str  # accepted | duplicate | ignored | test
    record_id: uuid.UUID | None = None


def handle_webhook(tenant_slug: str, raw_body: bytes, headers: dict[str, str]) -> WebhookResult:
    """Verify the shared secret (X-SP-Secret or X-SP-Token), dedupe on
    (webhook_id, event, job uid, timestamp) and store the delivery in the
    inbox (processed_simplyprint_webhooks) in one short transaction; a worker
    drains the inbox (drain_webhooks). The answer goes back at once."""
    route = _route(tenant_slug)
    if route is None:
        raise Unauthorized("SimplyPrint is not connected for this shop")
    tenant_id, secret = route
    if not sp.verify_webhook(headers, secret):
        forget_routes(tenant_slug)  # perhaps the secret just changed: look again next time
        raise Unauthorized("the webhook secret does not match")
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"the body is not valid JSON: {exc}", code="malformed_json") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str) or not payload["event"]:
        raise ValidationFailed("not a SimplyPrint webhook (no event)", code="malformed_webhook")
    if payload.get("data") is not None and not isinstance(payload.get("data"), dict):
        raise ValidationFailed("not a SimplyPrint webhook (data is not an object)", code="malformed_webhook")
    event = payload["event"].strip().lower()
    if event == "test":
        return WebhookResult("test")
    webhook_id, _, ref, ts = sp.webhook_dedupe_key(payload)
    try:
        timestamp = int(float(ts or 0))
    except ValueError:
        timestamp = 0
    relevant = _relevant(event)
    with tenant_session(tenant_id) as s:
        record_id = s.execute(
            insert(ProcessedSimplyPrintWebhook)
            .values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                webhook_id=webhook_id[:40],
                event=event[:60],
                job_uid=ref[:64],
                timestamp=timestamp,
                payload=payload,
                received_at=utcnow(),
                outcome="received" if relevant else "ignored",
            )
            .on_conflict_do_nothing()
            .returning(col(ProcessedSimplyPrintWebhook.id))
        ).scalar()
        s.commit()
    if record_id is None:
        return WebhookResult("duplicate")
    if not relevant:
        return WebhookResult("ignored", record_id)
    request_drain(tenant_id)
    return WebhookResult("accepted", record_id)


DRAIN_BATCH = 200


def pending_webhooks(
    session: Session, *, exclude: set[uuid.UUID] | None = None, limit: int = DRAIN_BATCH
) -> list[tuple[uuid.UUID, str]]:
    """Stored deliveries not applied yet, oldest first: (record id, job uid)."""
    q = select(ProcessedSimplyPrintWebhook.id, ProcessedSimplyPrintWebhook.job_uid).where(
        col(ProcessedSimplyPrintWebhook.processed_at).is_(None), ProcessedSimplyPrintWebhook.outcome == "received"
    )
    if exclude:
        q = q.where(col(ProcessedSimplyPrintWebhook.id).not_in(exclude))
    q = q.order_by(col(ProcessedSimplyPrintWebhook.timestamp), col(ProcessedSimplyPrintWebhook.received_at))
    return [(r[0], r[1]) for r in session.exec(q.limit(limit))]


def drain_webhooks(
    tenant_id: uuid.UUID | str, *, wait_busy: bool = True, slice_s: float | None = None
) -> dict[str, int]:
    """Apply every stored delivery of the tenant, oldest first, DRAIN_BATCH
    to a transaction; the events and live updates they cause go out once per
    batch. One drain per tenant at a time (an advisory lock: a second run
    waits, then finds what arrived meanwhile). Jobs the webhooks name by uid
    only are looked up in SimplyPrint's job history a page at a time, not
    once per delivery. Deliveries whose queue item a submission is still
    recording stay in the inbox and the run raises SubmissionInFlight at the
    end, so RQ tries again in a moment. With `slice_s` (the worker's run) it
    queues its continuation after that long, like submit_pending."""
    from app.platform.events import batched_relay, flush_relay

    tid = uuid.UUID(str(tenant_id))
    with contextlib.suppress(Exception):  # from here on, a new delivery queues another run
        tasks.release_once(_drain_key(tid))
    counts: dict[str, int] = {}
    waiting: set[uuid.UUID] = set()
    started, more = time.monotonic(), False
    with tasks.advisory_lock(f"simplyprint-inbox:{tid}", wait=wait_busy) as got, batched_relay(), live.batched():
        if not got:
            _come_back_later("drain_webhooks", tid, _drain_key(tid))
            return counts
        while True:
            if slice_s is not None and time.monotonic() - started > slice_s:
                more = True  # the rest goes in the continuation
                break
            with tenant_session(tid) as s:
                rows = pending_webhooks(s, exclude=waiting)
                if not rows:
                    break
                c = client(s)
                uids = {uid for _, uid in rows if uid}
                known = (
                    set(s.exec(select(PrintJob.simplyprint_job_uid).where(col(PrintJob.simplyprint_job_uid).in_(uids))))
                    if uids
                    else set()
                )
            hints = _history_hints(c, uids - known) if c is not None and uids - known else {}
            with tenant_session(tid) as s:
                printers: dict[int, dict] = {}
                records = {
                    r.id: r
                    for r in s.exec(
                        select(ProcessedSimplyPrintWebhook)
                        .where(
                            col(ProcessedSimplyPrintWebhook.id).in_([r for r, _ in rows]),
                            col(ProcessedSimplyPrintWebhook.processed_at).is_(None),
                        )
                        .with_for_update(skip_locked=True)
                    )
                }
                known_jobs = KnownJobs.load(s, uids, set(hints.values()))
                for record_id, _ in rows:
                    if record_id not in records:
                        continue  # applied meanwhile (the poll's run, or a run before an upgrade)
                    try:
                        outcome = _apply_record(
                            s, records[record_id], hints=hints, c=c, printers=printers, known=known_jobs
                        )
                    except SubmissionInFlight:
                        waiting.add(record_id)
                        continue
                    counts[outcome] = counts.get(outcome, 0) + 1
                for printer_id, values in sorted(printers.items()):  # one lock order: no deadlock
                    _upsert_printer(s, printer_id, **values)
                s.commit()
            flush_relay()
            live.flush()
    if more:  # after the lock is let go
        request_drain(tid)
    if waiting:
        raise SubmissionInFlight(f"{len(waiting)} delivery(ies) name queue items a submission is still recording")
    return counts


def _history_hints(c: sp.SimplyPrintClient, uids: set[str], max_pages: int = 50) -> dict[str, int]:
    """uid → queue item id for SimplyPrint jobs we cannot place yet, read from
    the jobs history (newest first, 100 a page) until all are found; what is
    still missing is looked up one by one."""
    hints: dict[str, int] = {}
    for page in range(1, max_pages + 1):
        try:
            entries, pages = c.jobs(page=page, page_size=100)
        except sp.SimplyPrintError as exc:
            log.warning("SimplyPrint jobs history unavailable (%s); looking jobs up one by one", exc)
            break
        for entry in entries:
            uid = str(entry.get("uid") or "")
            item_id = _int(_dict(entry.get("queueItem")).get("id"))
            if uid in uids and item_id is not None:
                hints[uid] = item_id
        if len(hints) == len(uids) or page >= pages:
            break
    return hints


def _relevant(event: str) -> bool:
    """Job events move print jobs; the rest (printer.*, queue.*, …) are recorded
    and left to the reconciliation poll."""
    return machine.from_webhook(event) is not None or event in machine.WEBHOOK_EVENTS


class SubmissionInFlight(RuntimeError):
    """SimplyPrint already prints a queue item whose id our submitter has not
    recorded yet (it is between AddItem and its commit): try again shortly."""


@dataclass
class KnownJobs:
    """Jobs a drain batch locked up front (one query each instead of one per delivery)."""

    by_uid: dict[str, PrintJob] = field(default_factory=dict)
    by_item: dict[int, PrintJob] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, uids: set[str], item_ids: set[int]) -> KnownJobs:
        known = cls()
        if uids:
            for job in session.exec(
                select(PrintJob)
                .where(col(PrintJob.simplyprint_job_uid).in_(uids))
                .order_by(col(PrintJob.updated_at))
                .with_for_update()
            ):
                if job.simplyprint_job_uid is not None:  # always: it matched one of uids
                    known.by_uid[job.simplyprint_job_uid] = job  # the newest wins, as in find_job
        if item_ids:
            for job in session.exec(
                select(PrintJob).where(col(PrintJob.simplyprint_queue_item_id).in_(item_ids)).with_for_update()
            ):
                if job.simplyprint_queue_item_id is not None:  # always: it matched one of item_ids
                    known.by_item[job.simplyprint_queue_item_id] = job
        order_ids = {j.order_id for j in (*known.by_uid.values(), *known.by_item.values()) if j.order_id}
        if order_ids:  # in the session's identity map: applying the batch needs no query, so its
            list(session.exec(select(Order).where(col(Order.id).in_(order_ids))))  # writes go in one flush
        return known

    def find(self, uid: str | None, hints: dict[str, int] | None) -> PrintJob | None:
        if uid and uid in self.by_uid:
            return self.by_uid[uid]
        if uid and hints and uid in hints:
            return self.by_item.get(hints[uid])
        return None

    def saw(self, job: PrintJob) -> None:
        if job.simplyprint_job_uid:
            self.by_uid[job.simplyprint_job_uid] = job


def find_job(
    session: Session,
    c: sp.SimplyPrintClient | None,
    remote: dict,
    hints: dict[str, int] | None = None,
    known: KnownJobs | None = None,
) -> PrintJob | None:
    """Our job for a SimplyPrint job object. The webhook's job has no queue item
    id (contract §3 gap): known uid first, then `hints` (uid → queue item id
    from a history page the caller already read), then the jobs history's
    `queueItem.id`, then the job's details. Raises SubmissionInFlight when the
    item is one a submission is still recording."""
    uid = str(remote.get("uid") or "") or None
    if known is not None and (job := known.find(uid, hints)) is not None:
        return job
    item_id = _int((remote.get("queueItem") or {}).get("id")) if isinstance(remote.get("queueItem"), dict) else None
    job = _job_by_item(session, item_id)
    if job is None and uid:
        job = session.exec(
            select(PrintJob)
            .where(PrintJob.simplyprint_job_uid == uid)
            .order_by(col(PrintJob.updated_at).desc())
            .with_for_update()
        ).first()
    if job is None and uid and hints and uid in hints:
        item_id = hints[uid]
        job = _job_by_item(session, item_id)
        if job is None:
            _raise_if_in_flight(session, item_id)
        return job
    if job is not None or c is None or not uid:
        return job
    printer_id = _int(remote.get("printer_id")) or _int(
        (remote.get("printer") or {}).get("id") if isinstance(remote.get("printer"), dict) else None
    )
    found = False
    for page in (1, 2, 3):
        entries, pages = c.jobs(page=page, page_size=100, printer_ids=[printer_id] if printer_id else None)
        for entry in entries:
            if str(entry.get("uid") or "") == uid:
                item_id, found = _int(_dict(entry.get("queueItem")).get("id")), True
                break
        if found or page >= pages:
            break
    if not found:
        try:
            details = c.job(uid)
        except sp.SimplyPrintError:
            return None
        item_id = _int(_dict(details.get("queueItem")).get("id"))
    job = _job_by_item(session, item_id)
    if job is None:
        _raise_if_in_flight(session, item_id)
    return job


def _raise_if_in_flight(session: Session, item_id: int | None) -> None:
    if (
        item_id is not None
        and session.exec(
            select(PrintJob.id).where(
                PrintJob.status == "QUEUED",
                col(PrintJob.submitting_at) > utcnow() - timedelta(minutes=2),
                col(PrintJob.simplyprint_queue_item_id).is_(None),
            )
        ).first()
        is not None
    ):
        raise SubmissionInFlight(f"queue item {item_id} is not recorded yet")


_EVENT_PRINTER_STATE = {
    "job.started": "printing",
    "job.resumed": "printing",
    "job.paused": "paused",
    "job.done": "operational",
    "job.failed": "operational",
    "job.cancelled": "operational",
}


class _LookUpClient:
    """The default of `c` below: the client is looked up in the session's tenant."""


_CLIENT = _LookUpClient()


def process_webhook(
    session: Session,
    record_id: uuid.UUID | str,
    *,
    hints: dict[str, int] | None = None,
    c: sp.SimplyPrintClient | _LookUpClient | None = _CLIENT,
    printers: dict[int, dict] | None = None,
) -> str:
    """Apply one stored SimplyPrint delivery (drain_webhooks' body). A record
    another run is applying right now is skipped, not waited for. `c` is the
    caller's client (looked up when not given); with `printers` the printer
    state goes there (printer id → latest values) for the caller to write
    once, instead of an upsert per delivery. Raises SubmissionInFlight before
    writing anything."""
    rec = session.exec(
        select(ProcessedSimplyPrintWebhook)
        .where(ProcessedSimplyPrintWebhook.id == uuid.UUID(str(record_id)))
        .with_for_update(skip_locked=True)
    ).first()
    if rec is None or rec.processed_at is not None:
        return "done"
    return _apply_record(session, rec, hints=hints, c=c, printers=printers)


def _apply_record(
    session: Session,
    rec: ProcessedSimplyPrintWebhook,
    *,
    hints: dict[str, int] | None,
    c: sp.SimplyPrintClient | _LookUpClient | None,
    printers: dict[int, dict] | None,
    known: KnownJobs | None = None,
) -> str:
    data = _dict(rec.payload.get("data"))
    remote = data.get("job") if isinstance(data.get("job"), dict) else None
    outcome = "ignored"
    if remote is not None:
        if isinstance(c, _LookUpClient):  # only _CLIENT is one
            c = client(session)
        printer = remote.get("printer") if isinstance(remote.get("printer"), dict) else {}
        printer_id = _int(remote.get("printer_id")) or _int(printer.get("id"))
        percentage = _int(remote.get("percentage"))
        try:
            job = find_job(session, c, remote, hints, known)
        except sp.SimplyPrintError as exc:
            log.warning("SimplyPrint lookup for webhook %s failed: %s; the poll will catch up", rec.id, exc)
            job = None
        if printer_id and rec.event in _EVENT_PRINTER_STATE:
            printing = _EVENT_PRINTER_STATE[rec.event] in ("printing", "paused")
            state = dict(
                name=(printer.get("name") or None),
                online=True,
                state=_EVENT_PRINTER_STATE[rec.event],
                current_job_uid=str(remote.get("uid") or "") if printing else "",
                current_file=(remote.get("file") or "") if printing else "",
                percentage=percentage if printing and percentage is not None else 0,
            )
            if printers is not None:
                known_state = {k: v for k, v in state.items() if v is not None}
                printers[printer_id] = {**printers.get(printer_id, {}), **known_state}
            else:
                _upsert_printer(session, printer_id, **state)
            _changed(session)
        target = machine.from_webhook(rec.event) if rec.event.startswith("job.") else None
        if job is None:
            outcome = "unmatched"
        else:
            outcome = apply_remote(
                session,
                job,
                target,
                timestamp=rec.timestamp,
                job_uid=str(remote.get("uid") or "") or None,
                job_id=_int(remote.get("id")),
                printer_id=printer_id,
                printer_name=printer.get("name") or "",
                progress=percentage,
                error=f"SimplyPrint reported {rec.event}"
                + (f" on {printer.get('name')}" if printer.get("name") else ""),
            )
            rec.print_job_id = job.id
            if known is not None:
                known.saw(job)
    rec.outcome, rec.processed_at = outcome, utcnow()
    session.add(rec)
    return outcome
