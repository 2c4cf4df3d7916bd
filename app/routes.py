"""One registry of staff pages: path, title, permission, nav placement.

The layout builds the navigation from it (showing only what the user may
open) and `AppState.guard_page` refuses a page whose permission is missing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    path: str
    title: str
    permission: str | None  # None: any signed-in user
    icon: str = "circle"
    nav: bool = True
    section: str = "Shop"


ROUTES: list[Route] = [
    Route("/", "Home", None, icon="layout-dashboard"),
    Route("/admin/users", "Staff & roles", "users.read", icon="users", section="Admin"),
    Route("/admin/api-keys", "API keys", "admin.operations", icon="key-round", section="Admin"),
    Route("/admin/audit", "Audit log", "audit.read", icon="scroll-text", section="Admin"),
    Route("/admin/queues", "Queues", "admin.operations", icon="layers", section="Admin"),
]

PUBLIC_PATHS = {"/login"}


def route_for(path: str) -> Route | None:
    path = "/" + path.strip("/") if path not in ("", "/") else "/"
    best = None
    for r in ROUTES:
        if path == r.path or (r.path != "/" and path.startswith(r.path + "/")):
            if best is None or len(r.path) > len(best.path):
                best = r
    return best


def nav_sections() -> list[tuple[str, list[Route]]]:
    sections: dict[str, list[Route]] = {}
    for r in ROUTES:
        if r.nav:
            sections.setdefault(r.section, []).append(r)
    return list(sections.items())
