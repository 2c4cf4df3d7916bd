"""Customer pages: /account/login, /account/signup, /account (My orders) and
/account/builds (My builds)."""

from __future__ import annotations

import json

import reflex as rx

from app.orders.machine import FULFILLMENT_STATUS, ORDER_STATUS
from app.settings import get_settings
from components.customer import progress_steps
from components.layout import PHONE_META, public_page
from components.storefront import (
    acknowledge_blocks,
    country_item,
    order_field,
    order_totals_card,
    place_order_buttons,
    severity_badge,
    share_dialog,
    storefront_page,
)
from components.ui import empty_state, loading_table, status_badge
from state.account import AccountBuildsState, AccountOrdersState, CustomerAuthState, OrderRow, SavedBuildRow


def _post_script(form_id: str, path: str, fields: list[str]) -> str:
    """Post the form straight to the API (the cookie is HttpOnly; the password
    never enters Reflex state), then go on to `next` or My builds."""
    api = json.dumps(get_settings().api_url.rstrip("/") + path)
    body = ", ".join(f"{f}: f.elements.{f}.value" for f in fields)
    return f"""(async () => {{
  const f = document.getElementById('{form_id}');
  try {{
    const r = await fetch({api}, {{method: 'POST', credentials: 'include',
      headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify({{{body}}})}});
    if (r.ok) {{
      const n = new URLSearchParams(window.location.search).get('next');
      window.location.assign(n && n.startsWith('/') && !n.startsWith('//') ? n : '/account/builds');
      return {{ok: true}};
    }}
    let message = 'That did not work (' + r.status + ').';
    try {{ const j = await r.json(); message = j.error.message; }} catch (e) {{}}
    const end = message.endsWith('.') ? '' : '.';
    return {{ok: false, message: message.charAt(0).toUpperCase() + message.slice(1) + end}};
  }} catch (e) {{
    return {{ok: false, message: 'Cannot reach the shop. Check your connection and try again.'}};
  }}
}})()"""


def _labelled(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium", as_="label", html_for=control.id), control, spacing="1", width="100%"
    )


def _auth_card(
    title: str,
    subtitle: str,
    form_id: str,
    path: str,
    fields: list[rx.Component],
    names: list[str],
    button: str,
    other: rx.Component,
) -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading(title, size="6"),
                    rx.text(subtitle, color_scheme="gray", size="2"),
                    rx.cond(
                        CustomerAuthState.error != "",
                        rx.callout(
                            CustomerAuthState.error,
                            icon="triangle-alert",
                            color_scheme="red",
                            role="alert",
                            width="100%",
                            data_testid="account-error",
                        ),
                    ),
                    *fields,
                    rx.button(
                        rx.cond(CustomerAuthState.busy, rx.spinner(size="2"), rx.icon("log-in", size=16)),
                        button,
                        type="submit",
                        size="3",
                        width="100%",
                        disabled=CustomerAuthState.busy,
                        data_testid="account-submit",
                    ),
                    other,
                    spacing="3",
                    width="100%",
                ),
                id=form_id,
                on_submit=[
                    CustomerAuthState.start,
                    rx.call_script(_post_script(form_id, path, names), callback=CustomerAuthState.finish),
                ],
                reset_on_submit=False,
            ),
            width="100%",
            max_width="420px",
            size="4",
        ),
        padding_top=["16px", "48px"],
        width="100%",
    )


def _email() -> rx.Component:
    return _labelled(
        "Email",
        rx.input(id="email", name="email", type="email", auto_complete="email", required=True, width="100%", size="3"),
    )


def _login() -> rx.Component:
    return _auth_card(
        "Sign in",
        "Your saved builds and orders, on any device.",
        "customer-login",
        "/api/v1/shop/customers/login",
        [
            _email(),
            _labelled(
                "Password",
                rx.input(
                    id="password",
                    name="password",
                    type="password",
                    auto_complete="current-password",
                    required=True,
                    width="100%",
                    size="3",
                ),
            ),
        ],
        ["email", "password"],
        "Sign in",
        rx.text("New here? ", rx.link("Create an account", href="/account/signup", data_testid="to-signup"), size="2"),
    )


def _signup() -> rx.Component:
    return _auth_card(
        "Create an account",
        "A build you saved in this browser moves into your account.",
        "customer-signup",
        "/api/v1/shop/customers/signup",
        [
            _labelled(
                "Name", rx.input(id="name", name="name", auto_complete="name", required=True, width="100%", size="3")
            ),
            _email(),
            _labelled(
                "Password (at least 10 characters)",
                rx.input(
                    id="password",
                    name="password",
                    type="password",
                    auto_complete="new-password",
                    required=True,
                    min_length=10,
                    width="100%",
                    size="3",
                ),
            ),
        ],
        ["name", "email", "password"],
        "Create account",
        rx.text("Already have an account? ", rx.link("Sign in", href="/account/login"), size="2"),
    )


