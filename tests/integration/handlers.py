"""Handlers used only by the event-bus tests. Importable by a worker
subprocess (the handler name is `module:function`)."""

from __future__ import annotations

import os
import time

from sqlmodel import Session

from app.platform.events import handles
from app.platform.models import EventLog
from app.platform.tasks import redis_conn


@handles("test.recorded")
def record(session: Session, event: dict) -> None:
    session.add(
        EventLog(
            tenant_id=event["tenantId"],
            event_type="test.recorded",
            message=event.get("note", ""),
            meta={"eventId": event["eventId"]},
        )
    )


@handles("test.flaky")
def flaky(session: Session, event: dict) -> None:
    """Fails on its first N attempts (counted in Redis), then records."""
    attempts = redis_conn().incr(f"test:flaky:{event['eventId']}")
    if attempts <= int(event.get("failTimes", 1)):
        raise RuntimeError(f"flaky failure #{attempts}")
    record(session, event)


@handles("test.slow")
def slow(session: Session, event: dict) -> None:
    """Writes its effect, then (first attempt only) blocks so the test can
    SIGKILL the worker with the transaction still open."""
    session.add(
        EventLog(
            tenant_id=event["tenantId"], event_type="test.slow", message="applied", meta={"eventId": event["eventId"]}
        )
    )
    session.flush()
    r = redis_conn()
    if r.incr(f"test:slow:{event['eventId']}") == 1:
        r.set(f"test:slow:{event['eventId']}:started", os.getpid())
        time.sleep(120)


def _wanted(event: dict) -> bool:
    return bool(event.get("wanted"))


@handles("test.conditional", when=_wanted)
def conditional(session: Session, event: dict) -> None:
    """Subscribed only to events with `wanted` set."""
    record(session, event)


@handles("test.poisoned")
def poisoned(session: Session, event: dict) -> None:
    """Records, unless the event says `poison` (then it always fails)."""
    if event.get("poison"):
        raise RuntimeError("poisoned event")
    record(session, event)


@handles("test.batched", batch=True)
def batched(session: Session, events: list[dict]) -> None:
    """A batch handler: one EventLog per call saying how many events it got,
    one test.recorded per event; an event with `poison` fails the call."""
    if any(e.get("poison") for e in events):
        raise RuntimeError("poisoned event")
    session.add(
        EventLog(tenant_id=events[0]["tenantId"], event_type="test.batch-call", message=str(len(events)), meta={})
    )
    for event in events:
        record(session, event)
