"""The event bus under load: events of many transactions go to RQ as one job
per handler, a handler's condition keeps unwanted events from being relayed
at all, a poisoned event does not hold up the rest of its batch, and a burst
of triggers for the same work costs one job."""

from __future__ import annotations

import pytest
from rq.registry import FailedJobRegistry
from sqlmodel import func, select

from app.platform import events, tasks
from app.platform.db import tenant_session
from app.platform.models import EventLog, Outbox, ProcessedEvent
from app.platform.tasks import queue
from tests.factories import make_tenant
from tests.integration import handlers  # registers the test handlers


def _recorded(tenant) -> int:
    with tenant_session(tenant.id) as s:
        return s.exec(select(func.count()).select_from(EventLog).where(EventLog.event_type == "test.recorded")).one()


def _publish_each(tenant, event_type: str, payloads: list[dict]) -> list:
    ids = []
    for payload in payloads:
        with tenant_session(tenant.id) as s:
            ids.append(events.publish(s, event_type, payload, source="test"))
            s.commit()
    return ids


def test_events_of_many_transactions_go_as_one_job_per_handler(worker):
    tenant = make_tenant()
    worker()
    before = queue("events").count
    with events.batched_relay():
        ids = _publish_each(tenant, "test.recorded", [{"note": f"n{i}"} for i in range(30)])
        with tenant_session(tenant.id) as s:  # committed, not yet relayed: the block has not ended
            assert (
                s.exec(
                    select(func.count()).select_from(Outbox).where(Outbox.id.in_(ids), Outbox.sent_at.is_(None))
                ).one()
                == 30
            )
    assert queue("events").count == before + 1  # one job carries all 30
    worker()
    assert _recorded(tenant) == 30
    with tenant_session(tenant.id) as s:
        assert (
            s.exec(select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id.in_(ids))).one() == 30
        )


def test_a_condition_keeps_unwanted_events_out_of_the_queue(worker):
    tenant = make_tenant()
    worker()
    before = queue("events").count
    unwanted, _wanted = _publish_each(tenant, "test.conditional", [{"wanted": False}, {"wanted": True}])
    assert queue("events").count == before + 1
    with tenant_session(tenant.id) as s:
        assert s.get(Outbox, unwanted).sent_at is not None  # stored, already sent: nothing to relay
    worker()
    assert _recorded(tenant) == 1
    # the sweep does not send it either
    assert events.relay(tenant.id, [unwanted]) == 0


def test_a_poisoned_event_fails_alone_and_the_rest_of_its_batch_applies(worker):
    tenant = make_tenant()
    with events.batched_relay():
        ids = _publish_each(tenant, "test.poisoned", [{"note": "a"}, {"poison": True}, {"note": "c"}])
    with pytest.raises(RuntimeError, match="poisoned"):
        events.run_handlers(tenant.id, ids, events.handler_name(handlers.poisoned))
    assert _recorded(tenant) == 2  # the two good ones applied
    # the retry applies nothing twice
    with pytest.raises(RuntimeError):
        events.run_handlers(tenant.id, ids, events.handler_name(handlers.poisoned))
    assert _recorded(tenant) == 2
    worker()  # the relayed job fails after its retries and is parked in the failed registry
    failed = FailedJobRegistry(queue=queue("events"))
    assert any(
        str(ids[1]) in str(jobs_args)
        for jobs_args in (job.args for job in (queue("events").fetch_job(j) for j in failed.get_job_ids()) if job)
    )


def test_a_burst_of_triggers_costs_one_job_and_none_is_missed(worker):
    worker()
    key = "test-burst"
    tasks.release_once(key)
    before = queue("default").count
    assert tasks.enqueue_once(key, _recorded_noop, queue_name="default") is True
    assert not any(tasks.enqueue_once(key, _recorded_noop, queue_name="default") for _ in range(20))
    assert queue("default").count == before + 1
    worker()  # the job releases the key first thing: the next trigger queues the next run
    assert tasks.enqueue_once(key, _recorded_noop, queue_name="default") is True
    worker()


def _recorded_noop() -> None:
    tasks.release_once("test-burst")


def _calls(tenant) -> list[str]:
    with tenant_session(tenant.id) as s:
        return list(
            s.exec(
                select(EventLog.message).where(EventLog.event_type == "test.batch-call").order_by(EventLog.created_at)
            )
        )


def test_a_batch_handler_gets_a_jobs_events_in_one_call_each_exactly_once(worker):
    tenant = make_tenant()
    with events.batched_relay():
        ids = _publish_each(tenant, "test.batched", [{"note": f"n{i}"} for i in range(12)])
    worker()
    assert _calls(tenant) == ["12"] and _recorded(tenant) == 12
    # redelivered (or retried after a crash): nothing is applied twice
    assert events.run_handlers(tenant.id, ids, events.handler_name(handlers.batched)) == {
        "handled": 0,
        "duplicate": 12,
        "failed": 0,
    }
    assert _recorded(tenant) == 12


def test_a_poisoned_event_in_a_batch_falls_back_to_one_by_one(worker):
    tenant = make_tenant()
    with events.batched_relay():
        ids = _publish_each(tenant, "test.batched", [{"note": "a"}, {"poison": True}, {"note": "c"}])
    with pytest.raises(RuntimeError, match="poisoned"):
        events.run_handlers(tenant.id, ids, events.handler_name(handlers.batched))
    assert _recorded(tenant) == 2 and _calls(tenant) == ["1", "1"]  # the good ones, each on its own
    worker()  # the relayed job: retried, still failing on the poisoned one only
    assert _recorded(tenant) == 2
