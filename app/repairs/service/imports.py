"""Bulk upload (seed S14): a CSV or XLSX file of expected batches (with their
manifest lines), assets (a legacy system's devices, with their repair codes
as `migrated` codes) or spare parts is read, every row checked, and shown as a
preview with per-row errors; applying it runs in a job with a progress bar.

Rows are upserted by their natural key: a batch by its client and the
client's reference (a manifest line by its IMEI or serial within the batch),
an asset by its IMEI (or serial) within its batch, a spare part by its SKU.
Rows with errors are skipped (and listed); the others are applied in chunks,
each chunk one transaction, so a worker that dies mid-import loses nothing:
the job runs again and the upserts make the rows already written no-ops. The
same file again (its hash) is the same import: it is never applied twice.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.inventory import service as inventory
from app.platform import auth, numbering, storage, tasks
from app.platform.auth import Principal
from app.platform.db import on_commit, session_tenant_id, tenant_session
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import utcnow
from app.repairs import machine
from app.repairs.models import (
    AssetStatusChange,
    DeviceModel,
    DeviceRepairCode,
    ExpectedBatch,
    ExpectedDevice,
    RepairAsset,
    RepairClient,
    RepairCode,
    RepairImport,
)
from app.repairs.service import receiving
from app.repairs.service._common import WRITE, changed, get_row

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
CHUNK = 1000
PREVIEW_ROWS = 20
MAX_ERRORS_KEPT = 500
JOB = "jobs.repairs_imports.apply"
STALE_QUEUED_MINUTES = 10  # an upload queued longer than this lost its job: the sweep queues it again

KINDS = ("batches", "assets", "parts")
KIND_WORDS = {"batches": "expected batches", "assets": "assets", "parts": "spare parts"}

# column → the header words a sheet may use for it (lower case, spaces for _ and -)
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "batches": {
        "client": ("client", "customer", "client name"),
        "client_reference": ("client reference", "reference", "po", "rma", "order"),
        "expected_count": ("expected count", "expected", "count", "quantity"),
        "expected_on": ("expected on", "expected date", "date", "due"),
        "notes": ("notes", "note", "comment"),
        "imei": ("imei",),
        "serial": ("serial", "serial number", "sn"),
        "model": ("model", "device", "device model"),
        "fault": ("fault", "problem", "issue"),
        "declared_value": ("declared value", "value"),
    },
    "assets": {
        "batch": ("batch", "batch number", "client reference", "reference"),
        "imei": ("imei",),
        "serial": ("serial", "serial number", "sn"),
        "model": ("model", "device", "device model"),
        "variant": ("variant",),
        "condition": ("condition", "grade"),
        "fault": ("fault", "problem", "issue"),
        "declared_value": ("declared value", "value"),
        "status": ("status",),
        "codes": ("codes", "repair codes", "code"),
    },
    "parts": {
        "sku": ("sku",),
        "name": ("name", "description", "part"),
        "manufacturer": ("manufacturer", "brand", "make"),
        "category": ("category", "type"),
        "compatible_models": ("compatible models", "compatible", "models", "fits"),
        "unit_cost": ("unit cost", "cost", "price"),
        "stock": ("stock", "on hand", "quantity", "qty"),
        "minimum_stock": ("minimum stock", "minimum", "min"),
        "location": ("location", "bin", "shelf"),
    },
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "batches": ("client", "client_reference"),
    "assets": ("batch",),
    "parts": ("sku", "name"),
}
IMPORTABLE_STATUSES = tuple(s for s in machine.ASSET_STATUSES if s != "on_hold")
CONDITIONS = ("", "A", "B", "C", "D")


# --- reading a sheet ---------------------------------------------------------------------------


def _header_key(kind: str, header: str) -> str:
    word = re.sub(r"[\s_\-]+", " ", (header or "").strip().lower())
    for column, words in COLUMNS[kind].items():
        if word == column.replace("_", " ") or word in words:
            return column
    return ""


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The sheet's rows as text cells (the first row is the header): CSV
    (comma, semicolon or tab; UTF-8, with or without BOM) or XLSX (the first sheet)."""
    name = (filename or "").lower()
    if len(data) > MAX_BYTES:
        raise ValidationFailed(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if not data:
        raise ValidationFailed("the file is empty")
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if not name.endswith((".csv", ".txt", ".tsv")):
        raise ValidationFailed("upload a .csv or .xlsx file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("the CSV file is not UTF-8 text: save it as 'CSV UTF-8' and upload it again") from None
    if "\x00" in text:
        raise ValidationFailed("the file is not a CSV text file")
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # a well-kept reader; imported only when a sheet comes

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ValidationFailed("the file is not a readable .xlsx workbook") from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell(v) for v in values]
            if any(c.strip() for c in cells):
                rows.append(cells)
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 15-digit IMEIs come out of spreadsheets as numbers
    return str(value).strip()


@dataclasses.dataclass
class Sheet:
    kind: str
    columns: list[str]  # the sheet's columns we know, in order ("" for one we ignore)
    rows: list[dict[str, str]]  # by column
    ignored: list[str]  # headers we do not know


def parse_sheet(kind: str, filename: str, data: bytes) -> Sheet:
    if kind not in KINDS:
        raise ValidationFailed(f"'{kind}' is not something to upload; choose {', '.join(KINDS)}")
    table = read_table(filename, data)
    if not table:
        raise ValidationFailed("the file has no rows")
    header = table[0]
    columns = [_header_key(kind, h) for h in header]
    missing = [c for c in REQUIRED[kind] if c not in columns]
    if kind == "assets" and "imei" not in columns and "serial" not in columns:
        missing.append("imei or serial")
    if missing:
        raise ValidationFailed(
            f"the first row must name the columns; missing: {', '.join(m.replace('_', ' ') for m in missing)}"
        )
    body = table[1:]
    if len(body) > MAX_ROWS:
        raise ValidationFailed(f"a file may hold at most {MAX_ROWS:,} rows; this one has {len(body):,}")
    rows = [{c: (row[i] if i < len(row) else "").strip() for i, c in enumerate(columns) if c} for row in body]
    return Sheet(kind, columns, rows, [h for h, c in zip(header, columns, strict=True) if not c and h.strip()])


# --- checking rows ---------------------------------------------------------------------------


@dataclasses.dataclass
class RowError:
    row: int  # the sheet's row number (the header is row 1)
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


def _int(raw: str, what: str, low: int = 0, high: int = 1_000_000) -> int | None:
    if raw == "":
        return None
    if not re.fullmatch(r"\d+", raw):
        raise ValueError(f"{what} must be a whole number")
    value = int(raw)
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low} and {high:,}")
    return value


