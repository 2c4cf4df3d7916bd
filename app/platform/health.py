"""Liveness and readiness: ready means PostgreSQL and Redis answer."""

from __future__ import annotations

from sqlalchemy import text

from app.platform.db import get_engine
from app.platform.tasks import redis_conn


def check_database() -> str | None:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure means not ready
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


def check_redis() -> str | None:
    try:
        redis_conn().ping()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}"


def readiness() -> tuple[bool, dict[str, str]]:
    checks = {"database": check_database(), "redis": check_redis()}
    return all(v is None for v in checks.values()), {k: v or "ok" for k, v in checks.items()}
