"""Live updates to open pages: a Redis channel per tenant.

Server code calls `notify_after_commit(session, kind, **data)`; the message
goes out once the transaction commits (never for rolled-back work). Reflex
background tasks `subscribe()` and refresh what they show. Best-effort: the
database stays the truth, pages also load fresh on every visit.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator

from sqlmodel import Session

from app.platform.batching import AfterCommitBatch
from app.platform.db import collect_on_commit, session_tenant_id
from app.settings import get_settings

log = logging.getLogger(__name__)
CHANNEL = "shopfloor:live:{tenant_id}"


def publish(tenant_id: uuid.UUID | str, kind: str, **data) -> None:
    from app.platform.tasks import redis_conn

    try:
        redis_conn().publish(CHANNEL.format(tenant_id=tenant_id), json.dumps({"kind": kind, **data}, default=str))
    except Exception as exc:
        log.debug("live update not sent: %s", exc)


def notify_after_commit(session: Session, kind: str, **data) -> None:
    tenant_id = session_tenant_id(session)
    collect_on_commit(session, "live", lambda pending: _send(tenant_id, pending), factory=dict).setdefault(kind, data)


def _publish_all(pending: dict[tuple, dict]) -> None:
    for (tenant_id, kind), data in pending.items():
        publish(tenant_id, kind, **data)


# One message per kind for all transactions committed inside a block, when it ends (a worker
# draining a backlog in many transactions): {(tenant_id, kind): data} while a block is open.
_batch = AfterCommitBatch(_publish_all)
batched = _batch.block
flush = _batch.flush  # inside batched(): send what has been committed so far now


def _send(tenant_id: uuid.UUID, pending: dict[str, dict]) -> None:
    """One message per kind per transaction (pages reload anyway)."""
    batch = _batch.pending
    for kind, data in pending.items():
        if batch is not None:
            batch[(tenant_id, kind)] = data
        else:
            publish(tenant_id, kind, **data)


async def subscribe(
    tenant_id: uuid.UUID | str, *, timeout: float = 1.0, max_seconds: float = 3600
) -> AsyncIterator[dict | None]:
    """Yield messages for the tenant, or None every `timeout` seconds of silence
    (so a caller can check whether to stop); ends after `max_seconds`."""
    import time

    import redis.asyncio as aioredis

    deadline = time.monotonic() + max_seconds
    client = aioredis.Redis.from_url(get_settings().redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL.format(tenant_id=tenant_id))
    try:
        while time.monotonic() < deadline:
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
            yield json.loads(msg["data"]) if msg else None
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()
        await client.aclose()
