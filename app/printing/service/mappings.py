"""Product mappings (SKU → assembly parts with files and print profiles) and
the parts' files, uploaded to SimplyPrint when connected."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.integrations import simplyprint as sp
from app.platform import storage
from app.platform.auth import Principal
from app.platform.db import get_or_404, session_tenant_id
from app.platform.errors import Conflict, ValidationFailed
from app.platform.models import utcnow
from app.platform.text import like_pattern
from app.printing import gcode, machine
from app.printing.models import AssemblyPart, PrintJob, ProductMapping
from app.printing.service._common import _log
from app.printing.service.connection import client
from app.printing.service.triggers import submit_after_commit

PROFILE_KEYS = (
    "layer_height",
    "infill",
    "supports",
    "material",
    "nozzle",
    "perimeters",
    "brim",
    "color",
    "printer_model",
    "notes",
)


def _clean_profile(profile: dict | None) -> dict:
    if profile is None:
        return {}
    if not isinstance(profile, dict):
        raise ValidationFailed("a print profile is a set of named settings (JSON object)")
    out = {}
    for k, v in profile.items():
        key = str(k).strip()
        if not key:
            continue
        if len(key) > 60:
            raise ValidationFailed(f"print profile setting '{key[:20]}…' has too long a name")
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if not isinstance(v, (str, int, float, bool)):
            raise ValidationFailed(f"print profile setting '{key}' must be text, a number or yes/no")
        out[key] = v.strip() if isinstance(v, str) else v
    if len(json.dumps(out)) > 8000:
        raise ValidationFailed("the print profile is too large")
    return out


def effective_profile(mapping: ProductMapping, part: AssemblyPart) -> dict:
    """The mapping's default print profile with the part's overrides."""
    return {**(mapping.default_print_profile or {}), **(part.print_profile or {})}


# --- product mappings ------------------------------------------------------------------------


def list_mappings(session: Session, search: str = "") -> list[ProductMapping]:
    q = select(ProductMapping).order_by(ProductMapping.sku)
    if search.strip():
        like = like_pattern(search.strip())
        q = q.where(
            or_(
                col(ProductMapping.sku).ilike(like),
                col(ProductMapping.name).ilike(like),
                col(ProductMapping.variant_title).ilike(like),
            )
        )
    return list(session.exec(q))


def get_mapping(session: Session, mapping_id: uuid.UUID | str) -> ProductMapping:
    return get_or_404(session, ProductMapping, mapping_id, "product mapping")


def mapping_for_sku(session: Session, sku: str) -> ProductMapping | None:
    sku = (sku or "").strip()
    if not sku:
        return None
    return session.exec(select(ProductMapping).where(func.lower(ProductMapping.sku) == sku.lower())).first()


def part_counts(session: Session) -> dict[uuid.UUID, int]:
    """Assembly parts per mapping (for lists)."""
    return dict(
        session.exec(
            select(AssemblyPart.product_mapping_id, func.count()).group_by(col(AssemblyPart.product_mapping_id))
        ).all()
    )


# One packed unit goes in one parcel: a parcel's limits with Sendcloud's carriers.
MAX_PACKED_GRAMS = 70_000
MAX_PACKED_CM = 300
PACKING_FIELDS = ("weight_grams", "length_cm", "width_cm", "height_cm")
_SIDES = {"length_cm": "length", "width_cm": "width", "height_cm": "height"}


def _check_whole(value: int | None, high: int, what: str, unit: str) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise ValidationFailed(f"{what} must be a whole number of {unit} from 1 to {high}")


def _check_packing(
    weight_grams: int | None, length_cm: int | None, width_cm: int | None, height_cm: int | None
) -> None:
    """One packed unit's weight and box, which its shipping label uses (empty:
    the label weighs the printed parts' filament, or takes the shop's default).
    The box's three sides come together or not at all: a carrier refuses a
    parcel with one side missing."""
    _check_whole(weight_grams, MAX_PACKED_GRAMS, "the packed weight", "grams")
    sides = {"length_cm": length_cm, "width_cm": width_cm, "height_cm": height_cm}
    for key, value in sides.items():
        _check_whole(value, MAX_PACKED_CM, f"the packed {_SIDES[key]}", "cm")
    missing = [_SIDES[key] for key, value in sides.items() if value is None]
    if 0 < len(missing) < len(sides):
        names = " and ".join(missing)
        raise ValidationFailed(
            f"the packed {names} {'is' if len(missing) == 1 else 'are'} missing: "
            "give the length, width and height together, or none of them"
        )


def _check_mapping_fields(sku: str, name: str) -> None:
    if not sku.strip():
        raise ValidationFailed("a product mapping needs the SKU")
    if len(sku.strip()) > 100:
        raise ValidationFailed("the SKU has at most 100 characters")
    if not name.strip():
        raise ValidationFailed("give the product a name")


def create_mapping(
    session: Session,
    *,
    sku: str,
    name: str,
    variant_title: str = "",
    description: str = "",
    default_print_profile: dict | None = None,
    weight_grams: int | None = None,
    length_cm: int | None = None,
    width_cm: int | None = None,
    height_cm: int | None = None,
    actor: Principal,
) -> ProductMapping:
    """A new mapping. `weight_grams` and the three sizes (cm) describe one packed
    unit for its shipping label; None leaves them to the printed parts' weight."""
    actor.require("printJobs.write")
    _check_mapping_fields(sku, name)
    _check_packing(weight_grams, length_cm, width_cm, height_cm)
    if mapping_for_sku(session, sku) is not None:
        raise Conflict(f"SKU {sku.strip()} already has a product mapping")
    mapping = ProductMapping(
        tenant_id=session_tenant_id(session),
        sku=sku.strip(),
        name=name.strip()[:200],
        variant_title=variant_title.strip()[:200],
        description=description.strip()[:2000],
        default_print_profile=_clean_profile(default_print_profile),
        weight_grams=weight_grams,
        length_cm=length_cm,
        width_cm=width_cm,
        height_cm=height_cm,
    )
    session.add(mapping)
    try:
        session.flush()
    except Exception as exc:  # a concurrent create of the same SKU
        raise Conflict(f"SKU {sku.strip()} already has a product mapping") from exc
    _log(session, None, "product-mapping.created", f"Product mapping {mapping.sku} created", actor=actor)
    return mapping