customer_login_page = public_page(
    "/account/login", "Sign in", kind="storefront", on_load=CustomerAuthState.on_open, meta=PHONE_META
)(storefront_page(_login))
customer_signup_page = public_page(
    "/account/signup", "Create an account", kind="storefront", on_load=CustomerAuthState.on_open, meta=PHONE_META
)(storefront_page(_signup))


# --- /account/builds ------------------------------------------------------------------------------


def _build_card(b: rx.Var[SavedBuildRow]) -> rx.Component:
    bid = b.id
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading(b.name, size="4", data_testid="saved-build-name"),
                    severity_badge(b.overall),
                    align="center",
                    spacing="2",
                    wrap="wrap",
                ),
                rx.text(
                    b.state,
                    " · ",
                    b.parts,
                    rx.cond(b.parts == 1, " part", " parts"),
                    " · saved ",
                    b.updated,
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    b.share_url != "",
                    rx.text("Shared: ", rx.link(b.share_url, href=b.share_url, is_external=True), size="1"),
                ),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.vstack(
                # the parts alone: the order dialog adds assembly and shipping, and says so
                rx.hstack(
                    rx.text("Parts", size="1", color_scheme="gray"),
                    rx.heading(b.total, size="5", white_space="nowrap", data_testid="saved-build-total"),
                    align="baseline",
                    spacing="2",
                ),
                rx.flex(
                    rx.link(
                        rx.button(rx.icon("wrench", size=14), "Open", size="2", variant="soft"),
                        href="/build?" + b.query,
                    ),
                    rx.button(
                        rx.icon("shopping-cart", size=14),
                        "Order",
                        size="2",
                        on_click=AccountBuildsState.start_order(bid),
                        data_testid="order-build",
                    ),
                    rx.menu.root(
                        rx.menu.trigger(
                            rx.icon_button(
                                rx.icon("ellipsis", size=16),
                                variant="soft",
                                color_scheme="gray",
                                aria_label="More actions",
                                data_testid="build-menu",
                            )
                        ),
                        rx.menu.content(
                            rx.menu.item(
                                rx.hstack(rx.icon("share-2", size=14), rx.text("Share link")),
                                on_click=AccountBuildsState.share(bid),
                                data_testid="share-saved",
                            ),
                            rx.menu.item(
                                rx.hstack(rx.icon("pencil", size=14), rx.text("Rename")),
                                on_click=AccountBuildsState.start_rename(bid, b.name),
                            ),
                            rx.menu.item(
                                rx.hstack(rx.icon("copy", size=14), rx.text("Duplicate")),
                                on_click=AccountBuildsState.duplicate(bid),
                                data_testid="duplicate-saved",
                            ),
                        ),
                    ),
                    rx.alert_dialog.root(
                        rx.alert_dialog.trigger(
                            rx.icon_button(
                                rx.icon("trash-2", size=16),
                                color_scheme="red",
                                variant="soft",
                                aria_label="Delete build",
                                data_testid="delete-saved",
                            )
                        ),
                        rx.alert_dialog.content(
                            rx.alert_dialog.title("Delete this build?"),
                            rx.alert_dialog.description(
                                "It disappears from My builds, and its share link stops working."
                            ),
                            rx.hstack(
                                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                                rx.alert_dialog.action(
                                    rx.button(
                                        "Delete",
                                        color_scheme="red",
                                        on_click=AccountBuildsState.delete(bid),
                                        data_testid="confirm-delete",
                                    )
                                ),
                                justify="end",
                                spacing="3",
                                padding_top="12px",
                            ),
                        ),
                    ),
                    spacing="2",
                    wrap="wrap",
                    justify="end",
                ),
                align="end",
                spacing="2",
            ),
            spacing="4",
            width="100%",
            direction=rx.breakpoints(initial="column", sm="row"),
        ),
        width="100%",
        data_testid="saved-build",
    )


