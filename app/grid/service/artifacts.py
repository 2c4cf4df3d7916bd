"""The cache of pieces: one `GridArtifact` per (piece shape, printer
profile), holding the piece's mesh, its G-code and the grams and print
time the slicer estimated.

Keys are content hashes: the shape key (`SegmentSpec.shape_key()`: the
geometry, not the piece's number or place) and the profile key
(`PrinterProfile.key()`: every setting that changes the G-code). So an
identical piece is generated once and sliced once per profile in a shop,
however many orders and plate sets ask for it: a plate set of 25 segments
with 9 shapes slices 9 times, and a second order for the same drawer
slices nothing.

Files live in the shop's storage: the STL once per shape (profiles share
it) under `grid/shapes/`, the G-code per artifact under `grid/gcode/`.

Two workers on the same piece at once: the row is inserted with
`INSERT … ON CONFLICT DO NOTHING` and read back, so there is one row
(both may build the mesh; they write the same bytes to the same key);
slicing locks the row, so the second worker waits and finds the G-code.
That lock lasts until the caller commits: slice each piece in a
transaction of its own (commit after `ensure_sliced`), so two workers
never wait on each other's pieces in a cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select, update

from app.grid.geometry import mesh as geometry
from app.grid.geometry.spec import SegmentSpec, digest
from app.grid.models import GridArtifact
from app.grid.profiles import PrinterProfile
from app.integrations import slicer
from app.platform.db import session_tenant_id
from app.platform.errors import NotFound
from app.platform.models import utcnow
from app.platform.storage import TenantStorage, for_tenant

STL_TYPE = "model/stl"
GCODE_TYPE = "text/x.gcode"
SLICE_TIMEOUT_S = 300


def artifact_key(shape_key: str, profile: PrinterProfile) -> str:
    """The cache key of one piece shape sliced for one printer profile."""
    return digest({"shape": shape_key, "profile": profile.key()})


def stl_key(shape_key: str) -> str:
    return f"grid/shapes/{shape_key}.stl"


def gcode_key(key: str) -> str:
    return f"grid/gcode/{key}.gcode"


def _storage(session: Session) -> TenantStorage:
    return for_tenant(session_tenant_id(session))


def _get(session: Session, key: str, *, lock: bool = False) -> GridArtifact | None:
    query = select(GridArtifact).where(GridArtifact.key == key).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    return session.exec(query).first()


def find(session: Session, shape_key: str, profile: PrinterProfile) -> GridArtifact | None:
    return _get(session, artifact_key(shape_key, profile))


def _shared_mesh(session: Session, shape_key: str, store: TenantStorage) -> GridArtifact | None:
    """Another profile's row for this shape whose STL is stored: its mesh
    figures hold for every profile."""
    query = select(GridArtifact).where(GridArtifact.shape_key == shape_key, GridArtifact.stl_key != "").limit(1)
    row = session.exec(query).first()
    return row if row is not None and store.exists(row.stl_key) else None


_MESH_FIELDS = ("stl_key", "stl_bytes", "triangles", "width_mm", "depth_mm", "height_mm", "volume_mm3")


def _build_mesh(spec: SegmentSpec, store: TenantStorage) -> dict[str, object]:
    """Generate the piece's mesh, store its STL, and say what it is."""
    mesh = geometry.segment_mesh(spec)
    data = geometry.to_stl(mesh)
    key = store.put(stl_key(spec.shape_key()), data, STL_TYPE)
    w, d, h = (float(v) for v in mesh.extents)
    return {
        "stl_key": key,
        "stl_bytes": len(data),
        "triangles": len(mesh.faces),
        "width_mm": round(w, 3),
        "depth_mm": round(d, 3),
        "height_mm": round(h, 3),
        "volume_mm3": round(float(mesh.volume), 1),
    }


