"""Jobs the e2e suite enqueues for the app's worker (importable by it)."""

from __future__ import annotations

from app.platform.tasks import redis_conn


def fail_once(tenant_id: str, key: str) -> str:
    """Fails on its first run, succeeds when requeued."""
    if redis_conn().incr(f"e2e:fail-once:{key}") == 1:
        raise RuntimeError("printer bridge timed out (e2e)")
    return "ok"
