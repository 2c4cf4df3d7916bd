"""The outbox: events exist iff their transaction committed, are relayed to
RQ after commit (or by the sweep when Redis was down), and are applied once."""

from __future__ import annotations

import pytest
from redis import Redis
from rq.registry import FailedJobRegistry
from sqlmodel import func, select

from app.platform import events, tasks
from app.platform.db import tenant_session
from app.platform.models import EventLog, Outbox, ProcessedEvent
from app.platform.tasks import queue
from tests.factories import make_tenant
from tests.integration import handlers  # registers the test handlers


def _count(tenant, model, *where):
    with tenant_session(tenant.id) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def _publish(tenant, event_type, **payload):
    with tenant_session(tenant.id) as s:
        event_id = events.publish(s, event_type, payload, source="test")
        s.commit()
    return event_id


def test_event_envelope_follows_the_seed_catalog():
    tenant = make_tenant()
    event_id = _publish(tenant, "test.recorded", note="hello")
    with tenant_session(tenant.id) as s:
        row = s.get(Outbox, event_id)
    env = row.payload
    assert set(env) >= {"eventId", "eventType", "source", "tenantId", "timestamp", "correlationId"}
    assert env["eventId"] == str(event_id) and env["tenantId"] == str(tenant.id)
    assert env["eventType"] == "test.recorded" and env["note"] == "hello"
    assert env["timestamp"].endswith("Z")


def test_published_event_is_relayed_after_commit_and_handled_once(worker):
    tenant = make_tenant()
    event_id = _publish(tenant, "test.recorded", note="once")
    with tenant_session(tenant.id) as s:
        assert s.get(Outbox, event_id).sent_at is not None  # relayed right after commit
    worker()
    assert _count(tenant, EventLog, EventLog.event_type == "test.recorded") == 1
    # redelivery of the same event (a second enqueue) changes nothing
    events.enqueue_event_handlers(tenant.id, [event_id], events.handler_name(handlers.record))
    worker()
    assert events.run_handler(tenant.id, event_id, events.handler_name(handlers.record)) == "duplicate"
    assert _count(tenant, EventLog, EventLog.event_type == "test.recorded") == 1
    assert _count(tenant, ProcessedEvent, ProcessedEvent.event_id == event_id) == 1


def test_rolled_back_transaction_publishes_nothing(worker):
    tenant = make_tenant()
    with tenant_session(tenant.id) as s:
        event_id = events.publish(s, "test.recorded", {"note": "never"})
        s.rollback()
    worker()
    assert _count(tenant, Outbox, Outbox.id == event_id) == 0
    assert _count(tenant, EventLog) == 0


def test_event_published_while_redis_is_down_is_handled_exactly_once(monkeypatch, worker):
    tenant = make_tenant()
    unreachable = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, socket_timeout=0.5)
    monkeypatch.setattr(tasks, "redis_conn", lambda: unreachable)

    event_id = _publish(tenant, "test.recorded", note="redis was down")  # commit succeeds anyway

    with tenant_session(tenant.id) as s:
        row = s.get(Outbox, event_id)
        assert row.sent_at is None and row.attempts == 1 and "ConnectionError" in row.last_error
    assert events.sweep_outbox(min_age_seconds=0) == 0  # Redis still down: still waiting, nothing lost

    monkeypatch.undo()  # Redis is back
    assert events.sweep_outbox(min_age_seconds=0) >= 1
    assert events.sweep_outbox(min_age_seconds=0) == 0  # sent once, not again
    worker()
    assert _count(tenant, EventLog, EventLog.event_type == "test.recorded") == 1
    assert _count(tenant, ProcessedEvent, ProcessedEvent.event_id == event_id) == 1


def test_failing_handler_is_retried_with_backoff_then_succeeds(worker):
    tenant = make_tenant()
    _publish(tenant, "test.flaky", failTimes=2, note="third time lucky")
    worker(timeout=30)
    assert _count(tenant, EventLog, EventLog.message == "third time lucky") == 1


def test_handler_that_keeps_failing_lands_in_the_failed_registry(worker):
    tenant = make_tenant()
    event_id = _publish(tenant, "test.flaky", failTimes=99)
    worker(timeout=30)
    failed = FailedJobRegistry(queue=queue("events"))
    ids = [j for j in failed.get_job_ids() if str(event_id) in j]
    assert len(ids) == 1
    job = queue("events").fetch_job(ids[0])
    assert "flaky failure #4" in job.latest_result().exc_string  # 1 try + 3 retries
    assert _count(tenant, ProcessedEvent, ProcessedEvent.event_id == event_id) == 0


def test_unknown_event_in_another_tenant_is_not_reachable():
    a, b = make_tenant(), make_tenant()
    event_id = _publish(a, "test.recorded")
    with pytest.raises(LookupError):
        events.run_handler(b.id, event_id, events.handler_name(handlers.record))


def test_a_rolled_back_savepoint_drops_only_its_own_after_commit_work():
    """Work registered inside a savepoint that rolls back never goes out; work
    registered before it, or in a savepoint that was kept, still does."""
    from sqlalchemy import text

    from app.platform.db import collect_on_commit, on_commit

    tenant = make_tenant()
    ran: list = []
    with tenant_session(tenant.id) as s:
        on_commit(s, lambda: ran.append("before"))
        box = collect_on_commit(s, "ids", lambda b: ran.append(("collected", list(b))))
        box.append(1)
        with pytest.raises(RuntimeError), s.begin_nested():
            on_commit(s, lambda: ran.append("rolled back"))
            box.append(2)
            raise RuntimeError("the savepoint's work fails")
        with s.begin_nested():
            on_commit(s, lambda: ran.append("kept"))
            box.append(3)
        s.execute(text("select 1"))
        s.commit()
    assert ran == ["before", ("collected", [1, 3]), "kept"]


def test_work_of_a_released_savepoint_goes_out_with_the_work_after_it_and_never_on_rollback():
    """A released savepoint is no commit: what was registered before it, in it and after
    it goes out once the transaction commits (the live reload of a spare part issued inside
    a savepoint was lost when the event after it registered more), and none of it goes
    out when the transaction rolls back after the savepoint was released."""
    from app.platform.db import collect_on_commit, on_commit

    tenant = make_tenant()
    ran: list = []
    with tenant_session(tenant.id) as s:
        on_commit(s, lambda: ran.append("before"))
        with s.begin_nested():
            box = collect_on_commit(s, "kinds", lambda b: ran.append(("collected", sorted(b))), factory=dict)
            box.setdefault("inventory", {})
        collect_on_commit(s, "kinds", lambda b: ran.append("a second box"), factory=dict).setdefault("orders", {})
        on_commit(s, lambda: ran.append("after"))
        s.commit()
    assert ran == ["before", ("collected", ["inventory", "orders"]), "after"]

    ran.clear()
    with tenant_session(tenant.id) as s:
        with s.begin_nested():
            on_commit(s, lambda: ran.append("in a savepoint"))
        s.rollback()
    assert ran == []
