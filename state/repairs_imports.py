"""/repairs/imports: bulk upload (seed S14). A person picks what the file
holds (expected batches, assets, spare parts), drops a CSV or XLSX file, sees
its columns, its first rows and every row's problem, then applies the good
rows; a progress bar follows the job live. Every rule comes from
`app.repairs.service.imports`."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import ClassVar

import reflex as rx

from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat, of_tenant
from app.platform.machine import Status, StatusTable
from app.repairs import service
from app.repairs.models import RepairImport
from app.repairs.service import imports
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.util import sentence

PATH = "/repairs/imports"
IMPORT_STATUS = StatusTable(
    Status("previewed", "Checked, not applied", "amber"),
    Status("queued", "Waiting to run", "blue"),
    Status("running", "Applying", "blue"),
    Status("done", "Done", "green"),
    Status("failed", "Failed", "red"),
)
KIND_OPTIONS = [("batches", "Expected batches"), ("assets", "Assets"), ("parts", "Spare parts")]


@dataclasses.dataclass
class UploadRow:
    id: str = ""
    kind: str = ""
    filename: str = ""
    status: str = ""
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    errors: int = 0
    percent: int = 0
    error: str = ""
    when: str = ""
    can_start: bool = False


@dataclasses.dataclass
class RowProblem:
    row: int = 0
    field: str = ""
    message: str = ""


def _row(u: RepairImport, fmt: ShopFormat) -> UploadRow:
    good = u.total_rows - u.error_rows
    return UploadRow(
        id=str(u.id),
        kind=dict(KIND_OPTIONS).get(u.kind, u.kind),
        filename=u.filename,
        status=u.status,
        total=u.total_rows,
        processed=u.processed_rows,
        created=u.created_rows,
        updated=u.updated_rows,
        errors=u.error_rows,
        percent=100 if u.status == "done" else (round(100 * u.processed_rows / u.total_rows) if u.total_rows else 0),
        error=u.error,
        when=fmt.when(u.created_at),
        can_start=u.status in ("previewed", "failed") and good > 0,
    )


def _uploads(tenant_id: uuid.UUID, fmt: ShopFormat) -> list[UploadRow]:
    with tenant_session(tenant_id) as s:
        return [_row(u, fmt) for u in imports.list_imports(s, limit=20)]


class RepairsImportsState(LiveState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "repairs.read"
    LIVE: ClassVar[Live] = Live("repairs.read", PATH, (service.LIVE_KIND,), settle=0.5)

    kind: str = "assets"
    uploads: list[UploadRow] = []
    loaded: bool = False
    error: str = ""
    busy: bool = False

    # the file just checked
    preview: UploadRow = UploadRow()
    preview_columns: list[str] = []
    preview_ignored: list[str] = []
    preview_rows: list[list[str]] = []
    problems: list[RowProblem] = []
    duplicate: bool = False

    @rx.var
    def can_write(self) -> bool:
        return "repairs.write" in self.permissions

    @rx.var
    def template_href(self) -> str:
        return f"/api/v1/repairs/imports/templates/{self.kind}.csv"

    @rx.var
    def has_preview(self) -> bool:
        return self.preview.id != ""

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        fmt = of_tenant(tenant_id)
        try:
            self.uploads = _uploads(tenant_id, fmt)
            if self.preview.id:
                self.preview = next((u for u in self.uploads if u.id == self.preview.id), self.preview)
        except DomainError as exc:
            self.error = sentence(exc.message)

    async def _refresh(self) -> None:
        p = current_principal()
        self.uploads = await asyncio.to_thread(_uploads, p.tenant_id, p.fmt)
        if self.preview.id:
            self.preview = next((u for u in self.uploads if u.id == self.preview.id), self.preview)
        self.loaded = True

    @guarded("repairs.read", quiet=True)
    async def load(self):
        self.preview, self.problems, self.preview_rows = UploadRow(), [], []
        await self._refresh()
        return RepairsImportsState.watch

    @guarded("repairs.read")
    def set_kind(self, value: str | list[str]):
        value = value if isinstance(value, str) else (value[0] if value else "assets")
        if value in dict(KIND_OPTIONS):
            self.kind = value
            self.preview, self.problems, self.preview_rows = UploadRow(), [], []

    @guarded("repairs.write")
    async def upload(self, files: list[rx.UploadFile]):
        if not files:
            yield rx.toast.error("Choose a CSV or XLSX file first.")
            return
        p, kind = current_principal(), self.kind
        data, name = await files[0].read(), files[0].filename or ""
        self.busy = True
        yield
        try:
            result = await in_tenant(lambda s: imports.preview(s, kind, name, data, actor=p))
        except DomainError as exc:
            self.busy = False
            yield rx.toast.error(sentence(exc.message))
            return
        self.busy = False
        self.preview = _row(result.upload, p.fmt)
        self.duplicate = result.duplicate
        self.preview_columns = [c.replace("_", " ") for c in result.columns]
        self.preview_ignored = result.ignored
        self.preview_rows = [[r.get(c, "") for c in result.columns] for r in result.sample]
        self.problems = [RowProblem(e.row, e.field.replace("_", " "), e.message) for e in result.errors[:200]]
        await self._refresh()
        if result.duplicate:
            yield rx.toast.info("This file was uploaded before: here is that upload.")
        elif result.errors:
            yield rx.toast.warning(f"{self.preview.errors} of {self.preview.total} rows have problems: see the list.")
        else:
            yield rx.toast.success(f"All {self.preview.total} rows are fine: apply them when ready.")

    @guarded("repairs.write")
    async def start(self, import_id: str):
        p = current_principal()
        try:
            await in_tenant(lambda s: imports.start(s, import_id, actor=p))
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        await self._refresh()
        return rx.toast.success("Applying the upload: the progress shows here.")