def _amount(raw: str, what: str) -> Decimal | None:
    if raw == "":
        return None
    try:
        value = Decimal(raw.replace(",", ".")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"{what} '{raw}' is not an amount") from None
    if value < 0 or value >= Decimal("10000000000"):
        raise ValueError(f"{what} must be between 0 and 9,999,999,999.99")
    return value


def _day(raw: str) -> date | None:
    if raw == "":
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{raw}' is not a date (write 2026-12-01 or 01/12/2026)")


@dataclasses.dataclass
class Context:
    """What rows are checked against, read once per import."""

    clients: dict[str, uuid.UUID]  # lower-case name → id
    batches: dict[str, uuid.UUID]  # lower-case number or client reference → id
    models: dict[str, uuid.UUID]  # lower-case "manufacturer model" and "model" → id
    codes: dict[str, uuid.UUID]  # upper-case code → id (canonical and the shop's)


def context(session: Session) -> Context:
    clients = {c.name.lower(): c.id for c in session.exec(select(RepairClient))}
    batches: dict[str, uuid.UUID] = {}
    for b in session.exec(select(ExpectedBatch)):
        batches.setdefault(b.client_reference.lower(), b.id)
        batches[b.number.lower()] = b.id
    models: dict[str, uuid.UUID] = {}
    for m in session.exec(select(DeviceModel)):
        models.setdefault(m.model.lower(), m.id)
        models[f"{m.manufacturer} {m.model}".lower()] = m.id
    codes = {c.code.upper(): c.id for c in session.exec(select(RepairCode).where(col(RepairCode.active)))}
    return Context(clients, batches, models, codes)


