"""The one staff layout: sidebar navigation (per permission), top bar with the
tenant and the user menu, and a content area that shows a clear refusal when
the page's permission is missing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from app.routes import Page, Route, nav_sections, register_page, register_route
from app.settings import get_settings
from components.ui import download_frame
from state.base import AppState
from state.notifications import NotificationRow, NotificationsState


def logout_script() -> str:
    api = get_settings().api_url.rstrip("/")
    return (
        f"fetch('{api}/api/v1/auth/logout', {{method: 'POST', credentials: 'include'}})"
        ".finally(() => window.location.assign('/login'))"
    )


def _nav_link(route: Route) -> rx.Component:
    link = rx.link(
        rx.hstack(rx.icon(route.icon, size=16), rx.text(route.title, size="2"), align="center", spacing="2"),
        href=route.path,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        width="100%",
        padding_x="10px",
        padding_y="6px",
        border_radius="6px",
        _hover={"background": rx.color("gray", 4)},
        data_testid=f"nav-{route.path.strip('/') or 'home'}",
    )
    if route.permission is None:
        return link
    return rx.cond(AppState.permissions.contains(route.permission), link)


def _nav() -> list[rx.Component]:
    """The navigation's sections, each shown when one of its links is."""
    sections = []
    for name, routes in nav_sections():
        section = rx.vstack(
            rx.text(name, size="1", weight="bold", color_scheme="gray", padding_x="10px"),
            *[_nav_link(r) for r in routes],
            spacing="1",
            width="100%",
        )
        needed = [r.permission for r in routes]
        if None not in needed:  # show the heading only when some link shows
            visible = AppState.permissions.contains(needed[0])
            for perm in needed[1:]:
                visible = visible | AppState.permissions.contains(perm)
            section = rx.cond(visible, section)
        sections.append(section)
    return sections


def _brand() -> rx.Component:
    return rx.hstack(
        rx.icon("factory", size=22, color=rx.color("accent", 10)),
        rx.heading("Shopfloor", size="4"),
        align="center",
        padding_x="10px",
        padding_bottom="12px",
    )


def _nav_footer() -> list[rx.Component]:
    return [
        rx.spacer(),
        rx.link(
            rx.hstack(rx.icon("store", size=14), rx.text("Open the storefront", size="1"), align="center", spacing="1"),
            href="/build",
            is_external=True,
            color_scheme="gray",
            padding_x="10px",
            data_testid="open-storefront",
        ),
        rx.text(AppState.tenant_name, size="1", color_scheme="gray", padding_x="10px", data_testid="sidebar-tenant"),
    ]


# Below this width the navigation folds into a menu button (Radix breakpoints:
# initial, xs ≥520 px, sm ≥768 px, md ≥1024 px): a tablet and a phone get the
# whole width for the work.
WIDE = ["none", "none", "none", "flex"]
NARROW = ["flex", "flex", "flex", "none"]


def sidebar() -> rx.Component:
    return rx.vstack(
        _brand(),
        *_nav(),
        *_nav_footer(),
        spacing="4",
        padding="16px 10px",
        height="100vh",
        width="220px",
        min_width="220px",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        position="sticky",
        top="0",
        overflow_y="auto",
        display=WIDE,
        data_testid="sidebar",
    )


def nav_drawer() -> rx.Component:
    """The navigation on a tablet or a phone: a menu button opening a drawer."""
    return rx.box(
        rx.drawer.root(
            rx.drawer.trigger(
                rx.icon_button(
                    rx.icon("menu", size=18),
                    variant="soft",
                    color_scheme="gray",
                    aria_label="Open the navigation",
                    data_testid="nav-menu",
                )
            ),
            rx.drawer.overlay(z_index="40"),
            rx.drawer.portal(
                rx.drawer.content(
                    rx.vstack(
                        rx.hstack(
                            _brand(),
                            rx.spacer(),
                            rx.drawer.close(
                                rx.icon_button(
                                    rx.icon("x", size=16), variant="ghost", color_scheme="gray", aria_label="Close"
                                )
                            ),
                            width="100%",
                        ),
                        *_nav(),
                        *_nav_footer(),
                        spacing="4",
                        padding="16px 10px",
                        height="100%",
                        overflow_y="auto",
                    ),
                    top="0",
                    left="0",
                    height="100%",
                    width="260px",
                    background=rx.color("gray", 2),
                    z_index="50",
                    data_testid="nav-drawer",
                )
            ),
            direction="left",
        ),
        display=NARROW,
    )


