"""Repairs API: reports (seed S9) — the daily snapshots, work in progress,
SLA ages, and a snapshot on demand."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Body, Depends, Query

from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.web import require
from app.repairs.service import reports

router = APIRouter(tags=["repairs"])


def _day_json(r) -> dict:
    return {
        "day": r.day.isoformat(),
        "received": r.received,
        "triaged": r.triaged,
        "ber": r.ber,
        "repaired": r.repaired,
        "dispatched": r.dispatched,
        "invoicedTotal": str(r.invoiced_total),
        "wipByStatus": r.wip_by_status,
        "turnaroundHours": str(r.turnaround_hours) if r.turnaround_hours is not None else None,
    }


@router.get("/repairs/reports/daily")
def daily(principal: Principal = Depends(require("repairs.read")), days: int = Query(30, ge=1, le=366)) -> dict:
    """The shop's daily metrics snapshots of the last `days` days, oldest first."""
    with tenant_session(principal.tenant_id) as s:
        d = reports.dashboard(s, days=days)
        return {"days": [_day_json(r) for r in d.days]}


@router.get("/repairs/reports/wip")
def wip(principal: Principal = Depends(require("repairs.read"))) -> dict:
    """Assets in the shop now, by status, and those waiting past the shop's SLA limit."""
    with tenant_session(principal.tenant_id) as s:
        late, total = reports.late_assets(s, limit=100)
        return {
            "wipByStatus": reports.wip_counts(s),
            "slaHours": reports.sla_hours(s),
            "lateTotal": total,
            "late": [
                {"assetId": r.asset_id, "number": r.number, "status": r.status, "hours": r.hours, "limitHours": r.limit}
                for r in late
            ],
        }


@router.post("/repairs/reports/snapshots/{day}")
def snapshot(day: date, principal: Principal = Depends(require("repairs.write"))) -> dict:
    """Snapshot one day again now (idempotent: the same day twice is one row)."""
    with tenant_session(principal.tenant_id) as s:
        row = reports.snapshot_day(s, day)
        s.commit()
        return _day_json(row)


@router.put("/repairs/reports/sla")
def set_sla(body: dict[str, int | str] = Body(...), principal: Principal = Depends(require("repairs.write"))) -> dict:
    """Hours an asset may wait in each status, e.g. {"in_triage": 12}."""
    with tenant_session(principal.tenant_id) as s:
        hours = reports.set_sla_hours(s, dict(body), actor=principal)
        s.commit()
        return {"slaHours": hours}
