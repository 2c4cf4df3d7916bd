"""Demo data for `make dev`: the "Demo Shop" tenant and its staff.

Idempotent: running it again changes nothing that is already there. Each
domain adds its demo records through the loader its door names
(`Domain.demo`), in the order of `app/domains.py`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from psycopg.errors import DeadlockDetected, SerializationFailure
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from app import domains
from app.platform import auth, shop
from app.platform.db import platform_session, tenant_session
from app.platform.models import EventLog, Tenant, User

log = logging.getLogger(__name__)
DEMO_SLUG = "demo"
DEMO_USERS = {
    # username: (password, role, display name)
    "admin": ("shopfloor-admin", "admin", "Alex Admin"),
    "operator": ("shopfloor-operator", "operator", "Olivia Operator"),
    "viewer": ("shopfloor-viewer", "viewer", "Victor Viewer"),
}


def ensure_tenant(slug: str, name: str, *, is_default: bool = False) -> Tenant:
    """The shop with this code, created when missing (the default shop only
    when there is none yet)."""
    tenant_id = shop.create_tenant(slug, name, is_default=is_default)
    with platform_session() as s:
        tenant = s.get(Tenant, tenant_id)
        if tenant is None:
            raise RuntimeError(f"shop {slug} was not created")
        return tenant


ATTEMPTS = 4


def _load(session: Session, name: str, loader: Callable[[Session], None]) -> None:
    """One domain's loader. Workers may already be handling the events of the
    loaders before it (in the tests, or a second `make dev`); a deadlock with
    one of them rolls the loader back, and it runs again (loaders are
    idempotent: what committed stays, the rest is added)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            loader(session)
            return
        except OperationalError as exc:
            session.rollback()
            if not isinstance(exc.orig, (DeadlockDetected, SerializationFailure)) or attempt == ATTEMPTS:
                raise
            log.warning("the %s demo met a concurrent worker (%s); loading it again", name, type(exc.orig).__name__)
            time.sleep(0.2 * attempt)


def load_demo() -> list[str]:
    domains.load()
    tenant = ensure_tenant(DEMO_SLUG, "Demo Shop", is_default=True)
    with tenant_session(tenant.id) as s:
        for username, (password, role, display) in DEMO_USERS.items():
            if s.exec(select(User).where(User.username == username)).first() is None:
                auth.create_user(
                    s,
                    username=username,
                    password=password,
                    roles=[role],
                    display_name=display,
                    email=f"{username}@demo-shop.example",
                )
        if s.exec(select(EventLog).where(EventLog.event_type == "tenant.created")).first() is None:
            s.add(EventLog(tenant_id=tenant.id, event_type="tenant.created", message="Demo Shop opened"))
            s.commit()
        for name, loader in domains.demo_loaders():
            _load(s, name, loader)
    lines = ["", f"Demo shop '{tenant.name}' is ready. Sign in with:"]
    lines += [f"  {u:<9} / {pw:<20} ({role})" for u, (pw, role, _) in DEMO_USERS.items()]
    from app.builder.demo import DEMO_CUSTOMER

    lines += [
        "",
        "The PC builder for customers: http://127.0.0.1:3000/build — a demo customer signs in at /account/login with:",
        f"  {DEMO_CUSTOMER[0]} / {DEMO_CUSTOMER[2]}",
    ]
    return lines
