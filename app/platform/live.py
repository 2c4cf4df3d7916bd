"""Live updates to open pages: a Redis channel per tenant.

Server code calls `notify_after_commit(session, kind, **data)`; the message
goes out once the transaction commits (never for rolled-back work). Reflex
background tasks `subscribe()` and refresh what they show. Best-effort: the
database stays the truth, pages also load fresh on every visit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlmodel import Session

from app.platform import auth, session_stamps
from app.platform.batching import AfterCommitBatch
from app.platform.db import collect_on_commit, session_tenant_id
from app.platform.models import utcnow
from app.settings import get_settings

log = logging.getLogger(__name__)
CHANNEL = "shopfloor:live:{tenant_id}"
# How many messages the channel has carried: a page reads it before its data, and its
# watcher again once subscribed, to learn whether it missed one in between.
SEQUENCE = "shopfloor:live:sequence:{tenant_id}"


def publish(tenant_id: uuid.UUID | str, kind: str, **data) -> None:
    from app.platform.tasks import redis_conn

    try:
        with redis_conn().pipeline(transaction=True) as pipe:
            pipe.incr(SEQUENCE.format(tenant_id=tenant_id))
            pipe.publish(CHANNEL.format(tenant_id=tenant_id), json.dumps({"kind": kind, **data}, default=str))
            pipe.execute()
    except Exception as exc:
        log.debug("live update not sent: %s", exc)


def sequence(tenant_id: uuid.UUID | str) -> int | None:
    """How many messages the tenant's channel has carried (None: Redis did not say)."""
    from app.platform.tasks import redis_conn, reply

    try:
        return int(reply(redis_conn().get(SEQUENCE.format(tenant_id=tenant_id))) or 0)
    except Exception as exc:
        log.debug("live sequence not read: %s", exc)
        return None


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
    (so a caller can check whether to stop); ends after `max_seconds`. The
    first item is None as soon as Redis has confirmed the subscription: from
    then on no message is missed, so a caller can read what it shows afresh."""
    import time

    import redis.asyncio as aioredis

    deadline = time.monotonic() + max_seconds
    client = aioredis.Redis.from_url(get_settings().redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL.format(tenant_id=tenant_id))
    try:
        await pubsub.get_message(timeout=timeout)  # the confirmation (not a message of ours)
        yield None
        while time.monotonic() < deadline:
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
            yield json.loads(msg["data"]) if msg else None
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()
        await client.aclose()


class SessionWatch:
    """Is the sign-in behind a watcher still good, and still allowed `permission`?

    `current()` is called on every push: it compares the session's stamps
    (`app.platform.session_stamps`, one MGET) with the ones read when the
    session was last checked, and only when one moved checks the session in
    the database again. It answers None once the session is signed out,
    expired or gone, the user deactivated, or the permission lost; after that
    it stays None. Without Redis every call checks the database.
    """

    def __init__(self, cookie: str | None, principal: auth.Principal, permission: str = "") -> None:
        self.cookie = cookie
        self.principal: auth.Principal | None = principal
        self.permission = permission
        self._keys = session_stamps.keys(principal.session_id, principal.user_id)
        self._stamps: list[Any] | None = None
        self._client: Any = None

    async def _read(self) -> list[Any] | None:
        import redis.asyncio as aioredis

        try:
            if self._client is None:
                self._client = aioredis.Redis.from_url(get_settings().redis_url, decode_responses=True)
            return list(await self._client.mget(self._keys))
        except Exception as exc:
            log.debug("session stamps not read: %s", exc)
            return None

    async def _recheck(self, stamps: list[Any] | None) -> auth.Principal | None:
        """The database's answer, remembered with the stamps read before it."""
        before = self.principal
        fresh = await asyncio.to_thread(auth.authenticate_session, self.cookie)
        if (
            before is None
            or fresh is None
            or fresh.session_id != before.session_id
            or (self.permission and not fresh.can(self.permission))
        ):
            self.principal = None
        else:
            self.principal, self._stamps = fresh, stamps
        return self.principal

    async def start(self) -> auth.Principal | None:
        """Read the stamps, then the session: a change between the two is seen on the next push."""
        return await self._recheck(await self._read())

    async def current(self) -> auth.Principal | None:
        principal = self.principal
        if principal is None:
            return None
        if principal.expires_at is not None and principal.expires_at <= utcnow():
            self.principal = None
            return None
        stamps = await self._read()
        if stamps is not None and stamps == self._stamps:
            return principal
        if stamps is not None and stamps[0] == session_stamps.REVOKED:
            self.principal = None
            return None
        return await self._recheck(stamps)

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                await client.aclose()
            except Exception as exc:
                log.debug("stamp client not closed: %s", exc)
