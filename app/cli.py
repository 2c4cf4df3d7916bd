"""Operational commands: `python -m app.cli <command>`.

db-setup   create roles and database (needs a PostgreSQL superuser)
migrate    alembic upgrade head + sync roles and permissions
demo       load the demo tenant (idempotent) and print its sign-ins
bootstrap  all three, as `make dev` runs them
catalog-import  import the parts catalog (BuildCores OpenDB) from CATALOG_DATA_PATH
platform-operator SHOP USERNAME [--revoke]
           let a shop's user re-import the shared parts catalog from the
           catalog page (or take that away); runs as the owner role
check      report every record whose state disagrees with another's (every shop,
           or `--shop SLUG`); exit 1 when there is any
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
    from alembic.config import Config
    from sqlmodel import Session, create_engine

    from alembic import command
    from app import domains
    from app.platform.permissions import sync_roles_and_permissions

    domains.load()  # every domain's permissions
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


def catalog_import(data_dir: str | None = None) -> int:
    from app.catalog.importer import import_catalog

    shown = {"pct": -1}

    def progress(p) -> None:
        if p.status == "RUNNING" and (p.percent < shown["pct"] + 10 or not p.total):
            return
        shown["pct"] = p.percent
        print(
            f"{p.status:<9} {p.processed:>6}/{p.total:<6} {p.percent:>3}%  created {p.created}, "
            f"updated {p.updated}, unchanged {p.unchanged}, skipped {p.skipped}",
            flush=True,
        )

    from app.platform.errors import DomainError

    try:
        run = import_catalog(data_dir, progress=progress, started_by="cli")
    except DomainError as exc:
        print(f"catalog import failed: {exc.message}", file=sys.stderr)
        return 1
    if run.status != "COMPLETED":
        print(f"catalog import {run.status}: {run.error}", file=sys.stderr)
        return 1
    return 0


def platform_operator(shop: str, username: str, *, revoke: bool = False) -> int:
    """Name (or un-name) a platform operator. As the owner role: the app's own
    role can only read who operators are, so no shop admin can become one."""
    from sqlmodel import Session, create_engine

    from app.platform.errors import DomainError
    from app.platform.permissions import set_platform_operator

    engine = create_engine(get_settings().migrations_database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:  # the user's name is read after the commit
            user = set_platform_operator(session, shop, username, operator=not revoke, note="command line")
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    what = "is no longer" if revoke else "is now"
    print(f"{user.display_name or user.username} ({shop}) {what} a platform operator")
    return 0


def check(shop: str | None = None) -> int:
    """Run every domain's invariant checks in every shop (or one); print what disagrees."""
    from sqlmodel import select

    from app import domains
    from app.platform.db import platform_session, tenant_session
    from app.platform.models import Tenant

    domains.load()
    with platform_session() as s:
        query = select(Tenant).order_by(Tenant.name)
        shops = [(t.id, t.name, t.slug) for t in s.exec(query.where(Tenant.slug == shop) if shop else query)]
    if shop and not shops:
        print(f"no shop with the code '{shop}'", file=sys.stderr)
        return 2
    total = 0
    for tenant_id, name, slug in shops:
        with tenant_session(tenant_id) as s:
            findings = [(domain, f) for domain, fn in domains.checks() for f in fn(s)]
        total += len(findings)
        print(f"{name} ({slug}): " + ("consistent" if not findings else f"{len(findings)} finding(s)"))
        for domain, finding in findings:
            print(f"  [{domain}] {finding}")
    print(f"{total} finding(s) in {len(shops)} shop(s)")
    return 1 if total else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    parser.add_argument(
        "command",
        choices=["db-setup", "migrate", "demo", "bootstrap", "catalog-import", "check", "platform-operator"],
    )
    parser.add_argument("names", nargs="*", help="platform-operator: the shop's code and the username")
    parser.add_argument("--revoke", action="store_true", help="platform-operator: take the right away")
    parser.add_argument("--data-dir", help="catalog-import: the pc-parts folder (default CATALOG_DATA_PATH)")
    parser.add_argument("--shop", help="check: only this shop (its code)")
    args = parser.parse_args(argv)
    if args.command == "catalog-import":
        return catalog_import(args.data_dir)
    if args.command == "check":
        return check(args.shop)
    if args.command == "platform-operator":
        if len(args.names) != 2:
            parser.error("platform-operator needs the shop's code and the username")
        return platform_operator(args.names[0], args.names[1], revoke=args.revoke)
    if args.command in ("db-setup", "bootstrap"):
        db_setup()
    if args.command in ("migrate", "bootstrap"):
        migrate()
    if args.command in ("demo", "bootstrap"):
        demo()
    if args.command == "bootstrap":  # make dev: the demo's admin runs this installation, catalog imports included
        from app.demo import DEMO_SLUG

        return platform_operator(DEMO_SLUG, "admin")
    return 0


if __name__ == "__main__":
    sys.exit(main())
