"""Test data builders. Each test makes its own tenant, so tests never see
each other's rows."""

from __future__ import annotations

import uuid

from app.platform import auth
from app.platform.db import platform_session, tenant_session
from app.platform.models import Tenant, User

PASSWORD = "correct-horse-battery"


def make_tenant(name: str | None = None, *, is_default: bool = False) -> Tenant:
    suffix = uuid.uuid4().hex[:8]
    with platform_session() as s:
        tenant = Tenant(slug=f"t-{suffix}", name=name or f"Shop {suffix}", is_default=is_default)
        s.add(tenant)
        s.commit()
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
