"""The public storefront's layout: a slim header (shop, Build a PC, My builds,
sign-in), the page, and a footer that credits the parts data (ODC-By 1.0)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from app.builder.rules import SEVERITY
from app.settings import get_settings
from state.builder import CountryOption, OrderTotals
from state.storefront import StorefrontState

SEVERITY_ICONS = {"pass": "circle-check", "info": "info", "warn": "triangle-alert", "block": "circle-x"}


def customer_logout_script() -> str:
    api = get_settings().api_url.rstrip("/")
    return (
        f"fetch('{api}/api/v1/shop/customers/logout', {{method: 'POST', credentials: 'include'}})"
        ".finally(() => window.location.assign('/build'))"
    )


def severity_badge(severity: rx.Var | str, testid: str | rx.Var | None = None) -> rx.Component:
    """A verdict badge: colour, icon and words (never colour alone)."""
    return rx.match(
        severity,
        *[
            (
                sev.value,
                rx.badge(
                    rx.icon(SEVERITY_ICONS[sev.value], size=12),
                    sev.label,
                    color_scheme=sev.color,
                    variant="soft",
                    data_testid=testid,
                    data_severity=sev.value,
                ),
            )
            for sev in SEVERITY
        ],
        rx.fragment(),
    )


def _header() -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.hstack(
                rx.icon("cpu", size=22, color=rx.color("accent", 10)),
                rx.heading(
                    rx.cond(StorefrontState.shop_name != "", StorefrontState.shop_name, "PC Builder"),
                    size=rx.breakpoints(initial="3", sm="4"),
                    white_space="nowrap",
                    overflow="hidden",
                    text_overflow="ellipsis",
                ),
                align="center",
                spacing="2",
                min_width="0",
            ),
            href="/build",
            underline="none",
            color_scheme="gray",
            high_contrast=True,
            min_width="0",
        ),
        rx.cond(
            StorefrontState.demo_prices,
            rx.tooltip(
                rx.badge(
                    "Demo prices", color_scheme="amber", variant="soft", data_testid="demo-prices", flex_shrink="0"
                ),
                content="This shop shows demo prices and stock, not real offers.",
            ),
        ),
        rx.spacer(),
        rx.link(
            rx.hstack(
                rx.icon("wrench", size=16),
                rx.text("Build a PC", size="2", display=["none", "inline"]),
                align="center",
                spacing="1",
            ),
            href="/build",
            underline="none",
            data_testid="nav-build",
        ),
        rx.link(
            rx.hstack(
                rx.icon("grid-3x3", size=16),
                rx.text("Gridfinity", size="2", display=["none", "inline"]),
                align="center",
                spacing="1",
            ),
            href="/gridfinity",
            underline="none",
            aria_label="Gridfinity baseplates",
            data_testid="nav-gridfinity",
        ),
        rx.cond(
            StorefrontState.customer_signed_in,
            rx.hstack(
                rx.link(
                    rx.hstack(
                        rx.icon("bookmark", size=16),
                        rx.text("My builds", size="2", display=["none", "inline"]),
                        align="center",
                        spacing="1",
                    ),
                    href="/account/builds",
                    underline="none",
                    data_testid="nav-my-builds",
                ),
                rx.menu.root(
                    rx.menu.trigger(
                        rx.button(
                            rx.icon("circle-user", size=16),
                            rx.text(StorefrontState.customer_name, display=["none", "inline"]),
                            variant="soft",
                            color_scheme="gray",
                            size="2",
                            data_testid="customer-menu",
                        )
                    ),
                    rx.menu.content(
                        rx.box(
                            rx.text(StorefrontState.customer_email, size="1", color_scheme="gray"), padding="4px 8px"
                        ),
                        rx.menu.separator(),
                        rx.menu.item(
                            rx.hstack(rx.icon("package", size=14), rx.text("My orders")),
                            on_click=rx.redirect("/account"),
                            data_testid="customer-my-orders",
                        ),
                        rx.menu.item(
                            rx.hstack(rx.icon("log-out", size=14), rx.text("Sign out")),
                            on_click=rx.call_script(customer_logout_script()),
                            data_testid="customer-sign-out",
                        ),
                    ),
                ),
                spacing="4",
                align="center",
            ),
            rx.link(
                rx.button(
                    rx.icon("log-in", size=16),
                    rx.text("Sign in", white_space="nowrap", display=["none", "inline"]),
                    variant="soft",
                    size="2",
                    aria_label="Sign in",
                ),
                href="/account/login",
                data_testid="nav-sign-in",
            ),
        ),
        align="center",
        spacing=rx.breakpoints(initial="3", sm="4"),
        width="100%",
        padding=["10px 14px", "12px 24px"],
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="10",
    )


def credit_footer() -> rx.Component:
    return rx.box(
        rx.text(
            "Parts data: ",
            rx.link("BuildCores OpenDB", href="https://github.com/buildcores/buildcores-open-db", is_external=True),
            " (ODC-By 1.0). Prices and stock are the shop's own.",
            size="1",
            color_scheme="gray",
        ),
        width="100%",
        padding="16px 24px",
        border_top=f"1px solid {rx.color('gray', 5)}",
        data_testid="data-credit",
    )


def storefront_page(body: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    """Wrap a storefront page in the header and the credit footer."""

    def page() -> rx.Component:
        return rx.vstack(
            _header(),
            rx.box(body(), width="100%", max_width="1200px", margin_x="auto", padding=["12px", "24px"], flex="1"),
            credit_footer(),
            spacing="0",
            width="100%",
            min_height="100vh",
            background=rx.color("gray", 2),
        )

    page.__name__ = body.__name__
    return page


def share_dialog(url: rx.Var, open_: rx.Var, on_open_change, testid: str) -> rx.Component:
    """The share link of a build, with Copy and a link to open it."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Share this build"),
            rx.dialog.description("Anyone with this link can see the build (it is not listed anywhere).", size="2"),
            rx.hstack(
                rx.input(value=url, read_only=True, flex="1", data_testid=testid),
                rx.button(
                    rx.icon("copy", size=14), "Copy", on_click=[rx.set_clipboard(url), rx.toast.success("Link copied.")]
                ),
                width="100%",
                padding_top="12px",
            ),
            rx.hstack(
                rx.link("Open the shared page", href=url, is_external=True, size="2"),
                rx.spacer(),
                rx.dialog.close(rx.button("Done", variant="soft")),
                width="100%",
                padding_top="12px",
            ),
        ),
        open=open_,
        on_open_change=on_open_change,
    )


