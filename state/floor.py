"""The phone page for the shop floor: photo tiles per slot."""

from __future__ import annotations

import asyncio
import uuid

import reflex as rx
from sqlmodel import col, select

from app.builds import service
from app.builds.models import PHOTO_SLOTS, REQUIRED_SLOTS
from app.orders.models import Order
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.models import Attachment
from app.settings import get_settings
from state.base import AppState, current_principal, guarded, in_tenant
from state.builds import SLOT_LABELS


class FloorState(AppState):
    order_number: str = ""
    thumbs: dict[str, str] = {}
    active_slot: str = ""
    progress: dict[str, int] = {}
    failed: dict[str, str] = {}
    loaded: bool = False
    cancelled: bool = False  # its order was cancelled: photos can no longer change
    error: str = ""

    def _build_id(self) -> str:
        parts = self.router.url.path.strip("/").split("/")
        return parts[2] if len(parts) >= 3 else ""

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        api = get_settings().api_url.rstrip("/")
        with tenant_session(tenant_id) as s:
            b = service.get_build(s, self._build_id())
            self.order_number = s.get_one(Order, b.order_id).number
            self.cancelled = b.status == "cancelled"
            ids = service.photo_ids(b)
            atts = {
                a.id: a
                for a in s.exec(select(Attachment).where(col(Attachment.id).in_([i for i in ids.values() if i])))
            }
        self.thumbs = {
            slot: f"{api}/api/v1/files/{atts[i].thumbnail_key}" if i and i in atts else "" for slot, i in ids.items()
        }

    @rx.var
    def done_count(self) -> int:
        return sum(1 for slot in REQUIRED_SLOTS if self.thumbs.get(slot))

    @guarded("builds.write", quiet=True)
    async def load(self):
        try:
            await asyncio.to_thread(self._fetch, current_principal().tenant_id)
            self.error = ""
        except DomainError as exc:
            self.error = exc.message
        self.loaded = True
        return None

    @guarded("builds.write")
    def choose(self, slot: str):
        if slot in PHOTO_SLOTS:
            self.active_slot = slot

    @guarded("builds.write")
    def on_progress(self, prog: dict):
        if self.active_slot:
            done = int(100 * float(prog.get("progress") or 0))
            others = {k: v for k, v in self.progress.items() if k != self.active_slot}
            self.progress = others if done >= 100 else {**others, self.active_slot: done}

    @guarded("builds.write")
    async def upload(self, files: list[rx.UploadFile], slot: str = ""):
        slot = slot or self.active_slot
        if not files or slot not in PHOTO_SLOTS or self.cancelled:
            return None
        data, name = await files[0].read(), files[0].filename or ""
        bid, p = self._build_id(), current_principal()
        try:
            await in_tenant(lambda s: service.store_photo(s, bid, slot, data, filename=name, actor=p))
        except DomainError as exc:
            self.failed = {**self.failed, slot: exc.message}
            self.progress = {k: v for k, v in self.progress.items() if k != slot}
            return rx.toast.error(f"{SLOT_LABELS[slot]}: {exc.message}")
        self.failed = {k: v for k, v in self.failed.items() if k != slot}
        self.progress = {k: v for k, v in self.progress.items() if k != slot}
        await asyncio.to_thread(self._fetch, p.tenant_id)
        return rx.toast.success(f"{SLOT_LABELS[slot]} saved.")
