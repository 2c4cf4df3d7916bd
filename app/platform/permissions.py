"""The permission catalogue (`resource.action`) and the built-in roles.

Code is the source of truth: `sync_roles_and_permissions()` writes this
catalogue into the global tables after every migration.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.platform.domain import Resource
from app.platform.models import Permission, Role, RolePermission

# The platform's own resources; each domain declares its own in its door
# (`Domain.resources`) and `app.domains.load()` registers them here.
PLATFORM_RESOURCES = (
    Resource("settings", "tenant settings and integrations", operate=False),
    Resource("users", "staff accounts and roles", operate=False),
    Resource("audit", "the security audit log", operate=False),
)
# Resources of the seed's domains that have not landed yet (grid, stock, parcels,
# repairs): their roles are set by the seed already. A domain that lands moves
# its line into its own door.
RESERVED_RESOURCES = (
    Resource("grid", "GridFlock grid generation"),
    Resource("inventory", "stock and replenishment"),
    Resource("shipments", "parcels and tracking"),
    Resource("repairs", "repair intake and invoicing"),
)

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
    session.commit()
