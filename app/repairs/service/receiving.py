"""Receiving: expected batches and their manifests, receiving sessions scanned
on a phone, the assets they create, intake photos, and holds.

A client announces a batch (their reference, how many devices, optionally a
manifest of which ones). The shop receives it over one or more receiving
sessions: each scan of an IMEI or a serial makes one asset, numbered from the
shop's "asset" sequence, matched to its manifest line or flagged as not on the
batch. Scanning a device the batch already holds gives back the asset it made
(a scanner that fires twice, or two phones scanning the same box, make one
asset): every scan of a batch takes the batch's row lock first, so scans of one
batch happen one after the other.

An asset's status changes only through `_common.move_asset` (its history row,
event and live update); by hand, on the asset's page, a person may start
triage, put an asset on hold and resume it, and move it between awaiting parts
and in repair. The other moves belong to the workbenches that check their
rules (triage, BER review, worksheets, dispatch, invoicing).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.platform import audit, events, numbering, storage
from app.platform import photos as intake
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.platform.models import utcnow
from app.platform.text import like_pattern
from app.repairs import events as names
from app.repairs import machine
from app.repairs.models import (
    AssetPhoto,
    AssetStatusChange,
    BerReview,
    DeviceModel,
    DeviceRepairCode,
    ExpectedBatch,
    ExpectedDevice,
    ReceivingSession,
    RepairAsset,
    RepairClient,
    RepairCode,
    Worksheet,
)
from app.repairs.service._common import SOURCE, WRITE, as_uuid, changed, get_row, move_asset

CONDITIONS = ("A", "B", "C", "D")
CONDITION_WORDS = {
    "A": "A — as new",
    "B": "B — light wear",
    "C": "C — visible wear",
    "D": "D — damaged",
}
ACCESSORIES = ("Charger", "Cable", "Case", "SIM tray", "Stylus", "Box", "Earphones")
MAX_ACCESSORIES = 12
MAX_MANIFEST_LINES = 2000
MAX_PHOTOS_PER_ASSET = 30
MAX_EXPECTED = 100_000
BATCH_SORTS = ("number", "client", "expected_on", "created", "status", "progress")
ASSET_SORTS = ("number", "received", "status", "changed", "client", "model")
# moves a person makes on the asset's page; the rest belong to the workbenches
HAND_MOVES: dict[str, frozenset[str]] = {
    "received": frozenset({"in_triage", "on_hold"}),
    "awaiting_parts": frozenset({"in_repair", "on_hold"}),
    "in_repair": frozenset({"awaiting_parts", "on_hold"}),
}
# where the other moves are made (the asset's page says so)
MOVE_PLACES = {
    "in_triage": "the QC workbench",
    "ber_review": "the QC workbench",
    "return_unrepaired": "the QC workbench",
    "scrapped": "the QC workbench",
    "awaiting_parts": "a worksheet",
    "in_repair": "the QC workbench or a worksheet",
    "final_qc": "a worksheet",
    "ready_for_dispatch": "a worksheet's final QC",
    "dispatched": "a dispatch",
    "invoiced": "an invoice",
}

# where the asset's next step is taken: (button words, address; {id} is the asset's)
WORKBENCH: dict[str, tuple[str, str]] = {
    "received": ("Triage on the QC workbench", "/repairs/qc"),
    "in_triage": ("Triage on the QC workbench", "/repairs/qc"),
    "ber_review": ("Decide on the QC workbench", "/repairs/qc?view=ber"),
    "awaiting_parts": ("Worksheet", "/repairs/worksheets/new?asset={id}"),
    "in_repair": ("Worksheet", "/repairs/worksheets/new?asset={id}"),
    "final_qc": ("Final QC on the worksheet", "/repairs/worksheets/new?asset={id}"),
    "ready_for_dispatch": ("Add to a dispatch", "/repairs/dispatches"),
    "return_unrepaired": ("Add to a dispatch", "/repairs/dispatches"),
}


def workbench_for(asset: RepairAsset) -> tuple[str, str] | None:
    """Where a person takes this asset's next step (the asset page's button), if anywhere."""
    place = WORKBENCH.get(asset.status)
    return (place[0], place[1].format(id=asset.id)) if place else None


_DIGITS_ONLY = re.compile(r"^\d+$")
_SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/.]{2,59}$")
_SEPARATORS = re.compile(r"[\s\-]")


# --- identifiers --------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """The Luhn check an IMEI's last digit makes over the other fourteen."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def clean_imei(raw: str, where: str = "") -> str:
    """An IMEI as 15 digits (spaces and dashes dropped), or a refusal saying
    what is wrong (`where`: "on manifest line 3", say)."""
    value = _SEPARATORS.sub("", raw or "")
    if not value:
        return ""
    on = f" {where}" if where else ""
    if not _DIGITS_ONLY.match(value) or len(value) != 15:
        raise ValidationFailed(f"the IMEI '{raw.strip()[:30]}'{on} is not 15 digits", code="invalid_imei")
    if not luhn_ok(value):
        raise ValidationFailed(
            f"the IMEI {value}{on} fails its check digit: scan it again or type it from the label",
            code="invalid_imei",
        )
    return value