def _check_row(kind: str, row: dict[str, str], ctx: Context) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A row's values in their types, and its problems as (field, message)."""
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []

    def take(name: str, fn: Callable[[], Any]) -> None:
        try:
            out[name] = fn()
        except (ValueError, ValidationFailed) as exc:
            problems.append((name, str(getattr(exc, "message", exc))))

    if kind == "batches":
        client = row.get("client", "")
        if not client:
            problems.append(("client", "the client is missing"))
        elif client.lower() not in ctx.clients:
            problems.append(("client", f"there is no client called '{client}': add it under Clients first"))
        else:
            out["client_id"] = ctx.clients[client.lower()]
        out["client_reference"] = row.get("client_reference", "")[:100]
        if not out["client_reference"]:
            problems.append(("client_reference", "the client's reference is missing"))
        take("expected_count", lambda: _int(row.get("expected_count", ""), "the expected count", 0, 100_000))
        take("expected_on", lambda: _day(row.get("expected_on", "")))
        out["notes"] = row.get("notes", "")[:2000]
        take("imei", lambda: receiving.clean_imei(row.get("imei", "")))
        take("serial", lambda: receiving.clean_serial(row.get("serial", "")))
        out["model"] = row.get("model", "")[:200]
        out["fault"] = row.get("fault", "")[:500]
        take("declared_value", lambda: _amount(row.get("declared_value", ""), "the declared value"))
    elif kind == "assets":
        ref = row.get("batch", "")
        if not ref:
            problems.append(("batch", "the batch is missing"))
        elif ref.lower() not in ctx.batches:
            problems.append(("batch", f"there is no batch '{ref}' (its number or the client's reference)"))
        else:
            out["batch_id"] = ctx.batches[ref.lower()]
        take("imei", lambda: receiving.clean_imei(row.get("imei", "")))
        take("serial", lambda: receiving.clean_serial(row.get("serial", "")))
        if not problems and not out.get("imei") and not out.get("serial"):
            problems.append(("imei", "a device needs an IMEI or a serial number"))
        model = row.get("model", "")
        out["device_model_id"] = None
        if model:
            if model.lower() not in ctx.models:
                problems.append(("model", f"there is no device model '{model}': add it under Device models first"))
            else:
                out["device_model_id"] = ctx.models[model.lower()]
        out["variant"] = row.get("variant", "")[:100]
        condition = row.get("condition", "").upper()
        if condition not in CONDITIONS:
            problems.append(("condition", "the condition is a grade A, B, C or D"))
        out["condition"] = condition
        out["fault"] = row.get("fault", "")[:500]
        take("declared_value", lambda: _amount(row.get("declared_value", ""), "the declared value"))
        status = (row.get("status", "") or "received").strip().lower().replace(" ", "_")
        if status not in IMPORTABLE_STATUSES:
            problems.append(("status", f"'{row.get('status')}' is not an asset status"))
        out["status"] = status
        codes = [c.strip().upper() for c in re.split(r"[;,|]", row.get("codes", "")) if c.strip()]
        out["codes"] = [(c, ctx.codes.get(c)) for c in dict.fromkeys(codes)]
    else:  # parts
        out["sku"] = row.get("sku", "")
        out["name"] = row.get("name", "")
        if not out["sku"]:
            problems.append(("sku", "the SKU is missing"))
        if not out["name"]:
            problems.append(("name", "the name is missing"))
        out["manufacturer"] = row.get("manufacturer", "")
        out["category"] = row.get("category", "") or "other"
        out["compatible_models"] = [m.strip() for m in re.split(r"[;|]", row.get("compatible_models", "")) if m.strip()]
        take("unit_cost", lambda: _amount(row.get("unit_cost", ""), "the unit cost"))
        take("stock", lambda: _int(row.get("stock", ""), "the stock", 0, 1_000_000))
        take("minimum_stock", lambda: _int(row.get("minimum_stock", ""), "the minimum stock", 0, 1_000_000))
        out["location"] = row.get("location", "")
        if not problems:
            errors = inventory.spare_part_errors(_part_data(out))
            problems.extend(errors.items())
    return out, problems


