"""The one ordered list of domains. The web app, the API, the worker, cron,
Alembic, the CLI/demo and the tests all read it.

Adding a domain: write its package with a `domain.py` declaring `DOMAIN`
(see `app.platform.domain.Domain`) and add one line here, after the domains
it calls into.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from app.platform.domain import Domain, Periodic

if TYPE_CHECKING:
    from sqlmodel import Session

    from app.platform.auth import Principal
    from app.platform.home import Activity, HomeTile

log = logging.getLogger(__name__)

DOMAINS: tuple[str, ...] = (
    "app.platform.domain",
    "app.orders.domain",
    "app.builds.domain",
    "app.customers.domain",
    "app.booklets.domain",
    "app.catalog.domain",
    "app.builder.domain",
    "app.printing.domain",
    "app.shipping.domain",
    "app.inventory.domain",
    "app.grid.domain",
    "app.repairs.domain",
)


@cache
def domains() -> tuple[Domain, ...]:
    found = tuple(importlib.import_module(path).DOMAIN for path in DOMAINS)
    names = [d.name for d in found]
    for i, d in enumerate(found):
        missing = [dep for dep in d.depends_on if dep not in names[:i]]
        if missing:
            raise RuntimeError(f"domain {d.name} needs {missing} listed before it in app/domains.py")
    return found


def _attr(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def load_models() -> None:
    """Every table on SQLModel.metadata (Alembic; a flush sorts foreign keys across domains)."""
    for d in domains():
        for module in d.models:
            importlib.import_module(module)


_loaded = False


def load() -> None:
    """Make this process whole: every table, every event handler, gate and
    retry operation, every permission. Every entry point calls it first."""
    global _loaded
    if _loaded:
        return
    from app.platform import events, permissions

    load_models()
    for d in domains():
        for module in d.handlers:
            importlib.import_module(module)
        permissions.register_resources(d.resources)
    events.registry_complete()
    _loaded = True


def routers() -> Iterator[Any]:
    """Every domain's FastAPI routers, in list order."""
    for d in domains():
        for spec in d.routers:
            yield _attr(spec)


def page_modules() -> list[str]:
    return [module for d in domains() for module in d.pages]


def load_pages() -> None:
    """Import every page module, so each page registers its route (the web app; tests of routes)."""
    for module in page_modules():
        importlib.import_module(module)


def demo_loaders() -> list[tuple[str, Callable[..., None]]]:
    return [(d.name, _attr(d.demo)) for d in domains() if d.demo]


def periodic() -> list[Periodic]:
    return [p for d in domains() for p in d.periodic]


def checks() -> list[tuple[str, Callable[..., list[Any]]]]:
    """Every domain's invariant checks, in domain order: (domain, fn(session) -> findings)."""
    return [(d.name, _attr(spec)) for d in domains() for spec in d.checks]


def _contributions(session: Session, spec: str, *args: Any) -> list[Any]:
    """One domain's home-page contribution. A failing domain costs its own
    tiles, not the whole page: its queries run in a savepoint, and the failure
    is logged."""
    try:
        with session.begin_nested():
            return list(_attr(spec)(session, *args))
    except Exception:
        log.exception("home page contribution %s failed", spec)
        return []


def home_tiles(session: Session, principal: Principal) -> list[HomeTile]:
    """The home page's tiles for `principal`, in domain order: only those
    whose permission the principal holds (`app.platform.home.HomeTile`)."""
    from app.platform.home import visible

    tiles = [t for d in domains() if d.home for t in _contributions(session, d.home, principal)]
    # the shop's work first, the platform's housekeeping after it
    tiles.sort(key=lambda t: t.key.startswith("platform."))
    return [t for t in tiles if visible(principal, t.permission)]


def activity(session: Session, principal: Principal, limit: int = 10) -> list[Activity]:
    """The newest happenings across domains the principal may see, newest
    first (`app.platform.home.Activity`)."""
    from app.platform.home import visible

    found = [a for d in domains() if d.activity for a in _contributions(session, d.activity, principal, limit)]
    found = [a for a in found if visible(principal, a.permission)]
    return sorted(found, key=lambda a: a.at, reverse=True)[:limit]
