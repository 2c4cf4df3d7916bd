"""A page's live watcher stops the moment its sign-in is gone: signed out,
expired, downgraded or deactivated. It gets no new order after that, and
while the sign-in holds it costs no database query per push."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal

from sqlmodel import col, select

from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.platform import auth, live
from app.platform.db import tenant_session
from app.platform.models import User
from app.settings import get_settings
from state.live import Live, follow
from state.notifications import NotificationsState
from state.orders import OrdersState
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal


def _order(tenant, customer: str) -> None:
    with tenant_session(tenant.id) as s:
        orders.create_manual_order(
            s,
            OrderInput(
                source="manual",
                customer_name=customer,
                ship_country_code="NL",
                lines=[LineInput(sku="VASE-1", title="Vase", quantity=1, unit_price=Decimal("20"))],
            ),
            actor=staff_principal(tenant),
        )
        s.commit()


def _customers(tenant) -> set[str]:
    """What the orders page would show."""
    with tenant_session(tenant.id) as s:
        return set(s.exec(select(Order.customer_name).where(col(Order.customer_name) != "")))


class Page:
    """One open page's watcher, driven like the page's background task drives it."""

    def __init__(self, tenant, cookie: str, spec: Live) -> None:
        self.tenant, self.cookie, self.spec = tenant, cookie, spec
        self.shown: set[str] = set()
        self.refreshes = 0
        self.stopped_at: float | None = None
        self.seen = -1  # the channel's sequence when the page loaded (-1: never loaded)

    def load(self) -> None:
        """The page's loader: note the channel's sequence, then read."""
        self.seen = live.sequence(self.tenant.id) or 0
        self.shown = _customers(self.tenant)

    async def run(self) -> str:
        principal = await asyncio.to_thread(auth.authenticate_session, self.cookie)
        assert principal is not None
        guard = live.SessionWatch(self.cookie, principal, self.spec.permission)
        assert await guard.start() is not None

        async def step(_principal, _message) -> bool:
            return True

        async def refresh(_principal) -> None:
            self.refreshes += 1
            self.shown = await asyncio.to_thread(_customers, self.tenant)

        async def missed() -> bool:
            now = await asyncio.to_thread(live.sequence, self.tenant.id)
            return self.seen < 0 or now is None or now > self.seen

        try:
            return await follow(
                self.spec,
                live.subscribe(self.tenant.id, max_seconds=60),
                guard,
                wanted=lambda m: m.get("kind") in self.spec.kinds,
                step=step,
                refresh=refresh,
                missed=missed,
            )
        finally:
            self.stopped_at = time.monotonic()
            await guard.aclose()


async def _until(check: Callable[[], bool], seconds: float = 6.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _signed_in(role: str = "operator"):
    tenant = make_tenant()
    user = make_user(tenant, role)
    result = auth.login(user.username, PASSWORD, shop=tenant.slug)
    return tenant, user, result.cookie_value


async def _watch_until_gone(tenant, cookie: str, spec: Live, end: Callable[[], None]) -> Page:
    """Open the page, see an order arrive live, `end` the sign-in, add another order at once."""
    page = Page(tenant, cookie, spec)
    task = asyncio.create_task(page.run())
    await asyncio.sleep(0.5)  # subscribed
    await asyncio.to_thread(_order, tenant, "Before Sign-Out")
    await _until(lambda: "Before Sign-Out" in page.shown)
    await asyncio.to_thread(end)
    ended = time.monotonic()
    await asyncio.to_thread(_order, tenant, "After Sign-Out")
    assert await asyncio.wait_for(task, timeout=5) == "signed-out"
    assert page.stopped_at is not None and page.stopped_at - ended < 3  # within seconds
    await asyncio.sleep(1.5)  # and nothing arrives later either
    assert "After Sign-Out" not in page.shown
    return page


def test_a_signed_out_watcher_stops_and_gets_no_new_order():
    tenant, _, cookie = _signed_in()
    asyncio.run(_watch_until_gone(tenant, cookie, OrdersState.LIVE, lambda: auth.logout(cookie)))


def test_a_downgraded_watcher_stops():
    tenant, user, cookie = _signed_in("admin")
    spec = Live("settings.write", kinds=("orders",))

    def downgrade() -> None:
        with tenant_session(tenant.id) as s:
            auth.set_user_roles(s, user.id, ["viewer"])

    asyncio.run(_watch_until_gone(tenant, cookie, spec, downgrade))


def test_a_deactivated_users_bell_stops():
    tenant, user, cookie = _signed_in()
    spec = Live(NotificationsState.LIVE.permission, kinds=("orders",))  # the bell's watcher, any signed-in user

    def deactivate() -> None:
        with tenant_session(tenant.id) as s:
            row = s.get(User, user.id)
            assert row is not None
            row.is_active = False
            s.add(row)
            s.commit()

    asyncio.run(_watch_until_gone(tenant, cookie, spec, deactivate))


def test_an_expired_session_stops_its_watcher(monkeypatch):
    monkeypatch.setattr(get_settings(), "session_ttl_hours", 2.5 / 3600)  # a session of 2.5 seconds
    tenant, _, cookie = _signed_in()
    page = Page(tenant, cookie, OrdersState.LIVE)

    async def scenario() -> None:
        started = time.monotonic()
        assert await asyncio.wait_for(page.run(), timeout=6) == "signed-out"
        assert time.monotonic() - started < 4.5

    asyncio.run(scenario())


def test_while_signed_in_a_push_costs_no_database_query(monkeypatch):
    tenant, _, cookie = _signed_in()
    calls = {"n": 0}
    real = auth.authenticate_session

    def counting(value):
        calls["n"] += 1
        return real(value)

    page = Page(tenant, cookie, OrdersState.LIVE)

    async def scenario() -> None:
        task = asyncio.create_task(page.run())
        await asyncio.sleep(0.8)  # started: it checked the session once more in the database
        monkeypatch.setattr(auth, "authenticate_session", counting)
        for name in ("One", "Two"):
            await asyncio.to_thread(_order, tenant, name)
        await _until(lambda: {"One", "Two"} <= page.shown)
        await asyncio.sleep(2)  # quiet seconds are pushes too
        assert calls["n"] == 0  # one Redis read per push, no database query
        monkeypatch.setattr(auth, "authenticate_session", real)
        await asyncio.to_thread(auth.logout, cookie)
        assert await asyncio.wait_for(task, timeout=5) == "signed-out"

    asyncio.run(scenario())


def test_a_role_change_that_keeps_the_permission_keeps_the_watcher():
    tenant, user, cookie = _signed_in("admin")
    page = Page(tenant, cookie, OrdersState.LIVE)

    async def scenario() -> None:
        task = asyncio.create_task(page.run())
        await asyncio.sleep(0.5)
        await asyncio.to_thread(_set_roles, tenant, user, ["operator"])  # still allowed to read orders
        await asyncio.to_thread(_order, tenant, "Still Watching")
        await _until(lambda: "Still Watching" in page.shown)
        assert not task.done()
        await asyncio.to_thread(auth.logout, cookie)
        assert await asyncio.wait_for(task, timeout=5) == "signed-out"

    asyncio.run(scenario())


def _set_roles(tenant, user, roles: list[str]) -> None:
    with tenant_session(tenant.id) as s:
        auth.set_user_roles(s, user.id, roles)


def test_a_change_between_the_pages_load_and_its_subscription_still_shows():
    """Redis keeps no history: an order committed after the page loaded but before its
    watcher subscribed went out to nobody. The watcher reads the page afresh once it is
    subscribed, so the page shows the order without waiting for another change."""
    tenant, _, cookie = _signed_in()
    page = Page(tenant, cookie, OrdersState.LIVE)
    page.load()
    _order(tenant, "Between Load And Watch")  # no one is subscribed yet

    async def scenario() -> None:
        task = asyncio.create_task(page.run())
        await _until(lambda: "Between Load And Watch" in page.shown, seconds=4)
        assert page.refreshes == 1  # once, not once a second
        await asyncio.sleep(1.5)
        assert page.refreshes == 1
        await asyncio.to_thread(auth.logout, cookie)
        assert await asyncio.wait_for(task, timeout=5) == "signed-out"

    asyncio.run(scenario())


def test_a_page_nothing_happened_to_since_its_load_is_not_read_again():
    """With nothing sent since the page's load, the watcher does not reload it once
    subscribed: a reload for nothing redraws the page under the person's first click."""
    tenant, _, cookie = _signed_in()
    _order(tenant, "Before The Load")  # sent before the page loaded: the load reads it
    page = Page(tenant, cookie, OrdersState.LIVE)
    page.load()
    assert "Before The Load" in page.shown

    async def scenario() -> None:
        task = asyncio.create_task(page.run())
        await asyncio.sleep(2.5)
        assert page.refreshes == 0
        await asyncio.to_thread(_order, tenant, "After The Subscription")
        await _until(lambda: "After The Subscription" in page.shown)
        assert page.refreshes == 1
        await asyncio.to_thread(auth.logout, cookie)
        assert await asyncio.wait_for(task, timeout=5) == "signed-out"

    asyncio.run(scenario())
