"""The QC workbench: triage of received devices and beyond-economic-repair
(BER) reviews.

Triage looks at a device that came in (an asset received or in triage) and
says what it is: repairable (on to repair, or to wait for parts), suspected
beyond economic repair (a BER review opens), no fault found or cannot be
repaired (both go back to the client unrepaired). The repair codes found are
written on the asset (source "triage"); they come from the shop's catalogue:
the canonical codes every shop reads and the shop's own.

A BER review weighs the estimated parts and labour against the asset's value
(its declared value, else its device model's typical value) and the client's
threshold: cost above the threshold's share of the value is beyond economic
repair. Someone then decides: repair (over the threshold only with a reason
written down), return unrepaired, or scrap. An asset has at most one open
review; a decided review stays as it was decided.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.platform.formatting import of_tenant
from app.platform.models import utcnow
from app.platform.text import like_pattern
from app.repairs import machine
from app.repairs.models import (
    BerReview,
    DeviceModel,
    DeviceRepairCode,
    ExpectedBatch,
    RepairAsset,
    RepairClient,
    RepairCode,
)
from app.repairs.service._common import LIVE_KIND, READ, WRITE, as_uuid, changed, get_row, move_asset

__all__ = [
    "BER_DECISIONS",
    "LIVE_KIND",
    "READ",
    "TRIAGE_RESULTS",
    "WRITE",
    "BerFigures",
    "BerRow",
    "QueueFilter",
    "TriageCode",
    "TriageRow",
    "ber_figures",
    "ber_queue",
    "decide_ber",
    "get_review",
    "open_ber_review",
    "open_review_for",
    "qc_counts",
    "triage",
    "triage_codes",
    "triage_queue",
]

TRIAGE_RESULTS = machine.TRIAGE_RESULT.values
BER_DECISIONS = machine.BER_DECISION.values
TRIAGE_QUEUE_STATUSES = ("received", "in_triage")
# where a BER review may be opened from (the asset moves to ber_review)
BER_FROM = ("in_triage", "in_repair")
# what a triage result sends the asset to
TRIAGE_NEXT = {
    "repairable": "in_repair",
    "ber_suspected": "ber_review",
    "no_fault": "return_unrepaired",
    "unrepairable": "return_unrepaired",
}
MAX_CODES = 30
MAX_MONEY = Decimal("9999999999.99")  # what Numeric(12, 2) holds
MAX_PERCENT = Decimal("99999.99")  # what Numeric(7, 2) holds
CENT = Decimal("0.01")
MAX_SEARCH_WORDS = 6


def _actor_name(actor: Principal) -> str:
    return (actor.display_name or actor.username or "someone")[:200]


def _money(value: Decimal | int | float | str | None, what: str, *, name: str) -> Decimal:
    """A sum of money, 0 or more, to the cent; a 422 naming the field otherwise."""
    try:
        amount = Decimal(str(value if value is not None else "0").strip() or "0")
    except InvalidOperation:
        raise ValidationFailed(
            f"{what} is not an amount of money", details={"fields": {name: f"Write {what} as an amount, like 45.00."}}
        ) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed(
            f"{what} cannot be negative", details={"fields": {name: f"{what.capitalize()} is 0 or more."}}
        )
    if amount > MAX_MONEY:
        raise ValidationFailed(f"{what} is too large", details={"fields": {name: f"{what.capitalize()} is too large."}})
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# --- the figures of a review ------------------------------------------------------------------


@dataclass(frozen=True)
class BerFigures:
    """Estimated cost against the asset's value and the client's threshold."""

    parts: Decimal
    labour: Decimal
    value: Decimal
    threshold_percent: int
    cost_percent: Decimal

    @property
    def cost(self) -> Decimal:
        return self.parts + self.labour

    @property
    def over_threshold(self) -> bool:
        """Beyond economic repair: the cost is more than the threshold's share of the value."""
        return self.cost_percent > self.threshold_percent


