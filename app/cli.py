"""Operational commands: `python -m app.cli <command>`.

db-setup   create roles and database (needs a PostgreSQL superuser)
migrate    alembic upgrade head + sync roles and permissions
demo       load the demo tenant (idempotent) and print its sign-ins
bootstrap  all three, as `make dev` runs them
"""

from __future__ import annotations

import argparse
import sys

from app.settings import ROOT, get_settings


def db_setup() -> None:
    from app.platform.bootstrap import setup_database

    s = get_settings()
    setup_database(s.postgres_admin_url, s.database_url, s.migrations_database_url)


def migrate() -> None:
    from alembic import command
    from alembic.config import Config
    from sqlmodel import Session, create_engine

    from app.platform.permissions import sync_roles_and_permissions

    s = get_settings()
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = s.migrations_database_url
    command.upgrade(cfg, "head")
    engine = create_engine(s.migrations_database_url)
    with Session(engine) as session:
        sync_roles_and_permissions(session)
    engine.dispose()


def demo() -> None:
    from app.demo import load_demo

    for line in load_demo():
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    parser.add_argument("command", choices=["db-setup", "migrate", "demo", "bootstrap"])
    args = parser.parse_args(argv)
    if args.command in ("db-setup", "bootstrap"):
        db_setup()
    if args.command in ("migrate", "bootstrap"):
        migrate()
    if args.command in ("demo", "bootstrap"):
        demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
