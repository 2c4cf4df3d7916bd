"""Settings › Integrations › SimplyPrint: connect the print farm, test it,
disconnect it (manual mode)."""

from __future__ import annotations

import asyncio
import uuid
from typing import ClassVar

import reflex as rx

from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat
from app.printing import machine, service
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.util import sentence


class SimplyPrintSettingsState(LiveState, AppState):
    # live: keep the last poll and last error current while the page is open (at most every 5 s)
    LIVE: ClassVar[Live] = Live("settings.write", "/settings/integrations", (service.LIVE_KIND,), settle=5.0)

    sp_connected: bool = False
    sp_company_id: str = ""
    sp_api_base_url: str = ""
    sp_files_base_url: str = ""
    sp_connected_at: str = ""
    sp_last_poll: str = ""
    sp_last_error: str = ""  # what went wrong, as a sentence
    sp_last_error_detail: str = ""  # what SimplyPrint said, behind "Show details"
    sp_sync: str = "manual"  # machine.SYNC
    sp_poll_minutes: int = 0
    sp_webhook_url: str = ""
    sp_form_error: str = ""
    sp_test_result: str = ""
    sp_test_ok: bool = False
    sp_testing: bool = False
    sp_loaded: bool = False

    def _fetch(self, tenant_id: uuid.UUID, fmt: ShopFormat) -> None:
        with tenant_session(tenant_id) as s:
            c = service.connection(s)
            self.sp_webhook_url = service.webhook_url(s)
        self.sp_connected = c is not None
        self.sp_company_id = c.company_id if c else ""
        self.sp_api_base_url = c.api_base_url if c else ""
        self.sp_files_base_url = c.files_base_url if c else ""
        self.sp_connected_at = fmt.when(c.connected_at) if c and c.connected_at else ""
        self.sp_last_poll = fmt.when(c.last_poll_at) if c and c.last_poll_at else ""
        error = (c.last_error or "") if c else ""
        self.sp_last_error, self.sp_last_error_detail = machine.describe_sync_error(error)
        self.sp_sync = machine.sync_state(c is not None, bool(c and c.last_poll_at), error)
        self.sp_poll_minutes = c.poll_minutes if c else 0

    async def _refresh(self) -> None:
        p = current_principal()
        await asyncio.to_thread(self._fetch, p.tenant_id, p.fmt)
        self.sp_loaded = True

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        """A live reload formats in the shop's way too (the default passes only the tenant)."""
        async with self:
            if self._watch_token == token:
                await asyncio.to_thread(self._fetch, principal.tenant_id, principal.fmt)

    @guarded("settings.write", quiet=True)
    async def load(self):
        self.sp_form_error = self.sp_test_result = ""
        await self._refresh()
        return SimplyPrintSettingsState.watch

    @guarded("settings.write")
    async def connect(self, form: dict):
        p = current_principal()

        def value(name: str) -> str:
            return str(form.get(f"sp_{name}") or "").strip()

        company_id, api_key, webhook_secret = value("company_id"), value("api_key"), value("webhook_secret")
        api_base_url, files_base_url = value("api_base_url"), value("files_base_url")
        was_connected = self.sp_connected
        try:
            await in_tenant(
                lambda s: service.connect(
                    s,
                    actor=p,
                    company_id=company_id,
                    api_key=api_key,
                    webhook_secret=webhook_secret,
                    api_base_url=api_base_url,
                    files_base_url=files_base_url,
                )
            )
        except DomainError as exc:
            self.sp_form_error = sentence(exc.message)
            return None
        self.sp_form_error, self.sp_test_result = "", ""
        await self._refresh()
        return rx.toast.success(
            f"SimplyPrint company {self.sp_company_id} "
            f"{'updated' if was_connected else 'connected'}. New print jobs go to its queue."
        )

    @guarded("settings.write")
    async def test(self):
        self.sp_testing = True
        yield
        try:
            message = await in_tenant(service.test_connection)
            self.sp_test_ok, self.sp_test_result = True, message or "The API key is valid."
        except DomainError as exc:
            self.sp_test_ok, self.sp_test_result = False, sentence(exc.message)
        self.sp_testing = False
        await self._refresh()
        yield (rx.toast.success if self.sp_test_ok else rx.toast.error)(f"SimplyPrint: {self.sp_test_result}")

    @guarded("settings.write")
    async def disconnect(self):
        p = current_principal()
        await in_tenant(lambda s: service.disconnect(s, actor=p))
        self.sp_test_result = ""
        await self._refresh()
        return rx.toast.success("SimplyPrint disconnected. The print farm runs in manual mode.")
