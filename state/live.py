"""LiveState: the one live-update background task of the staff pages.

A page's loader returns `SomeState.watch`; while that page stays open the task
follows the tenant's live channel (`app.platform.live.subscribe`) and reloads
what the page shows when a message of one of `LIVE.kinds` arrives. A newer
watcher (the page loaded again) replaces an older one; a watcher stops when the
user leaves `LIVE.path`, after an hour, or the moment the sign-in is gone: on
every push it re-checks the session (`app.platform.live.SessionWatch`: one
Redis read, the database only when a sign-out, role change or deactivation
moved a stamp), so a signed-out, expired or downgraded browser gets nothing more.
A message sent between the page's load and the watcher's subscription reaches
nobody; the loader notes the channel's sequence (`_before_load`, run by
`guarded` for page loaders) and the watcher, once subscribed, reloads the page
if the channel carried anything since.

A state mixes it in (`class OrdersState(LiveState, AppState)`), says how in
`LIVE: ClassVar[Live] = Live(permission, path, kinds, settle=..., ...)`, and
overrides a hook where the page needs more: `_live_start` (under the lock when
the watcher starts; returns the channel), `_live_here`, `_live_wanted`,
`_live_message` (under the lock, every message or quiet second) and
`_live_refresh` (the reload, default `self._fetch(tenant_id)` in a thread).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import reflex as rx

from app.platform import auth, live
from state.base import checks_inside, mark_permissions

MAX_SECONDS = 3600  # at most an hour per page visit


async def _ticks(every: float, max_seconds: float) -> AsyncIterator[None]:
    for _ in range(int(max_seconds / every)):
        await asyncio.sleep(every)
        yield None


@dataclass(frozen=True)
class Live:
    """How a state follows live updates (its `LIVE` class variable)."""

    permission: str  # needed to watch (re-checked as the watcher starts)
    path: str = ""  # the page; the watcher stops once the user leaves it
    kinds: tuple[str, ...] = ()  # message kinds that ask for a reload
    settle: float = 0.0  # while messages keep coming, reload at most every so many seconds
    poll: float | None = None  # poll every so many seconds instead of following the channel
    # once subscribed, reload if the channel carried a message since the page's loader read
    # (False: the state's `_live_message` catches up by itself)
    catch_up: bool = True


class LiveState(rx.State, mixin=True):
    LIVE: ClassVar[Live] = Live("")

    _watch_token: str = ""
    _live_seen: int = -1  # the channel's sequence before the page's loader read (-1: unknown)

    if TYPE_CHECKING:  # for the type checker only: what the state mixing this in provides

        async def _check(
            self, permission: str | None, quiet: bool = False
        ) -> tuple[rx.event.EventSpec | None, auth.Principal | None]:
            """AppState's permission check."""
            ...

        def _session_cookie(self) -> str | None:
            """AppState's session cookie (sent with the websocket handshake)."""
            ...

        def _fetch(self, *args: Any, **kwargs: Any) -> None:
            """The state's loader (the default `_live_refresh` calls it with the tenant id)."""
            ...

    def __init_subclass__(cls, mixin: bool = False, **kwargs):
        super().__init_subclass__(mixin=mixin, **kwargs)
        if not mixin:
            mark_permissions(cls, ("watch",), cls.LIVE.permission)

    # --- hooks ----------------------------------------------------------------------------------

    def _live_start(self, principal: auth.Principal) -> Any:
        """Under the lock as the watcher starts: the channel to follow."""
        return principal.tenant_id

    def _live_here(self) -> bool:
        """Is the user still on the page this watcher serves?"""
        return self.router.url.path.rstrip("/") == self.LIVE.path

    def _live_wanted(self, message: dict) -> bool:
        """Does this message ask for a reload?"""
        return message.get("kind") in self.LIVE.kinds

    async def _live_message(self, principal: auth.Principal, message: dict | None) -> None:
        """Under the lock, for every message (None: a quiet second)."""

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        """Reload what the page shows (called outside the lock)."""
        async with self:
            if self._watch_token == token:
                await asyncio.to_thread(self._fetch, principal.tenant_id)

    async def _before_load(self, principal: auth.Principal) -> None:
        """Called by `guarded` before a page loader (`quiet=True`) reads: what the channel
        has carried so far, so the watcher can tell whether it missed a message."""
        if self.LIVE.catch_up and not self.LIVE.poll:
            seen = await asyncio.to_thread(live.sequence, principal.tenant_id)
            self._live_seen = -1 if seen is None else seen

    # --- the task -------------------------------------------------------------------------------

    @rx.event(background=True)
    @checks_inside("LIVE.permission")  # replaced per state by its own
    async def watch(self):
        """Live updates while the page is open."""
        async with self:
            token = self._watch_token = uuid.uuid4().hex  # a newer watcher replaces this one
            _, principal = await self._check(self.LIVE.permission, True)
            if principal is None:
                return
            channel = self._live_start(principal)
            cookie = self._session_cookie()
            seen = self._live_seen
        guard = live.SessionWatch(cookie, principal, self.LIVE.permission)

        async def missed() -> bool:
            now = await asyncio.to_thread(live.sequence, channel)
            return seen < 0 or now is None or now > seen

        async def step(principal: auth.Principal, message: dict | None) -> bool:
            async with self:
                if self._watch_token != token or not self._live_here():
                    return False
                await self._live_message(principal, message)
                return True

        async def refresh(principal: auth.Principal) -> None:
            await self._live_refresh(principal, token)

        try:
            if await guard.start() is None:
                return
            messages = (
                _ticks(self.LIVE.poll, MAX_SECONDS)
                if self.LIVE.poll
                else live.subscribe(channel, max_seconds=MAX_SECONDS)
            )
            await follow(
                self.LIVE, messages, guard, wanted=self._live_wanted, step=step, refresh=refresh, missed=missed
            )
        finally:
            await guard.aclose()


