"""Customer pages: /account/login, /account/signup and /account/builds."""

from __future__ import annotations

import json

import reflex as rx

from app.settings import get_settings
from components.layout import PHONE_META, public_page
from components.storefront import severity_badge, share_dialog, storefront_page
from components.ui import empty_state, loading_table
from state.account import COUNTRIES, AccountBuildsState, CustomerAuthState, SavedBuildRow


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
                rx.text(b.state, " · ", b.parts, " parts · saved ", b.updated, size="1", color_scheme="gray"),
                rx.cond(
                    b.share_url != "",
                    rx.text("Shared: ", rx.link(b.share_url, href=b.share_url, is_external=True), size="1"),
                ),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.vstack(
                rx.heading(b.total, size="5"),
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
                    gap="2",
                    wrap="wrap",
                    justify="end",
                ),
                align="end",
                spacing="2",
            ),
            gap="4",
            width="100%",
            direction=rx.breakpoints(initial="column", sm="row"),
        ),
        width="100%",
        data_testid="saved-build",
    )


def _field(label: str, name: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(name=name, width="100%", data_testid=f"order-{name}", **props),
        spacing="1",
        width="100%",
    )


def _order_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Order “", AccountBuildsState.order_name, "”"),
            rx.dialog.description(
                "We build it, test it and ship it to this address. Parts are charged at today's prices.", size="2"
            ),
            rx.form(
                rx.vstack(
                    rx.cond(
                        AccountBuildsState.order_error != "",
                        rx.callout(
                            AccountBuildsState.order_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            data_testid="order-error",
                        ),
                    ),
                    _field("Full name", "name", default_value=AccountBuildsState.customer_name, required=True),
                    rx.grid(
                        _field("Street", "street", required=True),
                        _field("House number", "house_number", required=True),
                        columns="3fr 1fr",
                        gap="3",
                        width="100%",
                    ),
                    _field("Address line 2 (optional)", "address2"),
                    rx.grid(
                        _field("Postal code", "postal_code", required=True),
                        _field("City", "city", required=True),
                        columns="1fr 2fr",
                        gap="3",
                        width="100%",
                    ),
                    rx.vstack(
                        rx.text("Country", size="2", weight="medium"),
                        rx.select(COUNTRIES, name="country_code", default_value="NL", width="100%"),
                        spacing="1",
                        width="100%",
                    ),
                    _field("Phone (optional)", "phone", type="tel"),
                    rx.cond(
                        AccountBuildsState.order_blocks,
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
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(
                            rx.icon("shopping-cart", size=14), "Place order", type="submit", data_testid="place-order"
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=AccountBuildsState.place_order,
                reset_on_submit=False,
            ),
            max_width="520px",
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
            gap="3",
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