def ber_figures(parts: Decimal, labour: Decimal, value: Decimal, threshold_percent: int) -> BerFigures:
    """cost % = (parts + labour) / value × 100, to two decimals. A cost on an
    asset of no known value cannot be weighed: refused."""
    cost = parts + labour
    if value <= 0:
        if cost > 0:
            raise ValidationFailed(
                "the asset has no declared value and its device model no typical value: give the asset's value "
                "to weigh the repair against it",
                details={"fields": {"asset_value": "Give the asset's value."}},
            )
        percent = Decimal("0")
    else:
        percent = min(MAX_PERCENT, (cost / value * 100).quantize(CENT, rounding=ROUND_HALF_UP))
    return BerFigures(parts, labour, value, threshold_percent, percent)


def _figures_of(review: BerReview) -> BerFigures:
    return BerFigures(
        review.estimated_parts,
        review.estimated_labour,
        review.asset_value,
        review.threshold_percent,
        review.cost_percent,
    )


def _default_value(session: Session, asset: RepairAsset) -> Decimal:
    """The asset's declared value, else its device model's typical value, else 0."""
    if asset.declared_value is not None and asset.declared_value > 0:
        return asset.declared_value
    if asset.device_model_id is not None:
        dm = session.get(DeviceModel, asset.device_model_id)
        if dm is not None and dm.typical_value > 0:
            return dm.typical_value
    return Decimal("0")


def _threshold(session: Session, asset: RepairAsset) -> int:
    client = session.get(RepairClient, asset.client_id)
    return client.ber_threshold_percent if client is not None else 70


# --- triage -----------------------------------------------------------------------------------


