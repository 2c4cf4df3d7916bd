"""The event bus: a transactional outbox relayed to RQ.

- `publish(session, event_type, payload)` adds an outbox row to the caller's
  transaction: the event exists if and only if the business change committed.
- After the commit, the relay enqueues one RQ job for the transaction's
  events and the handlers that want them (`handle_events(tenant, [event
  ids], [handlers])`) and marks the rows sent. Inside `batched_relay()` (a worker draining a backlog
  in many short transactions) the events of all those transactions go out
  together when the block ends: under load a job carries many events, so RQ's
  per-job cost is paid once per batch instead of once per event and handler. If Redis is
  down (or the process dies before the relay) the rows stay unsent and the
  cron sweep (`sweep_outbox`) sends them later.
- A handler may subscribe with a condition on the envelope
  (`@handles("print-job.status-changed", when=is_revival)`): the relay
  enqueues it only for events it wants. An event nobody wants is stored
  already sent, with no relay at all.
- `run_handlers()` applies each event in its own transaction and records
  `(event_id, handler)` in processed_events in that transaction, so a
  redelivered event, or a retry after a worker died mid-job, is applied
  exactly once.

Handlers register with `@handles("order.created")` in their domain's
`events.py`; each domain names those modules in its door (`domain.py`), and
`app.domains.load()` imports them in every process before anything is
published (`publish` refuses to run before that: an event published with its
handlers unknown would be stored as wanted by nobody).

The correlation id of the request, webhook or job that publishes an event
goes into its envelope, and a handler runs with it (`logs.context`), so what
the handler publishes, enqueues and logs carries it on.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.platform import logs, tasks
from app.platform.batching import AfterCommitBatch
from app.platform.db import collect_on_commit, session_tenant_id, tenant_ids, tenant_session
from app.platform.models import Outbox, ProcessedEvent, utcnow

log = logging.getLogger(__name__)

# A handler's second argument is the envelope (a dict); a batch=True
# handler's is a list of envelopes.
Handler = Callable[[Session, Any], None]
Condition = Callable[[dict], bool]
_HANDLERS: dict[str, dict[str, Handler]] = {}
_CONDITIONS: dict[str, Condition] = {}  # handler name → which envelopes it wants
_BATCHED: set[str] = set()  # handlers that take a list of envelopes
BATCH = 100  # events per handler job at most
_registry_complete = False


def registry_complete() -> None:
    """Every domain's handlers are registered (called by `app.domains.load()`)."""
    global _registry_complete
    _registry_complete = True