def _part_data(v: dict[str, Any]) -> inventory.SparePartData:
    return inventory.SparePartData(
        sku=v["sku"],
        name=v["name"],
        manufacturer=v.get("manufacturer", ""),
        category=v.get("category", "other"),
        compatible_models=v.get("compatible_models", []),
        unit_cost=v.get("unit_cost") or Decimal("0.00"),
        minimum_stock=v.get("minimum_stock") or 0,
        location=v.get("location", ""),
        stock=v.get("stock"),
    )


@dataclasses.dataclass
class Checked:
    values: list[tuple[int, dict[str, Any]]]  # (sheet row number, values) of the rows without problems
    errors: list[RowError]
    total: int


def check(session: Session, sheet: Sheet) -> Checked:
    ctx = context(session)
    values: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    for n, row in enumerate(sheet.rows, start=2):
        out, problems = _check_row(sheet.kind, row, ctx)
        key = _natural_key(sheet.kind, out) if not problems else None
        if key is not None and key in seen:
            problems.append(("", f"repeats row {seen[key]} (the same {_key_words(sheet.kind)})"))
        if problems:
            errors.extend(RowError(n, f, m) for f, m in problems)
            continue
        if key is not None:
            seen[key] = n
        values.append((n, out))
    return Checked(values, errors, len(sheet.rows))


def _natural_key(kind: str, v: dict[str, Any]) -> tuple | None:
    if kind == "parts":
        return (v["sku"].upper(),)
    if kind == "assets":
        return (v["batch_id"], v["imei"] or f"s:{v['serial']}")
    if v.get("imei") or v.get("serial"):
        return (v["client_id"], v["client_reference"].lower(), v.get("imei") or f"s:{v['serial']}")
    return None  # a batch row without a device: several may repeat the batch


def _key_words(kind: str) -> str:
    return {"parts": "SKU", "assets": "device in the same batch", "batches": "device in the same batch"}[kind]


# --- preview and apply -------------------------------------------------------------------------


@dataclasses.dataclass
class Preview:
    upload: RepairImport
    columns: list[str]
    ignored: list[str]
    sample: list[dict[str, str]]
    errors: list[RowError]
    duplicate: bool = False  # the same file was uploaded before: this is that upload


