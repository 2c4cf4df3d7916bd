"""What every repairs operation shares: reading a row of this shop (locked when
it will change), moving an asset through its lifecycle with its history and
event, and the live update open pages follow."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel

from app.platform import events, live
from app.platform.auth import Principal
from app.platform.errors import NotFound, ValidationFailed
from app.platform.models import utcnow
from app.repairs import events as names
from app.repairs import machine
from app.repairs.models import AssetStatusChange, RepairAsset

SOURCE = "repairs"
LIVE_KIND = "repairs"  # open repair pages reload when a change of this domain commits
READ = "repairs.read"
WRITE = "repairs.write"

T = TypeVar("T", bound=SQLModel)

MAX_MONEY = Decimal("9999999999.99")  # what Numeric(12, 2) holds
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def as_uuid(value: uuid.UUID | str, what: str = "id") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(f"'{value}' is not a valid {what}") from None


def get_row(session: Session, model: type[T], row_id: uuid.UUID | str, what: str, *, lock: bool = False) -> T:
    """The row of this shop (row-level security hides other shops'), or NotFound naming `what`."""
    row = session.get(model, as_uuid(row_id, f"{what} id"), with_for_update=lock)
    if row is None:
        raise NotFound(f"{what} not found")
    return row


def changed(session: Session, **data) -> None:
    """Open repair pages reload once this transaction commits."""
    live.notify_after_commit(session, LIVE_KIND, **data)


def move_asset(
    session: Session, asset: RepairAsset, target: str, *, actor: Principal | None, reason: str = ""
) -> RepairAsset:
    """Move a (locked) asset to `target` if its lifecycle allows it: the status,
    its history row and the event, in the caller's transaction. Refusals name
    the allowed moves. Moving to the status it has is a no-op."""
    current = asset.status
    if current == target:
        return asset
    machine.check_asset_move(current, target, held_from=asset.held_from)
    now = utcnow()
    if target == "on_hold":
        asset.held_from, asset.hold_reason = current, reason
    elif current == "on_hold":
        asset.held_from, asset.hold_reason = "", ""
    asset.status, asset.status_changed_at, asset.updated_at = target, now, now
    session.add(asset)
    session.add(
        AssetStatusChange(
            tenant_id=asset.tenant_id,
            asset_id=asset.id,
            from_status=current,
            to_status=target,
            reason=reason[:500],
            actor_user_id=actor.user_id if actor else None,
            changed_at=now,
        )
    )
    events.publish(
        session,
        names.ASSET_STATUS_CHANGED,
        {
            "assetId": str(asset.id),
            "number": asset.number,
            "previousStatus": current,
            "newStatus": target,
            "reason": reason,
        },
        source=SOURCE,
    )
    changed(session, asset=str(asset.id))
    return asset


# --- checking what comes in: field problems collected, refused as one ------------------------------


class Problems:
    """Field problems collected while checking a form; raised as one refusal."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)

    def raise_any(self) -> None:
        if self.fields:
            first = next(iter(self.fields.values()))
            more = len(self.fields) - 1
            message = first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
            raise ValidationFailed(message, details={"fields": dict(self.fields)})


def clean_text(p: Problems, name: str, value: Any, limit: int, *, label: str, required: bool = False) -> str:
    s = str(value or "").strip()
    if "\x00" in s:
        p.add(name, f"{label} must not contain NUL characters")
        return ""
    if required and not s:
        p.add(name, f"give the {label}")
    elif len(s) > limit:
        p.add(name, f"the {label} has at most {limit} characters")
    return s


def whole_number(p: Problems, name: str, value: Any, lo: int, hi: int, *, label: str) -> int:
    try:
        n = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        p.add(name, f"the {label} is a whole number from {lo} to {hi}")
        return lo
    if isinstance(n, bool) or not lo <= n <= hi:
        p.add(name, f"the {label} is a whole number from {lo} to {hi}")
        return lo
    return n


def money_field(p: Problems, name: str, value: Any, *, label: str) -> Decimal:
    try:
        d = Decimal(str(value).strip().replace(",", ".")) if value not in (None, "") else Decimal("0")
    except InvalidOperation:
        p.add(name, f"the {label} is an amount such as 49.90")
        return Decimal("0")
    if not d.is_finite() or d < 0 or d > MAX_MONEY:
        p.add(name, f"the {label} is an amount of 0 or more")
        return Decimal("0")
    return d.quantize(Decimal("0.01"))