def clean_serial(raw: str, where: str = "") -> str:
    value = (raw or "").strip()
    if not value:
        return ""
    if not _SERIAL.match(value):
        on = f" {where}" if where else ""
        raise ValidationFailed(
            f"the serial number '{value[:30]}'{on} should be 3 to 60 letters, digits, dashes or slashes",
            code="invalid_serial",
        )
    return value.upper()


def identify(code: str) -> tuple[str, str]:
    """What a scanner typed, as (imei, serial): 14 to 17 digits read as an IMEI
    (which must then be a valid one), anything else as a serial number."""
    value = _SEPARATORS.sub("", code or "")
    if not value:
        raise ValidationFailed("scan or type an IMEI or a serial number", code="nothing_scanned")
    if _DIGITS_ONLY.match(value) and 14 <= len(value) <= 17:
        return clean_imei(value), ""
    return "", clean_serial(value)


# --- batches ------------------------------------------------------------------------------------


@dataclass
class ManifestLine:
    """A device the client says is in the batch."""

    imei: str = ""
    serial: str = ""
    device_model_id: uuid.UUID | str | None = None
    model: str = ""  # as the client wrote it ("Apple iPhone 12"): matched to a device model when it can be
    fault: str = ""
    declared_value: Decimal | str | None = None


@dataclass
class BatchData:
    client_id: uuid.UUID | str
    client_reference: str
    expected_count: int | None = None  # None: the manifest's length
    expected_on: date | None = None
    notes: str = ""
    lines: list[ManifestLine] = field(default_factory=list)


MANIFEST_COLUMNS = ("imei", "serial", "model", "fault", "value")
_HEADER_WORDS = {
    "imei": "imei",
    "serial": "serial",
    "serial number": "serial",
    "sn": "serial",
    "model": "model",
    "device": "model",
    "fault": "fault",
    "problem": "fault",
    "value": "value",
    "declared value": "value",
}


def parse_manifest(text: str) -> list[ManifestLine]:
    """Manifest lines from CSV text (pasted from the client's spreadsheet):
    columns imei, serial, model, fault, value, in that order or named in a
    header row. Blank lines are skipped; a line needs an IMEI or a serial."""
    rows = [r for r in csv.reader(io.StringIO(text or "")) if any(c.strip() for c in r)]
    if not rows:
        return []
    first = [c.strip().lower() for c in rows[0]]
    if any(c in _HEADER_WORDS for c in first):
        columns = [_HEADER_WORDS.get(c, "") for c in first]
        rows = rows[1:]
    else:
        columns = list(MANIFEST_COLUMNS)
    if len(rows) > MAX_MANIFEST_LINES:
        raise ValidationFailed(f"a manifest may have at most {MAX_MANIFEST_LINES} lines; this one has {len(rows)}")
    lines = []
    for row in rows:
        values = {columns[i]: c.strip() for i, c in enumerate(row[: len(columns)]) if columns[i]}
        lines.append(
            ManifestLine(
                imei=values.get("imei", ""),
                serial=values.get("serial", ""),
                model=values.get("model", ""),
                fault=values.get("fault", ""),
                declared_value=values.get("value") or None,
            )
        )
    return lines


def _money(raw: Decimal | str | None, what: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).replace(",", ".").strip()).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValidationFailed(f"{what} '{raw}' is not an amount") from None
    if value < 0 or value >= Decimal("10000000000"):
        raise ValidationFailed(f"{what} must be between 0 and 9,999,999,999.99")
    return value


def _model_index(session: Session) -> dict[str, uuid.UUID]:
    """Device models by the ways a manifest may name them (lower case)."""
    index: dict[str, uuid.UUID] = {}
    for m in session.exec(select(DeviceModel)):
        index.setdefault(m.model.lower(), m.id)
        index[f"{m.manufacturer} {m.model}".lower()] = m.id
    return index


