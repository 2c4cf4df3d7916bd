"""The sign-in page's state. The password never passes through Reflex state:
the form posts straight to /api/v1/auth/login from the browser, which sets the
HttpOnly session cookie, and only the outcome comes back here."""

from __future__ import annotations

import reflex as rx

from state.base import AppState, public


class LoginState(AppState):
    error: str = ""
    busy: bool = False

    @rx.event
    @public
    async def on_open(self):
        """Already signed in? Go straight to the app."""
        self.error = ""
        self.busy = False
        if await self._load_principal() is not None:
            return rx.redirect("/")
        return None

    @rx.event
    @public
    def start(self):
        self.busy = True
        self.error = ""

    @rx.event
    @public
    def finish(self, result: dict):
        if not result or not result.get("ok"):
            self.busy = False
            self.error = (result or {}).get("message") or "Sign-in failed."
