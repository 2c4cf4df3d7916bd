"""/login: staff sign-in."""

from __future__ import annotations

import json

import reflex as rx

from app.settings import get_settings
from components.layout import public_page
from state.auth import LoginState


def _login_script() -> str:
    api = json.dumps(get_settings().api_url.rstrip("/") + "/api/v1/auth/login")
    return f"""(async () => {{
  const f = document.getElementById('login-form');
  const shop = f.elements.shop ? f.elements.shop.value.trim() : '';
  const body = {{username: f.elements.username.value, password: f.elements.password.value, shop: shop || null}};
  try {{
    const r = await fetch({api}, {{method: 'POST', credentials: 'include',
      headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify(body)}});
    if (r.ok) {{
      const n = new URLSearchParams(window.location.search).get('next');
      window.location.assign(n && n.startsWith('/') && !n.startsWith('//') ? n : '/');
      return {{ok: true}};
    }}
    let message = 'Sign-in failed (' + r.status + ').';
    try {{ const j = await r.json(); message = j.error.message; }} catch (e) {{}}
    const end = message.endsWith('.') ? '' : '.';
    return {{ok: false, message: message.charAt(0).toUpperCase() + message.slice(1) + end}};
  }} catch (e) {{
    return {{ok: false, message: 'Cannot reach the server. Check your connection and try again.'}};
  }}
}})()"""


@public_page("/login", "Sign in · Shopfloor", on_load=LoginState.on_open)
def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.icon("factory", size=28, color=rx.color("accent", 10)),
                        rx.heading("Shopfloor", size="6"),
                        align="center",
                    ),
                    rx.text("Sign in to your shop", color_scheme="gray", size="2"),
                    rx.cond(
                        LoginState.error != "",
                        rx.callout(
                            LoginState.error,
                            icon="triangle-alert",
                            color_scheme="red",
                            role="alert",
                            width="100%",
                            data_testid="login-error",
                        ),
                    ),
                    rx.vstack(
                        rx.text("Username", size="2", weight="medium", as_="label", html_for="username"),
                        rx.input(
                            id="username",
                            name="username",
                            auto_complete="username",
                            required=True,
                            auto_focus=True,
                            width="100%",
                            size="3",
                        ),
                        rx.text("Password", size="2", weight="medium", as_="label", html_for="password"),
                        rx.input(
                            id="password",
                            name="password",
                            type="password",
                            auto_complete="current-password",
                            required=True,
                            width="100%",
                            size="3",
                        ),
                        rx.accordion.root(
                            rx.accordion.item(
                                header=rx.text("Another shop?", size="1"),
                                content=rx.input(
                                    id="shop",
                                    name="shop",
                                    placeholder="Shop code (e.g. demo)",
                                    auto_complete="organization",
                                    aria_label="Shop code",
                                    width="100%",
                                ),
                                value="shop",
                            ),
                            collapsible=True,
                            type="single",
                            variant="ghost",
                            width="100%",
                        ),
                        spacing="2",
                        width="100%",
                    ),
                    rx.button(
                        rx.cond(LoginState.busy, rx.spinner(size="2"), rx.icon("log-in", size=16)),
                        "Sign in",
                        type="submit",
                        size="3",
                        width="100%",
                        disabled=LoginState.busy,
                        data_testid="sign-in",
                    ),
                    spacing="4",
                    width="100%",
                ),
                id="login-form",
                on_submit=[LoginState.start, rx.call_script(_login_script(), callback=LoginState.finish)],
                reset_on_submit=False,
            ),
            width="100%",
            max_width="380px",
            size="4",
        ),
        min_height="100vh",
        padding="12px",
        background=rx.color("gray", 2),
    )