def create_batch(session: Session, data: BatchData, *, actor: Principal) -> ExpectedBatch:
    """A client's expected batch with its manifest, numbered from the shop's "batch" sequence."""
    actor.require(WRITE)
    client = get_row(session, RepairClient, data.client_id, "client")
    reference = (data.client_reference or "").strip()
    if not reference:
        raise ValidationFailed("give the client's reference for the batch (their order or RMA number)")
    if len(reference) > 100:
        raise ValidationFailed("the client's reference may be at most 100 characters")
    if len(data.lines) > MAX_MANIFEST_LINES:
        raise ValidationFailed(f"a manifest may have at most {MAX_MANIFEST_LINES} lines")
    expected = len(data.lines) if data.expected_count is None else data.expected_count
    if expected < 0 or expected > MAX_EXPECTED:
        raise ValidationFailed(f"the expected count is a whole number from 0 to {MAX_EXPECTED}")
    if expected < len(data.lines):
        raise ValidationFailed(
            f"the manifest lists {len(data.lines)} devices but the batch expects {expected}: "
            "expect at least as many as the manifest lists"
        )
    taken = session.exec(
        select(ExpectedBatch.number).where(
            ExpectedBatch.client_id == client.id, ExpectedBatch.client_reference == reference
        )
    ).first()
    if taken:
        raise Conflict(f"{client.name} already has a batch with reference {reference} ({taken})")
    tenant_id = session_tenant_id(session)
    models = _model_index(session) if any(line.model for line in data.lines) else {}
    devices: list[dict] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(data.lines, start=1):
        where = f"manifest line {n}"
        imei = clean_imei(line.imei, f"on {where}")
        serial = clean_serial(line.serial, f"on {where}")
        if not imei and not serial:
            raise ValidationFailed(f"{where} has neither an IMEI nor a serial number")
        key = imei or f"s:{serial}"
        if key in seen:
            raise ValidationFailed(f"{where} repeats the device on manifest line {seen[key]} ({imei or serial})")
        seen[key] = n
        model_id = None
        if line.device_model_id:
            model_id = get_row(session, DeviceModel, line.device_model_id, "device model").id
        elif line.model:
            model_id = models.get(line.model.strip().lower())
        devices.append(
            {
                "imei": imei,
                "serial": serial,
                "device_model_id": model_id,
                "description": line.model.strip()[:200],
                "fault": line.fault.strip()[:500],
                "declared_value": _money(line.declared_value, f"the declared value on {where}"),
            }
        )
    batch = ExpectedBatch(
        tenant_id=tenant_id,
        number=numbering.reserve(session, "batch"),
        client_id=client.id,
        client_reference=reference,
        expected_count=expected,
        expected_on=data.expected_on,
        notes=(data.notes or "").strip()[:2000],
    )
    session.add(batch)
    session.add_all([ExpectedDevice(tenant_id=tenant_id, batch_id=batch.id, **d) for d in devices])
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"{client.name} already has a batch with reference {reference}") from None
    changed(session, batch=str(batch.id))
    return batch


@dataclass
class BatchFilter:
    search: str = ""
    status: str = ""  # "" or one of machine.BATCH_STATUS
    client_id: uuid.UUID | str | None = None
    sort: str = "created"
    descending: bool = True
    page: int = 0
    page_size: int = 25


@dataclass
class BatchRow:
    batch: ExpectedBatch
    client_name: str


def list_batches(session: Session, f: BatchFilter) -> tuple[list[BatchRow], int]:
    """Expected batches, searched (number, the client's reference, the client), filtered, sorted, paged."""
    if f.status and f.status not in machine.BATCH_STATUS:
        raise ValidationFailed(f"the status is one of {', '.join(machine.BATCH_STATUS.values)}")
    if f.sort not in BATCH_SORTS:
        raise ValidationFailed(f"sort by one of {', '.join(BATCH_SORTS)}")
    q = select(ExpectedBatch, RepairClient.name).join(RepairClient, col(RepairClient.id) == ExpectedBatch.client_id)
    for word in f.search.split()[:6]:
        pattern = like_pattern(word)
        q = q.where(
            or_(
                col(ExpectedBatch.number).ilike(pattern),
                col(ExpectedBatch.client_reference).ilike(pattern),
                col(RepairClient.name).ilike(pattern),
            )
        )
    if f.status:
        q = q.where(ExpectedBatch.status == f.status)
    if f.client_id:
        q = q.where(ExpectedBatch.client_id == as_uuid(f.client_id, "client id"))
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    progress = col(ExpectedBatch.received_count) * 1.0 / func.greatest(col(ExpectedBatch.expected_count), 1)
    column = {
        "number": col(ExpectedBatch.number),
        "client": func.lower(RepairClient.name),
        "expected_on": col(ExpectedBatch.expected_on),
        "status": col(ExpectedBatch.status),
        "progress": progress,
    }.get(f.sort, col(ExpectedBatch.created_at))
    order = column.desc().nulls_last() if f.descending else column.asc().nulls_last()
    q = q.order_by(order, col(ExpectedBatch.created_at).desc(), col(ExpectedBatch.id))
    q = q.offset(max(0, f.page) * f.page_size).limit(f.page_size)
    return [BatchRow(b, name) for b, name in session.exec(q).all()], total


@dataclass
class ManifestRow:
    line: ExpectedDevice
    model_name: str
    asset_number: str