def _money_line(label: str, value: rx.Var, testid: str, strong: bool = False) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", weight="bold" if strong else "regular"),
        rx.spacer(),
        rx.text(value, size="3" if strong else "2", weight="bold" if strong else "regular", data_testid=testid),
        width="100%",
        align="center",
    )


def order_totals_card(totals: rx.Var[OrderTotals]) -> rx.Component:
    """What ordering a PC costs: parts, assembly and testing, shipping and the
    total, already in the shop's format. Both order dialogs (the builder and
    My builds) show it, so a customer reads the same words wherever they order."""
    return rx.card(
        rx.vstack(
            _money_line("Parts", totals.parts, "order-parts"),
            _money_line("Assembly and testing", totals.assembly, "order-assembly"),
            _money_line("Shipping", totals.shipping, "order-shipping"),
            rx.divider(),
            _money_line("Total", totals.total, "order-total", strong=True),
            spacing="2",
            width="100%",
        ),
        width="100%",
        variant="surface",
        data_testid="order-totals",
    )


# --- the order dialog's pieces (the builder and My builds order the same way) -----------------


def order_field(errors: rx.Var, label: str, name: str, value: rx.Var, **props) -> rx.Component:
    """A labelled field of an order dialog with its own error (from `errors`, field → message) under it."""
    error = errors.get(name, "")
    return rx.vstack(
        rx.text(label, size="2", weight="medium", as_="label", html_for=f"order-{name}"),
        rx.input(
            id=f"order-{name}",
            name=name,
            default_value=value,
            width="100%",
            color_scheme=rx.cond(error != "", "red", "gray"),
            aria_invalid=rx.cond(error != "", "true", "false"),
            data_testid=f"order-{name}",
            **props,
        ),
        rx.cond(error != "", rx.text(error, size="1", color_scheme="red", data_testid=f"order-{name}-error")),
        spacing="1",
        width="100%",
        min_width="0",
    )


def country_item(c: rx.Var[CountryOption]) -> rx.Component:
    return rx.select.item(c.name, value=c.code)


def acknowledge_blocks(blocks: rx.Var) -> rx.Component:
    """When the build has blocks: the tick-box that orders it as it is."""
    return rx.cond(
        blocks,
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-x")),
            rx.vstack(
                rx.text("Some parts of this build do not fit together.", weight="bold", size="2"),
                rx.hstack(
                    rx.checkbox(name="acknowledge", data_testid="order-acknowledge"),
                    rx.text("I understand, and want it built as it is.", size="2"),
                    as_="label",
                    align="center",
                    spacing="2",
                ),
                spacing="2",
            ),
            color_scheme="red",
            width="100%",
        ),
    )


def place_order_buttons(total: rx.Var, busy: rx.Var | bool = False) -> rx.Component:
    """Cancel, and "Place order · €…" (the form's submit)."""
    return rx.flex(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        rx.button(
            rx.icon("shopping-cart", size=14),
            "Place order · ",
            total,
            type="submit",
            color_scheme="green",
            loading=busy,
            data_testid="place-order",
        ),
        justify="end",
        spacing="3",
        wrap="wrap",
        width="100%",
    )
