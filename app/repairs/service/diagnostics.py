"""Diagnostic logs, code mappings and the unmapped-codes queue (seed S13, S17 B1).

- **Upload** (`upload`, `upload_log`): a diagnostic-tool export (format in
  `app.repairs.drfone`), at most 1 MB of UTF-8 text, is stored and queued for
  parsing. The same file again (same SHA-256) is the same log: the upload
  says "already uploaded" and changes nothing.
- **Parse** (`parse_log`, the background job's body, per shop in the shop's
  own line): the log's device is matched to an asset by IMEI, else serial
  (unless the upload named the asset); each failed test's code becomes a
  repair code on the asset. A code the shop has mapped gives a row with the
  repair code at once (source `drfone_auto`); any other waits without one
  (source `drfone`): the unmapped-codes queue. One transaction for the whole
  log; a second run of a parsed (or failed) log changes nothing.
- **Mappings** (one per shop and tool code): creating one, or resolving a code
  from the queue, applies it in the same transaction to every row waiting
  for that code (they keep source `drfone` and get `mapped_at`). Changing or
  deleting a mapping changes what later logs get, not rows already mapped.
- Parsing and mapping changes of one shop exclude each other through a
  PostgreSQL advisory lock (parses share it, mapping changes take it alone),
  so a log parsed while its code is being mapped never leaves a row waiting
  behind a mapping that exists.
- `add_migrated_codes`: repair codes carried over from a legacy system
  (source `migrated`), for the bulk upload.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Text, cast, func, or_, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlmodel import Session, col, select

from app.platform import events, storage, tasks
from app.platform.auth import Principal
from app.platform.db import on_commit, session_tenant_id
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import utcnow
from app.platform.text import like_pattern
from app.repairs import drfone, machine
from app.repairs import events as names
from app.repairs.models import DeviceRepairCode, DiagnosticLog, DrfoneCodeMapping, RepairAsset, RepairCode
from app.repairs.service._common import SOURCE, WRITE, as_uuid, changed, get_row

log = logging.getLogger(__name__)

MAX_LOG_BYTES = 1024 * 1024
PARSE_JOB = "jobs.repairs_logs.parse"
PARSE_QUEUE = "default"
STORAGE_PREFIX = "repairs/diagnostic-logs"
LOG_STATUSES = machine.DIAGNOSTIC_LOG_STATUS.values
LOG_SORTS = ("created", "filename", "status", "codes", "unmapped")
QUEUE_SORTS = ("count", "code", "first_seen", "last_seen")
MAPPING_SORTS = ("code", "repair_code", "created")
EXAMPLES = 3  # example devices per code in the unmapped queue
STALE_QUEUED_MINUTES = 5  # a log queued longer than this lost its job: the sweep queues it again
_LOCK = "repairs-drfone-mappings:{tenant}"
UNREADABLE = "not a diagnostic log this shop can read"  # a failure of the file itself


# --- reading rows ----------------------------------------------------------------------------


def _lock_mappings(session: Session, *, shared: bool) -> None:
    """Parses of the shop share this lock; a mapping change holds it alone
    (until the transaction ends)."""
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    session.execute(
        text(f"SELECT {fn}(hashtextextended(:k, 0))"), {"k": _LOCK.format(tenant=session_tenant_id(session))}
    )


def normalize_code(raw: str) -> str:
    code = (raw or "").strip().upper()
    if not drfone.CODE_RE.match(code):
        raise ValidationFailed(
            f"'{code[:60]}' is not a diagnostic code: capital letters, digits and dashes, 2 to 60 characters",
            details={"fields": {"drfoneCode": "capital letters, digits and dashes"}},
        )
    return code


def repair_code(session: Session, repair_code_id: uuid.UUID | str) -> RepairCode:
    """An active repair code this shop may use (canonical or its own)."""
    code = session.get(RepairCode, as_uuid(repair_code_id, "repair code id"))
    if code is None:
        raise NotFound("repair code not found")
    if not code.active:
        raise ValidationFailed(f"repair code {code.code} is no longer in use; choose another")
    return code


def repair_code_choices(session: Session) -> list[RepairCode]:
    """The active repair codes (canonical and the shop's own), by code."""
    return list(session.exec(select(RepairCode).where(col(RepairCode.active)).order_by(col(RepairCode.code))).all())


# --- upload ----------------------------------------------------------------------------------


@dataclass
class Uploaded:
    log: DiagnosticLog
    duplicate: bool  # the same file was uploaded before: this is that log

    @property
    def message(self) -> str:
        if self.duplicate:
            return f"{self.log.filename} was already uploaded ({self.log.status})"
        return f"{self.log.filename} uploaded; it is being read"


_SAFE_NAME = re.compile(r"[^\w.\- ()]+")


def _clean_filename(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = _SAFE_NAME.sub("_", name).strip(" .") or "diagnostic-log.txt"
    return name[:255]


def _check_file(data: bytes) -> None:
    if len(data) > MAX_LOG_BYTES:
        raise ValidationFailed(
            f"the file is {len(data) / 1024 / 1024:.1f} MB; a diagnostic log may be at most 1 MB", code="too_large"
        )
    try:
        drfone.decode(data)
    except drfone.ParseError as exc:
        raise ValidationFailed(str(exc), code="not_text") from None


def upload(
    session: Session, filename: str, data: bytes, *, asset_id: uuid.UUID | str | None = None, actor: Principal
) -> Uploaded:
    """Store a diagnostic log and queue it for parsing once the caller commits.
    Refuses files over 1 MB and anything that is not UTF-8 text. The same file
    again is the log already there (`duplicate`), changed in nothing."""
    actor.require(WRITE)
    _check_file(data)
    asset = get_row(session, RepairAsset, asset_id, "asset") if asset_id else None
    digest = hashlib.sha256(data).hexdigest()
    existing = session.exec(select(DiagnosticLog).where(DiagnosticLog.file_hash == digest)).first()
    if existing is not None:
        if existing.status == "queued":  # its job may have been lost: parsing twice is harmless
            _enqueue_after_commit(session, existing.id)
        return Uploaded(existing, True)
    tid = session_tenant_id(session)
    key = f"{STORAGE_PREFIX}/{digest}.txt"
    storage.for_tenant(tid).put(key, data, "text/plain; charset=utf-8")  # by content: a second writer writes the same
    new_id = uuid.uuid4()
    inserted = session.execute(
        insert(DiagnosticLog)
        .values(
            id=new_id,
            tenant_id=tid,
            file_hash=digest,
            filename=_clean_filename(filename),
            storage_key=key,
            size_bytes=len(data),
            status="queued",
            error="",
            asset_id=asset.id if asset else None,
            imei="",
            serial="",
            tool="",
            codes_found=0,
            mapped_count=0,
            unmapped_count=0,
            uploaded_by_id=actor.user_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(constraint="uq_diagnostic_logs_hash")
        .returning(DiagnosticLog.__table__.c.id)  # type: ignore[attr-defined]
    ).first()
    if inserted is None:  # the same file, uploaded at the same moment by someone else
        other = session.exec(select(DiagnosticLog).where(DiagnosticLog.file_hash == digest)).one()
        return Uploaded(other, True)
    row = session.get(DiagnosticLog, new_id)
    assert row is not None
    _enqueue_after_commit(session, new_id)
    changed(session, diagnosticLog=str(new_id))
    return Uploaded(row, False)


def upload_log(
    session: Session, filename: str, data: bytes, *, asset_id: uuid.UUID | str | None = None, actor: Principal
) -> DiagnosticLog:
    """`upload`, returning the log (new, or the one the same file made before)."""
    return upload(session, filename, data, asset_id=asset_id, actor=actor).log


def _enqueue_after_commit(session: Session, log_id: uuid.UUID) -> None:
    tid = session_tenant_id(session)

    def go() -> None:
        try:
            tasks.enqueue(
                PARSE_JOB,
                str(tid),
                str(log_id),
                queue_name=PARSE_QUEUE,
                shop=tid,
                job_timeout=120,
                description=f"Read diagnostic log {log_id}",
            )
        except Exception as exc:  # Redis away: the sweep queues it again
            log.warning("could not queue diagnostic log %s (%s); the sweep will", log_id, exc)

    on_commit(session, go, key=f"diagnostic-log:{log_id}")


def requeue_stale(session: Session) -> int:
    """The sweep (per shop): logs queued for longer than a few minutes lost
    their job (the queue was away when they were uploaded): queue them again.
    Returns how many."""
    cutoff = func.now() - text(f"interval '{STALE_QUEUED_MINUTES} minutes'")
    ids = session.exec(
        select(DiagnosticLog.id)
        .where(DiagnosticLog.status == "queued", col(DiagnosticLog.created_at) < cutoff)
        .order_by(col(DiagnosticLog.created_at))
        .limit(500)
    ).all()
    for log_id in ids:
        _enqueue_after_commit(session, log_id)
    return len(ids)


def retry_log(session: Session, log_id: uuid.UUID | str, *, actor: Principal) -> DiagnosticLog:
    """Read a failed log again (after the file's problem was understood, or a
    worker stopped mid-way): back to queued, its job queued after commit."""
    actor.require(WRITE)
    row = get_row(session, DiagnosticLog, log_id, "diagnostic log", lock=True)
    if row.status != "failed":
        raise Conflict(f"only a failed log is read again; {row.filename} is {row.status}")
    if row.error.startswith(UNREADABLE):
        raise Conflict(
            f"{row.filename} itself is at fault ({row.error.removeprefix(UNREADABLE + ': ')}); "
            "correct the export and upload it again"
        )
    row.status, row.error, row.parsed_at = "queued", "", None
    session.add(row)
    _enqueue_after_commit(session, row.id)
    changed(session, diagnosticLog=str(row.id))
    return row


# --- parse -----------------------------------------------------------------------------------


def start_parsing(session: Session, log_id: uuid.UUID | str) -> bool:
    """queued → parsing (so pages show it is being read). False when there
    is nothing to do: the log is parsed or failed already, or gone."""
    row = session.get(DiagnosticLog, as_uuid(log_id, "diagnostic log id"), with_for_update=True)
    if row is None or row.status in ("parsed", "failed"):
        return False
    if row.status == "queued":
        row.status = "parsing"
        session.add(row)
        changed(session, diagnosticLog=str(row.id))
    return True


def _fail(session: Session, row: DiagnosticLog, reason: str) -> DiagnosticLog:
    row.status, row.error, row.parsed_at = "failed", reason[:1000], utcnow()
    session.add(row)
    changed(session, diagnosticLog=str(row.id))
    return row


def _match_asset(session: Session, imei: str, serial: str) -> RepairAsset | None:
    """The asset the log's device is: by IMEI, else by serial. A device that
    came in more than once is the visit still in the shop, else the latest."""
    for column, value in ((RepairAsset.imei, imei), (RepairAsset.serial, serial)):
        if not value:
            continue
        in_shop = col(RepairAsset.status).in_(machine.IN_SHOP)
        found = session.exec(
            select(RepairAsset)
            .where(column == value)
            .order_by(in_shop.desc(), col(RepairAsset.received_at).desc())
            .limit(1)
        ).first()
        if found is not None:
            return found
    return None


def parse_log(session: Session, log_id: uuid.UUID | str) -> DiagnosticLog:
    """Read a queued (or parsing) log: its identifiers and counts on the log,
    one repair-code row per failed code on the asset; status parsed, or
    failed with the reason. Idempotent: a parsed or failed log is returned
    as it is. The caller commits (the job)."""
    row = session.get(DiagnosticLog, as_uuid(log_id, "diagnostic log id"), with_for_update=True)
    if row is None:
        raise NotFound("diagnostic log not found")
    if row.status in ("parsed", "failed"):
        return row
    tid = session_tenant_id(session)
    try:
        data = storage.for_tenant(tid).get(row.storage_key).data
    except NotFound:
        return _fail(session, row, "the stored file is gone; upload it again")
    try:
        report = drfone.read(data)
    except drfone.ParseError as exc:
        return _fail(session, row, f"{UNREADABLE}: {exc}")

    _lock_mappings(session, shared=True)
    row.tool, row.tested_at = report.tool, report.tested_at
    row.imei, row.serial = report.imei[:20], report.serial[:60]
    if row.asset_id is None:
        asset = _match_asset(session, report.imei, report.serial)
        row.asset_id = asset.id if asset else None
    faults = report.faults
    codes = [f.code for f in faults]
    mapped = (
        {
            m.drfone_code: m.repair_code_id
            for m in session.exec(select(DrfoneCodeMapping).where(col(DrfoneCodeMapping.drfone_code).in_(codes)))
        }
        if codes
        else {}
    )
    now = utcnow()
    session.add_all(
        DeviceRepairCode(
            tenant_id=tid,
            asset_id=row.asset_id,
            repair_code_id=mapped.get(f.code),
            drfone_code=f.code,
            drfone_message=f.message[:300],
            source="drfone_auto" if f.code in mapped else "drfone",
            diagnostic_log_id=row.id,
            created_at=now,
            mapped_at=now if f.code in mapped else None,
        )
        for f in faults
    )
    row.codes_found = len(faults)
    row.mapped_count = sum(1 for c in codes if c in mapped)
    row.unmapped_count = len(codes) - row.mapped_count
    row.status, row.error, row.parsed_at = "parsed", "", now
    session.add(row)
    events.publish(
        session,
        names.LOG_PARSED,
        {
            "diagnosticLogId": str(row.id),
            "assetId": str(row.asset_id) if row.asset_id else None,
            "mapped": row.mapped_count,
            "unmapped": row.unmapped_count,
        },
        source=SOURCE,
    )
    changed(session, diagnosticLog=str(row.id))
    return row


def parse_abandoned(tenant_id: str, log_id: str, *, retrying: bool) -> None:
    """A worker stopped while reading the log: queued again when the job is
    retried, else failed with a sentence saying so."""
    from app.platform.db import tenant_session

    with tenant_session(tenant_id) as s:
        row = s.get(DiagnosticLog, as_uuid(log_id), with_for_update=True)
        if row is None or row.status in ("parsed", "failed"):
            return
        if retrying:
            row.status = "queued"
            s.add(row)
            changed(s, diagnosticLog=str(row.id))
        else:
            _fail(s, row, "the worker stopped while reading this log; read it again")
        s.commit()


# --- lists -----------------------------------------------------------------------------------


@dataclass
class LogFilter:
    search: str = ""  # file name, IMEI, serial or asset number
    status: str = ""
    asset_id: uuid.UUID | None = None
    sort: str = "created"
    descending: bool = True
    page: int = 0
    page_size: int = 20


@dataclass
class LogRow:
    log: DiagnosticLog
    asset_number: str = ""
    waiting: int = 0  # of the codes it brought, still without a repair code (now, not when it was read)

    @property
    def mapped(self) -> int:
        return max(0, self.log.codes_found - self.waiting)

    @property
    def retryable(self) -> bool:
        """Failed for a reason other than the file itself (reading it again helps)."""
        return self.log.status == "failed" and not self.log.error.startswith(UNREADABLE)


def _waiting_of_log():
    return (
        select(func.count())
        .where(col(DeviceRepairCode.diagnostic_log_id) == col(DiagnosticLog.id), _waiting())
        .correlate(DiagnosticLog)
        .scalar_subquery()
    )


def list_logs(session: Session, f: LogFilter) -> tuple[list[LogRow], int]:
    if f.status and f.status not in LOG_STATUSES:
        raise ValidationFailed(f"no log status '{f.status}' (statuses: {', '.join(LOG_STATUSES)})")
    if f.sort not in LOG_SORTS:
        raise ValidationFailed(f"cannot sort logs by '{f.sort}' (sorts: {', '.join(LOG_SORTS)})")
    q = select(DiagnosticLog, RepairAsset.number, _waiting_of_log()).join(
        RepairAsset, col(RepairAsset.id) == col(DiagnosticLog.asset_id), isouter=True
    )
    if f.status:
        q = q.where(DiagnosticLog.status == f.status)
    if f.asset_id:
        q = q.where(DiagnosticLog.asset_id == f.asset_id)
    if f.search.strip():
        pattern = like_pattern(f.search.strip())
        q = q.where(
            or_(
                col(DiagnosticLog.filename).ilike(pattern),
                col(DiagnosticLog.imei).ilike(pattern),
                col(DiagnosticLog.serial).ilike(pattern),
                col(RepairAsset.number).ilike(pattern),
            )
        )
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    key = {
        "created": col(DiagnosticLog.created_at),
        "filename": func.lower(DiagnosticLog.filename),
        "status": col(DiagnosticLog.status),
        "codes": col(DiagnosticLog.codes_found),
        "unmapped": col(DiagnosticLog.unmapped_count),
    }[f.sort]
    q = q.order_by(key.desc() if f.descending else key.asc(), col(DiagnosticLog.id))
    rows = session.exec(q.offset(f.page * f.page_size).limit(f.page_size)).all()
    return [LogRow(lg, number or "", waiting) for lg, number, waiting in rows], total


def log_counts(session: Session) -> dict[str, int]:
    """Logs per status (the page's chips)."""
    counts = dict.fromkeys(LOG_STATUSES, 0)
    for status, n in session.exec(select(DiagnosticLog.status, func.count()).group_by(col(DiagnosticLog.status))):
        counts[status] = n
    return counts


@dataclass
class CodeRow:
    """A repair code on an asset (or waiting for a mapping)."""

    row: DeviceRepairCode
    repair_code: str = ""  # its code, "" while unmapped
    repair_code_name: str = ""
    asset_number: str = ""


def _code_rows(session: Session, q) -> list[CodeRow]:
    out = []
    for drc, code, name, number in session.exec(q):
        out.append(CodeRow(drc, code or "", name or "", number or ""))
    return out


def _codes_query():
    return (
        select(DeviceRepairCode, RepairCode.code, RepairCode.name, RepairAsset.number)
        .join(RepairCode, col(RepairCode.id) == col(DeviceRepairCode.repair_code_id), isouter=True)
        .join(RepairAsset, col(RepairAsset.id) == col(DeviceRepairCode.asset_id), isouter=True)
    )


def log_codes(session: Session, log_id: uuid.UUID | str) -> list[CodeRow]:
    """The codes a log brought, in the order of the file."""
    lid = as_uuid(log_id, "diagnostic log id")
    return _code_rows(
        session,
        _codes_query()
        .where(DeviceRepairCode.diagnostic_log_id == lid)
        .order_by(col(DeviceRepairCode.created_at), col(DeviceRepairCode.drfone_code)),
    )


def asset_codes(session: Session, asset_id: uuid.UUID | str) -> list[CodeRow]:
    """Every repair code on an asset, waiting ones included, oldest first."""
    aid = as_uuid(asset_id, "asset id")
    return _code_rows(
        session,
        _codes_query()
        .where(DeviceRepairCode.asset_id == aid)
        .order_by(col(DeviceRepairCode.created_at), col(DeviceRepairCode.drfone_code)),
    )


def get_log(session: Session, log_id: uuid.UUID | str) -> LogRow:
    row = get_row(session, DiagnosticLog, log_id, "diagnostic log")
    number = (
        session.exec(select(RepairAsset.number).where(RepairAsset.id == row.asset_id)).first() if row.asset_id else None
    )
    waiting = session.exec(select(func.count()).where(DeviceRepairCode.diagnostic_log_id == row.id, _waiting())).one()
    return LogRow(row, number or "", waiting)


# --- the unmapped-codes queue -----------------------------------------------------------------


@dataclass
class QueueFilter:
    search: str = ""  # the tool's code or message
    sort: str = "count"
    descending: bool = True
    page: int = 0
    page_size: int = 20


@dataclass
class WaitingCode:
    """A tool code rows wait on: how many, since when, on which devices."""

    drfone_code: str
    count: int
    devices: int
    first_seen: datetime
    last_seen: datetime
    message: str
    examples: list[str] = field(default_factory=list)  # asset numbers, else IMEIs or serials
    area: str = ""  # the part under test, for Dr.Fone's codes
    suggestion: str = ""  # the canonical repair code such a failure usually needs


def _waiting():
    return col(DeviceRepairCode.repair_code_id).is_(None) & (col(DeviceRepairCode.drfone_code) != "")


def unmapped_queue(session: Session, paging: QueueFilter | None = None) -> tuple[list[WaitingCode], int]:
    """The codes waiting for a mapping, grouped by code, most rows first
    (by default), with up to three example devices each."""
    f = paging or QueueFilter()
    if f.sort not in QUEUE_SORTS:
        raise ValidationFailed(f"cannot sort the queue by '{f.sort}' (sorts: {', '.join(QUEUE_SORTS)})")
    drc, asset, lg = DeviceRepairCode, RepairAsset, DiagnosticLog
    device = func.coalesce(
        func.nullif(asset.number, ""), func.nullif(lg.imei, ""), func.nullif(lg.serial, ""), cast(drc.id, Text)
    )
    count = func.count().label("n")
    first = func.min(drc.created_at).label("first_seen")
    last = func.max(drc.created_at).label("last_seen")
    q = (
        sa_select(
            col(drc.drfone_code),
            count,
            func.count(func.distinct(device)).label("devices"),
            first,
            last,
            func.array_agg(aggregate_order_by(col(drc.drfone_message), col(drc.created_at).desc()))[1].label("message"),
            func.array_agg(func.distinct(device))[1:EXAMPLES].label("examples"),
        )
        .select_from(drc)
        .join(asset, col(asset.id) == col(drc.asset_id), isouter=True)
        .join(lg, col(lg.id) == col(drc.diagnostic_log_id), isouter=True)
        .where(_waiting())
        .group_by(col(drc.drfone_code))
    )
    if f.search.strip():
        pattern = like_pattern(f.search.strip())
        q = q.having(
            or_(
                col(drc.drfone_code).ilike(pattern),
                func.bool_or(col(drc.drfone_message).ilike(pattern)),
            )
        )
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    key = {"count": count, "code": col(drc.drfone_code), "first_seen": first, "last_seen": last}[f.sort]
    q = q.order_by(key.desc() if f.descending else key.asc(), col(drc.drfone_code))
    out = []
    for code, n, devices, first_seen, last_seen, message, examples in session.execute(
        q.offset(f.page * f.page_size).limit(f.page_size)
    ).all():
        out.append(
            WaitingCode(
                drfone_code=code,
                count=n,
                devices=devices,
                first_seen=first_seen,
                last_seen=last_seen,
                message=message or "",
                examples=[e for e in (examples or []) if e],
                area=drfone.area(code),
                suggestion=drfone.suggest(code),
            )
        )
    return out, total


def unmapped_count(session: Session) -> int:
    """Rows waiting for a mapping (the seed's GET /reports/drfone-unmapped-count,
    the dashboard widget's figure)."""
    return session.exec(select(func.count()).select_from(DeviceRepairCode).where(_waiting())).one()


def unmapped_codes_count(session: Session) -> int:
    """Distinct tool codes waiting for a mapping."""
    return session.exec(select(func.count(func.distinct(DeviceRepairCode.drfone_code))).where(_waiting())).one()


# --- mappings --------------------------------------------------------------------------------


@dataclass
class MappingFilter:
    search: str = ""
    sort: str = "code"
    descending: bool = False
    page: int = 0
    page_size: int = 20


@dataclass
class MappingRow:
    mapping: DrfoneCodeMapping
    repair_code: str
    repair_code_name: str
    applied: int = 0  # rows on assets that carry this mapping's repair code from a log


def _mapping_query():
    m, rc = DrfoneCodeMapping, RepairCode
    applied = (
        select(func.count())
        .where(
            col(DeviceRepairCode.drfone_code) == col(m.drfone_code),
            col(DeviceRepairCode.repair_code_id).is_not(None),
        )
        .correlate(m)
        .scalar_subquery()
    )
    return select(m, rc.code, rc.name, applied).join(rc, col(rc.id) == col(m.repair_code_id))


def list_mappings(session: Session, f: MappingFilter | None = None) -> tuple[list[MappingRow], int]:
    f = f or MappingFilter()
    if f.sort not in MAPPING_SORTS:
        raise ValidationFailed(f"cannot sort mappings by '{f.sort}' (sorts: {', '.join(MAPPING_SORTS)})")
    q = _mapping_query()
    if f.search.strip():
        pattern = like_pattern(f.search.strip())
        q = q.where(
            or_(
                col(DrfoneCodeMapping.drfone_code).ilike(pattern),
                col(DrfoneCodeMapping.description).ilike(pattern),
                col(RepairCode.code).ilike(pattern),
                col(RepairCode.name).ilike(pattern),
            )
        )
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    key = {
        "code": col(DrfoneCodeMapping.drfone_code),
        "repair_code": col(RepairCode.code),
        "created": col(DrfoneCodeMapping.created_at),
    }[f.sort]
    q = q.order_by(key.desc() if f.descending else key.asc(), col(DrfoneCodeMapping.drfone_code))
    rows = session.exec(q.offset(f.page * f.page_size).limit(f.page_size)).all()
    return [MappingRow(m, code, name, applied) for m, code, name, applied in rows], total


def get_mapping(session: Session, mapping_id: uuid.UUID | str) -> MappingRow:
    mid = as_uuid(mapping_id, "mapping id")
    found = session.exec(_mapping_query().where(DrfoneCodeMapping.id == mid)).first()
    if found is None:
        raise NotFound("mapping not found")
    m, code, name, applied = found
    return MappingRow(m, code, name, applied)


def mapping_for(session: Session, drfone_code: str) -> DrfoneCodeMapping | None:
    return session.exec(select(DrfoneCodeMapping).where(DrfoneCodeMapping.drfone_code == drfone_code)).first()


def _apply(session: Session, drfone_code: str, repair_code_id: uuid.UUID) -> int:
    """Every row waiting for `drfone_code` gets the repair code (one statement)."""
    result = session.execute(
        update(DeviceRepairCode)
        .where(_waiting(), col(DeviceRepairCode.drfone_code) == drfone_code)
        .values(repair_code_id=repair_code_id, mapped_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _mapped(session: Session, mapping: DrfoneCodeMapping, code: RepairCode, applied: int) -> None:
    events.publish(
        session,
        names.CODE_MAPPED,
        {"drfoneCode": mapping.drfone_code, "repairCodeId": str(code.id), "repairCode": code.code, "applied": applied},
        source=SOURCE,
    )
    changed(session, drfoneCode=mapping.drfone_code)


def _insert_mapping(
    session: Session, drfone_code: str, code: RepairCode, description: str, actor: Principal
) -> DrfoneCodeMapping | None:
    """The new mapping, or None when the shop has one for the code already
    (also when another request made it a moment ago)."""
    new_id = uuid.uuid4()
    made = session.execute(
        insert(DrfoneCodeMapping)
        .values(
            id=new_id,
            tenant_id=session_tenant_id(session),
            drfone_code=drfone_code,
            repair_code_id=code.id,
            description=description[:300],
            created_by_id=actor.user_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(constraint="uq_drfone_code_mappings_code")
        .returning(DrfoneCodeMapping.__table__.c.id)  # type: ignore[attr-defined]
    ).first()
    return session.get(DrfoneCodeMapping, new_id) if made else None


def _waiting_message(session: Session, drfone_code: str) -> str:
    return (
        session.exec(
            select(DeviceRepairCode.drfone_message)
            .where(_waiting(), DeviceRepairCode.drfone_code == drfone_code)
            .order_by(col(DeviceRepairCode.created_at).desc())
            .limit(1)
        ).first()
        or ""
    )


@dataclass
class Resolved:
    mapping: DrfoneCodeMapping
    repair_code: RepairCode
    applied: int  # rows that left the queue
    created: bool  # False: the mapping was there already (same repair code)


def create_mapping(
    session: Session,
    drfone_code: str,
    repair_code_id: uuid.UUID | str,
    *,
    description: str = "",
    actor: Principal,
) -> Resolved:
    """A new mapping; rows waiting for the code get its repair code in the
    same transaction. A second mapping of a code is refused (409)."""
    actor.require(WRITE)
    code_text = normalize_code(drfone_code)
    code = repair_code(session, repair_code_id)
    _lock_mappings(session, shared=False)
    description = description.strip() or _waiting_message(session, code_text)
    mapping = _insert_mapping(session, code_text, code, description, actor)
    if mapping is None:
        existing = mapping_for(session, code_text)
        target = session.get(RepairCode, existing.repair_code_id) if existing else None
        raise Conflict(
            f"{code_text} is mapped already (to {target.code if target else 'a repair code'}); "
            "change that mapping instead",
            details={"mappingId": str(existing.id) if existing else None},
        )
    applied = _apply(session, code_text, code.id)
    _mapped(session, mapping, code, applied)
    return Resolved(mapping, code, applied, True)


def resolve(session: Session, drfone_code: str, repair_code_id: uuid.UUID | str, *, actor: Principal) -> int:
    """Map a code from the unmapped queue: the mapping, and every waiting row
    of the code gets the repair code, in one transaction. Returns how many
    rows left the queue. Resolving again to the same repair code (a double
    click, two people at once) applies what waits and is otherwise a no-op;
    to another repair code it is refused (409: change the mapping instead)."""
    return resolve_code(session, drfone_code, repair_code_id, actor=actor).applied


def resolve_code(session: Session, drfone_code: str, repair_code_id: uuid.UUID | str, *, actor: Principal) -> Resolved:
    """`resolve`, with the mapping and the repair code."""
    actor.require(WRITE)
    code_text = normalize_code(drfone_code)
    code = repair_code(session, repair_code_id)
    _lock_mappings(session, shared=False)
    mapping = _insert_mapping(session, code_text, code, _waiting_message(session, code_text), actor)
    created = mapping is not None
    if mapping is None:
        mapping = mapping_for(session, code_text)
        if mapping is None:  # cannot happen: the insert found one
            raise Conflict(f"{code_text} could not be mapped; try again")
        if mapping.repair_code_id != code.id:
            current = session.get(RepairCode, mapping.repair_code_id)
            raise Conflict(
                f"{code_text} is mapped already, to {current.code if current else 'another repair code'}; "
                "change that mapping instead",
                details={"mappingId": str(mapping.id)},
            )
    applied = _apply(session, code_text, code.id)
    if created or applied:
        _mapped(session, mapping, code, applied)
    return Resolved(mapping, code, applied, created)


def update_mapping(
    session: Session,
    mapping_id: uuid.UUID | str,
    *,
    repair_code_id: uuid.UUID | str | None = None,
    description: str | None = None,
    actor: Principal,
) -> DrfoneCodeMapping:
    """Point a mapping at another repair code, or reword it. Later logs get the
    new repair code; rows mapped before keep theirs."""
    actor.require(WRITE)
    _lock_mappings(session, shared=False)
    mapping = get_row(session, DrfoneCodeMapping, mapping_id, "mapping", lock=True)
    if repair_code_id is not None:
        mapping.repair_code_id = repair_code(session, repair_code_id).id
    if description is not None:
        mapping.description = description.strip()[:300]
    session.add(mapping)
    changed(session, drfoneCode=mapping.drfone_code)
    return mapping


def delete_mapping(session: Session, mapping_id: uuid.UUID | str, *, actor: Principal) -> str:
    """Forget a mapping: later logs with its code wait in the queue again.
    Rows it mapped keep their repair code. Returns the code."""
    actor.require(WRITE)
    _lock_mappings(session, shared=False)
    mapping = get_row(session, DrfoneCodeMapping, mapping_id, "mapping", lock=True)
    code = mapping.drfone_code
    session.delete(mapping)
    changed(session, drfoneCode=code)
    return code


@dataclass
class KnownCode:
    """A tool code the shop has seen in a log or mapped."""

    drfone_code: str
    seen: int  # rows from logs
    waiting: int  # of them, still without a repair code
    last_seen: datetime | None
    mapping_id: uuid.UUID | None
    repair_code: str
    area: str = ""


def known_codes(session: Session, *, search: str = "", limit: int = 500) -> list[KnownCode]:
    """Every tool code seen in the shop's logs or mapped, with its mapping (the
    seed's list of codes)."""
    drc, m, rc = DeviceRepairCode, DrfoneCodeMapping, RepairCode
    seen = (
        select(
            drc.drfone_code.label("code"),  # type: ignore[attr-defined]
            func.count().label("seen"),
            func.count().filter(col(drc.repair_code_id).is_(None)).label("waiting"),
            func.max(drc.created_at).label("last_seen"),
        )
        .where(col(drc.drfone_code) != "")
        .group_by(col(drc.drfone_code))
        .subquery()
    )
    code = func.coalesce(seen.c.code, m.drfone_code)
    q = (
        sa_select(code, seen.c.seen, seen.c.waiting, seen.c.last_seen, col(m.id), col(rc.code))
        .select_from(seen)
        .join(m, col(m.drfone_code) == seen.c.code, full=True)
        .join(rc, col(rc.id) == col(m.repair_code_id), isouter=True)
    )
    if search.strip():
        q = q.where(code.ilike(like_pattern(search.strip())))
    out = []
    for c, n, waiting, last_seen, mid, rcode in session.execute(q.order_by(code).limit(limit)).all():
        out.append(KnownCode(c, n or 0, waiting or 0, last_seen, mid, rcode or "", drfone.area(c)))
    return out


# --- legacy rows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MigratedCode:
    asset_id: uuid.UUID | str
    code: str  # a repair code of the catalogue (canonical or the shop's own), e.g. SCR-REPL


def add_migrated_codes(session: Session, rows: Iterable[MigratedCode], *, actor: Principal) -> int:
    """Repair codes carried over from a legacy system (source `migrated`), all
    or none: an unknown asset or code refuses the lot, naming the rows. A code
    an asset has from a migration already is not added twice. Returns how
    many rows were added."""
    actor.require(WRITE)
    wanted: list[tuple[int, uuid.UUID, str]] = []
    errors: dict[str, str] = {}
    for n, r in enumerate(rows, 1):
        try:
            wanted.append((n, as_uuid(r.asset_id, "asset id"), (r.code or "").strip().upper()))
        except ValidationFailed as exc:
            errors[str(n)] = exc.message
    if not wanted and not errors:
        return 0
    asset_ids = {a for _, a, _ in wanted}
    known_assets = set(session.exec(select(RepairAsset.id).where(col(RepairAsset.id).in_(asset_ids))).all())
    # the shop's own code wins over a canonical one of the same name
    codes: dict[str, uuid.UUID] = {}
    for rc in session.exec(
        select(RepairCode)
        .where(col(RepairCode.code).in_({c for _, _, c in wanted}), col(RepairCode.active))
        .order_by(col(RepairCode.tenant_id).nulls_first())
    ):
        codes[rc.code] = rc.id
    for n, asset_id, code in wanted:
        if asset_id not in known_assets:
            errors[str(n)] = "no such asset in this shop"
        elif code not in codes:
            errors[str(n)] = f"no repair code '{code[:40]}'"
    if errors:
        first = ", ".join(f"row {k}: {v}" for k, v in list(errors.items())[:5])
        raise ValidationFailed(f"{len(errors)} row(s) cannot be carried over ({first})", details={"rows": errors})
    have = set(
        session.exec(
            select(DeviceRepairCode.asset_id, DeviceRepairCode.repair_code_id).where(
                col(DeviceRepairCode.asset_id).in_(asset_ids), DeviceRepairCode.source == "migrated"
            )
        ).all()
    )
    tid, now, added = session_tenant_id(session), utcnow(), 0
    for _, asset_id, code in wanted:
        key = (asset_id, codes[code])
        if key in have:
            continue
        have.add(key)
        session.add(
            DeviceRepairCode(
                tenant_id=tid,
                asset_id=asset_id,
                repair_code_id=codes[code],
                source="migrated",
                created_by_id=actor.user_id,
                created_at=now,
            )
        )
        added += 1
    if added:
        changed(session, migratedCodes=added)
    return added


def read_file(session: Session, row: DiagnosticLog) -> bytes:
    """The log's file as uploaded."""
    return storage.for_tenant(session_tenant_id(session)).get(row.storage_key).data