def update_mapping(session: Session, mapping_id: uuid.UUID | str, *, actor: Principal, **fields) -> ProductMapping:
    """Change sku, name, variant_title, description, default_print_profile, active,
    weight_grams, length_cm, width_cm or height_cm (None empties a packing field;
    the sizes are checked as they will stand, so one side alone can change)."""
    actor.require("printJobs.write")
    mapping = get_mapping(session, mapping_id)
    allowed = {"sku", "name", "variant_title", "description", "default_print_profile", "active", *PACKING_FIELDS}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(f"unknown field(s): {', '.join(sorted(unknown))}")
    if "sku" in fields:
        other = mapping_for_sku(session, fields["sku"] or "")
        if other is not None and other.id != mapping.id:
            raise Conflict(f"SKU {fields['sku'].strip()} already has a product mapping")
    _check_mapping_fields(fields.get("sku", mapping.sku) or "", fields.get("name", mapping.name) or "")
    _check_packing(*(fields.get(key, getattr(mapping, key)) for key in PACKING_FIELDS))
    for key, value in fields.items():
        if key == "default_print_profile":
            value = _clean_profile(value)
        elif key == "active":
            value = bool(value)
        elif key not in PACKING_FIELDS:  # text; the packing figures were checked above
            value = (value or "").strip()
        setattr(mapping, key, value)
    mapping.updated_at = utcnow()
    session.add(mapping)
    _log(
        session,
        None,
        "product-mapping.updated",
        f"Product mapping {mapping.sku} updated",
        actor=actor,
        meta={"fields": sorted(fields)},
    )
    return mapping


def delete_mapping(session: Session, mapping_id: uuid.UUID | str, *, actor: Principal) -> None:
    """Delete a mapping and its parts. Refused while active jobs print it; old
    jobs keep their SKU and part name."""
    actor.require("printJobs.write")
    mapping = get_mapping(session, mapping_id)
    active = session.exec(
        select(func.count())
        .select_from(PrintJob)
        .where(PrintJob.product_mapping_id == mapping.id, col(PrintJob.status).in_(machine.ACTIVE))
    ).one()
    if active:
        raise Conflict(f"{mapping.sku} still has {active} active print job(s); cancel or finish them first")
    _log(session, None, "product-mapping.deleted", f"Product mapping {mapping.sku} deleted", actor=actor)
    session.delete(mapping)
    session.flush()


