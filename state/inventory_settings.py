"""Settings › Inventory: stock management on or off (the feature flag) and the
replenishment scheduler's window, thresholds and limits. Admins
(settings.write) edit them; everyone else with settings.read reads them."""

from __future__ import annotations

import dataclasses

import reflex as rx
from sqlmodel import Session

from app.inventory import service
from app.platform.errors import DomainError, ValidationFailed
from state.base import AppState, current_principal, guarded, in_tenant
from state.inventory import settings_words
from state.util import sentence

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclasses.dataclass
class DayChoice:
    """One allowed-day checkbox."""

    index: int = 0
    short: str = ""
    name: str = ""
    on: bool = False


@dataclasses.dataclass
class InventorySettingsView:
    stock_enabled: bool = False
    enabled: bool = False
    start_hour: str = "22"
    end_hour: str = "6"
    days: list[DayChoice] = dataclasses.field(default_factory=list)
    order_queue_threshold: str = "10"
    max_concurrent_stock_jobs: str = "5"
    interval_minutes: str = "15"
    words: str = ""  # the settings as a sentence (the read-only view)


def _view(s: Session) -> InventorySettingsView:
    st = service.read_settings(s)
    return InventorySettingsView(
        stock_enabled=service.stock_enabled(s),
        enabled=st.enabled,
        start_hour=str(st.start_hour),
        end_hour=str(st.end_hour),
        days=[DayChoice(i, service.DAYS[i], DAY_NAMES[i], i in st.days) for i in range(7)],
        order_queue_threshold=str(st.order_queue_threshold),
        max_concurrent_stock_jobs=str(st.max_concurrent_stock_jobs),
        interval_minutes=str(st.interval_minutes),
        words=settings_words(st),
    )


def settings_from_form(form: dict) -> tuple[service.ReplenishmentSettings | None, dict[str, str]]:
    """The scheduler's settings typed in the card, or the fields' errors (the service's names)."""
    errors: dict[str, str] = {}

    def whole(name: str, key: str) -> int:
        raw = str(form.get(name) or "").strip()
        try:
            return int(raw)
        except ValueError:
            errors[key] = "Write a whole number." if raw else "Fill this in."
            return 0

    settings = service.ReplenishmentSettings(
        enabled=form.get("enabled") in ("on", "true", True),
        start_hour=whole("start_hour", "startHour"),
        end_hour=whole("end_hour", "endHour"),
        days=[i for i in range(7) if form.get(f"day_{i}") in ("on", "true", True)],
        order_queue_threshold=whole("order_queue_threshold", "orderQueueThreshold"),
        max_concurrent_stock_jobs=whole("max_concurrent_stock_jobs", "maxConcurrentStockJobs"),
        interval_minutes=whole("interval_minutes", "intervalMinutes"),
    )
    errors = {**service.settings_errors(settings), **errors}
    return (None if errors else settings), errors


class InventorySettingsState(AppState):
    inv: InventorySettingsView = InventorySettingsView()
    inv_errors: dict[str, str] = {}
    inv_version: int = 0  # the form's key: a save re-reads its defaults
    inv_loaded: bool = False
    inv_saving: bool = False

    @rx.var
    def inv_can_edit(self) -> bool:
        return "settings.write" in self.permissions

    async def _reload(self) -> None:
        """Read the settings; the form starts again from them only when they changed (a new
        key remounts it: on every load it closed a drop-down opened while the page loaded)."""
        view = await in_tenant(_view)
        if view != self.inv or not self.inv_version:
            self.inv, self.inv_version = view, self.inv_version + 1

    @guarded("settings.read", quiet=True)
    async def load(self):
        self.inv_errors = {}
        await self._reload()
        self.inv_loaded = True

    @guarded("settings.write")
    async def set_stock_management(self, on: bool):
        p = current_principal()
        try:
            await in_tenant(lambda s: service.set_stock_management(s, bool(on), actor=p))
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        await self._reload()
        if on:
            return rx.toast.success("Stock management is on: orders take what the shelf has before anything prints.")
        return rx.toast.success("Stock management is off: every order is printed and replenishment plans nothing.")

    @guarded("settings.write")
    async def save(self, form: dict):
        settings, errors = settings_from_form(form)
        if settings is None:
            self.inv_errors = errors
            return None
        p = current_principal()
        self.inv_saving = True
        try:
            saved = await in_tenant(lambda s: service.save_settings(s, settings, actor=p))
        except ValidationFailed as exc:
            fields = exc.details.get("fields")
            self.inv_errors = {str(k): str(v) for k, v in fields.items()} if fields else {"form": sentence(exc.message)}
            return None
        except DomainError as exc:
            self.inv_errors = {"form": sentence(exc.message)}
            return None
        finally:
            self.inv_saving = False
        self.inv_errors = {}
        await self._reload()
        state = "on" if saved.enabled else "off"
        return rx.toast.success(f"Replenishment saved ({state}): {settings_words(saved)}")
