"""The public storefront's base state: the shop and the signed-in customer.

Storefront pages are public (anyone may build a PC), so their handlers are
marked `storefront_public`; account pages need a signed-in customer and use
`customer_required`. Customers are not staff: the customer cookie
(`shopfloor_customer`, HttpOnly) is read from the websocket handshake exactly
like the staff session cookie, and it never grants any staff permission.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar, cast
from urllib.parse import quote

import reflex as rx
from sqlmodel import Session

from app.customers import service as customers
from app.platform import formatting
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat
from state.base import GUARD_ATTR, AppState, F
from state.util import sentence

T = TypeVar("T")
_customer: ContextVar[Any] = ContextVar("customer", default=None)

STOREFRONT = "storefront"
CUSTOMER = "customer"


def storefront_public(fn: F) -> F:
    """A storefront handler anyone may call (the builder, a shared build).
    DomainErrors become an error toast."""

    if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):
        raise TypeError("storefront_public handlers return, they do not yield")

    @functools.wraps(fn)
    async def wrapper(self, *args, **kwargs):
        try:
            result = fn(self, *args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message, friendly=True))

    setattr(wrapper, GUARD_ATTR, STOREFRONT)
    return cast(F, wrapper)


def customer_required(fn: F) -> F:
    """A handler for a signed-in customer (checked against the database on
    every event); anyone else is sent to the customer sign-in page."""

    @functools.wraps(fn)
    async def wrapper(self: StorefrontState, *args, **kwargs):
        principal = await self._load_customer()
        if principal is None:
            path = self.router.url.path or "/account/builds"
            return rx.redirect(f"/account/login?next={quote(path)}")
        token = _customer.set(principal)
        try:
            result = fn(self, *args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message, friendly=True))
        finally:
            _customer.reset(token)

    setattr(wrapper, GUARD_ATTR, CUSTOMER)
    return cast(F, wrapper)


def current_customer() -> Any:
    """The customer of the event being handled (inside `customer_required`)."""
    c = _customer.get()
    if c is None:
        raise RuntimeError("current_customer() outside a customer_required handler")
    return c


async def in_storefront(work: Callable[[Session], T], *, commit: bool = True) -> T:
    """Run `work(session)` off the event loop in the storefront tenant's session."""

    def run() -> T:
        tenant = customers.storefront_tenant()
        with tenant_session(tenant.id) as s:
            result = work(s)
            if commit:
                s.commit()
            return result

    return await asyncio.to_thread(run)


FORMAT_TTL_SECONDS = 60.0
_format: tuple[float, ShopFormat] | None = None
_format_lock = threading.Lock()


def storefront_format() -> ShopFormat:
    """How the storefront's shop writes money and dates. Storefront pages have
    no staff principal, so the format comes from the shop itself
    (`formatting.of_tenant`); it is kept for a minute, since every price on
    a page needs it and a shop changes its locale rarely. Blocking: call it
    off the event loop (inside `in_storefront` work or `asyncio.to_thread`)."""
    global _format
    with _format_lock:
        now = time.monotonic()
        if _format is None or now - _format[0] > FORMAT_TTL_SECONDS:
            _format = (now, formatting.of_tenant(customers.storefront_tenant().id))
        return _format[1]


def _shop_facts() -> tuple[str, bool]:
    from app.catalog.service import has_demo_prices

    tenant = customers.storefront_tenant()
    with tenant_session(tenant.id) as s:
        return tenant.name, has_demo_prices(s)


class StorefrontState(AppState):
    shop_name: str = ""
    demo_prices: bool = False
    customer_signed_in: bool = False
    customer_name: str = ""
    customer_email: str = ""

    async def _load_customer(self) -> Any:
        principal = await asyncio.to_thread(customers.authenticate_customer, self._cookie(customers.CUSTOMER_COOKIE))
        self.customer_signed_in = principal is not None
        self.customer_name = principal.name if principal else ""
        self.customer_email = principal.email if principal else ""
        if not self.shop_name:
            self.shop_name, self.demo_prices = await asyncio.to_thread(_shop_facts)
        return principal

    @rx.event
    @storefront_public
    async def load_shop(self):
        """on_load of every storefront page: the shop's name and who is signed in."""
        await self._load_customer()