@dataclass
class SessionRow:
    session: ReceivingSession
    started_by: str


@dataclass
class BatchDetail:
    batch: ExpectedBatch
    client_name: str
    manifest: list[ManifestRow]
    sessions: list[SessionRow]
    flagged: list[RepairAsset]
    open_session_id: uuid.UUID | None


def _model_names(session: Session) -> dict[uuid.UUID, str]:
    return {m.id: f"{m.manufacturer} {m.model}" for m in session.exec(select(DeviceModel))}


def get_batch(session: Session, batch_id: uuid.UUID | str) -> BatchDetail:
    """A batch with its manifest (received or not), its sessions and the devices flagged as not on it."""
    batch = get_row(session, ExpectedBatch, batch_id, "batch")
    client = session.get(RepairClient, batch.client_id)
    models = _model_names(session)
    numbers = dict(
        session.exec(select(RepairAsset.id, RepairAsset.number).where(RepairAsset.batch_id == batch.id)).all()
    )
    lines = session.exec(
        select(ExpectedDevice).where(ExpectedDevice.batch_id == batch.id).order_by(col(ExpectedDevice.id))
    ).all()
    lines = sorted(lines, key=lambda d: (d.asset_id is not None, d.imei or d.serial))
    sessions = session.exec(
        select(ReceivingSession)
        .where(ReceivingSession.batch_id == batch.id)
        .order_by(col(ReceivingSession.started_at).desc())
    ).all()
    who = audit.actor_names(session) if any(s.started_by_id for s in sessions) else {}
    flagged = session.exec(
        select(RepairAsset)
        .where(RepairAsset.batch_id == batch.id, col(RepairAsset.not_on_batch).is_(True))
        .order_by(col(RepairAsset.received_at))
    ).all()
    return BatchDetail(
        batch=batch,
        client_name=client.name if client else "",
        manifest=[
            ManifestRow(
                d,
                models.get(d.device_model_id, "") if d.device_model_id else "",
                numbers.get(d.asset_id, "") if d.asset_id else "",
            )
            for d in lines
        ],
        sessions=[SessionRow(s, who.get(s.started_by_id, "") if s.started_by_id else "") for s in sessions],
        flagged=list(flagged),
        open_session_id=next((s.id for s in sessions if s.closed_at is None), None),
    )


def _move_batch(batch: ExpectedBatch, target: str) -> None:
    machine.BATCH.check(batch.status, target)
    batch.status, batch.updated_at = target, utcnow()


def _open_sessions(session: Session, batch_id: uuid.UUID) -> list[ReceivingSession]:
    return list(
        session.exec(
            select(ReceivingSession)
            .where(ReceivingSession.batch_id == batch_id, col(ReceivingSession.closed_at).is_(None))
            .with_for_update()
        ).all()
    )


def start_session(session: Session, batch_id: uuid.UUID | str, *, actor: Principal) -> ReceivingSession:
    """Start receiving a batch (or carry on: a batch has one open session at a
    time, and asking again gives that one). The batch goes to receiving."""
    actor.require(WRITE)
    batch = get_row(session, ExpectedBatch, batch_id, "batch", lock=True)
    if batch.status == "closed":
        raise InvalidTransition(f"batch {batch.number} is closed: it receives no more devices")
    open_now = _open_sessions(session, batch.id)
    if open_now:
        return open_now[0]
    if batch.status != "receiving":
        _move_batch(batch, "receiving")
    batch.session_count += 1
    session.add(batch)
    rs = ReceivingSession(tenant_id=batch.tenant_id, batch_id=batch.id, started_by_id=actor.user_id)
    session.add(rs)
    session.flush()
    changed(session, batch=str(batch.id))
    return rs


def get_session(session: Session, session_id: uuid.UUID | str) -> ReceivingSession:
    return get_row(session, ReceivingSession, session_id, "receiving session")


@dataclass
class ScanData:
    code: str = ""  # what the scanner typed: an IMEI or a serial
    imei: str = ""
    serial: str = ""
    device_model_id: uuid.UUID | str | None = None
    variant: str = ""
    condition: str = ""  # A-D or ""
    condition_notes: str = ""
    accessories: list[str] = field(default_factory=list)
    fault: str = ""


@dataclass
class ScanResult:
    asset: RepairAsset
    created: bool  # False: the batch already held this device (the same asset comes back)
    not_on_batch: bool
    message: str  # what to tell the person scanning


def _identifiers(data: ScanData) -> tuple[str, str]:
    if data.code.strip():
        imei, serial = identify(data.code)
        serial = serial or clean_serial(data.serial)
        return imei, serial
    imei, serial = clean_imei(data.imei), clean_serial(data.serial)
    if not imei and not serial:
        raise ValidationFailed("scan or type an IMEI or a serial number", code="nothing_scanned")
    return imei, serial