# --- assembly parts --------------------------------------------------------------------------


def parts(session: Session, mapping_id: uuid.UUID | str) -> list[AssemblyPart]:
    mapping = get_mapping(session, mapping_id)
    return list(
        session.exec(
            select(AssemblyPart)
            .where(AssemblyPart.product_mapping_id == mapping.id)
            .order_by(col(AssemblyPart.position), col(AssemblyPart.created_at))
        )
    )


def get_part(session: Session, part_id: uuid.UUID | str) -> AssemblyPart:
    return get_or_404(session, AssemblyPart, part_id, "assembly part")


def _check_part(
    part_name: str, quantity_per_product: int, estimated_minutes: int | None, estimated_filament_g: float | None
) -> None:
    if not (part_name or "").strip():
        raise ValidationFailed("give the part a name")
    if not isinstance(quantity_per_product, int) or not 1 <= quantity_per_product <= 1000:
        raise ValidationFailed("quantity per product is a whole number from 1 to 1000")
    if estimated_minutes is not None and not 0 <= estimated_minutes <= 100000:
        raise ValidationFailed("estimated minutes must be between 0 and 100000")
    if estimated_filament_g is not None and not 0 <= estimated_filament_g <= 100000:
        raise ValidationFailed("estimated filament must be between 0 and 100000 g")


def add_part(
    session: Session,
    mapping_id: uuid.UUID | str,
    *,
    part_name: str,
    part_number: str = "",
    quantity_per_product: int = 1,
    estimated_minutes: int | None = None,
    estimated_filament_g: float | None = None,
    print_profile: dict | None = None,
    simplyprint_file_id: str = "",
    actor: Principal,
) -> AssemblyPart:
    actor.require("printJobs.write")
    mapping = get_mapping(session, mapping_id)
    _check_part(part_name, quantity_per_product, estimated_minutes, estimated_filament_g)
    position = session.exec(
        select(func.coalesce(func.max(AssemblyPart.position) + 1, 0)).where(
            AssemblyPart.product_mapping_id == mapping.id
        )
    ).one()
    part = AssemblyPart(
        tenant_id=session_tenant_id(session),
        product_mapping_id=mapping.id,
        part_name=part_name.strip()[:200],
        part_number=part_number.strip()[:100],
        quantity_per_product=quantity_per_product,
        estimated_minutes=estimated_minutes,
        estimated_filament_g=estimated_filament_g,
        print_profile=_clean_profile(print_profile),
        simplyprint_file_id=simplyprint_file_id.strip()[:100],
        position=position,
    )
    session.add(part)
    mapping.updated_at = utcnow()
    session.add(mapping)
    session.flush()
    _log(session, None, "assembly-part.created", f"Part {part.part_name} added to {mapping.sku}", actor=actor)
    return part


def attach_stored_file(
    session: Session, part: AssemblyPart, *, file_key: str, filename: str, size: int, uploaded_at=None
) -> AssemblyPart:
    """A file the shop already keeps in its storage (another domain made it)
    becomes the part's file; the submission uploads it to SimplyPrint when
    the part has no file id yet (`uploaded_at`: when the id it has was got)."""
    problem = gcode.check_filename(filename)
    if problem:
        raise ValidationFailed(problem)
    part.file_key, part.filename, part.file_size = file_key[:500], filename[:255], size
    part.file_uploaded_at = uploaded_at if part.simplyprint_file_id else None
    session.add(part)
    return part


