"""The permission catalogue (`resource.action`) and the built-in roles.

Code is the source of truth: `sync_roles_and_permissions()` writes this
catalogue into the global tables after every migration.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from app.platform.models import Permission, Role, RolePermission

RESOURCES: dict[str, str] = {
    "orders": "orders and their fulfillment",
    "builds": "PC builds on the workbench",
    "printJobs": "print jobs and the print farm",
    "grid": "GridFlock grid generation",
    "inventory": "stock and replenishment",
    "shipments": "parcels and tracking",
    "repairs": "repair intake and invoicing",
    "catalog": "parts catalog and price lists",
    "settings": "tenant settings and integrations",
    "users": "staff accounts and roles",
    "audit": "the security audit log",
}

PERMISSIONS: dict[str, str] = {
    **{f"{r}.read": f"See {d}" for r, d in RESOURCES.items()},
    **{f"{r}.write": f"Change {d}" for r, d in RESOURCES.items()},
    "admin.operations": "Operate the system: queues, failed jobs, API keys",
}

_READ = {p for p in PERMISSIONS if p.endswith(".read")}
_OPERATE = {f"{r}.write" for r in ("orders", "builds", "printJobs", "grid", "inventory", "shipments", "repairs")}

ROLES: dict[str, tuple[str, set[str]]] = {
    "admin": ("Full access", set(PERMISSIONS)),
    "operator": ("Day-to-day operations", (_READ - {"audit.read", "users.read"}) | _OPERATE),
    "viewer": ("Read-only", _READ - {"audit.read", "users.read", "settings.read"}),
    "legacy-admin": (
        "API key access for older integrations",
        (_READ | _OPERATE | {"catalog.write"}) - {"audit.read", "users.read"},
    ),
}


def sync_roles_and_permissions(session: Session) -> None:
    """Upsert the catalogue; drop grants no longer in code. Idempotent."""
    for code, desc in PERMISSIONS.items():
        session.exec(
            insert(Permission).values(code=code, description=desc)
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
                RolePermission.role_id == role.id,
                RolePermission.permission_code.not_in(perms),
            )
        )
        for code in perms:
            session.exec(
                insert(RolePermission).values(role_id=role.id, permission_code=code)
                .on_conflict_do_nothing()
            )
    session.exec(delete(Permission).where(Permission.code.not_in(list(PERMISSIONS))))
    session.commit()