def _find_in_batch(session: Session, batch_id: uuid.UUID, imei: str, serial: str) -> RepairAsset | None:
    match = []
    if imei:
        match.append(RepairAsset.imei == imei)
    if serial:
        match.append(RepairAsset.serial == serial)
    return session.exec(select(RepairAsset).where(RepairAsset.batch_id == batch_id, or_(*match))).first()


def _manifest_line(session: Session, batch_id: uuid.UUID, imei: str, serial: str) -> ExpectedDevice | None:
    match = []
    if imei:
        match.append(ExpectedDevice.imei == imei)
    if serial:
        match.append(ExpectedDevice.serial == serial)
    return session.exec(
        select(ExpectedDevice)
        .where(ExpectedDevice.batch_id == batch_id, col(ExpectedDevice.asset_id).is_(None), or_(*match))
        .with_for_update()
    ).first()


def scan(session: Session, session_id: uuid.UUID | str, data: ScanData, *, actor: Principal) -> ScanResult:
    """Receive one device into an open receiving session: a new asset (status
    received, its first history row), matched to its manifest line or flagged
    as not on the batch. A device the batch already holds gives its asset back."""
    actor.require(WRITE)
    imei, serial = _identifiers(data)
    condition = (data.condition or "").strip().upper()
    if condition and condition not in CONDITIONS:
        raise ValidationFailed("the condition grade is A, B, C or D")
    accessories = [a.strip()[:40] for a in data.accessories if a and a.strip()]
    if len(accessories) > MAX_ACCESSORIES:
        raise ValidationFailed(f"list at most {MAX_ACCESSORIES} accessories")
    rs = get_session(session, session_id)
    batch = get_row(session, ExpectedBatch, rs.batch_id, "batch", lock=True)  # scans of a batch queue here
    session.refresh(rs, with_for_update=True)
    existing = _find_in_batch(session, batch.id, imei, serial)
    if existing is not None:
        return ScanResult(
            existing, False, existing.not_on_batch, f"{imei or serial} is already received as {existing.number}"
        )
    if rs.closed_at is not None:
        raise Conflict("this receiving session is closed: start a new one to receive more devices")
    if batch.status != "receiving":
        raise InvalidTransition(f"batch {batch.number} is {batch.status}: start a receiving session first")
    model_id = get_row(session, DeviceModel, data.device_model_id, "device model").id if data.device_model_id else None
    line = _manifest_line(session, batch.id, imei, serial)
    now = utcnow()
    asset = RepairAsset(
        tenant_id=batch.tenant_id,
        number=numbering.reserve(session, "asset"),
        batch_id=batch.id,
        client_id=batch.client_id,
        device_model_id=model_id or (line.device_model_id if line else None),
        receiving_session_id=rs.id,
        imei=imei or (line.imei if line else ""),
        serial=serial or (line.serial if line else ""),
        variant=(data.variant or "").strip()[:100],
        condition=condition,
        condition_notes=(data.condition_notes or "").strip()[:1000],
        accessories=accessories,
        fault=((data.fault or "").strip() or (line.fault if line else ""))[:500],
        declared_value=line.declared_value if line else None,
        not_on_batch=line is None,
        status="received",
        received_by_id=actor.user_id,
        received_at=now,
        status_changed_at=now,
        updated_at=now,
    )
    session.add(asset)
    session.flush()
    session.add(
        AssetStatusChange(
            tenant_id=asset.tenant_id,
            asset_id=asset.id,
            from_status="",
            to_status="received",
            reason=f"received in batch {batch.number}" + (" (not on the batch)" if line is None else ""),
            actor_user_id=actor.user_id,
            changed_at=now,
        )
    )
    events.publish(
        session,
        names.ASSET_STATUS_CHANGED,
        {"assetId": str(asset.id), "number": asset.number, "previousStatus": "", "newStatus": "received", "reason": ""},
        source=SOURCE,
    )
    if line is not None:
        line.asset_id = asset.id
        session.add(line)
    else:
        batch.flagged_count += 1
        rs.flagged_count += 1
    batch.received_count += 1
    batch.updated_at = now
    rs.scanned_count += 1
    session.add_all([batch, rs])
    session.flush()
    changed(session, batch=str(batch.id), asset=str(asset.id))
    message = f"{asset.number} received" + (": not on the batch, flagged" if line is None else "")
    return ScanResult(asset, True, line is None, message)


def session_assets(session: Session, session_id: uuid.UUID | str) -> list[RepairAsset]:
    """The devices scanned in a receiving session, the latest first."""
    rs = get_session(session, session_id)
    return list(
        session.exec(
            select(RepairAsset)
            .where(RepairAsset.receiving_session_id == rs.id)
            .order_by(col(RepairAsset.received_at).desc(), col(RepairAsset.number).desc())
        ).all()
    )


