"""/repairs: the owner dashboard. 30 days of daily snapshots as charts
(received, repaired and dispatched per day; invoiced per day), the live work in
progress by status, the assets waiting longer than the shop's SLA limit, and
the unmapped diagnostic codes waiting for a mapping. It follows the live
channel, so an asset moving or an invoice going out shows without a reload.
Every figure comes from `app.repairs.service.reports`."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

import reflex as rx

from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat, of_tenant
from app.repairs import machine, service
from app.repairs.service import reports
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.util import sentence

PATH = "/repairs"


@dataclasses.dataclass
class DayBar:
    day: str = ""
    received: int = 0
    repaired: int = 0
    dispatched: int = 0
    ber: int = 0
    invoiced: float = 0.0


@dataclasses.dataclass
class WipBar:
    status: str = ""
    label: str = ""
    count: int = 0
    color: str = "gray"


@dataclasses.dataclass
class LateRow:
    asset_id: str = ""
    number: str = ""
    status: str = ""
    client: str = ""
    waiting: str = ""  # "3 d 4 h"
    limit: str = ""
    over_percent: int = 0  # how far over the limit, for the bar (at most 100)


@dataclasses.dataclass
class SlaField:
    status: str = ""
    label: str = ""
    hours: int = 0


@dataclasses.dataclass
class Figures:
    in_shop: int = 0
    late: int = 0
    unmapped: int = 0
    received_30: int = 0
    dispatched_30: int = 0
    invoiced_30: str = ""
    turnaround: str = "—"


def _hours(h: int) -> str:
    return f"{h // 24} d {h % 24} h" if h >= 24 else f"{h} h"


@dataclasses.dataclass
class Snapshot:
    days: list[DayBar]
    wip: list[WipBar]
    late: list[LateRow]
    figures: Figures
    sla: list[SlaField]


def _snapshot(tenant_id: uuid.UUID, fmt: ShopFormat) -> Snapshot:
    with tenant_session(tenant_id) as s:
        d = reports.dashboard(s)
        unmapped = service.diagnostics.unmapped_count(s)
        last = reports.today(s)
    by_day = {r.day: r for r in d.days}
    days = []
    for n in range(reports.HISTORY_DAYS - 1, -1, -1):  # every day of the span: a day not snapshotted yet reads 0
        day = last - timedelta(days=n)
        r = by_day.get(day)
        days.append(
            DayBar(
                day=fmt.short_day(day),
                received=r.received if r else 0,
                repaired=r.repaired if r else 0,
                dispatched=r.dispatched if r else 0,
                ber=r.ber if r else 0,
                invoiced=float(r.invoiced_total) if r else 0.0,
            )
        )
    wip = [
        WipBar(
            status=s, label=machine.ASSET_STATUS.label(s), count=d.wip.get(s, 0), color=machine.ASSET_STATUS.color(s)
        )
        for s in machine.ASSET_STATUSES
        if s in machine.IN_SHOP
    ]
    turn = [r.turnaround_hours for r in d.days if r.turnaround_hours is not None and r.dispatched]
    weights = [r.dispatched for r in d.days if r.turnaround_hours is not None and r.dispatched]
    mean = sum(float(t) * w for t, w in zip(turn, weights, strict=True)) / sum(weights) if weights else None
    invoiced = sum((r.invoiced_total for r in d.days), Decimal("0"))
    return Snapshot(
        days=days,
        wip=wip,
        late=[
            LateRow(
                asset_id=r.asset_id,
                number=r.number,
                status=r.status,
                client=r.client,
                waiting=_hours(r.hours),
                limit=_hours(r.limit),
                over_percent=min(100, round(100 * (r.hours - r.limit) / max(1, r.limit))),
            )
            for r in d.late
        ],
        figures=Figures(
            in_shop=d.in_shop,
            late=d.late_total,
            unmapped=unmapped,
            received_30=sum(r.received for r in d.days),
            dispatched_30=sum(r.dispatched for r in d.days),
            invoiced_30=fmt.money(invoiced),
            turnaround="—" if mean is None else _hours(round(mean)),
        ),
        sla=[SlaField(status=s, label=machine.ASSET_STATUS.label(s), hours=h) for s, h in d.sla.items()],
    )


class RepairsDashboardState(PageVisit, LiveState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "repairs.read"
    LIVE: ClassVar[Live] = Live("repairs.read", PATH, (service.LIVE_KIND,), settle=1.0)

    days: list[DayBar] = []
    wip: list[WipBar] = []
    late: list[LateRow] = []
    figures: Figures = Figures()
    sla: list[SlaField] = []
    loaded: bool = False
    error: str = ""
    updated_at: str = ""

    sla_open: bool = False
    sla_errors: dict[str, str] = {}

    @rx.var
    def can_write(self) -> bool:
        return "repairs.write" in self.permissions

    @rx.var
    def has_history(self) -> bool:
        return any(d.received or d.dispatched or d.repaired for d in self.days)

    def _apply(self, snap: Snapshot, fmt: ShopFormat) -> None:
        self.days, self.wip, self.late, self.figures, self.sla = (
            snap.days,
            snap.wip,
            snap.late,
            snap.figures,
            snap.sla,
        )
        self.updated_at = fmt.clock(datetime.now(UTC), seconds=True)
        self.error, self.loaded = "", True

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        """The live reload (in a thread)."""
        fmt = of_tenant(tenant_id)
        try:
            self._apply(_snapshot(tenant_id, fmt), fmt)
        except DomainError as exc:
            self.error = sentence(exc.message)

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_snapshot, p.tenant_id, p.fmt)
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap, p.fmt)

    @guarded("repairs.read", quiet=True)
    async def load(self):
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.sla_open = False
        await self._refresh()
        return RepairsDashboardState.watch

    @guarded("repairs.read")
    async def refresh_now(self):
        await self._refresh()

    # --- SLA limits ------------------------------------------------------------------------------

    @guarded("repairs.write")
    def open_sla(self):
        self.sla_errors, self.sla_open = {}, True

    @guarded("repairs.write")
    def set_sla_open(self, value: bool):
        self.sla_open = value

    @guarded("repairs.write")
    async def save_sla(self, form: dict):
        p = current_principal()
        values = {k.removeprefix("sla_"): v for k, v in form.items() if k.startswith("sla_")}
        errors: dict[str, str] = {}
        for status, raw in values.items():
            if not str(raw).strip().isdigit():
                errors[status] = "A whole number of hours"
        if errors:
            self.sla_errors = errors
            return None
        try:
            await in_tenant(lambda s: reports.set_sla_hours(s, values, actor=p))
        except DomainError as exc:
            self.sla_errors = {"_": sentence(exc.message)}
            return None
        self.sla_open, self.sla_errors = False, {}
        await self._refresh()
        return rx.toast.success("SLA limits saved.")
