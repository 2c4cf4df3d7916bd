"""The test environment: its own database, Redis db and ports, so tests never
touch `make dev`'s data. Imported first by tests/conftest.py.

`python -m tests.testenv db-setup` creates and migrates the test database.
"""

from __future__ import annotations

import os
import signal
import socket
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
    # One port for the app, as in production: the browser tests run the
    # production build (pages and API on one origin, see tests/e2e/conftest.py).
    "BACKEND_PORT": "8100",
    "JOBS_SYNC": "0",
    "LOGIN_MAX_FAILURES": "5",
    "LOGIN_LOCKOUT_MINUTES": "15",
    "MAX_BODY_BYTES": str(5 * 1024 * 1024),
    "OUTBOUND_ALLOW_PRIVATE": "1",  # the integrations talk to local stand-ins
}


def apply() -> None:
    for key, value in TEST_ENV.items():
        os.environ[key] = os.environ.get(f"TEST_{key}", value)
    port = int(os.environ["BACKEND_PORT"])
    if "TEST_BACKEND_PORT" not in os.environ and _port_taken(port):
        # Something else listens on the test port (an app a run before this
        # one left behind, a second checkout's tests): it would answer in this
        # run's place with other code and another database. Take a free port.
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        os.environ["TEST_BACKEND_PORT"] = str(port)  # the app's own processes read the same
    url = f"http://127.0.0.1:{port}"
    for key, value in {
        "BACKEND_PORT": str(port),
        "FRONTEND_PORT": str(port),
        "APP_URL": url,
        "API_URL": url,
        "CORS_ORIGINS": url,
    }.items():
        os.environ[key] = value


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def stop_stray_workers() -> int:
    """Stop RQ workers a run before this one left on the test Redis database
    (a run killed before it could stop them): they would take this run's jobs
    and do them with other code. Only workers of this host whose process is
    alive and not this one; the registrations of dead ones are dropped too."""
    from rq import Worker

    from app.platform.tasks import redis_conn

    stopped = 0
    host = socket.gethostname()
    for w in Worker.all(connection=redis_conn()):
        if w.hostname != host or not w.pid or w.pid == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{w.pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            cmdline = b""  # gone: only its registration is left
        if cmdline and not any(word in cmdline for word in (b"jobs.worker", b"rq", b"pytest", b"bench")):
            continue  # the number now belongs to another program
        if cmdline:
            try:
                os.kill(w.pid, signal.SIGKILL)
                stopped += 1
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        w.register_death()
    return stopped


def prepare_database() -> None:
    from app import cli

    stop_stray_workers()
    forget_unknown_schema()
    cli.db_setup()
    cli.migrate()
    stamp_schema()
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


def free_demo_shopify_domain() -> None:
    """The demo's Shopify shop domain is unique across shops: an earlier demo
    load in this database (another test's shop) holds it. As the superuser
    (row security keeps the app's roles inside one shop)."""
    from app.orders.demo import DEMO_SHOP_DOMAIN

    with superuser() as conn:
        conn.execute("DELETE FROM shopify_shops WHERE shop_domain = %s", (DEMO_SHOP_DOMAIN,))


def migrations_fingerprint() -> str:
    """A hash of the migration files: a test database built by other
    migrations (another checkout, a revision edited since) has another."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted([*(ROOT / "alembic" / "versions").glob("*.py"), ROOT / "alembic" / "env.py"]):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _database_name() -> str:
    from sqlalchemy.engine import make_url

    from app.settings import get_settings

    return str(make_url(get_settings().database_url).database)


def forget_unknown_schema() -> None:
    """The test database is disposable: one migrated by other migration files
    than this checkout's (another branch, a revision renamed or edited since,
    a run that died half-way) is dropped, so the migration builds it afresh
    instead of failing or, worse, testing against a stale schema. Each build
    is stamped with the migrations' fingerprint (`stamp_schema`)."""
    import psycopg

    name = _database_name()
    try:
        with superuser() as conn:
            conn.execute("SELECT version_num FROM alembic_version").fetchone()
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return  # no test database yet, or not migrated yet
    if row is not None and row[0] == f"migrations {migrations_fingerprint()}":
        return
    print(f"the test database {name} was built by other migrations than this checkout's: dropping it")
    drop_database()


def drop_database() -> None:
    """Drop the test database (if there is one)."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    from app.settings import get_settings

    admin = make_url(get_settings().postgres_admin_url)
    with psycopg.connect(
        host=admin.host, port=admin.port, user=admin.username, password=admin.password, dbname="postgres",
        autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(_database_name())))


def stamp_schema() -> None:
    from psycopg import sql

    with superuser() as conn:
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(_database_name()), sql.Literal(f"migrations {migrations_fingerprint()}")
            )
        )


if __name__ == "__main__":
    apply()
    if sys.argv[1:] == ["db-setup"]:
        prepare_database()
    elif sys.argv[1:] == ["db-setup", "--fresh"]:  # `make test`: every run starts from an empty database
        stop_stray_workers()
        drop_database()
        prepare_database()
    else:
        raise SystemExit("usage: python -m tests.testenv db-setup [--fresh]")
