"""Per-shop integration clients in this process, and the webhook route per
shop slug, kept fresh across every web and worker process by a version stamp
in Redis (seed 003, IntegrationReinitialization): connecting, disconnecting
or changing keys bumps the shop's stamp, and each process builds a fresh
client, or none, at its next use. No restart.

One `ClientCache` per integration (SimplyPrint, Sendcloud); the domain owns
what a client is made of (its connection row) and passes a fingerprint of it,
so a changed row also makes a fresh client when Redis is down.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlmodel import Session, select

from app.platform.db import on_commit, platform_session, session_tenant_id, tenant_session
from app.platform.models import Tenant

log = logging.getLogger(__name__)

C = TypeVar("C")
ROUTE_TTL = 30.0  # s: webhooks come in bursts; a new stamp takes effect at once anyway


class ClientCache(Generic[C]):
    def __init__(self, name: str) -> None:
        self.name = name
        self.version_key = f"shopfloor:{name}:version:{{tenant_id}}"
        self._clients: dict[uuid.UUID, tuple[tuple, C]] = {}
        self._lock = threading.Lock()
        self._routes: dict[str, tuple[float, uuid.UUID, str, str]] = {}

    # --- the version stamp ---------------------------------------------------------------------

    def version(self, tenant_id: uuid.UUID) -> str:
        from app.platform.tasks import redis_conn

        try:
            value = redis_conn().get(self.version_key.format(tenant_id=tenant_id))
        except Exception:  # Redis down: the connection row's fingerprint still guards the cache
            return "?"
        if not value:
            return "0"
        return value.decode() if isinstance(value, bytes) else str(value)

    def bump(self, tenant_id: uuid.UUID | str) -> None:
        """Every process drops its client and webhook routes for the shop at their next use."""
        from app.platform.tasks import redis_conn

        tid = uuid.UUID(str(tenant_id))
        self.forget(tid)
        self.forget_routes()
        try:
            redis_conn().incr(self.version_key.format(tenant_id=tid))
        except Exception as exc:
            log.warning("could not bump the %s client version: %s", self.name, exc)

    def bump_after_commit(self, session: Session) -> None:
        """`bump` once this transaction commits (once, however many changes)."""
        tid = session_tenant_id(session)
        on_commit(session, lambda: self.bump(tid), key=f"{self.name}.bump_version")

    # --- clients --------------------------------------------------------------------------------

    def none(self, tenant_id: uuid.UUID) -> None:
        """The shop has no connection: no client (a cached one is dropped)."""
        if tenant_id in self._clients:
            self.forget(tenant_id)

    def get(self, tenant_id: uuid.UUID, fingerprint: tuple, make: Callable[[], C]) -> C:
        """This process's client for the shop: the cached one while the shop's
        stamp and the connection's `fingerprint` are unchanged, else `make()`."""
        stamp = (self.version(tenant_id), *fingerprint)
        with self._lock:
            hit = self._clients.get(tenant_id)
            if hit and hit[0] == stamp:
                return hit[1]
            fresh = make()
            self._clients[tenant_id] = (stamp, fresh)
        if hit:
            _close(hit[1])
        return fresh

    def forget(self, tenant_id: uuid.UUID | None = None) -> None:
        """Drop (and close) one shop's client, or every one."""
        with self._lock:
            gone = [self._clients.pop(tenant_id, None)] if tenant_id else list(self._clients.values())
            if tenant_id is None:
                self._clients.clear()
        for hit in gone:
            if hit:
                _close(hit[1])

    # --- the webhook route per shop ---------------------------------------------------------------

    def route(self, tenant_slug: str, secret_of: Callable[[Session], str | None]) -> tuple[uuid.UUID, str] | None:
        """(shop, webhook secret) for a shop slug, cached briefly; `secret_of`
        reads the secret from the shop's connection (None: not connected)."""
        key = tenant_slug.strip().lower()[:100]
        hit = self._routes.get(key)
        if hit and hit[0] > time.monotonic() and hit[3] == self.version(hit[1]):
            return hit[1], hit[2]
        with platform_session() as ps:
            tenant_id = ps.exec(select(Tenant.id).where(Tenant.slug == key)).first()
        if tenant_id is None:
            return None
        with tenant_session(tenant_id) as s:
            secret = secret_of(s)
        if secret is None:
            return None
        if len(self._routes) > 1000:
            self._routes.clear()
        self._routes[key] = (time.monotonic() + ROUTE_TTL, tenant_id, secret, self.version(tenant_id))
        return tenant_id, secret

    def forget_routes(self, tenant_slug: str | None = None) -> None:
        if tenant_slug is None:
            self._routes.clear()
        else:
            self._routes.pop(tenant_slug.strip().lower(), None)


def _close(client: object) -> None:
    close = getattr(client, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):
            close()