def user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("circle-user", size=16),
                rx.text(AppState.display_name, display=["none", "none", "inline"]),
                variant="soft",
                color_scheme="gray",
                data_testid="user-menu",
            )
        ),
        rx.menu.content(
            rx.box(
                rx.text(AppState.username, " · ", AppState.roles.join(", "), size="1", color_scheme="gray"),
                padding="4px 8px",
            ),
            rx.menu.separator(),
            rx.menu.item(
                rx.hstack(rx.icon("log-out", size=14), rx.text("Sign out")),
                on_click=rx.call_script(logout_script()),
                data_testid="sign-out",
            ),
        ),
    )


def _notification(n: rx.Var[NotificationRow]) -> rx.Component:
    body = rx.hstack(
        rx.box(
            width="7px",
            min_width="7px",
            height="7px",
            border_radius="50%",
            margin_top="7px",
            background=rx.cond(n.unread, rx.color("accent", 9), "transparent"),
        ),
        rx.vstack(
            rx.text(n.title, size="2", weight=rx.cond(n.unread, "bold", "regular"), data_testid="notification-title"),
            rx.cond(n.body != "", rx.text(n.body, size="1", color_scheme="gray")),
            rx.tooltip(rx.text(n.ago, size="1", color_scheme="gray"), content=n.at),
            spacing="0",
            align="start",
            min_width="0",
        ),
        align="start",
        spacing="2",
        width="100%",
        padding="6px 4px",
        border_radius="6px",
        _hover={"background": rx.color("gray", 3)},
    )
    return rx.cond(
        n.link != "",
        rx.popover.close(
            rx.box(
                body,
                on_click=NotificationsState.open_item(n.id),
                cursor="pointer",
                width="100%",
                role="link",
                data_testid="notification",
            )
        ),
        rx.box(body, width="100%", data_testid="notification"),
    )


def bell() -> rx.Component:
    """The notification bell. Mounting it (every staff page) starts its live
    watcher, so new notifications arrive without a reload wherever the user is."""
    return rx.popover.root(
        rx.popover.trigger(
            rx.box(
                rx.icon_button(
                    rx.icon("bell", size=16),
                    variant="soft",
                    color_scheme="gray",
                    aria_label="Notifications",
                    data_testid="bell",
                ),
                rx.cond(
                    NotificationsState.unread > 0,
                    rx.badge(
                        NotificationsState.unread,
                        color_scheme="red",
                        variant="solid",
                        radius="full",
                        size="1",
                        position="absolute",
                        top="-6px",
                        right="-8px",
                        data_testid="bell-count",
                    ),
                ),
                position="relative",
                on_mount=NotificationsState.watch,
            ),
        ),
        rx.popover.content(
            rx.vstack(
                rx.hstack(
                    rx.text("Notifications", weight="bold"),
                    rx.spacer(),
                    rx.cond(
                        NotificationsState.unread > 0,
                        rx.button(
                            "Mark all read", size="1", variant="ghost", on_click=NotificationsState.mark_all_read
                        ),
                    ),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    NotificationsState.items.length() > 0,
                    rx.vstack(
                        rx.foreach(NotificationsState.items, _notification),
                        spacing="1",
                        max_height="360px",
                        overflow_y="auto",
                        width="100%",
                    ),
                    rx.text("Nothing new.", size="2", color_scheme="gray"),
                ),
                width="100%",
            ),
            width="340px",
            max_width="calc(100vw - 24px)",
            data_testid="bell-panel",
        ),
        on_open_change=lambda _: NotificationsState.refresh,
    )