def _complete(session: Session, batch: ExpectedBatch) -> bool:
    """Every expected device is in, and every manifest line found."""
    waiting = session.exec(
        select(func.count())
        .select_from(ExpectedDevice)
        .where(ExpectedDevice.batch_id == batch.id, col(ExpectedDevice.asset_id).is_(None))
    ).one()
    return batch.received_count >= batch.expected_count and not waiting


def _received(session: Session, batch: ExpectedBatch) -> None:
    _move_batch(batch, "received")
    session.add(batch)
    events.publish(
        session,
        names.BATCH_RECEIVED,
        {
            "batchId": str(batch.id),
            "number": batch.number,
            "receivedCount": batch.received_count,
            "flaggedCount": batch.flagged_count,
        },
        source=SOURCE,
    )


def _close_sessions(sessions: list[ReceivingSession]) -> None:
    now = utcnow()
    for rs in sessions:
        rs.closed_at = now


def close_session(session: Session, session_id: uuid.UUID | str, *, actor: Principal) -> ExpectedBatch:
    """End a receiving session; the batch is received once every expected device is in."""
    actor.require(WRITE)
    rs = get_session(session, session_id)
    batch = get_row(session, ExpectedBatch, rs.batch_id, "batch", lock=True)
    session.refresh(rs, with_for_update=True)
    if rs.closed_at is None:
        _close_sessions([rs])
        session.add(rs)
        if batch.status == "receiving" and _complete(session, batch):
            _received(session, batch)
        session.flush()
        changed(session, batch=str(batch.id))
    return batch


def mark_received(session: Session, batch_id: uuid.UUID | str, *, actor: Principal) -> ExpectedBatch:
    """The batch is received as it is (some devices may never come): its open session ends."""
    actor.require(WRITE)
    batch = get_row(session, ExpectedBatch, batch_id, "batch", lock=True)
    if batch.status == "received":
        return batch
    if batch.status == "expected":
        raise InvalidTransition(f"batch {batch.number} has not been received yet: start a receiving session")
    _close_sessions(_open_sessions(session, batch.id))
    _received(session, batch)
    session.flush()
    changed(session, batch=str(batch.id))
    return batch


def close_batch(session: Session, batch_id: uuid.UUID | str, *, actor: Principal) -> ExpectedBatch:
    """Close a batch for good: no more sessions or scans (its assets carry on)."""
    actor.require(WRITE)
    batch = get_row(session, ExpectedBatch, batch_id, "batch", lock=True)
    if batch.status == "closed":
        return batch
    _close_sessions(_open_sessions(session, batch.id))
    _move_batch(batch, "closed")
    batch.closed_at = utcnow()
    session.add(batch)
    session.flush()
    changed(session, batch=str(batch.id))
    return batch


# --- assets -------------------------------------------------------------------------------------


@dataclass
class AssetFilter:
    search: str = ""  # number, IMEI, serial
    status: str = ""
    client_id: uuid.UUID | str | None = None
    batch_id: uuid.UUID | str | None = None
    sort: str = "received"
    descending: bool = True
    page: int = 0
    page_size: int = 25


@dataclass
class AssetRow:
    asset: RepairAsset
    client_name: str
    batch_number: str
    model_name: str


def _asset_query():
    return (
        sa_select(
            RepairAsset,
            col(RepairClient.name),
            col(ExpectedBatch.number),
            col(DeviceModel.manufacturer),
            col(DeviceModel.model),
        )
        .join(RepairClient, col(RepairClient.id) == RepairAsset.client_id)
        .join(ExpectedBatch, col(ExpectedBatch.id) == RepairAsset.batch_id)
        .outerjoin(DeviceModel, col(DeviceModel.id) == RepairAsset.device_model_id)
    )


def _asset_row(a, client, batch, manufacturer, model) -> AssetRow:
    return AssetRow(a, client, batch, f"{manufacturer} {model}" if model else "")