def update_part(session: Session, part_id: uuid.UUID | str, *, actor: Principal, **fields) -> AssemblyPart:
    """Change part_name, part_number, quantity_per_product, estimated_minutes,
    estimated_filament_g, print_profile, simplyprint_file_id or position."""
    actor.require("printJobs.write")
    part = get_part(session, part_id)
    allowed = {
        "part_name",
        "part_number",
        "quantity_per_product",
        "estimated_minutes",
        "estimated_filament_g",
        "print_profile",
        "simplyprint_file_id",
        "position",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(f"unknown field(s): {', '.join(sorted(unknown))}")
    _check_part(
        fields.get("part_name", part.part_name),
        fields.get("quantity_per_product", part.quantity_per_product),
        fields.get("estimated_minutes", part.estimated_minutes),
        fields.get("estimated_filament_g", part.estimated_filament_g),
    )
    for key, value in fields.items():
        if key == "print_profile":
            value = _clean_profile(value)
        elif key in ("part_name", "part_number", "simplyprint_file_id"):
            value = (value or "").strip()
        setattr(part, key, value)
    part.updated_at = utcnow()
    session.add(part)
    _log(
        session,
        None,
        "assembly-part.updated",
        f"Part {part.part_name} updated",
        actor=actor,
        meta={"fields": sorted(fields)},
    )
    return part


def delete_part(session: Session, part_id: uuid.UUID | str, *, actor: Principal) -> None:
    actor.require("printJobs.write")
    part = get_part(session, part_id)
    active = session.exec(
        select(func.count())
        .select_from(PrintJob)
        .where(PrintJob.assembly_part_id == part.id, col(PrintJob.status).in_(machine.ACTIVE))
    ).one()
    if active:
        raise Conflict(f"part {part.part_name} still has {active} active print job(s)")
    _log(session, None, "assembly-part.deleted", f"Part {part.part_name} deleted", actor=actor)
    session.delete(part)
    session.flush()


def upload_part_file(
    session: Session, part_id: uuid.UUID | str, filename: str, data: bytes, *, actor: Principal
) -> AssemblyPart:
    """Store a part's G-code/STL/3MF, upload it to SimplyPrint when connected
    (the API file id is kept) and read the slicer's estimates from G-code."""
    actor.require("printJobs.write")
    part = get_part(session, part_id)
    filename = (filename or "").strip().rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    problem = gcode.check_filename(filename)
    if problem:
        raise ValidationFailed(problem)
    if not data:
        raise ValidationFailed("the file is empty")
    if len(data) > gcode.MAX_FILE_BYTES:
        raise ValidationFailed("the file is larger than 100 MB")
    tid = session_tenant_id(session)
    key = f"printing/parts/{part.id}/{uuid.uuid4().hex[:8]}-{filename}"
    storage.for_tenant(tid).put(key, data, "application/octet-stream")
    part.file_key, part.filename, part.file_size = key, filename[:255], len(data)
    part.simplyprint_file_id, part.file_uploaded_at = "", None
    if gcode.extension(filename) in gcode.GCODE_EXTENSIONS:
        est = gcode.estimates(data)
        if est.minutes is not None:
            part.estimated_minutes = est.minutes
        if est.filament_g is not None:
            part.estimated_filament_g = est.filament_g
    c = client(session)
    if c is not None:
        try:
            uploaded = c.upload_file(filename, data)
        except sp.SimplyPrintError as exc:
            raise ValidationFailed(f"the file is stored, but SimplyPrint refused it: {exc.message}") from exc
        part.simplyprint_file_id = str(uploaded["id"])[:100]
        part.file_uploaded_at = utcnow()
        submit_after_commit(session)  # jobs that waited for this file
    part.updated_at = utcnow()
    session.add(part)
    _log(
        session,
        None,
        "assembly-part.file-uploaded",
        f"File {filename} ({len(data)} bytes) for part {part.part_name}"
        + (" uploaded to SimplyPrint" if part.simplyprint_file_id else " stored (manual mode)"),
        actor=actor,
    )
    return part


def _ensure_remote_file(session: Session, c: sp.SimplyPrintClient, part: AssemblyPart, *, force: bool = False) -> str:
    """The part's SimplyPrint file id, uploading our stored copy when it has none
    (or when SimplyPrint forgot it: uploads expire until used)."""
    if part.simplyprint_file_id and not force:
        return part.simplyprint_file_id
    if not part.file_key:
        return part.simplyprint_file_id
    stored = storage.for_tenant(session_tenant_id(session)).get(part.file_key)
    uploaded = c.upload_file(part.filename or "part.gcode", stored.data)
    part.simplyprint_file_id = str(uploaded["id"])[:100]
    part.file_uploaded_at = utcnow()
    session.add(part)
    return part.simplyprint_file_id