def topbar(title: str) -> rx.Component:
    return rx.hstack(
        nav_drawer(),
        rx.heading(title, size="5", data_testid="page-title", trim="both"),
        rx.spacer(),
        rx.badge(
            AppState.tenant_name,
            variant="surface",
            size="2",
            data_testid="tenant-badge",
            display=["none", "none", "inline-flex"],
        ),
        rx.box(bell(), on_mount=NotificationsState.refresh),
        user_menu(),
        align="center",
        spacing="3",
        width="100%",
        padding=["10px 12px", "10px 16px", "12px 24px"],
        border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


# "/" puts the cursor in the page's search field (the one `components.ui.search_box` draws),
# unless the user is typing somewhere already.
SLASH_FOCUSES_SEARCH = """
if (!window.__shopfloorSlash) {
  window.__shopfloorSlash = true;
  document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
    const a = document.activeElement;
    if (a && (/^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) || a.isContentEditable)) return;
    const box = document.querySelector('input[data-search="1"], [data-search="1"] input');
    if (box) { e.preventDefault(); box.focus(); box.select(); }
  });
}
"""


def forbidden_panel() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.icon("shield-x", size=32, color=rx.color("red", 9)),
                rx.heading("No access", size="4"),
                rx.text(
                    "This page needs the right to “",
                    AppState.page_permission_text,
                    "”, which your role does not include. Ask an admin if you need it.",
                    align="center",
                ),
                rx.link("Back to home", href="/"),
                align="center",
                spacing="3",
            ),
            max_width="420px",
            data_testid="forbidden",
        ),
        padding_top="80px",
        width="100%",
    )


def loading_panel() -> rx.Component:
    return rx.center(rx.spinner(size="3"), padding_top="80px", width="100%")


PageFn = Callable[[], rx.Component]
PHONE_META = ({"name": "viewport", "content": "width=device-width, initial-scale=1"},)


def staff_page(
    path: str,
    title: str,
    *,
    permission: str | None,
    on_load: Any = (),
    icon: str = "circle",
    nav: bool = True,
    section: str = "Shop",
    layout: bool = True,
    meta: tuple[dict[str, str], ...] = (),
) -> Callable[[PageFn], PageFn]:
    """Register a staff page once, where it is defined: its route (title,
    permission, navigation) and the page itself, wrapped in the layout (or,
    with layout=False, as it is: the phone pages). Every staff page's on_load
    starts with `AppState.guard_page`."""
    route = register_route(Route(path, title, permission, icon=icon, nav=nav, section=section))
    loads = _as_tuple(on_load)

    def wrap(body: PageFn) -> PageFn:
        page = _in_layout(body, route.title) if layout else body
        register_page(
            Page(path, f"{title} · Shopfloor", page, kind="staff", on_load=(AppState.guard_page, *loads), meta=meta)
        )
        return page

    return wrap


def public_page(
    path: str, title: str, *, on_load: Any = (), kind: str = "public", meta: tuple[dict[str, str], ...] = ()
) -> Callable[[PageFn], PageFn]:
    """Register a page anyone may open (sign-in) or a storefront page (customers)."""

    def wrap(page: PageFn) -> PageFn:
        register_page(Page(path, title, page, kind=kind, on_load=_as_tuple(on_load), meta=meta))
        return page

    return wrap


def _as_tuple(on_load: Any) -> tuple[Any, ...]:
    """One on_load handler or several."""
    return tuple(on_load) if isinstance(on_load, (list, tuple)) else (on_load,)


def _in_layout(body: PageFn, title: str) -> PageFn:
    def page() -> rx.Component:
        return rx.hstack(
            sidebar(),
            rx.vstack(
                topbar(title),
                rx.box(
                    rx.cond(
                        AppState.signed_in,
                        rx.cond(AppState.page_allowed, body(), forbidden_panel()),
                        loading_panel(),
                    ),
                    padding=["12px", "16px", "24px"],
                    width="100%",
                    min_width="0",  # a wide table scrolls inside its card instead of widening the page
                ),
                rx.script(SLASH_FOCUSES_SEARCH),
                download_frame(),
                spacing="0",
                width="100%",
                min_width="0",
                min_height="100vh",
            ),
            spacing="0",
            width="100%",
            align="start",
        )

    page.__name__ = body.__name__
    return page


def stat_card(label: str, value: rx.Var, icon: str, testid: str = "") -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon(icon, size=20, color=rx.color("accent", 10)),
            rx.vstack(
                rx.text(label, size="2", color_scheme="gray"),
                rx.heading(value, size="6", data_testid=testid or None),
                spacing="1",
            ),
            align="center",
            spacing="3",
        ),
        min_width="180px",
    )