def _order_dialog() -> rx.Component:
    a, t = AccountBuildsState.order_address, AccountBuildsState.order_totals
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(
                rx.dialog.title("Order “", AccountBuildsState.order_name, "”", margin="0", min_width="0"),
                rx.spacer(),
                rx.dialog.close(
                    rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", aria_label="Close")
                ),
                align="center",
                width="100%",
            ),
            rx.dialog.description(
                "We assemble it, test it and ship it to this address. Parts are charged at today's prices.",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    order_totals_card(t),
                    rx.cond(
                        AccountBuildsState.order_error != "",
                        rx.callout(
                            AccountBuildsState.order_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            role="alert",
                            width="100%",
                            data_testid="order-error",
                        ),
                    ),
                    order_field(
                        AccountBuildsState.order_field_errors,
                        "Full name",
                        "name",
                        a.name,
                        required=True,
                        auto_complete="name",
                    ),
                    rx.vstack(
                        rx.text("Email", size="2", weight="medium"),
                        rx.text(AccountBuildsState.customer_email, size="2", color_scheme="gray"),
                        spacing="1",
                        width="100%",
                    ),
                    rx.grid(
                        order_field(
                            AccountBuildsState.order_field_errors,
                            "Street",
                            "street",
                            a.street,
                            required=True,
                            auto_complete="address-line1",
                        ),
                        order_field(
                            AccountBuildsState.order_field_errors,
                            "House number",
                            "house_number",
                            a.house_number,
                            required=True,
                        ),
                        columns=rx.breakpoints(
                            initial="minmax(0, 2fr) minmax(0, 1fr)", sm="minmax(0, 3fr) minmax(0, 1fr)"
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    order_field(
                        AccountBuildsState.order_field_errors,
                        "Address line 2 (optional)",
                        "address2",
                        a.address2,
                        auto_complete="address-line2",
                    ),
                    rx.grid(
                        order_field(
                            AccountBuildsState.order_field_errors,
                            "Postal code",
                            "postal_code",
                            a.postal_code,
                            required=True,
                        ),
                        order_field(
                            AccountBuildsState.order_field_errors,
                            "City",
                            "city",
                            a.city,
                            required=True,
                            auto_complete="address-level2",
                        ),
                        columns="minmax(0, 1fr) minmax(0, 2fr)",
                        spacing="3",
                        width="100%",
                    ),
                    rx.vstack(
                        rx.text("Country", size="2", weight="medium"),
                        rx.select.root(
                            rx.select.trigger(width="100%", data_testid="order-country"),
                            rx.select.content(rx.foreach(AccountBuildsState.order_countries, country_item)),
                            name="country_code",
                            default_value=a.country_code,
                        ),
                        rx.cond(
                            AccountBuildsState.order_field_errors.get("country_code", "") != "",
                            rx.text(
                                AccountBuildsState.order_field_errors.get("country_code", ""),
                                size="1",
                                color_scheme="red",
                                data_testid="order-country_code-error",
                            ),
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    order_field(
                        AccountBuildsState.order_field_errors,
                        "Phone (optional)",
                        "phone",
                        a.phone,
                        type="tel",
                        auto_complete="tel",
                    ),
                    acknowledge_blocks(AccountBuildsState.order_blocks),
                    place_order_buttons(t.total, AccountBuildsState.order_busy),
                    spacing="3",
                    width="100%",
                ),
                on_submit=[AccountBuildsState.order_submitting, AccountBuildsState.place_order],
                reset_on_submit=False,
            ),
            max_width=["100%", "540px"],
            padding=["14px", "24px"],
            data_testid="order-dialog",
        ),
        open=AccountBuildsState.order_open,
        on_open_change=AccountBuildsState.set_order_open,
    )


def _rename_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename build"),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="name",
                        default_value=AccountBuildsState.rename_value,
                        max_length=120,
                        required=True,
                        width="100%",
                        data_testid="rename-input",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Rename", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=AccountBuildsState.rename,
            ),
        ),
        open=AccountBuildsState.rename_open,
        on_open_change=AccountBuildsState.set_rename_open,
    )


def _builds() -> rx.Component:
    return rx.vstack(
        account_nav("builds"),
        rx.flex(
            rx.vstack(
                rx.heading("My builds", size="7"),
                rx.text("Saved in your account: open, share, order.", color_scheme="gray", size="2"),
                spacing="1",
            ),
            rx.spacer(),
            rx.link(rx.button(rx.icon("plus", size=14), "New build"), href="/build"),
            width="100%",
            align="center",
            spacing="3",
        ),
        rx.cond(
            AccountBuildsState.placed_number != "",
            rx.callout(
                rx.text(
                    "Order ",
                    rx.text.strong(AccountBuildsState.placed_number),
                    " is placed. We'll email you when it ships.",
                ),
                icon="party-popper",
                color_scheme="green",
                width="100%",
                data_testid="order-placed",
            ),
        ),
        rx.cond(
            ~AccountBuildsState.loaded,
            loading_table(3),
            rx.cond(
                AccountBuildsState.builds.length() > 0,
                rx.vstack(rx.foreach(AccountBuildsState.builds, _build_card), spacing="3", width="100%"),
                empty_state("bookmark", "No saved builds yet", "Build a PC and press Save to keep it here."),
            ),
        ),
        _order_dialog(),
        _rename_dialog(),
        share_dialog(
            AccountBuildsState.share_url,
            AccountBuildsState.share_open,
            AccountBuildsState.set_share_open,
            "account-share-url",
        ),
        spacing="4",
        width="100%",
    )