def list_assets(session: Session, f: AssetFilter) -> tuple[list[AssetRow], int]:
    """Assets, searched by number, IMEI or serial, filtered by status, client and batch, sorted, paged."""
    if f.status and f.status not in machine.ASSET_STATUS:
        raise ValidationFailed(f"the status is one of {', '.join(machine.ASSET_STATUSES)}")
    if f.sort not in ASSET_SORTS:
        raise ValidationFailed(f"sort by one of {', '.join(ASSET_SORTS)}")
    q = _asset_query()
    for word in f.search.split()[:6]:
        pattern = like_pattern(word)
        q = q.where(
            or_(
                col(RepairAsset.number).ilike(pattern),
                col(RepairAsset.imei).ilike(pattern),
                col(RepairAsset.serial).ilike(pattern),
            )
        )
    if f.status:
        q = q.where(col(RepairAsset.status) == f.status)
    if f.client_id:
        q = q.where(col(RepairAsset.client_id) == as_uuid(f.client_id, "client id"))
    if f.batch_id:
        q = q.where(col(RepairAsset.batch_id) == as_uuid(f.batch_id, "batch id"))
    total = session.execute(sa_select(func.count()).select_from(q.subquery())).scalar_one()
    column = {
        "number": col(RepairAsset.number),
        "status": col(RepairAsset.status),
        "changed": col(RepairAsset.status_changed_at),
        "client": func.lower(RepairClient.name),
        "model": func.lower(DeviceModel.model),
    }.get(f.sort, col(RepairAsset.received_at))
    order = column.desc().nulls_last() if f.descending else column.asc().nulls_last()
    q = q.order_by(order, col(RepairAsset.number).desc()).offset(max(0, f.page) * f.page_size).limit(f.page_size)
    return [_asset_row(*r) for r in session.execute(q).all()], total


def asset_counts(session: Session) -> dict[str, int]:
    """Assets per status (the filter's counts)."""
    return dict(session.exec(select(RepairAsset.status, func.count()).group_by(col(RepairAsset.status))).all())


@dataclass
class HistoryRow:
    change: AssetStatusChange
    who: str


@dataclass
class CodeRow:
    code: str
    name: str
    source: str
    done: bool


@dataclass
class AssetDetail:
    row: AssetRow
    history: list[HistoryRow]
    photos: list[AssetPhoto]
    codes: list[CodeRow]
    worksheets: list[Worksheet]
    ber_reviews: list[BerReview]
    hand_moves: list[str]  # what the asset's page offers as buttons
    other_moves: list[tuple[str, str]]  # (status, where it is done)


def hand_moves(asset: RepairAsset) -> list[str]:
    """The moves a person may make on the asset's page (resume: back to where it was held)."""
    if asset.status == "on_hold":
        return machine.asset_moves("on_hold", held_from=asset.held_from)
    allowed = machine.asset_moves(asset.status)
    by_hand = HAND_MOVES.get(asset.status, frozenset())
    return [s for s in allowed if s in by_hand or (s == "on_hold" and asset.status in machine.WORKING)]


def get_asset(session: Session, asset_id: uuid.UUID | str) -> AssetDetail:
    """An asset with its history, photos, repair codes, worksheets and BER reviews."""
    asset_uuid = as_uuid(asset_id, "asset id")
    found = session.execute(_asset_query().where(col(RepairAsset.id) == asset_uuid)).first()
    if found is None:
        raise NotFound("asset not found")
    row = _asset_row(*found)
    asset = row.asset
    history = session.exec(
        select(AssetStatusChange)
        .where(AssetStatusChange.asset_id == asset.id)
        .order_by(col(AssetStatusChange.changed_at), col(AssetStatusChange.id))
    ).all()
    who = audit.actor_names(session) if any(h.actor_user_id for h in history) else {}
    photos = session.exec(
        select(AssetPhoto).where(AssetPhoto.asset_id == asset.id).order_by(col(AssetPhoto.created_at))
    ).all()
    codes = session.exec(
        select(DeviceRepairCode, RepairCode.code, RepairCode.name)
        .outerjoin(RepairCode, col(RepairCode.id) == DeviceRepairCode.repair_code_id)
        .where(DeviceRepairCode.asset_id == asset.id)
        .order_by(col(DeviceRepairCode.created_at))
    ).all()
    worksheets = session.exec(
        select(Worksheet).where(Worksheet.asset_id == asset.id).order_by(col(Worksheet.created_at))
    ).all()
    reviews = session.exec(
        select(BerReview).where(BerReview.asset_id == asset.id).order_by(col(BerReview.created_at))
    ).all()
    mine = hand_moves(asset)
    others = [
        (s, MOVE_PLACES.get(s, "its workbench"))
        for s in machine.asset_moves(asset.status, held_from=asset.held_from)
        if s not in mine
    ]
    return AssetDetail(
        row=row,
        history=[HistoryRow(h, who.get(h.actor_user_id, "") if h.actor_user_id else "") for h in history],
        photos=list(photos),
        codes=[
            CodeRow(code or c.drfone_code, name or c.drfone_message or "not mapped yet", c.source, c.done)
            for c, code, name in codes
        ],
        worksheets=list(worksheets),
        ber_reviews=list(reviews),
        hand_moves=mine,
        other_moves=others,
    )


