"""AppState: the signed-in user, the tenant and permission checks.

Every feature state subclasses AppState, and every event handler that touches
data is wrapped in `@guarded("resource.action")`: the session cookie (sent with
the websocket handshake, HttpOnly, never visible to page scripts) is checked
against the database on each event, so a signed-out or downgraded user loses
access at once, not at the next page load.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from contextvars import ContextVar
from http.cookies import SimpleCookie
from typing import Any, TypeVar, cast
from urllib.parse import quote

import reflex as rx
from sqlmodel import Session

from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.permissions import PERMISSIONS
from app.platform.text import strip_nul
from app.routes import route_for
from app.settings import get_settings

log = logging.getLogger(__name__)
_principal: ContextVar[auth.Principal | None] = ContextVar("principal", default=None)

GUARD_ATTR = "_shopfloor_permission"


T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])  # a handler: decorators hand back its own type


async def in_tenant(work: Callable[[Session], T]) -> T:
    """Run `work(session)` off the event loop in the current user's tenant
    session and commit: the one way states change data."""
    principal = current_principal()

    def run() -> T:
        with tenant_session(principal.tenant_id) as s:
            result = work(s)
            s.commit()
            return result

    return await asyncio.to_thread(run)


def current_principal() -> auth.Principal:
    """The principal of the event being handled (inside a guarded handler)."""
    p = _principal.get()
    if p is None:
        raise RuntimeError("current_principal() outside a guarded handler")
    return p


def _login_redirect(path: str) -> rx.event.EventSpec:
    target = path if path.startswith("/") and not path.startswith("//") else "/"
    return rx.redirect(f"/login?next={quote(target)}" if target not in ("/", "/login") else "/login")


class StatePermission:
    """A permission each state names in a class variable, for the handlers of a
    state mixin: `@guarded(StatePermission("PAGE_PERMISSION"))`. The mixin marks
    each state's copy of the handler with that state's permission."""

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def __call__(self, state: object) -> str:
        return getattr(state, self.attr)


def mark_permissions(cls: type, names: tuple[str, ...], permission: str) -> None:
    """In a state mixin's `__init_subclass__`: mark the state's own copies of
    the mixin's handlers `names` with the permission this state needs (the
    guard test reads the mark; the handlers check it when they run)."""
    for name in names:
        handler = cls.event_handlers.get(name)  # type: ignore[attr-defined]
        if handler is not None and permission:
            setattr(handler.fn, GUARD_ATTR, permission)


def _without_nul(value: Any) -> Any:
    """A handler's argument with NUL characters dropped (PostgreSQL text cannot
    hold them): one place for every form, search box and field a page sends."""
    if isinstance(value, str):
        return strip_nul(value)
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_without_nul(v) for v in value)
    return value


async def _before_load(state: AppState, principal: auth.Principal) -> None:
    """A page loader is about to read: a state that needs to know when (a live page
    notes what its channel has carried so far, `LiveState._before_load`) is told."""
    hook = getattr(type(state), "_before_load", None)
    if hook is not None:
        await hook(state, principal)


def guarded(permission: str | StatePermission | None, *, quiet: bool = False) -> Callable[[F], F]:
    """Decorate an event handler: signed in, holding `permission` (None: any
    signed-in user). DomainErrors raised inside become an error toast.
    `quiet=True` (page loaders): a refusal shows no toast, because the layout
    already shows the "No access" panel; and a state's `_before_load(principal)`,
    if it has one, runs before the loader reads."""

    def needed(state: AppState) -> str | None:
        return permission(state) if isinstance(permission, StatePermission) else permission

    def decorate(fn: F) -> F:
        wrapper: Callable[..., Any]
        if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            async def gen_wrapper(self: AppState, *args, **kwargs):
                denial, principal = await self._check(needed(self), quiet)
                if denial is not None or principal is None:
                    if denial is not None:
                        yield denial
                    return
                if quiet:
                    await _before_load(self, principal)
                token = _principal.set(principal)
                args, kwargs = _without_nul(args), _without_nul(kwargs)
                try:
                    if inspect.isasyncgenfunction(fn):
                        async for item in fn(self, *args, **kwargs):
                            yield item
                    else:
                        for item in fn(self, *args, **kwargs):
                            yield item
                except DomainError as exc:
                    yield rx.toast.error(exc.message)
                finally:
                    _principal.reset(token)

            wrapper = gen_wrapper
        else:

            @functools.wraps(fn)
            async def plain_wrapper(self: AppState, *args, **kwargs):
                denial, principal = await self._check(needed(self), quiet)
                if denial is not None or principal is None:
                    return denial
                if quiet:
                    await _before_load(self, principal)
                token = _principal.set(principal)
                args, kwargs = _without_nul(args), _without_nul(kwargs)
                try:
                    result = fn(self, *args, **kwargs)
                    if inspect.isawaitable(result):
                        result = await result
                    return result
                except DomainError as exc:
                    return rx.toast.error(exc.message)
                finally:
                    _principal.reset(token)

            wrapper = plain_wrapper

        setattr(wrapper, GUARD_ATTR, permission or "signed-in")
        return cast(F, wrapper)

    return decorate


def _marked(what: str) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        setattr(fn, GUARD_ATTR, what)
        return fn

    return mark


public = _marked("public")
public.__doc__ = "Mark a handler that deliberately needs no sign-in (the login page)."


def checks_inside(permission: str) -> Callable[[F], F]:
    """Mark a handler (a background task) that calls `self._check` itself."""
    return _marked(permission)


class PageVisit(rx.State, mixin=True):
    """Tells a page's on_load a person's visit from the page loading itself again.

    A browser whose socket drops (a phone changing networks, a busy server
    missing a ping) reconnects and the page's on_load runs once more. That
    reload must not close the dialog the person is typing into or send the
    table back to its first page: only a visit resets them. `_new_visit()`
    answers False when this tab showed this very page over another socket
    (a reconnect, or the tab reloaded), True for every other on_load
    (arriving from another page or another record, in this tab).
    """

    _seen_over: str = ""  # "<socket id> <path>" of this tab's last on_load of this state

    def _new_visit(self) -> bool:
        sid, here = self.router.session.session_id, self.router.url.path.rstrip("/")
        seen, self._seen_over = self._seen_over, f"{sid} {here}"
        seen_sid, _, seen_path = seen.partition(" ")
        return not (seen and seen_path == here and seen_sid != sid)


class AppState(rx.State):
    signed_in: bool = False
    username: str = ""
    display_name: str = ""
    tenant_name: str = ""
    roles: list[str] = []
    permissions: list[str] = []
    page_allowed: bool = False
    page_permission: str = ""
    page_permission_text: str = ""  # what the missing permission allows, in words

    def _cookie(self, name: str) -> str | None:
        """A cookie sent with the websocket handshake (HttpOnly ones included)."""
        raw = self.router.headers.cookie or ""
        jar = SimpleCookie()
        try:
            jar.load(raw)
        except Exception:  # a malformed cookie header is no cookie
            return None
        morsel = jar.get(name)
        return morsel.value if morsel else None

    def _session_cookie(self) -> str | None:
        return self._cookie(get_settings().session_cookie_name)

    async def _load_principal(self) -> auth.Principal | None:
        principal = await asyncio.to_thread(auth.authenticate_session, self._session_cookie())
        if principal is None:
            self.signed_in = False
            self.permissions = []
            return None
        self.signed_in = True
        self.username = principal.username
        self.display_name = principal.display_name
        self.tenant_name = principal.tenant_name
        self.roles = list(principal.roles)
        self.permissions = sorted(principal.permissions)
        return principal

    async def _check(
        self, permission: str | None, quiet: bool = False
    ) -> tuple[rx.event.EventSpec | None, auth.Principal | None]:
        principal = await self._load_principal()
        if principal is None:
            return _login_redirect(self.router.url.path), None
        if permission and not principal.can(permission):
            log.info("refused %s to %s (needs %s)", self.router.url.path, principal.username, permission)
            return (None if quiet else rx.toast.error(f"You don't have permission for this ({permission}).")), None
        return None, principal

    @rx.event
    @_marked("signed-in")
    async def guard_page(self):
        """on_load of every staff page: signed in, and allowed this route."""
        principal = await self._load_principal()
        path = self.router.url.path
        if principal is None:
            self.page_allowed = False
            return _login_redirect(path)
        route = route_for(path)
        self.page_permission = route.permission or "" if route else ""
        self.page_permission_text = PERMISSIONS.get(self.page_permission, "open this page")
        self.page_allowed = route is None or route.permission is None or principal.can(route.permission)
        # Someone was guessing at this account's password since its last sign-in: say so, once.
        notice = await asyncio.to_thread(auth.take_sign_in_notice, principal)
        if notice:
            return rx.toast.warning(
                notice,
                duration=30000,
                close_button=True,
                description="Failed sign-ins are in the audit log. Change your password if this was not you.",
            )
        return None
