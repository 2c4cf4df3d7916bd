"""Settings › Integrations › Sendcloud: connect the shop's Sendcloud API
integration, choose the sender address, shipping method, label format and
parcel defaults, test it, disconnect it (manual mode: staff write the carrier
and tracking by hand)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import ClassVar

import reflex as rx

from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat
from app.shipping import machine, service
from state.base import AppState, checks_inside, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.util import sentence

LABEL_FORMATS = [(f.value, f.label) for f in machine.LABEL_FORMAT]


@dataclasses.dataclass
class Option:
    """A drop-down option Sendcloud lists (a sender address or a shipping method)."""

    value: str = ""
    label: str = ""


def _whole(form: dict, name: str, what: str, errors: list[str]) -> int | None:
    """A whole number typed in the form; None when left empty (unchanged)."""
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        errors.append(f"{what} must be a whole number")
        return None
    return int(raw)


def _choices(tenant_id: uuid.UUID) -> tuple[list[dict], list[dict], str]:
    """What Sendcloud lists for the account, or why it could not."""
    try:
        with tenant_session(tenant_id) as s:
            senders, methods = service.choices(s)
    except DomainError as exc:
        return [], [], sentence(exc.message)
    return senders, methods, ""


class SendcloudSettingsState(LiveState, AppState):
    # live: keep the last tracking check and its error current while the page is open (at most every 5 s)
    LIVE: ClassVar[Live] = Live("settings.write", "/settings/integrations", (service.LIVE_KIND,), settle=5.0)

    sc_connected: bool = False
    sc_connected_at: str = ""
    sc_api_base_url: str = ""
    sc_sender: str = ""  # the sender address's id, as the drop-down holds it
    sc_sender_words: str = ""
    sc_method: str = ""
    sc_method_words: str = ""
    sc_point_method: str = ""
    sc_point_method_words: str = ""
    sc_label_format: str = "a6"
    sc_weight: str = ""
    sc_length: str = ""
    sc_width: str = ""
    sc_height: str = ""
    sc_pc_weight: str = ""
    sc_pc_length: str = ""
    sc_pc_width: str = ""
    sc_pc_height: str = ""
    sc_minutes: str = ""
    sc_last_poll: str = ""
    sc_last_error: str = ""
    sc_webhook_url: str = ""
    sc_senders: list[Option] = []
    sc_methods: list[Option] = []
    sc_point_methods: list[Option] = []  # the methods that deliver to service points
    sc_choices_error: str = ""  # Sendcloud could not list its addresses and methods
    sc_choices_loading: bool = False
    sc_form_error: str = ""
    sc_test_result: str = ""
    sc_test_ok: bool = False
    sc_testing: bool = False
    sc_saving: bool = False
    sc_loaded: bool = False

    def _fetch(self, tenant_id: uuid.UUID, fmt: ShopFormat) -> None:
        with tenant_session(tenant_id) as s:
            c = service.connection(s)
            self.sc_webhook_url = service.webhook_url(s)
        self.sc_connected = c is not None
        if c is None:
            self.sc_connected_at = self.sc_last_poll = self.sc_last_error = ""
            self.sc_senders, self.sc_methods, self.sc_choices_error = [], [], ""
            self.sc_point_methods = []
            return
        self.sc_connected_at = fmt.when(c.connected_at) if c.connected_at else ""
        self.sc_api_base_url = c.api_base_url
        self.sc_sender, self.sc_sender_words = str(c.sender_address_id or ""), c.sender_address
        self.sc_method, self.sc_method_words = str(c.shipping_method_id or ""), c.shipping_method_name
        self.sc_point_method = str(c.service_point_method_id or "")
        self.sc_point_method_words = c.service_point_method_name
        self.sc_label_format = c.label_format
        self.sc_weight, self.sc_pc_weight = str(c.default_weight_grams), str(c.pc_weight_grams)
        self.sc_length, self.sc_width, self.sc_height = (
            str(v or "") for v in (c.default_length_cm, c.default_width_cm, c.default_height_cm)
        )
        self.sc_pc_length, self.sc_pc_width, self.sc_pc_height = (
            str(v or "") for v in (c.pc_length_cm, c.pc_width_cm, c.pc_height_cm)
        )
        self.sc_minutes = str(c.reconcile_minutes)
        self.sc_last_poll = fmt.when(c.last_poll_at) if c.last_poll_at else ""
        self.sc_last_error = c.last_error

    def _apply_choices(self, senders: list[dict], methods: list[dict], error: str) -> None:
        """The drop-downs' options; the saved sender and method stay choosable
        when Sendcloud could not list them."""
        self.sc_choices_error = error
        self.sc_senders = [Option(str(x["id"]), x["name"]) for x in senders]
        self.sc_methods = [
            Option(str(m["id"]), m["name"] + (" (to a service point)" if m.get("servicePoint") else ""))
            for m in methods
        ]
        if self.sc_sender and all(o.value != self.sc_sender for o in self.sc_senders):
            self.sc_senders = [Option(self.sc_sender, self.sc_sender_words or "the saved address"), *self.sc_senders]
        if self.sc_method and all(o.value != self.sc_method for o in self.sc_methods):
            self.sc_methods = [Option(self.sc_method, self.sc_method_words or "the saved method"), *self.sc_methods]
        self.sc_point_methods = [Option(str(m["id"]), m["name"]) for m in methods if m.get("servicePoint")]
        if self.sc_point_method and all(o.value != self.sc_point_method for o in self.sc_point_methods):
            self.sc_point_methods = [
                Option(self.sc_point_method, self.sc_point_method_words or "the saved method"),
                *self.sc_point_methods,
            ]

    async def _refresh(self) -> None:
        p = current_principal()
        await asyncio.to_thread(self._fetch, p.tenant_id, p.fmt)
        self.sc_loaded = True

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token == token:
                await asyncio.to_thread(self._fetch, principal.tenant_id, principal.fmt)

    @guarded("settings.write", quiet=True)
    async def load(self):
        self.sc_form_error = self.sc_test_result = ""
        await self._refresh()
        return [SendcloudSettingsState.watch, SendcloudSettingsState.load_choices]

    @rx.event(background=True)
    @checks_inside("settings.write")
    async def load_choices(self):
        """The account's sender addresses and shipping methods: a call to
        Sendcloud (up to a minute), made in the background so the page and
        its other cards never wait for it."""
        async with self:
            _, principal = await self._check("settings.write", True)
            if principal is None or not self.sc_connected:
                return
            self.sc_choices_loading = True
        senders, methods, error = await asyncio.to_thread(_choices, principal.tenant_id)
        async with self:
            self._apply_choices(senders, methods, error)
            self.sc_choices_loading = False

    @guarded("settings.write")
    async def connect(self, form: dict):
        """Save and test the API keys ("Connect")."""
        p = current_principal()

        def value(name: str) -> str:
            return str(form.get(f"sc_{name}") or "").strip()

        public_key, secret_key = value("public_key"), value("secret_key")
        webhook_secret, api_base_url = value("webhook_secret"), value("api_base_url")
        if not public_key or not secret_key:
            self.sc_form_error = "Enter the public and the secret key of your Sendcloud API integration."
            return
        self.sc_saving = True
        yield
        try:
            await in_tenant(
                lambda s: service.connect(
                    s,
                    public_key=public_key,
                    secret_key=secret_key,
                    webhook_secret=webhook_secret,
                    api_base_url=api_base_url,
                    actor=p,
                )
            )
        except DomainError as exc:
            self.sc_form_error, self.sc_saving = sentence(exc.message), False
            return
        self.sc_form_error = self.sc_test_result = ""
        await self._refresh()
        self.sc_saving = False
        yield rx.toast.success("Sendcloud connected. Labels are made for orders ready to ship.")
        yield SendcloudSettingsState.load_choices

    @guarded("settings.write")
    async def save(self, form: dict):
        """The sender address, shipping method, label format and parcel defaults."""
        p = current_principal()
        errors: list[str] = []
        sender = _whole(form, "sc_sender", "The sender address", errors)
        method = _whole(form, "sc_method", "The shipping method", errors)
        point_method = _whole(form, "sc_point_method", "The service point method", errors)
        label_format = str(form.get("sc_label_format") or "").strip() or None
        defaults = service.ParcelDefaults(
            weight_grams=_whole(form, "sc_weight", "The default weight", errors),
            length_cm=_whole(form, "sc_length", "The default length", errors),
            width_cm=_whole(form, "sc_width", "The default width", errors),
            height_cm=_whole(form, "sc_height", "The default height", errors),
            pc_weight_grams=_whole(form, "sc_pc_weight", "A PC's weight", errors),
            pc_length_cm=_whole(form, "sc_pc_length", "A PC box's length", errors),
            pc_width_cm=_whole(form, "sc_pc_width", "A PC box's width", errors),
            pc_height_cm=_whole(form, "sc_pc_height", "A PC box's height", errors),
        )
        minutes = _whole(form, "sc_minutes", "The tracking check interval", errors)
        if errors:
            self.sc_form_error = sentence("; ".join(errors))
            return
        self.sc_saving = True
        yield
        try:
            await in_tenant(
                lambda s: service.update_settings(
                    s,
                    actor=p,
                    sender_address_id=sender if sender and str(sender) != self.sc_sender else None,
                    shipping_method_id=method if method and str(method) != self.sc_method else None,
                    service_point_method_id=(
                        point_method if point_method and str(point_method) != self.sc_point_method else None
                    ),
                    label_format=label_format,
                    defaults=defaults,
                    reconcile_minutes=minutes,
                )
            )
        except DomainError as exc:
            self.sc_form_error, self.sc_saving = sentence(exc.message), False
            return
        self.sc_form_error = ""
        await self._refresh()
        self.sc_saving = False
        yield rx.toast.success("Sendcloud settings saved. New labels use them.")

    @guarded("settings.write")
    async def test(self):
        self.sc_testing = True
        yield
        try:
            message = await in_tenant(service.test_connection)
            self.sc_test_ok, self.sc_test_result = True, sentence(message)
        except DomainError as exc:
            self.sc_test_ok, self.sc_test_result = False, sentence(exc.message)
        self.sc_testing = False
        yield (rx.toast.success if self.sc_test_ok else rx.toast.error)(f"Sendcloud: {self.sc_test_result}")

    @guarded("settings.write")
    async def disconnect(self):
        p = current_principal()
        await in_tenant(lambda s: service.disconnect(s, actor=p))
        self.sc_test_result = self.sc_form_error = ""
        await self._refresh()
        return rx.toast.success("Sendcloud disconnected. Staff record the carrier and tracking by hand.")
