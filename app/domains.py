"""The one ordered list of domains. The web app, the API, the worker, cron,
Alembic, the CLI/demo and the tests all read it.

Adding a domain: write its package with a `domain.py` declaring `DOMAIN`
(see `app.platform.domain.Domain`) and add one line here, after the domains
it calls into.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from app.platform.domain import Domain, Periodic

DOMAINS: tuple[str, ...] = (
    "app.platform.domain",
    "app.orders.domain",
    "app.builds.domain",
    "app.booklets.domain",
    "app.catalog.domain",
    "app.customers.domain",
    "app.builder.domain",
    "app.printing.domain",
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
