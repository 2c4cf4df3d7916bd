"""The bell: unread notifications of the signed-in user, live.

The bell is on every staff page, so its watcher follows the tenant's live
channel wherever the user goes: each page's bell starts it as it mounts (a
newer watcher replaces the one of the page before), and a new notification
shows, and the count rises, without a reload.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import ClassVar

import reflex as rx

from app.platform import auth, notifications
from app.platform.db import tenant_session
from state.base import AppState, current_principal, guarded
from state.live import Live, LiveState


@dataclasses.dataclass
class NotificationRow:
    """One notification under the bell."""

    id: str = ""
    title: str = ""
    body: str = ""
    link: str = ""  # "" when it leads nowhere
    severity: str = ""
    unread: bool = False
    ago: str = ""  # "5 minutes ago"
    at: str = ""  # "29 Nov 2026, 14:05"


class NotificationsState(LiveState, AppState):
    # Every signed-in user has a bell; the watcher re-checks the sign-in about every 30 quiet seconds.
    LIVE: ClassVar[Live] = Live("", kinds=("notifications",), settle=1.0)

    unread: int = 0
    items: list[NotificationRow] = []

    def _fetch(self, principal: auth.Principal) -> None:
        if principal.user_id is None:  # an API key has no bell
            return
        fmt = principal.fmt
        with tenant_session(principal.tenant_id) as s:
            self.unread = notifications.unread_count(s, principal.user_id)
            self.items = [
                NotificationRow(
                    id=str(n.id),
                    title=n.title,
                    body=n.body,
                    link=n.link,
                    severity=n.severity,
                    unread=n.read_at is None,
                    ago=fmt.ago(n.created_at),
                    at=fmt.when(n.created_at),
                )
                for n in notifications.recent(s, principal.user_id)
            ]

    def _live_here(self) -> bool:
        """Every staff page has the bell: the watcher follows the user from page to page."""
        return True

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token == token:
                await asyncio.to_thread(self._fetch, principal)

    @guarded(None, quiet=True)
    async def refresh(self):
        await asyncio.to_thread(self._fetch, current_principal())

    @guarded(None)
    async def mark_all_read(self):
        p = current_principal()

        def apply() -> None:
            if p.user_id is None:  # an API key has no notifications
                return
            with tenant_session(p.tenant_id) as s:
                notifications.mark_all_read(s, p.user_id)
            self._fetch(p)

        await asyncio.to_thread(apply)

    @guarded(None)
    async def open_item(self, notification_id: str):
        """Open what a notification names; it counts as read from then on."""
        p = current_principal()

        def apply() -> str:
            if p.user_id is None:
                return ""
            with tenant_session(p.tenant_id) as s:
                link = notifications.mark_read(s, p.user_id, uuid.UUID(notification_id))
            self._fetch(p)
            return link

        link = await asyncio.to_thread(apply)
        return rx.redirect(link) if link else None
