"""The test environment: its own database, Redis db and ports, so tests never
touch `make dev`'s data. Imported first by tests/conftest.py.

`python -m tests.testenv db-setup` creates and migrates the test database.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TEST_ENV = {
    "SHOPFLOOR_ENV": "test",
    "DATABASE_URL": "postgresql+psycopg://shopfloor_app:shopfloor_app@127.0.0.1:5432/shopfloor_test",
    "MIGRATIONS_DATABASE_URL": "postgresql+psycopg://shopfloor_owner:shopfloor_owner@127.0.0.1:5432/shopfloor_test",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "STORAGE_BACKEND": "local",
    "STORAGE_LOCAL_PATH": str(ROOT / "var" / "test-storage"),
    # Reflex's own working folders (the compiled frontend and its env.json with
    # the backend's port, the state files): apart from `make dev`'s `.web` and
    # `.states`, so a running dev app keeps its backend while tests and benches
    # start theirs on other ports.
    "REFLEX_WEB_WORKDIR": str(ROOT / "var" / "test-web"),
    "REFLEX_STATES_WORKDIR": str(ROOT / "var" / "test-states"),
    "FRONTEND_PORT": "3100",
    "BACKEND_PORT": "8100",
    "APP_URL": "http://127.0.0.1:3100",
    "API_URL": "http://127.0.0.1:8100",
    "CORS_ORIGINS": "http://127.0.0.1:3100",
    "JOBS_SYNC": "0",
    "LOGIN_MAX_FAILURES": "5",
    "LOGIN_LOCKOUT_MINUTES": "15",
    "MAX_BODY_BYTES": str(5 * 1024 * 1024),
}


def apply() -> None:
    for key, value in TEST_ENV.items():
        os.environ[key] = os.environ.get(f"TEST_{key}", value)


def prepare_database() -> None:
    from app import cli

    cli.db_setup()
    cli.migrate()
    forget_stale_connections()


def superuser():
    """A connection to the test database as the PostgreSQL superuser, for
    set-up that crosses shops (row security keeps every role of the app
    inside one shop)."""
    import psycopg
    from sqlalchemy.engine import make_url

    from app.settings import get_settings

    admin = make_url(get_settings().postgres_admin_url)
    return psycopg.connect(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        password=admin.password,
        dbname=make_url(get_settings().database_url).database,
        autocommit=True,
    )


def forget_stale_connections() -> None:
    """SimplyPrint connections an earlier run left behind point at stand-ins
    that are gone: disconnect them, so the poll (which visits every connected
    shop) does not spend a test waiting on dead ports."""
    with superuser() as conn:
        conn.execute("UPDATE simplyprint_connections SET disconnected_at = now() WHERE disconnected_at IS NULL")


if __name__ == "__main__":
    apply()
    if sys.argv[1:] == ["db-setup"]:
        prepare_database()
    else:
        raise SystemExit("usage: python -m tests.testenv db-setup")
