"""The event bus: a transactional outbox relayed to RQ.

- `publish(session, event_type, payload)` adds an outbox row to the caller's
  transaction: the event exists if and only if the business change committed.
- After the commit, `relay()` enqueues one RQ job per registered handler and
  marks the row sent. If Redis is down the row stays unsent and the cron sweep
  (`sweep_outbox`) sends it later.
- `run_handler()` records `(event_id, handler)` in processed_events in the same
  transaction as the handler's own writes, so a redelivered event, or a retry
  after a worker died mid-job, is applied exactly once.

Handlers register with `@handles("order.created")` in their domain's
`events.py`; `app.handlers` imports all of them.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from app.platform.db import TENANT_KEY, all_tenant_ids, session_tenant_id, tenant_session
from app.platform.models import Outbox, ProcessedEvent, utcnow

log = logging.getLogger(__name__)

Handler = Callable[[Session, dict], None]
_HANDLERS: dict[str, dict[str, Handler]] = {}
_PENDING = "outbox_pending"


def handler_name(fn: Handler) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    """Register a handler `fn(session, envelope)` for one or more event types."""

    def register(fn: Handler) -> Handler:
        for et in event_types:
            _HANDLERS.setdefault(et, {})[handler_name(fn)] = fn
        return fn

    return register


def handlers_for(event_type: str) -> dict[str, Handler]:
    return dict(_HANDLERS.get(event_type, {}))


def resolve_handler(name: str) -> Handler:
    for registered in _HANDLERS.values():
        if name in registered:
            return registered[name]
    module, _, qualname = name.partition(":")
    obj = importlib.import_module(module)  # registers it as a side effect
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[return-value]


def publish(session: Session, event_type: str, payload: dict | None = None, *, source: str = "shopfloor",
            correlation_id: str | None = None) -> uuid.UUID:
    """Write an event into the caller's transaction. Relayed after commit."""
    tenant_id = session_tenant_id(session)
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
    session.add(Outbox(id=event_id, tenant_id=tenant_id, event_type=event_type, payload=envelope))
    session.info.setdefault(_PENDING, []).append((event_id, event_type))
    return event_id


@sa_event.listens_for(Session, "after_commit")
def _relay_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        relay_committed(session.info[TENANT_KEY], pending)


def relay_committed(tenant_id: uuid.UUID, events: list[tuple[uuid.UUID, str]]) -> int:
    """The fast path right after a commit: we already know the events, so
    enqueue their handlers and mark them sent with one UPDATE. If Redis is
    down nothing is marked and the sweep sends them later."""
    from jobs import enqueue_event_handler

    sent = []
    for event_id, event_type in events:
        try:
            for name in handlers_for(event_type):
                enqueue_event_handler(tenant_id, event_id, name)
        except Exception as exc:  # Redis unreachable: leave the rest for the sweep
            log.warning("outbox relay failed for %s (%s); the sweep will retry", event_id, exc)
            with tenant_session(tenant_id) as s:
                s.execute(update(Outbox).where(Outbox.id.in_([e for e, _ in events if e not in sent]))
                          .values(attempts=Outbox.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]))
                s.commit()
            break
        sent.append(event_id)
    if sent:
        with tenant_session(tenant_id) as s:
            s.execute(update(Outbox).where(Outbox.id.in_(sent), Outbox.sent_at.is_(None))
                      .values(sent_at=utcnow(), attempts=Outbox.attempts + 1, last_error=""))
            s.commit()
    return len(sent)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:  # noqa: ANN001
    session.info.pop(_PENDING, None)


def relay(tenant_id: uuid.UUID, event_ids: list[uuid.UUID] | None = None, *, older_than: timedelta | None = None) -> int:
    """Enqueue unsent outbox rows (given ones, or all older than `older_than`).

    Rows are locked with SKIP LOCKED so the post-commit relay and the sweep
    never send the same row at the same time. Returns how many were sent.
    """
    from jobs import enqueue_event_handler  # jobs imports us; import late

    sent = 0
    with tenant_session(tenant_id) as s:
        q = select(Outbox).where(Outbox.sent_at.is_(None)).order_by(Outbox.created_at)
        if event_ids is not None:
            q = q.where(Outbox.id.in_(event_ids))
        if older_than is not None:
            q = q.where(Outbox.created_at < utcnow() - older_than)
        rows = list(s.exec(q.limit(500).with_for_update(skip_locked=True)))
        for row in rows:
            try:
                for name in handlers_for(row.event_type):
                    enqueue_event_handler(tenant_id, row.id, name)
            except Exception as exc:  # Redis unreachable: leave it for the sweep
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                s.add(row)
                log.warning("outbox relay failed for %s (%s); the sweep will retry", row.id, exc)
                break
            row.sent_at = utcnow()
            row.attempts += 1
            row.last_error = ""
            s.add(row)
            sent += 1
        s.commit()
    return sent


def sweep_outbox(min_age_seconds: float = 5) -> int:
    """Cron: relay stragglers of every tenant (rows the post-commit relay missed)."""
    return sum(relay(tid, older_than=timedelta(seconds=min_age_seconds)) for tid in all_tenant_ids())


def run_handler(tenant_id: uuid.UUID | str, event_id: uuid.UUID | str, name: str) -> str:
    """Apply one handler to one event exactly once (the RQ job body)."""
    fn = resolve_handler(name)
    with tenant_session(tenant_id) as s:
        row = s.get(Outbox, uuid.UUID(str(event_id)))
        if row is None:
            raise LookupError(f"event {event_id} is not in this tenant's outbox")
        claimed = s.exec(
            insert(ProcessedEvent)
            .values(tenant_id=row.tenant_id, event_id=row.id, handler=name)
            .on_conflict_do_nothing()
            .returning(ProcessedEvent.event_id)
        ).first()
        if claimed is None:
            s.rollback()
            return "duplicate"
        fn(s, dict(row.payload))
        s.commit()
    return "handled"