def handler_name(fn: Handler) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def handles(*event_types: str, when: Condition | None = None, batch: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler `fn(session, envelope)` for one or more event types;
    `when(envelope)` (optional) says which of those events it wants at all.
    A `batch` handler is `fn(session, [envelope, ...])`: a job's events are
    applied in one transaction (each still exactly once), so work they share
    (one order's progress after ten of its prints finished) is done once."""

    def register(fn: Handler) -> Handler:
        for et in event_types:
            _HANDLERS.setdefault(et, {})[handler_name(fn)] = fn
        if when is not None:
            _CONDITIONS[handler_name(fn)] = when
        if batch:
            _BATCHED.add(handler_name(fn))
        return fn

    return register


def handlers_for(event_type: str, envelope: dict | None = None) -> dict[str, Handler]:
    """The handlers of an event type; given the envelope, only those that want it."""
    found = dict(_HANDLERS.get(event_type, {}))
    if envelope is not None:
        found = {name: fn for name, fn in found.items() if name not in _CONDITIONS or _CONDITIONS[name](envelope)}
    return found


def resolve_handler(name: str) -> Handler:
    for registered in _HANDLERS.values():
        if name in registered:
            return registered[name]
    module, _, qualname = name.partition(":")
    obj = importlib.import_module(module)  # registers it as a side effect
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[return-value]


def publish(
    session: Session,
    event_type: str,
    payload: dict | None = None,
    *,
    source: str = "shopfloor",
    correlation_id: str | None = None,
) -> uuid.UUID:
    """Write an event into the caller's transaction. Relayed after commit."""
    if not _registry_complete:
        raise RuntimeError("publish() before the domains were loaded: call app.domains.load() at start-up")
    tenant_id = session_tenant_id(session)
    correlation_id = correlation_id or logs.correlation_id()
    event_id = uuid.uuid4()
    envelope = {
        "eventId": str(event_id),
        "eventType": event_type,
        "source": source,
        "tenantId": str(tenant_id),
        "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
        "correlationId": correlation_id,
        **(payload or {}),
    }
    wanted = list(handlers_for(event_type, envelope))
    session.add(
        Outbox(
            id=event_id,
            tenant_id=tenant_id,
            event_type=event_type,
            payload=envelope,
            sent_at=None if wanted else utcnow(),
        )
    )  # nobody wants it: nothing to relay
    if wanted:
        collect_on_commit(session, "events.relay", lambda events: _relay_after_commit(tenant_id, events)).append(
            (event_id, wanted)
        )
    return event_id


def _relay_all(pending: dict[uuid.UUID, list[tuple[uuid.UUID, list[str]]]]) -> None:
    for tenant_id, events in pending.items():
        relay_committed(tenant_id, events)


_batch = AfterCommitBatch(_relay_all)  # {tenant_id: [(event_id, handlers)]} while a block is open
batched_relay = _batch.block  # relay the events of every transaction committed inside, together at the end
flush_relay = _batch.flush  # inside batched_relay(): relay what has been committed so far now


def _relay_after_commit(tenant_id: uuid.UUID, pending: list[tuple[uuid.UUID, list[str]]]) -> None:
    batch = _batch.pending
    if batch is not None:
        batch.setdefault(tenant_id, []).extend(pending)
    else:
        relay_committed(tenant_id, pending)


def _enqueue_grouped(tenant_id: uuid.UUID, events: list[tuple[uuid.UUID, list[str]]]) -> None:
    """One RQ job per set of handlers per BATCH of their events, in publication
    order (an order.created wanted by two handlers is one job, not two)."""
    by_handlers: dict[tuple[str, ...], list[uuid.UUID]] = {}
    for event_id, names in events:
        by_handlers.setdefault(tuple(sorted(names)), []).append(event_id)
    for names, ids in by_handlers.items():
        for start in range(0, len(ids), BATCH):
            enqueue_event_handlers(tenant_id, ids[start : start + BATCH], list(names))


def enqueue_event_handlers(tenant_id: uuid.UUID, event_ids: list[uuid.UUID], handlers: str | list[str]) -> Any:
    """One job applying the handler(s) to a batch of events (in this order)."""
    ids = [str(e) for e in event_ids]
    names = [handlers] if isinstance(handlers, str) else list(handlers)
    digest = hashlib.sha1("|".join([*names, *ids]).encode()).hexdigest()[:16]
    what = f"event {ids[0]}" if len(ids) == 1 else f"{len(ids)} events from {ids[0]}"
    return tasks.enqueue(
        "jobs.events.handle_events",
        str(tenant_id),
        ids,
        names,
        queue_name="events",
        shop=tenant_id,
        job_id=f"evt-{ids[0]}-{digest}",
        description=f"{', '.join(names)} ← {what}",
    )


def relay_committed(tenant_id: uuid.UUID, events: list[tuple[uuid.UUID, list[str]]]) -> int:
    """The fast path after a commit: we already know the events and who wants
    them, so enqueue the handler jobs and mark the rows sent with one UPDATE.
    If Redis is down nothing is marked and the sweep sends them later."""
    with tenant_session(tenant_id) as s:
        sent = _send(s, tenant_id, events)
        s.commit()
    return sent


def relay(
    tenant_id: uuid.UUID, event_ids: list[uuid.UUID] | None = None, *, older_than: timedelta | None = None
) -> int:
    """Enqueue unsent outbox rows (given ones, or all older than `older_than`).

    Rows are locked with SKIP LOCKED so the post-commit relay and the sweep
    never send the same row at the same time. Returns how many were sent.
    """
    with tenant_session(tenant_id) as s:
        q = select(Outbox).where(col(Outbox.sent_at).is_(None)).order_by(col(Outbox.created_at))
        if event_ids is not None:
            q = q.where(col(Outbox.id).in_(event_ids))
        if older_than is not None:
            q = q.where(Outbox.created_at < utcnow() - older_than)
        rows = list(s.exec(q.limit(500).with_for_update(skip_locked=True)))
        if not rows:
            return 0
        sent = _send(s, tenant_id, [(row.id, list(handlers_for(row.event_type, row.payload))) for row in rows])
        s.commit()
    return sent


def _send(session: Session, tenant_id: uuid.UUID, events: list[tuple[uuid.UUID, list[str]]]) -> int:
    """Enqueue the events' handler jobs and record the outcome on their rows in
    the caller's transaction: sent, or (Redis unreachable) one more failed
    attempt, left for the sweep."""
    ids = [event_id for event_id, _ in events]
    try:
        _enqueue_grouped(tenant_id, events)
    except Exception as exc:
        log.warning("outbox relay of %d event(s) failed (%s); the sweep will retry", len(ids), exc)
        session.execute(
            update(Outbox)
            .where(col(Outbox.id).in_(ids))
            .values(attempts=Outbox.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
        )
        return 0
    session.execute(
        update(Outbox)
        .where(col(Outbox.id).in_(ids), col(Outbox.sent_at).is_(None))
        .values(sent_at=utcnow(), attempts=Outbox.attempts + 1, last_error="")
    )
    return len(ids)


def sweep_outbox(tenant_id: uuid.UUID | str | None = None, *, min_age_seconds: float = 5) -> int:
    """Relay one shop's stragglers (rows the post-commit relay missed): cron
    runs one such job per shop. Without a shop, every shop's, one by one."""
    return sum(relay(tid, older_than=timedelta(seconds=min_age_seconds)) for tid in tenant_ids(tenant_id))


def run_handler_set(tenant_id: uuid.UUID | str, event_ids: Sequence[uuid.UUID | str], names: list[str]) -> dict:
    """The RQ job body: each handler over the events. Every handler gets its
    turn even when another fails; then the first error is raised (RQ retries
    the job, and what was applied is skipped as a duplicate)."""
    results, first_error = {}, None
    for name in names:
        try:
            results[name] = run_handlers(tenant_id, event_ids, name)
        except Exception as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return results


def run_handlers(tenant_id: uuid.UUID | str, event_ids: Sequence[uuid.UUID | str], name: str) -> dict[str, int]:
    """Apply one handler to each of a batch of events exactly once (the RQ job
    body): each event in its own transaction, in order; events they publish
    are relayed together at the end. If an event fails the others still
    apply, and the first error is raised afterwards so RQ retries the job
    (events already applied are then skipped as duplicates)."""
    from app.platform import live

    counts = {"handled": 0, "duplicate": 0, "failed": 0}
    first_error: BaseException | None = None
    with batched_relay(), live.batched():
        if name in _BATCHED and len(event_ids) > 1:
            try:
                return _run_batch(tenant_id, event_ids, name)
            except Exception:  # find the culprit: one event at a time, each on its own
                log.warning(
                    "batch of %d events for %s failed; applying them one by one", len(event_ids), name, exc_info=True
                )
        for event_id in event_ids:
            try:
                counts[run_handler(tenant_id, event_id, name)] += 1
            except Exception as exc:  # one poisoned event must not hold up the rest
                counts["failed"] += 1
                log.exception("handler %s failed on event %s", name, event_id)
                first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return counts


def _run_batch(tenant_id: uuid.UUID | str, event_ids: Sequence[uuid.UUID | str], name: str) -> dict[str, int]:
    """A batch handler's events in one transaction: claim them all, apply the
    ones not applied before in one call, commit. Any error rolls it all back."""
    fn = resolve_handler(name)
    ids = [uuid.UUID(str(e)) for e in event_ids]
    with tenant_session(tenant_id) as s:
        rows = {row.id: row for row in s.exec(select(Outbox).where(col(Outbox.id).in_(ids)))}
        if len(rows) != len(set(ids)):
            raise LookupError(f"{len(set(ids)) - len(rows)} event(s) are not in this tenant's outbox")
        tid = session_tenant_id(s)
        claimed = set(
            s.execute(
                insert(ProcessedEvent)
                .values([{"tenant_id": tid, "event_id": i, "handler": name} for i in dict.fromkeys(ids)])
                .on_conflict_do_nothing()
                .returning(col(ProcessedEvent.event_id))
            ).scalars()
        )
        envelopes = [dict(rows[i].payload) for i in dict.fromkeys(ids) if i in claimed]
        if envelopes:
            with logs.context(correlation_id=envelopes[0].get("correlationId")):
                fn(s, envelopes)
        s.commit()
    return {"handled": len(envelopes), "duplicate": len(set(ids)) - len(envelopes), "failed": 0}


def run_handler(tenant_id: uuid.UUID | str, event_id: uuid.UUID | str, name: str) -> str:
    """Apply one handler to one event exactly once, in one transaction."""
    fn = resolve_handler(name)
    with tenant_session(tenant_id) as s:
        row = s.get(Outbox, uuid.UUID(str(event_id)))
        if row is None:
            raise LookupError(f"event {event_id} is not in this tenant's outbox")
        claimed = s.exec(
            insert(ProcessedEvent)
            .values(tenant_id=row.tenant_id, event_id=row.id, handler=name)
            .on_conflict_do_nothing()
            .returning(col(ProcessedEvent.event_id))
        ).first()
        if claimed is None:
            s.rollback()
            return "duplicate"
        with logs.context(correlation_id=(row.payload or {}).get("correlationId")):
            fn(s, [dict(row.payload)] if name in _BATCHED else dict(row.payload))
            s.commit()
    return "handled"
