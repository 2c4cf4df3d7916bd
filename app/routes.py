"""One registry of staff pages: path, title, permission, nav placement.

The layout builds the navigation from it (showing only what the user may
open) and `AppState.guard_page` refuses a page whose permission is missing.
"""

from __future__ import annotations

import re
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
    Route("/orders", "Orders", "orders.read", icon="shopping-cart"),
    Route("/orders/[id]", "Order", "orders.read", icon="shopping-cart", nav=False),
    Route("/builds", "Builds", "builds.read", icon="wrench"),
    Route("/builds/[id]", "Workbench", "builds.read", icon="wrench", nav=False),
    Route("/catalog", "Parts catalog", "catalog.read", icon="cpu"),
    Route("/printfarm", "Print farm", "printJobs.read", icon="printer"),
    Route("/printing/products", "Printed products", "printJobs.read", icon="boxes"),
    Route("/printing/products/[id]", "Printed product", "printJobs.read", icon="boxes", nav=False),
    Route("/floor/builds/[id]/photos", "Build photos", "builds.write", icon="camera", nav=False),
    Route("/settings/integrations", "Integrations", "settings.write", icon="plug", section="Admin"),
    Route("/admin/users", "Staff & roles", "users.read", icon="users", section="Admin"),
    Route("/admin/api-keys", "API keys", "admin.operations", icon="key-round", section="Admin"),
    Route("/admin/audit", "Audit log", "audit.read", icon="scroll-text", section="Admin"),
    Route("/admin/queues", "Queues", "admin.operations", icon="layers", section="Admin"),
]

PUBLIC_PATHS = {"/login"}
# The customer storefront: public pages (and customer-only account pages) with
# their own layout and sign-in; staff navigation never lists them.
STOREFRONT_PATHS = ("/build", "/b/[slug]", "/account/login", "/account/signup", "/account/builds")


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
