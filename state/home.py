"""Staff home: the tenant and its numbers."""

from __future__ import annotations

import asyncio
import dataclasses

from app.platform.db import tenant_session
from app.platform.overview import overview
from state.base import AppState, current_principal, guarded


@dataclasses.dataclass
class RecentEvent:
    """One line of the home page's recent activity."""

    type: str = ""
    severity: str = ""
    message: str = ""
    at: str = ""


class HomeState(AppState):
    users: int = 0
    active_sessions: int = 0
    events_today: int = 0
    events_waiting: int = 0
    sign_ins_today: int = 0
    failed_sign_ins_today: int = 0
    recent_events: list[RecentEvent] = []
    loaded: bool = False

    @guarded(None, quiet=True)
    async def load(self):
        tenant_id = current_principal().tenant_id

        def fetch():
            with tenant_session(tenant_id) as s:
                return overview(s)

        o = await asyncio.to_thread(fetch)
        self.users, self.active_sessions = o.users, o.active_sessions
        self.events_today, self.events_waiting = o.events_today, o.events_waiting
        self.sign_ins_today, self.failed_sign_ins_today = o.sign_ins_today, o.failed_sign_ins_today
        self.recent_events = [
            RecentEvent(
                type=e.event_type,
                severity=e.severity,
                message=e.message,
                at=e.created_at.strftime("%Y-%m-%d %H:%M"),
            )
            for e in o.recent_events
        ]
        self.loaded = True
