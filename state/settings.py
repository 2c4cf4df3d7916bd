"""Settings › Integrations: the Shopify connection and order import."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, date, datetime
from typing import ClassVar

import reflex as rx

from app.orders import shopify
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from state.base import AppState, current_principal, guarded
from state.live import Live, LiveState


@dataclasses.dataclass
class BackfillView:
    """The latest Shopify order import (an empty one: none yet)."""

    id: str = ""  # "" while there has been no import
    status: str = ""  # QUEUED | RUNNING | COMPLETED | FAILED
    since: str = ""
    seen: int = 0
    imported: int = 0
    skipped: int = 0
    pages: int = 0
    error: str = ""
    expected: int = 0  # 0: unknown
    stale: bool = False  # running, but not heard from for a while
    finished: str = ""


class IntegrationsState(LiveState, AppState):
    # live: progress of the import, while this page is open
    LIVE: ClassVar[Live] = Live("settings.write", "/settings/integrations", ("backfill",))

    connected: bool = False
    shop_domain: str = ""
    api_base_url: str = ""
    installed: str = ""
    form_error: str = ""
    backfill: BackfillView = BackfillView()
    backfill_error: str = ""
    since: str = ""
    loaded: bool = False

    @rx.var
    def progress(self) -> int:
        b = self.backfill
        if not b.id:
            return 0
        if b.status == "COMPLETED":
            return 100
        if b.expected:
            return min(99, int(100 * b.seen / b.expected))
        return min(95, 5 + 10 * b.pages)

    @rx.var
    def running(self) -> bool:
        return self.backfill.status in ("QUEUED", "RUNNING")

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        with tenant_session(tenant_id) as s:
            shop = shopify.connection(s)
            self.connected = shop is not None
            self.shop_domain = shop.shop_domain if shop else ""
            self.api_base_url = shop.api_base_url if shop else ""
            self.installed = shop.installed_at.strftime("%Y-%m-%d %H:%M") if shop else ""
            run = shopify.latest_backfill(s)
            self.backfill = (
                BackfillView()
                if run is None
                else BackfillView(
                    id=str(run.id),
                    status=run.status,
                    since=run.since.date().isoformat(),
                    seen=run.seen,
                    imported=run.imported,
                    skipped=run.skipped,
                    pages=run.pages,
                    error=run.error,
                    expected=run.expected or 0,
                    stale=shopify.is_stale(run),
                    finished=run.finished_at.strftime("%Y-%m-%d %H:%M") if run.finished_at else "",
                )
            )

    @guarded("settings.write", quiet=True)
    async def load(self):
        self.form_error = self.backfill_error = ""
        await asyncio.to_thread(self._fetch, current_principal().tenant_id)
        self.loaded = True
        return IntegrationsState.watch

    @guarded("settings.write")
    async def connect(self, form: dict):
        p = current_principal()

        def apply() -> None:
            with tenant_session(p.tenant_id) as s:
                shopify.connect(
                    s,
                    shop_domain=form.get("shop_domain", ""),
                    access_token=form.get("access_token", ""),
                    webhook_secret=form.get("webhook_secret", ""),
                    api_base_url=form.get("api_base_url", ""),
                    actor=p,
                )
                s.commit()
            self._fetch(p.tenant_id)

        try:
            await asyncio.to_thread(apply)
        except DomainError as exc:
            self.form_error = exc.message[:1].upper() + exc.message[1:] + "."
            return None
        self.form_error = ""
        return rx.toast.success(f"Shopify {self.shop_domain} connected.")

    @guarded("settings.write")
    async def disconnect(self):
        p = current_principal()

        def apply() -> None:
            with tenant_session(p.tenant_id) as s:
                shopify.disconnect(s, actor=p)
                s.commit()
            self._fetch(p.tenant_id)

        await asyncio.to_thread(apply)
        return rx.toast.success("Shopify disconnected. Webhooks from it are refused from now on.")

    @guarded("settings.write")
    def set_since(self, value: str):
        self.since = value

    @guarded("settings.write")
    async def start_backfill(self):
        p = current_principal()
        try:
            since = datetime.combine(date.fromisoformat(self.since), datetime.min.time(), UTC)
        except ValueError:
            self.backfill_error = "Pick the date to import from."
            return None

        def apply() -> str:
            with tenant_session(p.tenant_id) as s:
                run = shopify.start_backfill(s, since, actor=p)
                s.commit()
            shopify.queue_backfill(p.tenant_id, run.id)
            self._fetch(p.tenant_id)
            return str(run.id)

        try:
            await asyncio.to_thread(apply)
        except DomainError as exc:
            self.backfill_error = exc.message[:1].upper() + exc.message[1:] + "."
            return None
        self.backfill_error = ""
        return rx.toast.info("Import started. You can leave this page; it keeps running.")

    @guarded("settings.write")
    async def resume_backfill(self):
        p = current_principal()
        run_id = self.backfill.id
        if run_id:
            await asyncio.to_thread(shopify.queue_backfill, p.tenant_id, run_id)
            return rx.toast.info("Import resumed from where it stopped.")
        return None