account_builds_page = public_page(
    "/account/builds", "My builds", kind="storefront", on_load=AccountBuildsState.load, meta=PHONE_META
)(storefront_page(_builds))


# --- the account's two sections, and /account (My orders) ---------------------------------------------


def _tab(label: str, href: str, icon: str, active: bool, testid: str) -> rx.Component:
    return rx.link(
        rx.button(
            rx.icon(icon, size=14),
            label,
            variant="solid" if active else "soft",
            size="2",
            **({} if active else {"color_scheme": "gray"}),
        ),
        href=href,
        aria_current="page" if active else None,
        data_testid=testid,
    )


def account_nav(active: str) -> rx.Component:
    """My orders | My builds: the account's two sections."""
    return rx.flex(
        _tab("My orders", "/account", "package", active == "orders", "account-tab-orders"),
        _tab("My builds", "/account/builds", "bookmark", active == "builds", "account-tab-builds"),
        spacing="2",
        wrap="wrap",
        role="navigation",
        aria_label="Your account",
    )


def _order_tracking(o: rx.Var[OrderRow]) -> rx.Component:
    return rx.cond(
        o.tracking_number != "",
        rx.hstack(
            rx.icon("truck", size=14, color=rx.color("gray", 10), flex_shrink="0"),
            rx.text("Tracking", size="2", color_scheme="gray"),
            rx.cond(
                o.tracking_url != "",
                rx.link(o.tracking_number, href=o.tracking_url, is_external=True, size="2", data_testid="order-track"),
                rx.text(o.tracking_number, size="2", weight="medium", data_testid="order-track"),
            ),
            rx.cond(o.tracking_carrier != "", rx.text("(", o.tracking_carrier, ")", size="2", color_scheme="gray")),
            align="center",
            spacing="1",
            wrap="wrap",
        ),
    )


def _order_progress(o: rx.Var[OrderRow]) -> rx.Component:
    return rx.cond(
        o.is_pc,
        rx.vstack(
            progress_steps(o.steps, testid="order-progress"),
            rx.flex(
                rx.text(o.done, " of 5 steps done", size="1", color_scheme="gray"),
                rx.spacer(),
                rx.cond(
                    o.build_path != "",
                    rx.link(
                        rx.button(rx.icon("eye", size=14), "Follow your build", size="2", variant="soft"),
                        href=o.build_path,
                        data_testid="order-build-link",
                    ),
                    rx.text("Your build page opens when we start building.", size="1", color_scheme="gray"),
                ),
                align="center",
                spacing="2",
                wrap="wrap",
                width="100%",
            ),
            spacing="2",
            width="100%",
            padding_top="4px",
        ),
    )


def _order_card(o: rx.Var[OrderRow]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.vstack(
                    rx.flex(
                        rx.heading("Order ", o.number, size="4", data_testid="order-number"),
                        status_badge(o.status, ORDER_STATUS, data_testid="order-status"),
                        rx.cond(
                            o.fulfillment != "unfulfilled",
                            status_badge(o.fulfillment, FULFILLMENT_STATUS, variant="outline"),
                        ),
                        align="center",
                        spacing="2",
                        wrap="wrap",
                    ),
                    rx.text("Ordered on ", o.placed, size="2", color_scheme="gray", data_testid="order-placed"),
                    spacing="1",
                    min_width="0",
                ),
                rx.spacer(),
                rx.heading(o.total, size="5", white_space="nowrap", data_testid="order-total"),
                spacing="3",
                width="100%",
                align="start",
                wrap="wrap",
            ),
            _order_tracking(o),
            _order_progress(o),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="customer-order",
    )


def _orders() -> rx.Component:
    return rx.vstack(
        account_nav("orders"),
        rx.vstack(
            rx.heading("My orders", size="7"),
            rx.text("Where each order is, and how your PC's build is going.", color_scheme="gray", size="2"),
            spacing="1",
        ),
        rx.cond(
            ~AccountOrdersState.loaded,
            loading_table(3),
            rx.cond(
                AccountOrdersState.orders.length() > 0,
                rx.vstack(rx.foreach(AccountOrdersState.orders, _order_card), spacing="3", width="100%"),
                rx.vstack(
                    empty_state("package", "No orders yet", "Design your PC in the builder and order it from here."),
                    rx.link(rx.button(rx.icon("wrench", size=14), "Build a PC", size="3"), href="/build"),
                    align="center",
                    spacing="3",
                    width="100%",
                    data_testid="orders-empty",
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )


account_orders_page = public_page(
    "/account", "My orders", kind="storefront", on_load=AccountOrdersState.load, meta=PHONE_META
)(storefront_page(_orders))
