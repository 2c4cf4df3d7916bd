"""Settings: the shop (how it writes money and time); integrations: the
Shopify connection and order import."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import ClassVar

import reflex as rx

from app.orders import shopify
from app.platform import auth
from app.platform import shop as shop_service
from app.platform.db import tenant_session
from app.platform.errors import DomainError, ValidationFailed
from app.platform.formatting import LOCALES, ShopFormat, of_tenant
from state.base import AppState, current_principal, guarded, in_tenant
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

    def _fetch(self, tenant_id: uuid.UUID, fmt: ShopFormat | None = None) -> None:
        fmt = fmt or of_tenant(tenant_id)
        with tenant_session(tenant_id) as s:
            shop = shopify.connection(s)
            self.connected = shop is not None
            self.shop_domain = shop.shop_domain if shop else ""
            self.api_base_url = shop.api_base_url if shop else ""
            self.installed = fmt.when(shop.installed_at) if shop else ""
            run = shopify.latest_backfill(s)
            self.backfill = (
                BackfillView()
                if run is None
                else BackfillView(
                    id=str(run.id),
                    status=run.status,
                    since=fmt.day(run.since),
                    seen=run.seen,
                    imported=run.imported,
                    skipped=run.skipped,
                    pages=run.pages,
                    error=run.error,
                    expected=run.expected or 0,
                    stale=shopify.is_stale(run),
                    finished=fmt.when(run.finished_at) if run.finished_at else "",
                )
            )

    @guarded("settings.write", quiet=True)
    async def load(self):
        self.form_error = self.backfill_error = ""
        p = current_principal()
        await asyncio.to_thread(self._fetch, p.tenant_id, p.fmt)
        self.loaded = True
        return IntegrationsState.watch

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token == token:
                await asyncio.to_thread(self._fetch, principal.tenant_id, principal.fmt)

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
            self._fetch(p.tenant_id, p.fmt)

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
            self._fetch(p.tenant_id, p.fmt)

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
            self._fetch(p.tenant_id, p.fmt)
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


class ShopSettingsState(AppState):
    """Settings › Shop: how the shop writes money and time. Everyone with
    settings.read sees the values; only settings.write gets a form."""

    name: str = ""
    locale: str = ""
    currency: str = ""
    timezone: str = ""
    locale_label: str = ""  # what the locale reads as ("English (Ireland) — …")
    sample_money: str = ""  # an amount and a moment in the shop's format, to see what a choice does
    sample_when: str = ""
    errors: dict[str, str] = {}
    loaded: bool = False

    @rx.var
    def can_edit(self) -> bool:
        return "settings.write" in self.permissions

    def _show(self, settings: shop_service.ShopSettings) -> None:
        self.name = settings.name
        self.locale, self.currency, self.timezone = settings.locale, settings.currency, settings.timezone
        self.locale_label = LOCALES.get(settings.locale, settings.locale)
        fmt = ShopFormat(locale=settings.locale, currency=settings.currency, timezone=settings.timezone)
        self.sample_money = fmt.money(Decimal("1234.56"))
        self.sample_when = fmt.when(datetime.now(UTC))

    @guarded("settings.read", quiet=True)
    async def load(self):
        self.errors = {}
        self._show(await in_tenant(shop_service.shop_settings))
        self.loaded = True

    @guarded("settings.write")
    async def save(self, form: dict):
        p = current_principal()
        try:
            settings = await in_tenant(
                lambda s: shop_service.update_shop_format(
                    s,
                    actor=p,
                    locale=form.get("locale") or None,
                    currency=form.get("currency") or None,
                    timezone=(form.get("timezone") or "").strip(),
                )
            )
        except ValidationFailed as exc:
            self.errors = {k: str(v) for k, v in exc.details.items()} or {"form": exc.message}
            return None
        self.errors = {}
        self._show(settings)
        return rx.toast.success(f"Saved. Money now reads {self.sample_money}, times {self.sample_when}.")