async def follow(
    spec: Live,
    messages: AsyncIterator[dict | None],
    guard: live.SessionWatch,
    *,
    wanted: Callable[[dict], bool],
    step: Callable[[auth.Principal, dict | None], Awaitable[bool]],
    refresh: Callable[[auth.Principal], Awaitable[None]],
    missed: Callable[[], Awaitable[bool]] | None = None,
) -> str:
    """A watcher's loop, apart from Reflex: for every message (or quiet
    second) check that the sign-in still holds, let the page look at the
    message (`step`, False: the watcher is no longer wanted) and reload it
    (`refresh`) when asked. Returns why it stopped: "signed-out", "left" or
    "ended" (the messages ran out).

    The first item comes once the channel is subscribed. A change committed
    between the page's load and that moment went out to nobody (a Redis
    channel keeps no history), so then `missed()` (unless `spec.catch_up` is
    off) says whether the channel carried a message since the page's loader
    read, and the page reloads once if it did. Without one it does not: a
    reload for nothing redraws the page under the person's first click."""
    pending, last, first = False, 0.0, spec.catch_up and missed is not None
    try:
        async for message in messages:
            if first:
                first = False
                pending = missed is not None and await missed()
            pending = pending or bool(spec.poll) or bool(message and wanted(message))
            if pending and message is not None and time.monotonic() - last < spec.settle:
                continue  # a burst: refresh on the next quiet second, or `settle` s after the last refresh
            principal = await guard.current()  # still signed in, still allowed?
            if principal is None:
                return "signed-out"
            if not await step(principal, message):
                return "left"
            if pending:
                pending, last = False, time.monotonic()
                await refresh(principal)
        return "ended"
    finally:
        aclose = getattr(messages, "aclose", None)
        if aclose is not None:
            await aclose()  # leave the channel now, not when the generator is collected