def _codes(session: Session, repair_code_ids: list[uuid.UUID | str]) -> list[RepairCode]:
    """The repair codes named, each once, in the order given: codes this shop
    reads (canonical and its own) that are in use; anything else refused."""
    ids: list[uuid.UUID] = []
    for raw in repair_code_ids:
        code_id = as_uuid(raw, "repair code id")
        if code_id not in ids:
            ids.append(code_id)
    if len(ids) > MAX_CODES:
        raise ValidationFailed(f"at most {MAX_CODES} repair codes at one triage")
    if not ids:
        return []
    found = {c.id: c for c in session.exec(select(RepairCode).where(col(RepairCode.id).in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed(
            "unknown repair code: the shop's catalogue has no code with id " + ", ".join(map(str, missing)),
            details={"fields": {"repair_code_ids": "Choose codes from the shop's catalogue."}},
        )
    retired = [found[i].code for i in ids if not found[i].active]
    if retired:
        raise ValidationFailed(
            "repair code " + ", ".join(retired) + " is no longer in use",
            details={"fields": {"repair_code_ids": "Choose codes that are in use."}},
        )
    return [found[i] for i in ids]


def triage(
    session: Session,
    asset_id: uuid.UUID | str,
    *,
    result: str,
    repair_code_ids: list[uuid.UUID | str],
    notes: str = "",
    actor: Principal,
    awaiting_parts: bool = False,
    estimated_parts: Decimal | str | None = None,
    estimated_labour: Decimal | str | None = None,
    asset_value: Decimal | str | None = None,
) -> RepairAsset:
    """Triage an asset (received or in triage): record the result, the notes,
    who and when, write the repair codes found on it and move it on —
    repairable to repair (or to wait for parts), suspected beyond economic
    repair to a BER review (opened here with the estimates given, if any),
    no fault / cannot be repaired back to the client unrepaired. An asset
    past triage is not triaged again."""
    actor.require(WRITE)
    if result not in TRIAGE_RESULTS:
        raise ValidationFailed(
            f"the triage result is one of {', '.join(TRIAGE_RESULTS)}, not '{result}'",
            details={"fields": {"result": "Choose a result."}},
        )
    if awaiting_parts and result != "repairable":
        raise ValidationFailed(
            "only a repairable asset waits for parts", details={"fields": {"awaiting_parts": "Only when repairable."}}
        )
    notes = notes.strip()
    if len(notes) > 2000:
        raise ValidationFailed(
            "the notes are longer than 2000 characters", details={"fields": {"notes": "Shorten the notes."}}
        )
    asset = get_row(session, RepairAsset, asset_id, "asset", lock=True)
    if asset.status not in TRIAGE_QUEUE_STATUSES:
        when = f" on {of_tenant(asset.tenant_id).when(asset.triaged_at)}" if asset.triaged_at else ""
        past = f"; it was triaged{when}" if asset.triage_result else ""
        raise InvalidTransition(
            f"asset {asset.number} is {machine.asset_words(asset.status)}, no longer in triage{past}",
            details={"status": asset.status},
        )
    codes = _codes(session, repair_code_ids)
    if result == "repairable" and not codes:
        raise ValidationFailed(
            "say what needs repairing: a repairable asset needs at least one repair code",
            details={"fields": {"repair_code_ids": "Choose at least one repair code."}},
        )
    if asset.status == "received":
        move_asset(session, asset, "in_triage", actor=actor, reason="triage started")
    now = utcnow()
    asset.triage_result, asset.triage_notes = result, notes
    asset.triaged_by_id, asset.triaged_by_name, asset.triaged_at = actor.user_id, _actor_name(actor), now
    session.add(asset)
    for code in codes:
        session.add(
            DeviceRepairCode(
                tenant_id=asset.tenant_id,
                asset_id=asset.id,
                repair_code_id=code.id,
                source="triage",
                created_by_id=actor.user_id,
                created_at=now,
            )
        )
    label = machine.TRIAGE_RESULT.label(result)
    reason = f"triage: {label}" + (f" ({', '.join(c.code for c in codes)})" if codes else "")
    if result == "ber_suspected":
        _open_review(
            session,
            asset,
            estimated_parts=estimated_parts,
            estimated_labour=estimated_labour,
            asset_value=asset_value,
            actor=actor,
            reason=reason,
        )
    else:
        target = "awaiting_parts" if awaiting_parts else TRIAGE_NEXT[result]
        move_asset(session, asset, target, actor=actor, reason=reason[:500])
    session.flush()
    return asset


# --- BER reviews ------------------------------------------------------------------------------


def open_review_for(session: Session, asset_id: uuid.UUID, *, lock: bool = False) -> BerReview | None:
    """The asset's open (undecided) review, if any."""
    q = select(BerReview).where(BerReview.asset_id == asset_id, BerReview.decision == "")
    if lock:
        q = q.with_for_update()
    return session.exec(q).first()


def _open_review(
    session: Session,
    asset: RepairAsset,
    *,
    estimated_parts: Decimal | str | None,
    estimated_labour: Decimal | str | None,
    asset_value: Decimal | str | None,
    actor: Principal,
    reason: str,
) -> BerReview:
    parts = _money(estimated_parts, "the estimated parts", name="estimated_parts")
    labour = _money(estimated_labour, "the estimated labour", name="estimated_labour")
    value = (
        _money(asset_value, "the asset's value", name="asset_value")
        if asset_value is not None and str(asset_value).strip() != ""
        else _default_value(session, asset)
    )
    if asset.status != "ber_review" and asset.status not in BER_FROM:
        raise InvalidTransition(
            f"asset {asset.number} is {machine.asset_words(asset.status)}: a BER review is opened from triage "
            "or repair",
            details={"status": asset.status, "allowed": list(BER_FROM)},
        )
    figures = ber_figures(parts, labour, value, _threshold(session, asset))
    review = open_review_for(session, asset.id, lock=True)
    now = utcnow()
    if review is None:
        review = BerReview(
            tenant_id=asset.tenant_id,
            asset_id=asset.id,
            requested_by_id=actor.user_id,
            requested_by_name=_actor_name(actor),
            created_at=now,
        )
    review.estimated_parts, review.estimated_labour, review.asset_value = parts, labour, value
    review.threshold_percent, review.cost_percent, review.updated_at = (
        figures.threshold_percent,
        figures.cost_percent,
        now,
    )
    session.add(review)
    move_asset(session, asset, "ber_review", actor=actor, reason=reason[:500])
    changed(session, review=str(review.id))
    session.flush()
    return review


def open_ber_review(
    session: Session,
    asset_id: uuid.UUID | str,
    *,
    estimated_parts: Decimal | str,
    estimated_labour: Decimal | str,
    asset_value: Decimal | str | None = None,
    actor: Principal,
) -> BerReview:
    """Open a BER review of an asset in triage or repair (it moves to BER
    review), or estimate again on its open review. The value defaults to the
    asset's declared value, else its device model's typical value; the
    threshold is the client's."""
    actor.require(WRITE)
    asset = get_row(session, RepairAsset, asset_id, "asset", lock=True)
    return _open_review(
        session,
        asset,
        estimated_parts=estimated_parts,
        estimated_labour=estimated_labour,
        asset_value=asset_value,
        actor=actor,
        reason="BER review opened" if asset.status != "ber_review" else "BER review estimated",
    )


def decide_ber(
    session: Session, review_id: uuid.UUID | str, *, decision: str, notes: str = "", actor: Principal
) -> BerReview:
    """Decide a review: repair, return unrepaired or scrap. Records who and
    when and moves the asset. A review is decided once; repairing an asset
    over the threshold needs a reason in the notes."""
    actor.require(WRITE)
    if decision not in BER_DECISIONS:
        raise ValidationFailed(
            f"the decision is one of {', '.join(BER_DECISIONS)}, not '{decision}'",
            details={"fields": {"decision": "Choose a decision."}},
        )
    notes = notes.strip()
    if len(notes) > 2000:
        raise ValidationFailed(
            "the notes are longer than 2000 characters", details={"fields": {"notes": "Shorten the notes."}}
        )
    review = get_row(session, BerReview, review_id, "BER review", lock=True)
    if review.decision:
        when = of_tenant(review.tenant_id).when(review.decided_at)
        who = review.decided_by_name or "someone"
        raise Conflict(
            f"this review was already decided by {who} at {when}: "
            f"{machine.BER_DECISION.label(review.decision).lower()}",
            details={
                "decision": review.decision,
                "decidedBy": who,
                "decidedAt": review.decided_at.isoformat() if review.decided_at else None,
            },
        )
    if decision == "repair" and _figures_of(review).over_threshold and not notes:
        raise ValidationFailed(
            f"the repair costs {review.cost_percent}% of the asset's value, over the client's threshold of "
            f"{review.threshold_percent}%: write the reason to repair it anyway",
            details={"fields": {"notes": "Give the reason to repair beyond economic repair."}},
        )
    asset = get_row(session, RepairAsset, review.asset_id, "asset", lock=True)
    if asset.status != "ber_review":
        raise InvalidTransition(
            f"asset {asset.number} is {machine.asset_words(asset.status)}, not in BER review: "
            + ("take it off hold first" if asset.status == "on_hold" else "its review cannot be decided now"),
            details={"status": asset.status},
        )
    now = utcnow()
    review.decision, review.notes = decision, notes
    review.decided_by_id, review.decided_by_name, review.decided_at = actor.user_id, _actor_name(actor), now
    session.add(review)
    label = machine.BER_DECISION.label(decision).lower()
    move_asset(
        session, asset, machine.BER_NEXT[decision], actor=actor, reason=(f"BER review: {label}. {notes}").strip()[:500]
    )
    changed(session, review=str(review.id))
    session.flush()
    return review


def get_review(session: Session, review_id: uuid.UUID | str) -> BerReview:
    return get_row(session, BerReview, review_id, "BER review")


# --- the queues -------------------------------------------------------------------------------


@dataclass
class QueueFilter:
    search: str = ""
    page: int = 0
    page_size: int = 25


@dataclass
class TriageRow:
    id: uuid.UUID
    number: str
    status: str  # received | in_triage
    client: str
    batch: str  # the batch's number
    client_reference: str
    device: str  # "Apple iPhone 12", or "" when the model is unknown
    imei: str
    serial: str
    variant: str
    condition: str
    fault: str
    not_on_batch: bool
    received_at: datetime
    known_codes: list[str] = field(default_factory=list)  # codes already on the asset (from diagnostic logs)


@dataclass
class BerRow:
    id: uuid.UUID
    asset_id: uuid.UUID
    asset_number: str
    client: str
    device: str
    imei: str
    serial: str
    triage_notes: str
    estimated_parts: Decimal
    estimated_labour: Decimal
    asset_value: Decimal
    threshold_percent: int
    cost_percent: Decimal
    over_threshold: bool
    currency: str
    requested_by: str
    created_at: datetime
    decision: str = ""
    notes: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None

    @property
    def cost(self) -> Decimal:
        return self.estimated_parts + self.estimated_labour


def _device_words(dm: DeviceModel | None) -> str:
    return f"{dm.manufacturer} {dm.model}".strip() if dm is not None else ""


def _search(q, search: str, *columns):
    for word in search.split()[:MAX_SEARCH_WORDS]:
        pattern = like_pattern(word)
        q = q.where(or_(*[c.ilike(pattern) for c in columns]))
    return q


def triage_queue(session: Session, f: QueueFilter) -> tuple[list[TriageRow], int]:
    """Assets waiting for triage (received or in triage), oldest first:
    searched by number, IMEI, serial, client, batch or model, and paged."""
    q = (
        sa_select(
            RepairAsset,
            col(RepairClient.name),
            col(ExpectedBatch.number),
            col(ExpectedBatch.client_reference),
            DeviceModel,
        )
        .join(RepairClient, col(RepairClient.id) == RepairAsset.client_id)
        .join(ExpectedBatch, col(ExpectedBatch.id) == RepairAsset.batch_id)
        .outerjoin(DeviceModel, col(DeviceModel.id) == RepairAsset.device_model_id)
        .where(col(RepairAsset.status).in_(TRIAGE_QUEUE_STATUSES))
    )
    q = _search(
        q,
        f.search,
        col(RepairAsset.number),
        col(RepairAsset.imei),
        col(RepairAsset.serial),
        col(RepairClient.name),
        col(ExpectedBatch.number),
        col(ExpectedBatch.client_reference),
        col(DeviceModel.manufacturer),
        col(DeviceModel.model),
    )
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    q = q.order_by(col(RepairAsset.received_at), col(RepairAsset.number), col(RepairAsset.id))
    q = q.offset(max(0, f.page) * f.page_size).limit(f.page_size)
    rows = [
        TriageRow(
            id=a.id,
            number=a.number,
            status=a.status,
            client=client,
            batch=batch,
            client_reference=ref,
            device=_device_words(dm),
            imei=a.imei,
            serial=a.serial,
            variant=a.variant,
            condition=a.condition,
            fault=a.fault,
            not_on_batch=a.not_on_batch,
            received_at=a.received_at,
        )
        for a, client, batch, ref, dm in session.execute(q).all()
    ]
    if rows:
        by_id = {r.id: r for r in rows}
        for asset_id, code in session.exec(
            select(DeviceRepairCode.asset_id, RepairCode.code)
            .join(RepairCode, col(RepairCode.id) == DeviceRepairCode.repair_code_id)
            .where(col(DeviceRepairCode.asset_id).in_(list(by_id)))
            .order_by(col(RepairCode.code))
        ).all():
            row = by_id.get(asset_id) if asset_id else None
            if row is not None and code not in row.known_codes:
                row.known_codes.append(code)
    return rows, int(total)


def _ber_rows(session: Session, q) -> list[BerRow]:
    return [
        BerRow(
            id=r.id,
            asset_id=a.id,
            asset_number=a.number,
            client=client.name,
            device=_device_words(dm),
            imei=a.imei,
            serial=a.serial,
            triage_notes=a.triage_notes,
            estimated_parts=r.estimated_parts,
            estimated_labour=r.estimated_labour,
            asset_value=r.asset_value,
            threshold_percent=r.threshold_percent,
            cost_percent=r.cost_percent,
            over_threshold=_figures_of(r).over_threshold,
            currency=client.currency,
            requested_by=r.requested_by_name,
            created_at=r.created_at,
            decision=r.decision,
            notes=r.notes,
            decided_by=r.decided_by_name,
            decided_at=r.decided_at,
        )
        for r, a, client, dm in session.exec(q).all()
    ]


def _ber_query():
    return (
        select(BerReview, RepairAsset, RepairClient, DeviceModel)
        .join(RepairAsset, col(RepairAsset.id) == BerReview.asset_id)
        .join(RepairClient, col(RepairClient.id) == RepairAsset.client_id)
        .outerjoin(DeviceModel, col(DeviceModel.id) == RepairAsset.device_model_id)
    )


def ber_queue(session: Session, f: QueueFilter) -> tuple[list[BerRow], int]:
    """Open BER reviews with their figures, oldest first: searched by asset
    number, IMEI, serial, client or model, and paged."""
    q = _ber_query().where(BerReview.decision == "")
    q = _search(
        q,
        f.search,
        col(RepairAsset.number),
        col(RepairAsset.imei),
        col(RepairAsset.serial),
        col(RepairClient.name),
        col(DeviceModel.manufacturer),
        col(DeviceModel.model),
    )
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    q = q.order_by(col(BerReview.created_at), col(BerReview.id))
    q = q.offset(max(0, f.page) * f.page_size).limit(f.page_size)
    return _ber_rows(session, q), int(total)


def ber_row(session: Session, review_id: uuid.UUID | str) -> BerRow:
    """One review (open or decided) as the BER table shows it."""
    rows = _ber_rows(session, _ber_query().where(BerReview.id == as_uuid(review_id, "BER review id")))
    if not rows:
        raise NotFound("BER review not found")
    return rows[0]


def qc_counts(session: Session) -> dict[str, int]:
    """The tabs' counts: assets waiting for triage, open BER reviews, and of
    those the ones beyond economic repair."""
    triage_n = session.exec(
        select(func.count()).select_from(RepairAsset).where(col(RepairAsset.status).in_(TRIAGE_QUEUE_STATUSES))
    ).one()
    ber_n, over_n = session.exec(
        select(
            func.count(),
            func.count().filter(col(BerReview.cost_percent) > col(BerReview.threshold_percent)),
        )
        .select_from(BerReview)
        .where(BerReview.decision == "")
    ).one()
    return {"triage": int(triage_n), "ber": int(ber_n), "over_threshold": int(over_n)}


@dataclass
class TriageCode:
    id: uuid.UUID
    code: str
    name: str
    category: str
    canonical: bool  # shared by every shop (else the shop's own)


def triage_codes(session: Session, search: str = "", *, limit: int = 500) -> list[TriageCode]:
    """The repair codes a triage may record: the canonical ones and the
    shop's own that are in use, by code."""
    session_tenant_id(session)  # a shop's session: its own codes and the canonical ones
    q = select(RepairCode).where(col(RepairCode.active).is_(True))
    q = _search(q, search, col(RepairCode.code), col(RepairCode.name), col(RepairCode.category))
    q = q.order_by(col(RepairCode.code), col(RepairCode.tenant_id).nulls_first()).limit(limit)
    return [
        TriageCode(id=c.id, code=c.code, name=c.name, category=c.category, canonical=c.tenant_id is None)
        for c in session.exec(q)
    ]