def ensure_mesh(session: Session, spec: SegmentSpec, profile: PrinterProfile) -> GridArtifact:
    """The cache row of this piece for this profile, with its mesh stored.
    The mesh is generated only when no STL of this shape is stored yet."""
    shape_key = spec.shape_key()
    key = artifact_key(shape_key, profile)
    store = _storage(session)
    row = _get(session, key)
    if row is not None and row.stl_key and store.exists(row.stl_key):
        touch(session, row)
        return row
    sibling = _shared_mesh(session, shape_key, store)
    figures = {f: getattr(sibling, f) for f in _MESH_FIELDS} if sibling else _build_mesh(spec, store)
    if row is None:
        now = utcnow()
        session.exec(
            insert(GridArtifact)
            .values(
                id=uuid.uuid4(),
                tenant_id=session_tenant_id(session),
                key=key,
                shape_key=shape_key,
                profile_key=profile.key(),
                label=spec.label[:10],
                created_at=now,
                last_used_at=now,
                **figures,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
        )
        row = _get(session, key)
        assert row is not None  # inserted just now, or by the worker that raced us (committed)
        if row.stl_key:
            return row
    for field, value in figures.items():  # a row whose STL went missing
        setattr(row, field, value)
    row.last_used_at = utcnow()
    session.add(row)
    session.flush()
    return row


def ensure_sliced(
    session: Session, artifact: GridArtifact, profile: PrinterProfile, *, timeout: float = SLICE_TIMEOUT_S
) -> GridArtifact:
    """The piece sliced for the profile: its G-code stored, grams and print
    time filled. Slices only when no G-code is stored yet. Locks the row
    until the caller commits (see the module's note). Raises
    `slicer.SlicerError` when slicing fails."""
    if artifact.profile_key != profile.key():
        raise ValueError("this artifact was made for another printer profile")
    store = _storage(session)
    row = _get(session, artifact.key, lock=True)
    if row is None:
        raise NotFound("this piece is no longer in the cache: generate it again")
    if row.gcode_key and row.filament_g is not None and store.exists(row.gcode_key):
        touch(session, row)
        return row
    if not row.stl_key or not store.exists(row.stl_key):
        raise NotFound("this piece's mesh is no longer stored: generate it again")
    result = slicer.slice_stl(store.get(row.stl_key).data, profile, timeout=timeout)
    row.gcode_key = store.put(gcode_key(row.key), result.gcode, GCODE_TYPE)
    row.gcode_bytes = len(result.gcode)
    row.filament_g = result.filament_g
    row.print_seconds = result.print_seconds
    row.simplyprint_file_id = ""  # a new G-code is a new upload
    row.uploaded_at = None
    row.last_used_at = utcnow()
    session.add(row)
    session.flush()
    return row


def known_estimate(session: Session, profile: PrinterProfile) -> Callable[[str], tuple[float, int] | None]:
    """For a quote: shape key → (grams, print seconds) of the pieces already
    sliced for this profile (one query), None for a shape not sliced yet."""
    query = select(GridArtifact.shape_key, GridArtifact.filament_g, GridArtifact.print_seconds).where(
        GridArtifact.profile_key == profile.key(),
        col(GridArtifact.filament_g).is_not(None),
        col(GridArtifact.print_seconds).is_not(None),
    )
    known: dict[str, tuple[float, int]] = {
        shape: (float(grams), int(seconds))
        for shape, grams, seconds in session.exec(query)
        if grams is not None and seconds is not None
    }
    return known.get


def touch(session: Session, *artifacts: GridArtifact | uuid.UUID) -> None:
    """Mark pieces as used now (cleanup removes the ones unused longest)."""
    ids = [a.id if isinstance(a, GridArtifact) else a for a in artifacts]
    if not ids:
        return
    now = utcnow()
    session.exec(update(GridArtifact).where(col(GridArtifact.id).in_(ids)).values(last_used_at=now))
    for a in artifacts:
        if isinstance(a, GridArtifact):
            a.last_used_at = now


def expired(session: Session, older_than: timedelta | datetime) -> list[GridArtifact]:
    """Pieces unused for `older_than` (a timedelta), or since a moment (a
    datetime), oldest first."""
    cutoff = utcnow() - older_than if isinstance(older_than, timedelta) else older_than
    query = select(GridArtifact).where(GridArtifact.last_used_at < cutoff).order_by(col(GridArtifact.last_used_at))
    return list(session.exec(query))


def delete_files(session: Session, artifact: GridArtifact) -> None:
    """Remove a piece from the cache: its G-code, its STL unless another
    profile's row still shares it, and its row. (A copy uploaded to
    SimplyPrint stays there.)"""
    store = _storage(session)
    if artifact.gcode_key:
        store.delete(artifact.gcode_key)
    if artifact.stl_key:
        shared = session.exec(
            select(GridArtifact.id)
            .where(GridArtifact.stl_key == artifact.stl_key, GridArtifact.id != artifact.id)
            .limit(1)
        ).first()
        if shared is None:
            store.delete(artifact.stl_key)
    session.delete(artifact)
    session.flush()