def _hash(kind: str, data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def preview(session: Session, kind: str, filename: str, data: bytes, *, actor: Principal) -> Preview:
    """Read and check the file; keep it and its findings as an import to apply.
    The same file (its hash) again is the upload made before."""
    actor.require(WRITE)
    if kind == "parts":
        actor.require("inventory.write")
    sheet = parse_sheet(kind, filename, data)
    digest = _hash(kind, data)
    existing = session.exec(
        select(RepairImport).where(RepairImport.kind == kind, RepairImport.file_hash == digest)
    ).first()
    checked = check(session, sheet)
    if existing is not None:
        return Preview(
            existing, [c for c in sheet.columns if c], sheet.ignored, sheet.rows[:PREVIEW_ROWS], checked.errors, True
        )
    tenant_id = session_tenant_id(session)
    upload = RepairImport(
        tenant_id=tenant_id,
        kind=kind,
        file_hash=digest,
        filename=(filename or "upload")[:255],
        storage_key="",
        total_rows=checked.total,
        error_rows=len({e.row for e in checked.errors}),
        errors=[e.as_dict() for e in checked.errors[:MAX_ERRORS_KEPT]],
        created_by_id=actor.user_id,
    )
    upload.storage_key = f"repairs/imports/{upload.id}/{_safe_name(filename)}"
    storage.for_tenant(tenant_id).put(upload.storage_key, data)
    session.add(upload)
    session.flush()
    changed(session, upload=str(upload.id))
    return Preview(upload, [c for c in sheet.columns if c], sheet.ignored, sheet.rows[:PREVIEW_ROWS], checked.errors)


def _safe_name(filename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", (filename or "upload").rsplit("/", 1)[-1])[:100]
    return name or "upload"


def get_import(session: Session, import_id: uuid.UUID | str, *, lock: bool = False) -> RepairImport:
    return get_row(session, RepairImport, import_id, "upload", lock=lock)


def start(session: Session, import_id: uuid.UUID | str, *, actor: Principal) -> RepairImport:
    """Apply a previewed upload in the background (once: a started or finished one is left as it is)."""
    actor.require(WRITE)
    upload = get_import(session, import_id, lock=True)
    if upload.kind == "parts":
        actor.require("inventory.write")
    if upload.status in ("queued", "running", "done"):
        return upload
    if upload.status == "failed" and upload.processed_rows >= upload.total_rows:
        raise Conflict("this upload has been applied; upload the file again to apply it again")
    if upload.total_rows - upload.error_rows <= 0:
        raise Conflict("no row of this file can be applied: mend the rows listed and upload it again")
    upload.status, upload.error, upload.queued_at, upload.runner_job_id = "queued", "", utcnow(), ""
    session.add(upload)
    _enqueue_after_commit(session, upload)
    changed(session, upload=str(upload.id))
    return upload


def _enqueue_after_commit(session: Session, upload: RepairImport) -> None:
    tenant_id, upload_id = session_tenant_id(session), str(upload.id)
    on_commit(
        session,
        lambda: tasks.enqueue(
            JOB, str(tenant_id), upload_id, queue_name="default", shop=tenant_id, job_timeout=3600,
            description=f"repairs bulk upload {upload_id}",
        ),
        key=f"import:{upload_id}",
    )  # fmt: skip


def requeue_stale(session: Session) -> int:
    """The sweep (per shop): an upload queued for longer than a few minutes
    lost its job (the queue was away when it was started): queue it again.
    Should the first job only have been waiting its turn, the job that claims
    the upload first applies it and the other leaves it alone. Returns how many."""
    cutoff = utcnow() - timedelta(minutes=STALE_QUEUED_MINUTES)
    stale = session.exec(
        select(RepairImport)
        .where(RepairImport.status == "queued", col(RepairImport.queued_at) < cutoff)
        .order_by(col(RepairImport.queued_at))
        .limit(100)
        .with_for_update(skip_locked=True)
    ).all()
    for upload in stale:
        upload.queued_at = utcnow()
        session.add(upload)
        _enqueue_after_commit(session, upload)
    return len(stale)


def list_imports(session: Session, *, limit: int = 20) -> list[RepairImport]:
    return list(session.exec(select(RepairImport).order_by(col(RepairImport.created_at).desc()).limit(limit)))


# --- the job -------------------------------------------------------------------------------------


def _chunks(values: list[tuple[int, dict[str, Any]]], size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def apply(
    tenant_id: uuid.UUID | str, import_id: uuid.UUID | str, *, actor: Principal | None = None, job_id: str = ""
) -> RepairImport:
    """The job's body: check the stored file again (the shop's data may have
    moved since the preview) and apply its good rows chunk by chunk, each chunk
    one transaction, counting progress as it goes. The job (`job_id`, "" when
    run inline) claims the upload first: a queued one (or a preview applied
    inline), or one it was already applying (its own retry after its worker
    died). Anything else (done, failed, or another job's) is left as it is."""
    with tenant_session(tenant_id) as s:
        upload = get_import(s, import_id, lock=True)
        claimed = upload.status in ("previewed", "queued") or (
            upload.status == "running" and upload.runner_job_id in ("", job_id)
        )
        if not claimed:
            return upload
        upload.status, upload.started_at = "running", upload.started_at or utcnow()
        upload.runner_job_id = job_id
        s.add(upload)
        changed(s, upload=str(upload.id))
        s.commit()
        kind, key = upload.kind, upload.storage_key
        data = storage.for_tenant(tenant_id).get(key).data
        sheet = parse_sheet(kind, upload.filename, data)
        checked = check(s, sheet)
        by = actor or _system_actor(s, upload)
    created = updated = done = 0
    for chunk in _chunks(checked.values, CHUNK):
        with tenant_session(tenant_id) as s:
            c, u = APPLY[kind](s, [v for _, v in chunk], by)
            created, updated, done = created + c, updated + u, done + len(chunk)
            s.execute(
                update(RepairImport)
                .where(col(RepairImport.id) == uuid.UUID(str(import_id)))
                .values(
                    processed_rows=done + len({e.row for e in checked.errors}),
                    created_rows=created,
                    updated_rows=updated,
                )
            )
            changed(s, upload=str(import_id))
            s.commit()
    with tenant_session(tenant_id) as s:
        upload = get_import(s, import_id, lock=True)
        upload.status, upload.finished_at = "done", utcnow()
        upload.processed_rows = upload.total_rows
        upload.error_rows = len({e.row for e in checked.errors})
        upload.errors = [e.as_dict() for e in checked.errors[:MAX_ERRORS_KEPT]]
        s.add(upload)
        changed(s, upload=str(upload.id))
        s.commit()
        s.refresh(upload)
        return upload


def apply_failed(tenant_id: uuid.UUID | str, import_id: uuid.UUID | str, reason: str) -> None:
    """The job failed for good (or its worker died and it will not run again):
    the upload says so, with the reason, and can be started again."""
    with tenant_session(tenant_id) as s:
        try:
            upload = get_import(s, import_id, lock=True)
        except NotFound:
            return
        if upload.status == "done":
            return
        upload.status, upload.error, upload.finished_at = "failed", reason[:1000], utcnow()
        s.add(upload)
        changed(s, upload=str(upload.id))
        s.commit()


def _system_actor(session: Session, upload: RepairImport) -> Principal:
    """The job carries out what the person who started the upload was allowed
    to start (checked then), and what it writes names them."""
    return auth.job_principal(
        session_tenant_id(session), "bulk upload", {WRITE, "inventory.write"}, user_id=upload.created_by_id
    )


def _apply_batches(session: Session, rows: list[dict[str, Any]], actor: Principal) -> tuple[int, int]:
    actor.require(WRITE)
    groups: dict[tuple[uuid.UUID, str], list[dict[str, Any]]] = {}
    for v in rows:
        groups.setdefault((v["client_id"], v["client_reference"]), []).append(v)
    created = updated = 0
    tenant_id = session_tenant_id(session)
    for (client_id, reference), items in groups.items():
        batch = session.exec(
            select(ExpectedBatch)
            .where(ExpectedBatch.client_id == client_id, ExpectedBatch.client_reference == reference)
            .with_for_update()
        ).first()
        devices = [v for v in items if v.get("imei") or v.get("serial")]
        head = next((v for v in items if v.get("expected_count") is not None), items[0])
        if batch is None:
            receiving.create_batch(
                session,
                receiving.BatchData(
                    client_id=client_id,
                    client_reference=reference,
                    expected_count=head.get("expected_count"),
                    expected_on=head.get("expected_on"),
                    notes=head.get("notes", ""),
                    lines=[
                        receiving.ManifestLine(
                            imei=v["imei"], serial=v["serial"], model=v["model"], fault=v["fault"],
                            declared_value=v["declared_value"],
                        )
                        for v in devices
                    ],
                ),
                actor=actor,
            )  # fmt: skip
            created += 1
            continue
        known = {
            (d.imei or f"s:{d.serial}"): d
            for d in session.exec(select(ExpectedDevice).where(ExpectedDevice.batch_id == batch.id))
        }
        for v in devices:
            line = known.get(v["imei"] or f"s:{v['serial']}")
            if line is None:
                line = ExpectedDevice(tenant_id=tenant_id, batch_id=batch.id, imei=v["imei"], serial=v["serial"])
                known[v["imei"] or f"s:{v['serial']}"] = line
            line.description, line.fault = v["model"] or line.description, v["fault"] or line.fault
            if v["declared_value"] is not None:
                line.declared_value = v["declared_value"]
            session.add(line)
        if head.get("expected_count") is not None:
            batch.expected_count = head["expected_count"]
        batch.expected_count = max(batch.expected_count, len(known))
        if head.get("expected_on"):
            batch.expected_on = head["expected_on"]
        if head.get("notes"):
            batch.notes = head["notes"]
        batch.updated_at = utcnow()
        session.add(batch)
        updated += 1
    session.flush()
    changed(session, batches=True)
    return created, updated


def _apply_assets(session: Session, rows: list[dict[str, Any]], actor: Principal) -> tuple[int, int]:
    """Assets upserted set-wise (a legacy system's devices): new ones numbered
    from the shop's "asset" sequence with their first history row; known ones
    (same IMEI or serial in the batch) updated. Their codes become `migrated`
    repair codes (a code the catalogue does not know waits in the unmapped queue)."""
    actor.require(WRITE)
    tenant_id = session_tenant_id(session)
    batch_ids = {v["batch_id"] for v in rows}
    clients = dict(
        session.exec(
            select(ExpectedBatch.id, ExpectedBatch.client_id).where(col(ExpectedBatch.id).in_(batch_ids))
        ).all()
    )
    existing: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    for a_id, b_id, imei, serial in session.exec(
        select(RepairAsset.id, RepairAsset.batch_id, RepairAsset.imei, RepairAsset.serial).where(
            col(RepairAsset.batch_id).in_(batch_ids)
        )
    ).all():
        existing[(b_id, imei or f"s:{serial}")] = a_id
    now = utcnow()
    new_rows, changes, history, codes = [], [], [], []
    fresh = [v for v in rows if (v["batch_id"], v["imei"] or f"s:{v['serial']}") not in existing]
    fresh_keys = {(v["batch_id"], v["imei"] or f"s:{v['serial']}") for v in fresh}
    numbers = numbering.reserve_block(session, "asset", len(fresh)) if fresh else []
    for v, number in zip(fresh, numbers, strict=True):
        asset_id = uuid.uuid4()
        existing[(v["batch_id"], v["imei"] or f"s:{v['serial']}")] = asset_id
        new_rows.append(
            {
                "id": asset_id, "tenant_id": tenant_id, "number": number, "batch_id": v["batch_id"],
                "client_id": clients[v["batch_id"]], "device_model_id": v["device_model_id"], "imei": v["imei"],
                "serial": v["serial"], "variant": v["variant"], "condition": v["condition"], "fault": v["fault"],
                "declared_value": v["declared_value"], "status": v["status"], "accessories": [],
                "received_by_id": actor.user_id, "received_at": now, "status_changed_at": now, "updated_at": now,
                "condition_notes": "", "not_on_batch": False, "held_from": "", "hold_reason": "",
                "triage_result": "", "triage_notes": "",
            }
        )  # fmt: skip
        history.append(
            {
                "id": uuid.uuid4(), "tenant_id": tenant_id, "asset_id": asset_id, "from_status": "",
                "to_status": v["status"], "reason": "bulk upload", "actor_user_id": actor.user_id, "changed_at": now,
            }
        )  # fmt: skip
    for v in rows:
        if (v["batch_id"], v["imei"] or f"s:{v['serial']}") in fresh_keys:
            continue
        changes.append(
            {
                "b_id": existing[(v["batch_id"], v["imei"] or f"s:{v['serial']}")],
                "device_model_id": v["device_model_id"], "variant": v["variant"], "condition": v["condition"],
                "fault": v["fault"], "declared_value": v["declared_value"], "updated_at": now,
            }
        )  # fmt: skip
    if new_rows:
        session.execute(insert(RepairAsset), new_rows)
        session.execute(insert(AssetStatusChange), history)
    if changes:
        session.connection().execute(
            update(RepairAsset.__table__)  # type: ignore[arg-type]
            .where(RepairAsset.__table__.c.id == bindparam("b_id"))  # type: ignore[attr-defined]
            .values(
                device_model_id=bindparam("device_model_id"), variant=bindparam("variant"),
                condition=bindparam("condition"), fault=bindparam("fault"),
                declared_value=bindparam("declared_value"), updated_at=bindparam("updated_at"),
            ),
            changes,
        )  # fmt: skip
    for v in rows:
        asset_id = existing[(v["batch_id"], v["imei"] or f"s:{v['serial']}")]
        for code, code_id in v["codes"]:
            codes.append(
                {
                    "id": uuid.uuid4(), "tenant_id": tenant_id, "asset_id": asset_id, "repair_code_id": code_id,
                    "drfone_code": "" if code_id else code, "drfone_message": "", "source": "migrated",
                    "done": False, "created_by_id": actor.user_id, "created_at": now,
                    "mapped_at": now if code_id else None,
                }
            )  # fmt: skip
    if codes:
        # a code already migrated onto the asset is not added twice
        known = {
            (a, c or d)
            for a, c, d in session.exec(
                select(DeviceRepairCode.asset_id, DeviceRepairCode.repair_code_id, DeviceRepairCode.drfone_code).where(
                    DeviceRepairCode.source == "migrated",
                    col(DeviceRepairCode.asset_id).in_({c["asset_id"] for c in codes}),
                )
            ).all()
        }
        codes = [c for c in codes if (c["asset_id"], c["repair_code_id"] or c["drfone_code"]) not in known]
        if codes:
            session.execute(insert(DeviceRepairCode), codes)
    changed(session, assets=True)
    return len(new_rows), len(changes)


def _apply_parts(session: Session, rows: list[dict[str, Any]], actor: Principal) -> tuple[int, int]:
    created = updated = 0
    for v in rows:
        _, was_created = inventory.upsert_spare_part_by_sku(session, _part_data(v), actor=actor)
        created, updated = created + was_created, updated + (not was_created)
    return created, updated


APPLY: dict[str, Callable[[Session, list[dict[str, Any]], Principal], tuple[int, int]]] = {
    "batches": _apply_batches,
    "assets": _apply_assets,
    "parts": _apply_parts,
}


# column headers of each kind's template, with an example row
TEMPLATES: dict[str, tuple[list[str], list[str]]] = {
    "batches": (
        ["client", "client reference", "expected count", "expected on", "notes", "imei", "serial", "model", "fault",
         "declared value"],
        ["Northwind Insurance", "RMA-2026-118", "2", "2026-12-03", "Claims batch", "356938035643809", "", "iPhone 12",
         "Cracked screen", "320.00"],
    ),
    "assets": (
        ["batch", "imei", "serial", "model", "variant", "condition", "fault", "declared value", "status", "codes"],
        ["RMA-2026-118", "356938035643809", "", "iPhone 12", "128 GB Blue", "B", "Cracked screen", "320.00",
         "received", "SCR-REPL; BAT-REPL"],
    ),
    "parts": (
        ["sku", "name", "manufacturer", "category", "compatible models", "unit cost", "stock", "minimum stock",
         "location"],
        ["SCR-IP12-OLED", "iPhone 12 OLED screen assembly", "Apple", "screen", "iPhone 12; iPhone 12 Pro", "89.50",
         "12", "4", "A-03"],
    ),
}  # fmt: skip


def template(kind: str) -> str:
    """An example sheet (CSV) with the columns an upload of `kind` reads."""
    if kind not in TEMPLATES:
        raise ValidationFailed(f"'{kind}' is not something to upload; choose {', '.join(KINDS)}")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(TEMPLATES[kind])
    return out.getvalue()
