"""Version stamps that tell in-memory caches to reload (Redis counters).

- `catalog:version`: bumped after a catalog import changed any part (global).
- `catalog:offers-version:<tenant>`: bumped after any change to that tenant's
  offers (price lists, single edits, demo prices), once its transaction commits.

A missing key (a fresh or flushed Redis) starts at the current time in
microseconds, so a value never repeats one a cache saw before the flush. When
Redis cannot be reached the stamp falls back to a five-second time bucket:
caches then reload every few seconds instead of serving stale data forever.
"""

from __future__ import annotations

import logging
import time
import uuid

log = logging.getLogger(__name__)

CATALOG_VERSION_KEY = "catalog:version"
OFFERS_VERSION_KEY = "catalog:offers-version:{tenant_id}"


def _fallback() -> int:
    return int(time.time() // 5)


def _read(key: str) -> int:
    from app.platform.tasks import redis_conn, reply

    r = redis_conn()
    value = r.get(key)
    if value is None:
        r.set(key, time.time_ns() // 1000, nx=True)
        value = r.get(key)
    return int(reply(value))  # the key is set by now


def _get(key: str) -> int:
    try:
        return _read(key)
    except Exception as exc:  # Redis down: degrade, never fail the caller
        log.warning("version stamp %s unavailable (%s)", key, exc)
        return _fallback()


def _bump(key: str) -> int:
    from app.platform.tasks import redis_conn, reply

    try:
        _read(key)
        return reply(redis_conn().incr(key))
    except Exception as exc:
        log.warning("version stamp %s not bumped (%s)", key, exc)
        return _fallback()


def catalog_version() -> int:
    return _get(CATALOG_VERSION_KEY)


def bump_catalog_version() -> int:
    return _bump(CATALOG_VERSION_KEY)


def offers_version(tenant_id: uuid.UUID | str) -> int:
    return _get(OFFERS_VERSION_KEY.format(tenant_id=tenant_id))


def bump_offers_version(tenant_id: uuid.UUID | str) -> int:
    return _bump(OFFERS_VERSION_KEY.format(tenant_id=tenant_id))
