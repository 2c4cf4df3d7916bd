"""Staff home: the shop's work for the signed-in user, from every domain's
tiles (each shows only when the user may see it) and the recent activity."""

from __future__ import annotations

import asyncio
import dataclasses

from app import domains
from app.platform import auth
from app.platform.db import tenant_session
from app.platform.home import Activity, HomeTile
from state.base import AppState, current_principal, guarded

CHART_SEPARATOR = " · "  # a chart bar's name: "29 Nov · €1,234.00"; the axis shows the part before


@dataclasses.dataclass
class ChartBar:
    """One bar of a tile's chart (recharts takes plain records)."""

    day: str = ""  # "29 Nov · €1,234.00": the tooltip says the whole, the axis the day
    value: float = 0.0


@dataclasses.dataclass
class WorkItem:
    """One piece of the user's own work (a build assigned to them)."""

    text: str = ""
    link: str = ""
    status: str = ""
    tone: str = "gray"


@dataclasses.dataclass
class TileView:
    key: str = ""
    title: str = ""
    value: str = ""
    hint: str = ""
    link: str = ""
    tone: str = "gray"
    icon: str = "circle"
    chart: list[ChartBar] = dataclasses.field(default_factory=list)
    work: list[WorkItem] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ActivityRow:
    """One line of the recent activity: a sentence, when, and where it leads."""

    text: str = ""
    link: str = ""
    tone: str = "gray"
    ago: str = ""  # "5 minutes ago"
    at: str = ""  # "29 Nov 2026, 14:05" (shop's zone and words)


def _tile(t: HomeTile) -> TileView:
    return TileView(
        key=t.key,
        title=t.title,
        value=t.value,
        hint=t.hint,
        link=t.link,
        tone=t.tone,
        icon=t.icon,
        chart=[ChartBar(day=f"{p.label}{CHART_SEPARATOR}{p.text}", value=p.value) for p in t.chart],
        work=[WorkItem(text=i.text, link=i.link, status=i.status, tone=i.tone) for i in t.items],
    )


def _activity(a: Activity, principal: auth.Principal) -> ActivityRow:
    fmt = principal.fmt
    return ActivityRow(text=a.text, link=a.link, tone=a.tone, ago=fmt.ago(a.at), at=fmt.when(a.at))


def snapshot(principal: auth.Principal) -> tuple[list[TileView], list[TileView], list[ActivityRow]]:
    """(tiles, my work, recent activity) for `principal`."""
    with tenant_session(principal.tenant_id) as s:
        tiles = domains.home_tiles(s, principal)
        recent = domains.activity(s, principal, 12)
    return (
        [_tile(t) for t in tiles if not t.mine],
        [_tile(t) for t in tiles if t.mine],
        [_activity(a, principal) for a in recent],
    )


class HomeState(AppState):
    tiles: list[TileView] = []
    my_work: list[TileView] = []
    recent: list[ActivityRow] = []
    loaded: bool = False

    @guarded(None, quiet=True)
    async def load(self):
        self.tiles, self.my_work, self.recent = await asyncio.to_thread(snapshot, current_principal())
        self.loaded = True
