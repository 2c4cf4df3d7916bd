"""The shape of a domain's one door.

Each domain package declares what it contributes in its `domain.py`, as a
`Domain`; `app/domains.py` lists them in order, and the web app, the API,
the worker, cron, Alembic, the CLI/demo and the tests read that list. The
platform defines the shape and imports no domain: a door names its modules
by dotted path, and the entry points import what they need of them (the
worker never imports a page, the web app never imports a cron task).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Resource:
    """A permission resource: `<name>.read` and `<name>.write` exist for it.
    `operate`: the operator role may change it (day-to-day work)."""

    name: str
    description: str
    operate: bool = True


@dataclass(frozen=True)
class Periodic:
    """Work cron runs every `every` seconds. `per_shop`: one job per shop,
    `target(tenant_id)`, each taking its turn in its shop's line; otherwise
    one job, `target()`."""

    target: str  # dotted entry point, e.g. "jobs.printing.reconcile_if_due"
    every: int | str  # seconds, or the name of the setting that holds them
    queue: str = "default"
    per_shop: bool = True


@dataclass(frozen=True)
class Domain:
    name: str
    title: str
    models: tuple[str, ...] = ()  # modules that define its tables
    handlers: tuple[str, ...] = ()  # modules that register event handlers, gates, retry operations
    routers: tuple[str, ...] = ()  # "module:attribute" FastAPI routers, mounted under /api/v1
    pages: tuple[str, ...] = ()  # modules (entry band) whose @page functions are its staff and public pages
    demo: str | None = None  # "module:function", fn(session) loading its demo records (idempotent)
    periodic: tuple[Periodic, ...] = ()
    # "module:function", fn(session) -> list[Finding]: invariants of its records an
    # operator can run (`python -m app.cli check`); each finding names what disagrees.
    checks: tuple[str, ...] = ()
    resources: tuple[Resource, ...] = ()
    # "module:function", fn(session, principal) -> list[HomeTile] (app/platform/home.py):
    # what this domain shows on the staff home page, for the signed-in user.
    home: str | None = None
    # "module:function", fn(session, principal, limit) -> list[Activity]: its newest
    # happenings, as sentences linking to what they name (the home page's recent activity).
    activity: str | None = None
    depends_on: tuple[str, ...] = field(default=())  # domains it calls into (listed before it)


# The platform's own contributions: tenancy, staff, API keys, audit, queues and
# the event bus's housekeeping. It comes first in app/domains.py.
DOMAIN = Domain(
    name="platform",
    title="Platform",
    models=("app.platform.models", "app.platform.numbering"),
    handlers=("app.platform.platform_events",),
    routers=("app.platform.api:router",),
    pages=(
        "app.pages.home",
        "app.pages.login",
        "app.pages.settings",
        "app.pages.settings_numbering",
        "app.pages.admin",
    ),
    home="app.platform.home:tiles",
    activity="app.platform.home:activity",
    periodic=(
        Periodic("jobs.events.sweep", every="outbox_sweep_seconds", queue="events"),
        Periodic("jobs.retry.sweep", every=30, queue="integrations"),
        Periodic("jobs.maintenance.purge_expired_sessions", every=3600),
        Periodic("jobs.maintenance.heal_shop_lines", every=30, per_shop=False),
    ),
)
