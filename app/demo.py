"""Demo data for `make dev`: the "Demo Shop" tenant and its staff.

Idempotent: running it again changes nothing that is already there. Each
domain adds its demo records through the loader its door names
(`Domain.demo`), in the order of `app/domains.py`.
"""

from __future__ import annotations

from sqlmodel import select

from app import domains
from app.platform import auth, config
from app.platform.db import platform_session, tenant_session
from app.platform.models import EventLog, Tenant, User

DEMO_SLUG = "demo"
DEMO_USERS = {
    # username: (password, role, display name)
    "admin": ("shopfloor-admin", "admin", "Alex Admin"),
    "operator": ("shopfloor-operator", "operator", "Olivia Operator"),
    "viewer": ("shopfloor-viewer", "viewer", "Victor Viewer"),
}


def ensure_tenant(slug: str, name: str, *, is_default: bool = False) -> Tenant:
    with platform_session() as s:
        tenant = s.exec(select(Tenant).where(Tenant.slug == slug)).first()
        if tenant is None:
            if is_default and s.exec(select(Tenant).where(Tenant.is_default)).first():
                is_default = False
            tenant = Tenant(slug=slug, name=name, is_default=is_default)
            s.add(tenant)
            s.commit()
        return tenant


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
        if config.get(s, "shop.currency") is None:
            config.set_value(s, "shop.currency", "EUR")
            s.add(EventLog(tenant_id=tenant.id, event_type="tenant.created", message="Demo Shop opened"))
            s.commit()
        for _name, loader in domains.demo_loaders():
            loader(s)
    lines = ["", f"Demo shop '{tenant.name}' is ready. Sign in with:"]
    lines += [f"  {u:<9} / {pw:<20} ({role})" for u, (pw, role, _) in DEMO_USERS.items()]
    from app.builder.demo import DEMO_CUSTOMER

    lines += [
        "",
        "The PC builder for customers: http://127.0.0.1:3000/build — a demo customer signs in at /account/login with:",
        f"  {DEMO_CUSTOMER[0]} / {DEMO_CUSTOMER[2]}",
    ]
    return lines