def move(
    session: Session, asset_id: uuid.UUID | str, target: str, *, reason: str = "", actor: Principal
) -> RepairAsset:
    """A move made by hand on the asset's page (start triage, hold, resume,
    awaiting parts ↔ in repair). Moves the workbenches make are refused here
    with where to make them."""
    actor.require(WRITE)
    if target not in machine.ASSET_STATUS:
        raise ValidationFailed(f"'{target}' is not an asset status")
    asset = get_row(session, RepairAsset, asset_id, "asset", lock=True)
    if target == asset.status:
        return asset
    reason = (reason or "").strip()
    if target == "on_hold" and not reason:
        raise ValidationFailed("say why the asset goes on hold (waiting for the client, a question, a part…)")
    machine.check_asset_move(asset.status, target, held_from=asset.held_from)  # refusals list the allowed moves
    if target not in hand_moves(asset):
        place = MOVE_PLACES.get(target, "its workbench")
        raise InvalidTransition(
            f"an asset goes to {machine.asset_words(target)} from {place}, not by hand",
            details={"allowed": hand_moves(asset)},
        )
    return move_asset(session, asset, target, actor=actor, reason=reason)


def hold(session: Session, asset_id: uuid.UUID | str, reason: str, *, actor: Principal) -> RepairAsset:
    """Put a working asset on hold; it remembers where it was."""
    return move(session, asset_id, "on_hold", reason=reason, actor=actor)


def resume(session: Session, asset_id: uuid.UUID | str, *, actor: Principal) -> RepairAsset:
    """A held asset goes back to the status it was held from."""
    actor.require(WRITE)
    asset = get_row(session, RepairAsset, asset_id, "asset", lock=True)
    if asset.status != "on_hold":
        raise InvalidTransition(f"asset {asset.number} is not on hold (it is {machine.asset_words(asset.status)})")
    target = asset.held_from or "received"
    return move_asset(session, asset, target, actor=actor, reason="resumed")


def start_triage(session: Session, asset_id: uuid.UUID | str, *, actor: Principal) -> RepairAsset:
    return move(session, asset_id, "in_triage", actor=actor)


# --- photos -------------------------------------------------------------------------------------


def photo_keys(asset_id: uuid.UUID) -> tuple[str, str]:
    stem = f"repairs/assets/{asset_id}/intake-{uuid.uuid4().hex[:12]}"
    return f"{stem}.jpg", f"{stem}-thumb.jpg"


def add_photo(
    session: Session,
    asset_id: uuid.UUID | str,
    data: bytes,
    *,
    caption: str = "",
    taken_at: datetime | None = None,
    actor: Principal,
) -> AssetPhoto:
    """An intake photo: checked and cleaned by the platform's photo intake
    (upright, location and other metadata dropped, a thumbnail), then stored.
    A file that is not a sound photo is refused and nothing is stored."""
    actor.require(WRITE)
    asset = get_row(session, RepairAsset, asset_id, "asset", lock=True)
    count = session.exec(select(func.count()).select_from(AssetPhoto).where(AssetPhoto.asset_id == asset.id)).one()
    if count >= MAX_PHOTOS_PER_ASSET:
        raise Conflict(f"asset {asset.number} has {count} photos already, the most it may have")
    processed = intake.process(data)
    key, thumb_key = photo_keys(asset.id)
    store = storage.for_tenant(asset.tenant_id)
    store.put(key, processed.original, processed.content_type)
    store.put(thumb_key, processed.thumbnail, "image/jpeg")
    photo = AssetPhoto(
        tenant_id=asset.tenant_id,
        asset_id=asset.id,
        storage_key=key,
        thumbnail_key=thumb_key,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        taken_at=taken_at,
        caption=(caption or "").strip()[:200],
        uploaded_by_id=actor.user_id,
    )
    session.add(photo)
    session.flush()
    changed(session, asset=str(asset.id))
    return photo


def delete_photo(session: Session, photo_id: uuid.UUID | str, *, actor: Principal) -> None:
    actor.require(WRITE)
    photo = get_row(session, AssetPhoto, photo_id, "photo", lock=True)
    store = storage.for_tenant(photo.tenant_id)
    for k in (photo.storage_key, photo.thumbnail_key):
        if k:
            store.delete(k)
    session.delete(photo)
    changed(session, asset=str(photo.asset_id))


# --- choices for forms --------------------------------------------------------------------------


def client_choices(session: Session) -> list[tuple[str, str]]:
    """(id, name) of the shop's active repair clients."""
    rows = session.exec(
        select(RepairClient.id, RepairClient.name)
        .where(col(RepairClient.active).is_(True))
        .order_by(func.lower(RepairClient.name))
    ).all()
    return [(str(i), n) for i, n in rows]


def model_choices(session: Session) -> list[tuple[str, str]]:
    """(id, "Manufacturer Model") of the shop's active device models."""
    rows = session.exec(
        select(DeviceModel.id, DeviceModel.manufacturer, DeviceModel.model)
        .where(col(DeviceModel.active).is_(True))
        .order_by(func.lower(DeviceModel.manufacturer), func.lower(DeviceModel.model))
    ).all()
    return [(str(i), f"{m} {n}") for i, m, n in rows]
