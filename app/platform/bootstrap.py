"""Create the database and its two roles on a fresh PostgreSQL (idempotent).

- owner role (from MIGRATIONS_DATABASE_URL): owns the schema, runs migrations
  (BYPASSRLS so data migrations can backfill across tenants).
- app role (from DATABASE_URL): NOSUPERUSER NOBYPASSRLS, owns nothing, gets
  DML rights through default privileges, so RLS applies to it. The migrations
  then take the writes on the platform's global tables away again (it only
  reads roles, permissions and tenants); running this again never gives them
  back (`app_rights`).

Connects with POSTGRES_ADMIN_URL; when that fails (peer auth on a fresh Debian
install) the same SQL goes through `runuser -u postgres -- psql`.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import LiteralString, cast

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


def _parts(url: str) -> tuple[str, str, str]:
    u = make_url(url)
    return u.username or "", u.password or "", u.database or ""


def _statements(database_url: str, migrations_url: str) -> tuple[list[str], list[str]]:
    app_user, app_pw, db = _parts(database_url)
    owner, owner_pw, db2 = _parts(migrations_url)
    if db != db2:
        raise SystemExit("DATABASE_URL and MIGRATIONS_DATABASE_URL must name the same database")
    if app_user == owner:
        raise SystemExit("the app role must differ from the owner role, or RLS does nothing")

    def role(name: str, pw: str, extra: str) -> str:
        lit = sql.Literal(pw).as_string(None)
        ident = sql.Identifier(name).as_string(None)
        return (
            "DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {sql.Literal(name).as_string(None)}) THEN "
            f"CREATE ROLE {ident} LOGIN PASSWORD {lit} {extra}; "
            f"ELSE ALTER ROLE {ident} LOGIN PASSWORD {lit} {extra}; END IF; END $$;"
        )

    i_owner = sql.Identifier(owner).as_string(None)
    i_app = sql.Identifier(app_user).as_string(None)
    i_db = sql.Identifier(db).as_string(None)
    cluster = [
        role(owner, owner_pw, "NOSUPERUSER BYPASSRLS"),
        role(app_user, app_pw, "NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"),
        f"SELECT 'exists' FROM pg_database WHERE datname = {sql.Literal(db).as_string(None)}",
        f"CREATE DATABASE {i_db} OWNER {i_owner}",
    ]
    in_db = [
        f"ALTER SCHEMA public OWNER TO {i_owner}",
        "REVOKE ALL ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {i_app}",
        f"GRANT CONNECT ON DATABASE {i_db} TO {i_app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {i_owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {i_app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {i_owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {i_app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {i_owner} IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {i_app}",
        app_rights(app_user),
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {i_app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {i_app}",
    ]
    return cluster, in_db


# Global tables the app role only reads (tenants change through SECURITY
# DEFINER functions, roles, permissions and the numbering definitions through
# migrations); tables it inserts into and updates but never deletes from: the
# shared parts catalog (the catalog import) and the shops' number counters (a
# deleted counter would give its numbers again). Kept in step with the
# migrations that set these rights.
READ_ONLY_TABLES = (
    "tenants",
    "roles",
    "permissions",
    "role_permissions",
    "platform_operators",
    "alembic_version",
    "sequence_definitions",
)
CATALOG_TABLES = ("catalog_parts", "catalog_imports", "numbering_sequences")


def app_rights(app_user: str) -> str:
    """Grant the app role its rights on every table that exists, per kind of
    table: read-only on the global ones, insert/update on the catalog, full
    DML elsewhere (tenant tables, where row security keeps it in its shop)."""
    app = sql.Literal(app_user).as_string(None)
    read_only = ", ".join(sql.Literal(t).as_string(None) for t in READ_ONLY_TABLES)
    catalog = ", ".join(sql.Literal(t).as_string(None) for t in CATALOG_TABLES)
    return (
        "DO $$ DECLARE t text; BEGIN "
        "FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP "
        f"IF t IN ({read_only}) THEN EXECUTE format('GRANT SELECT ON %I TO %I', t, {app}); "
        f"ELSIF t IN ({catalog}) THEN EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I TO %I', t, {app}); "
        f"ELSE EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO %I', t, {app}); "
        "END IF; END LOOP; END $$;"
    )


def _run_psql(statements: list[str], database: str = "postgres") -> None:
    if not shutil.which("runuser") or not shutil.which("psql"):
        raise SystemExit("cannot reach PostgreSQL as a superuser (set POSTGRES_ADMIN_URL)")
    script = "\n".join(s.rstrip(";") + ";" for s in statements)
    subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-q", "-d", database],
        input=script.encode(),
        check=True,
    )


def _composed(stmt: str) -> LiteralString:
    """A statement from _statements: every name and value in it went through
    psycopg.sql quoting, so it is as safe to run as a literal."""
    return cast(LiteralString, stmt)


def setup_database(admin_url: str, database_url: str, migrations_url: str) -> None:
    cluster, in_db = _statements(database_url, migrations_url)
    create_roles, exists_query, create_db = cluster[:2], cluster[2], cluster[3]
    db = _parts(database_url)[2]
    try:
        conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        conn = None
    if conn is not None:
        with conn:
            for stmt in create_roles:
                conn.execute(_composed(stmt))
            if not conn.execute(_composed(exists_query)).fetchone():
                conn.execute(_composed(create_db))
        db_url = make_url(admin_url).set(database=db).render_as_string(hide_password=False)
        with psycopg.connect(db_url, autocommit=True) as conn:
            for stmt in in_db:
                conn.execute(_composed(stmt))
        return
    # Fallback: peer authentication as the postgres OS user.
    _run_psql(create_roles)
    out = subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-tAc", exists_query],
        capture_output=True,
        check=True,
    ).stdout.strip()
    if not out:
        _run_psql([create_db])
    _run_psql(in_db, database=db)
