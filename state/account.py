"""Customer accounts: sign-in / sign-up pages and /account/builds.

Passwords never pass through Reflex state: the forms post straight from the
browser to /api/v1/shop/customers/{login,signup}, which set the HttpOnly
customer cookie and, in the same response, claim the build saved in this
browser (seed ADR-0003). Only the outcome comes back here.
"""

from __future__ import annotations

import dataclasses

import reflex as rx
from sqlmodel import Session

from app.builder import evaluation, slotmap
from app.builder import service as builder
from app.customers.service import CustomerPrincipal
from app.settings import get_settings
from state.builder import money
from state.storefront import StorefrontState, current_customer, customer_required, in_storefront, storefront_public

COUNTRIES = ["NL", "BE", "DE", "FR", "LU", "AT", "DK", "ES", "IT", "GB", "IE", "US"]


class CustomerAuthState(StorefrontState):
    error: str = ""
    busy: bool = False

    @rx.event
    @storefront_public
    async def on_open(self):
        self.error, self.busy = "", False
        if await self._load_customer() is not None:
            return rx.redirect("/account/builds")
        return None

    @rx.event
    @storefront_public
    def start(self):
        self.busy, self.error = True, ""

    @rx.event
    @storefront_public
    def finish(self, result: dict):
        if not result or not result.get("ok"):
            self.busy = False
            self.error = (result or {}).get("message") or "That did not work. Please try again."


@dataclasses.dataclass
class SavedBuildRow:
    """One build saved in the customer's account."""

    id: str = ""
    name: str = ""
    updated: str = ""
    overall: str = ""  # the verdict: pass | info | warn | block
    state: str = ""  # Empty | Partial | Complete
    total: str = ""  # "€ 1.234,00"
    parts: int = 0
    query: str = ""  # the builder's query string for this build
    share_url: str = ""  # "" while it is not shared


class AccountBuildsState(StorefrontState):
    builds: list[SavedBuildRow] = []
    loaded: bool = False
    # rename
    rename_id: str = ""
    rename_open: bool = False
    rename_value: str = ""
    # share
    share_url: str = ""
    share_open: bool = False
    # order
    order_id: str = ""
    order_name: str = ""
    order_blocks: bool = False
    order_open: bool = False
    order_error: str = ""
    placed_number: str = ""

    def _fetch(self, session: Session, customer: CustomerPrincipal) -> list[SavedBuildRow]:
        app_url = get_settings().app_url.rstrip("/")
        rows: list[SavedBuildRow] = []
        for b in builder.list_builds(session, customer):
            view = evaluation.evaluate_build(session, b.slots)
            rows.append(
                SavedBuildRow(
                    id=str(b.id),
                    name=b.name,
                    updated=b.updated_at.strftime("%d %b %Y %H:%M"),
                    overall=view.overall,
                    state=view.state,
                    total=money(view.total, view.currency),
                    parts=sum(len(v) for v in view.slots.values()),
                    query=slotmap.to_query(view.slots),
                    share_url=f"{app_url}/b/{b.share_slug}" if b.share_slug else "",
                )
            )
        return rows

    async def _reload(self) -> None:
        customer = current_customer()
        self.builds = await in_storefront(lambda s: self._fetch(s, customer), commit=False)
        self.loaded = True

    @rx.event
    @customer_required
    async def load(self):
        self.placed_number = ""
        await self._reload()

    @rx.event
    @customer_required
    async def duplicate(self, build_id: str):
        customer = current_customer()
        copy = await in_storefront(lambda s: builder.duplicate(s, customer, build_id))
        await self._reload()
        return rx.toast.success(f"Duplicated as “{copy.name}”.")

    @rx.event
    @customer_required
    async def delete(self, build_id: str):
        customer = current_customer()
        await in_storefront(lambda s: builder.delete(s, customer, build_id))
        await self._reload()
        return rx.toast.success("Build deleted. Its share link no longer works.")

    @rx.event
    @customer_required
    async def start_rename(self, build_id: str, name: str):
        self.rename_id, self.rename_value, self.rename_open = build_id, name, True

    @rx.event
    @customer_required
    async def set_rename_open(self, value: bool):
        self.rename_open = bool(value)

    @rx.event
    @customer_required
    async def rename(self, form: dict):
        customer, build_id, name = current_customer(), self.rename_id, (form.get("name") or "").strip()
        await in_storefront(lambda s: builder.rename(s, customer, build_id, name))
        self.rename_open = False
        await self._reload()
        return rx.toast.success("Renamed.")

    @rx.event
    @customer_required
    async def share(self, build_id: str):
        customer = current_customer()
        slug = await in_storefront(lambda s: builder.share(s, customer, build_id))
        self.share_url = f"{get_settings().app_url.rstrip('/')}/b/{slug}"
        self.share_open = True
        await self._reload()

    @rx.event
    @customer_required
    async def set_share_open(self, value: bool):
        self.share_open = bool(value)

    @rx.event
    @customer_required
    async def start_order(self, build_id: str):
        found = next((b for b in self.builds if b.id == build_id), None)
        if found is None:
            return rx.toast.error("That build is no longer here.")
        self.order_id, self.order_name = build_id, found.name
        self.order_blocks = found.overall == "block"
        self.order_error, self.placed_number = "", ""
        self.order_open = True
        return None

    @rx.event
    @customer_required
    async def set_order_open(self, value: bool):
        self.order_open = bool(value)

    @rx.event
    @customer_required
    async def place_order(self, form: dict):
        from app.platform.errors import DomainError

        customer, build_id = current_customer(), self.order_id
        address = {
            k: (form.get(k) or "").strip()
            for k in ("name", "street", "house_number", "address2", "postal_code", "city", "country_code", "phone")
        }
        acknowledge = form.get("acknowledge") in ("on", True, "true")
        try:
            order = await in_storefront(
                lambda s: builder.order_build(s, customer, build_id, address, acknowledge_blocks=acknowledge)
            )
        except DomainError as exc:
            self.order_error = exc.message[0].upper() + exc.message[1:]
            return None
        self.order_open = False
        self.placed_number = order.number
        return rx.toast.success(f"Thank you! Order {order.number} is placed.")


__all__ = ["COUNTRIES", "AccountBuildsState", "CustomerAuthState", "SavedBuildRow"]
