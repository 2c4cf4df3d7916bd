"""The bell: unread notifications of the signed-in user."""

from __future__ import annotations

import asyncio
import dataclasses

from app.platform import auth, notifications
from app.platform.db import tenant_session
from state.base import AppState, current_principal, guarded


@dataclasses.dataclass
class NotificationRow:
    """One notification under the bell."""

    title: str = ""
    body: str = ""
    link: str = ""  # "#" when it leads nowhere
    severity: str = ""
    unread: bool = False
    at: str = ""


class NotificationsState(AppState):
    unread: int = 0
    items: list[NotificationRow] = []

    def _fetch(self, principal: auth.Principal) -> None:
        if principal.user_id is None:
            return
        with tenant_session(principal.tenant_id) as s:
            self.unread = notifications.unread_count(s, principal.user_id)
            self.items = [
                NotificationRow(
                    title=n.title,
                    body=n.body,
                    link=n.link or "#",
                    severity=n.severity,
                    unread=n.read_at is None,
                    at=n.created_at.strftime("%d %b %H:%M"),
                )
                for n in notifications.recent(s, principal.user_id)
            ]

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
