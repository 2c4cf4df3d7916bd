"""One registry of pages: each page registers itself once, where it is
defined (`components.layout.staff_page` / `public_page`), with its path,
title, permission, on_load and navigation placement; nothing writes a path
twice. The app adds every registered page, the layout builds the navigation
from the staff routes (showing only what the user may open) and
`AppState.guard_page` refuses a page whose permission is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Route:
    path: str
    title: str
    permission: str | None  # None: any signed-in user
    icon: str = "circle"
    nav: bool = True
    section: str = "Shop"


@dataclass(frozen=True)
class Page:
    """A page to add to the app. `kind`: "staff" (signed-in staff; guarded),
    "public" (anyone: sign-in) or "storefront" (customers)."""

    path: str
    title: str  # the browser title, whole
    component: Callable[[], Any]
    kind: str = "staff"
    on_load: tuple[Any, ...] = ()
    meta: tuple[dict[str, str], ...] = field(default=())


ROUTES: list[Route] = []  # staff routes, in registration order (the navigation's order)
PAGES: list[Page] = []


def register_route(route: Route) -> Route:
    if any(r.path == route.path for r in ROUTES):
        raise ValueError(f"the staff route {route.path} is registered twice")
    ROUTES.append(route)
    return route


def register_page(page: Page) -> None:
    if any(p.path == page.path for p in PAGES):
        raise ValueError(f"the page {page.path} is registered twice")
    PAGES.append(page)


def _pattern(route_path: str) -> re.Pattern:
    parts = [r"[^/]+" if seg.startswith("[") else re.escape(seg) for seg in route_path.strip("/").split("/")]
    return re.compile("^/" + "/".join(p for p in parts if p) + r"(/.*)?$")


def route_for(path: str) -> Route | None:
    """The registered route serving `path`: "/orders/abc" is "/orders/[id]",
    and a page's sub-paths fall under it. The most specific match wins."""
    path = "/" + path.strip("/") if path not in ("", "/") else "/"
    if path == "/":
        return next((r for r in ROUTES if r.path == "/"), None)
    matches = [r for r in ROUTES if r.path != "/" and _pattern(r.path).match(path)]
    if not matches:
        return None
    depth = path.count("/")
    return max(matches, key=lambda r: (r.path.count("/") <= depth, r.path.count("/"), "[" not in r.path))


def nav_sections() -> list[tuple[str, list[Route]]]:
    sections: dict[str, list[Route]] = {}
    for r in ROUTES:
        if r.nav:
            sections.setdefault(r.section, []).append(r)
    return list(sections.items())
