"""Test data builders. Each test makes its own tenant, so tests never see
each other's rows."""

from __future__ import annotations

import uuid

from app.platform import auth, shop
from app.platform.db import platform_session, tenant_session
from app.platform.models import Tenant, User

PASSWORD = "correct-horse-battery"


def make_tenant(name: str | None = None, *, is_default: bool = False) -> Tenant:
    suffix = uuid.uuid4().hex[:8]
    tenant_id = shop.create_tenant(f"t-{suffix}", name or f"Shop {suffix}", is_default=is_default)
    with platform_session() as s:
        tenant = s.get(Tenant, tenant_id)
        assert tenant is not None
        return tenant


def make_user(tenant: Tenant, role: str = "operator", username: str | None = None, password: str = PASSWORD) -> User:
    with tenant_session(tenant.id) as s:
        return auth.create_user(
            s,
            username=username or f"{role}-{uuid.uuid4().hex[:6]}",
            password=password,
            roles=[role],
            display_name=f"Test {role.title()}",
        )


def default_tenant() -> Tenant:
    """The test database's default tenant (created once)."""
    from app.demo import ensure_tenant

    return ensure_tenant("test-default", "Test Default Shop", is_default=True)


def staff_principal(tenant: Tenant) -> auth.Principal:
    """Someone acting with every permission in `tenant` (as the demo does),
    for calling domain services directly."""
    from app.platform.permissions import PERMISSIONS

    return auth.Principal(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        tenant_slug=tenant.slug,
        user_id=None,
        username="tests",
        display_name="Tests",
        roles=("admin",),
        permissions=frozenset(PERMISSIONS),
    )


def make_platform_operator(tenant: Tenant, user: User) -> None:
    """Name a user a platform operator, as `python -m app.cli platform-operator`
    does: as the owner role (the app's role cannot write that table)."""
    from sqlmodel import Session, create_engine

    from app.platform.permissions import set_platform_operator
    from app.settings import get_settings

    engine = create_engine(get_settings().migrations_database_url)
    try:
        with Session(engine) as session:
            set_platform_operator(session, tenant.slug, user.username)
    finally:
        engine.dispose()


def set_shop_format(
    tenant: Tenant, *, locale: str | None = None, currency: str | None = None, timezone: str | None = None
) -> None:
    """Change how a shop writes money and time, through the database function
    the settings page uses (the app's role cannot update `tenants`)."""
    from sqlalchemy import text

    with tenant_session(tenant.id) as s:
        s.execute(
            text("SELECT set_shop_format(:locale, :currency, :timezone)"),
            {"locale": locale, "currency": currency, "timezone": timezone},
        )
        s.commit()
