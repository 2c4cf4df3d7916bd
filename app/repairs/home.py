"""What repairs show on the staff home page: the devices in the shop (and
those waiting past the shop's SLA limit), diagnostic codes waiting for a
mapping, and the latest moves of assets."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.platform.auth import Principal
from app.platform.home import Activity, HomeTile
from app.repairs import machine
from app.repairs.models import AssetStatusChange, RepairAsset
from app.repairs.service import diagnostics, reports

PERMISSION = "repairs.read"


def tiles(session: Session, principal: Principal) -> list[HomeTile]:
    if not principal.can(PERMISSION):
        return []
    wip = reports.wip_counts(session)
    in_shop = sum(wip.values())
    if not in_shop and session.exec(select(RepairAsset.id).limit(1)).first() is None:
        return []  # a shop that does not repair devices sees no repair tiles
    _, late = reports.late_assets(session, limit=1)
    out = [
        HomeTile(
            key="repairs.in-shop",
            title="Devices in for repair",
            value=str(in_shop),
            hint=f"{late} waiting past their SLA limit" if late else "none past its SLA limit",
            link="/repairs",
            permission=PERMISSION,
            tone="red" if late else "green",
            icon="smartphone",
        )
    ]
    waiting = diagnostics.unmapped_count(session)
    if waiting:
        out.append(
            HomeTile(
                key="repairs.unmapped",
                title="Diagnostic codes to map",
                value=str(waiting),
                hint="codes from diagnostic logs no repair code is mapped to yet",
                link="/repairs/unmapped",
                permission=PERMISSION,
                tone="amber",
                icon="circle-help",
            )
        )
    return out


def activity(session: Session, principal: Principal, limit: int) -> list[Activity]:
    if not principal.can(PERMISSION):
        return []
    rows = session.exec(
        select(AssetStatusChange, RepairAsset.number)
        .join(RepairAsset, col(RepairAsset.id) == col(AssetStatusChange.asset_id))
        .where(AssetStatusChange.from_status != "")
        .order_by(col(AssetStatusChange.changed_at).desc())
        .limit(limit)
    ).all()
    return [
        Activity(
            at=change.changed_at,
            text=f"Asset {number} moved to {machine.asset_words(change.to_status)}",
            link=f"/repairs/assets/{change.asset_id}",
            tone={"scrapped": "red", "on_hold": "amber", "ready_for_dispatch": "green"}.get(change.to_status, "gray"),
            permission=PERMISSION,
        )
        for change, number in rows
    ]
