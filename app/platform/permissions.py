"""The permission catalogue (`resource.action`) and the built-in roles.

Code is the source of truth: `sync_roles_and_permissions()` writes this
catalogue into the global tables after every migration, as the owner role (the
app's role only reads them).

Platform operators sit above every shop: work that changes what all shops share
(re-importing the parts catalog) needs one. No shop role grants it, so no shop's
admin can reach it; only the owner role names operators
(`python -m app.cli platform-operator SHOP USERNAME`).
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.platform import session_stamps
from app.platform.db import on_commit, tenant_session
from app.platform.domain import Resource
from app.platform.errors import NotFound
from app.platform.models import Permission, PlatformOperator, Role, RolePermission, Tenant, User, utcnow

# The platform's own resources; each domain declares its own in its door
# (`Domain.resources`) and `app.domains.load()` registers them here.
PLATFORM_RESOURCES = (
    Resource("settings", "tenant settings and integrations", operate=False),
    Resource("users", "staff accounts and roles", operate=False),
    Resource("audit", "the security audit log", operate=False),
)
# Resources of the seed's domains that have not landed yet (parcels):
# their roles are set by the seed already. A domain that lands moves its line
# into its own door.
RESERVED_RESOURCES = (Resource("shipments", "parcels and tracking"),)

RESOURCES: dict[str, str] = {}
PERMISSIONS: dict[str, str] = {}
ROLES: dict[str, tuple[str, set[str]]] = {}
_OPERATED: set[str] = set()


def register_resources(resources: tuple[Resource, ...] | list[Resource]) -> None:
    """Add resources to the catalogue and recompute the built-in roles (in
    place: importers of PERMISSIONS and ROLES see the whole catalogue)."""
    for r in resources:
        RESOURCES[r.name] = r.description
        if r.operate:
            _OPERATED.add(r.name)
    PERMISSIONS.clear()
    PERMISSIONS.update({f"{r}.read": f"See {d}" for r, d in RESOURCES.items()})
    PERMISSIONS.update({f"{r}.write": f"Change {d}" for r, d in RESOURCES.items()})
    PERMISSIONS["admin.operations"] = "Operate the system: queues, failed jobs, API keys"
    read = {p for p in PERMISSIONS if p.endswith(".read")}
    operate = {f"{r}.write" for r in _OPERATED}
    ROLES.clear()
    ROLES.update(
        {
            "admin": ("Full access", set(PERMISSIONS)),
            "operator": ("Day-to-day operations", (read - {"audit.read", "users.read"}) | operate),
            "viewer": ("Read-only", read - {"audit.read", "users.read", "settings.read"}),
            "legacy-admin": (
                "API key access for older integrations",
                (read | operate | {"catalog.write"}) - {"audit.read", "users.read"},
            ),
        }
    )


register_resources(PLATFORM_RESOURCES + RESERVED_RESOURCES)


def sync_roles_and_permissions(session: Session) -> None:
    """Upsert the catalogue; drop grants no longer in code. Idempotent."""
    for code, desc in PERMISSIONS.items():
        session.exec(
            insert(Permission)
            .values(code=code, description=desc)
            .on_conflict_do_update(index_elements=["code"], set_={"description": desc})
        )
    for name, (desc, perms) in ROLES.items():
        role = session.exec(select(Role).where(Role.name == name)).first()
        if role is None:
            role = Role(name=name, description=desc)
            session.add(role)
            session.flush()
        role.description = desc
        session.exec(
            delete(RolePermission).where(
                col(RolePermission.role_id) == role.id,
                col(RolePermission.permission_code).not_in(perms),
            )
        )
        for code in perms:
            session.exec(insert(RolePermission).values(role_id=role.id, permission_code=code).on_conflict_do_nothing())
    session.exec(delete(Permission).where(col(Permission.code).not_in(list(PERMISSIONS))))
    on_commit(session, session_stamps.bump_everyone, key="stamp:everyone")  # open pages re-check what roles grant
    session.commit()


# --- platform operators ---------------------------------------------------------------


def is_platform_operator(tenant_id: uuid.UUID, user_id: uuid.UUID | None) -> bool:
    """Whether this user (of this shop) is a platform operator. API keys
    (no user) never are."""
    if user_id is None:
        return False
    with tenant_session(tenant_id) as s:
        return s.get(PlatformOperator, user_id) is not None


def set_platform_operator(session: Session, shop: str, username: str, *, operator: bool = True, note: str = "") -> User:
    """Make a user of a shop a platform operator, or no longer one. Needs a
    session of the owner role: the app's role cannot write this table."""
    tenant = session.exec(select(Tenant).where(Tenant.slug == shop.strip().lower())).first()
    if tenant is None:
        raise NotFound(f"no shop with the code '{shop}'")
    user = session.exec(select(User).where(User.tenant_id == tenant.id, User.username == username)).first()
    if user is None:
        raise NotFound(f"no user '{username}' in {tenant.name}")
    if operator:
        session.exec(
            insert(PlatformOperator)
            .values(tenant_id=tenant.id, user_id=user.id, note=note[:200], granted_at=utcnow())
            .on_conflict_do_nothing()
        )
    else:
        session.exec(delete(PlatformOperator).where(col(PlatformOperator.user_id) == user.id))
    session.commit()
    return user
