"""Customer accounts: sign-in / sign-up pages, /account (My orders) and
/account/builds (My builds).

Passwords never pass through Reflex state: the forms post straight from the
browser to /api/v1/shop/customers/{login,signup}, which set the HttpOnly
customer cookie and, in the same response, claim the build saved in this
browser (seed ADR-0003). Only the outcome comes back here.
"""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal, InvalidOperation

import reflex as rx
from sqlmodel import Session

from app.builder import evaluation, slotmap
from app.builder import service as builder
from app.customers import builds_view
from app.customers.service import CustomerPrincipal
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat, of_tenant
from app.settings import get_settings
from state.builder import SHIP_TO, CountryOption, OrderAddress, OrderTotals, countries
from state.customer_build import StepRow, step_rows
from state.storefront import (
    StorefrontState,
    current_customer,
    customer_required,
    in_storefront,
    storefront_format,
    storefront_public,
)
from state.util import sentence

#: The fields of the order dialog's address form (the keys `builder.clean_address` knows).
ORDER_FIELDS = ("name", "street", "house_number", "address2", "postal_code", "city", "country_code", "phone")


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
    updated: str = ""  # when it last changed, in the shop's format
    overall: str = ""  # the verdict: pass | info | warn | block
    state: str = ""  # Empty | Partial | Complete
    total: str = ""  # its parts, in the shop's money format
    parts: int = 0
    query: str = ""  # the builder's query string for this build
    share_url: str = ""  # "" while it is not shared


def order_totals(price: builder.OrderQuote, fmt: ShopFormat) -> OrderTotals:
    """A quote as the order dialog shows it: each amount in the shop's format,
    and the total as a number, which the order is then placed with."""
    currency = price.currency or None
    return OrderTotals(
        parts=fmt.money(price.parts, currency),
        assembly=fmt.money(price.assembly, currency),
        shipping=fmt.money(price.shipping, currency),
        total=fmt.money(price.total, currency),
        total_value=str(price.total),
    )


@dataclasses.dataclass(frozen=True)
class OrderOffer:
    """What the order dialog of a saved build opens with (plain data, spread
    into the state by `AccountBuildsState.start_order`)."""

    name: str
    parts: int  # how many parts the build has (0: nothing to order yet)
    unavailable: list[str]  # parts the shop does not sell now
    blocks: bool  # parts that do not fit together (the customer must confirm)
    totals: OrderTotals
    address: OrderAddress


def order_offer(session: Session, customer: CustomerPrincipal, build_id: str, fmt: ShopFormat) -> OrderOffer:
    """The customer's own build as its order dialog shows it: the quote the
    order will be charged (`builder.quote`), and the address of their last
    order to start from (their own name when they have not ordered yet)."""
    build = builder.get_build(session, customer, build_id)
    view = evaluation.evaluate_build(session, build.slots)
    previous = builder.last_address(session, customer)
    start = {k: v for k, v in previous.items() if k in ORDER_FIELDS and v}
    start.setdefault("name", customer.name)
    country = start.get("country_code", "").upper()
    start["country_code"] = country if country in SHIP_TO else "NL"
    return OrderOffer(
        name=build.name,
        parts=len(slotmap.part_ids(view.slots)),
        unavailable=list(view.unavailable),
        blocks=any(v.severity == "block" for v in view.verdicts),
        totals=order_totals(builder.quote(session, view), fmt),
        address=OrderAddress(**start),
    )


def expected_total(totals: OrderTotals) -> Decimal | None:
    """The total the dialog showed, as the amount the order must come to."""
    try:
        return Decimal(totals.total_value) if totals.total_value else None
    except InvalidOperation:
        return None


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
    # order: the dialog shows `order_totals`, and the order is placed with its total
    order_id: str = ""
    order_name: str = ""
    order_blocks: bool = False
    order_open: bool = False
    order_error: str = ""
    order_field_errors: dict[str, str] = {}
    order_totals: OrderTotals = OrderTotals()
    order_address: OrderAddress = OrderAddress()
    order_countries: list[CountryOption] = []
    order_busy: bool = False
    placed_number: str = ""

    def _fetch(self, session: Session, customer: CustomerPrincipal) -> list[SavedBuildRow]:
        app_url = get_settings().app_url.rstrip("/")
        fmt = storefront_format()
        rows: list[SavedBuildRow] = []
        for b in builder.list_builds(session, customer):
            view = evaluation.evaluate_build(session, b.slots)
            rows.append(
                SavedBuildRow(
                    id=str(b.id),
                    name=b.name,
                    updated=fmt.when(b.updated_at),
                    overall=view.overall,
                    state=view.state,
                    total=fmt.money(view.total, view.currency or None),
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
        self.order_open = False
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

    # --- ordering a saved build ---------------------------------------------------------

    async def _offer(self, build_id: str) -> tuple[OrderOffer, ShopFormat]:
        customer = current_customer()

        def work(s):
            fmt = storefront_format()
            return order_offer(s, customer, build_id, fmt), fmt

        return await in_storefront(work, commit=False)

    @rx.event
    @customer_required
    async def start_order(self, build_id: str):
        """The order dialog: what the PC costs at today's prices (parts,
        assembly and testing, shipping) and the address of the last order."""
        offer, fmt = await self._offer(build_id)
        if not offer.parts:
            return rx.toast.error("This build has no parts yet. Open it in the builder and add parts first.")
        if offer.unavailable:
            return rx.toast.error(
                "The shop does not sell these parts at the moment: "
                + "; ".join(offer.unavailable)
                + ". Open the build in the builder and choose others first."
            )
        self.order_countries = [CountryOption(code, name) for code, name in await asyncio.to_thread(countries, fmt)]
        self.order_id, self.order_name = build_id, offer.name
        self.order_totals, self.order_blocks, self.order_address = offer.totals, offer.blocks, offer.address
        self.order_error, self.order_field_errors, self.order_busy = "", {}, False
        self.placed_number = ""
        self.order_open = True
        return None

    @rx.event
    @customer_required
    async def set_order_open(self, value: bool):
        self.order_open = bool(value)

    @rx.event
    @customer_required
    async def order_submitting(self):
        """The Place order button waits while the order is placed."""
        self.order_busy = True

    @rx.event
    @customer_required
    async def place_order(self, form: dict):
        """Order the build at the total the dialog shows: when its price changed
        in the meantime nothing is ordered, and the dialog says so with the new
        total. Problems with the address show next to their fields."""
        try:
            return await self._place_order(form)
        finally:
            self.order_busy = False

    async def _place_order(self, form: dict):
        # a second click queued behind the first finds the dialog closed: one order only
        if not self.order_open or not self.order_id:
            return None
        customer, build_id = current_customer(), self.order_id
        typed = {k: " ".join(str(form.get(k) or "").split()) for k in ORDER_FIELDS}
        self.order_address = OrderAddress(**{**typed, "country_code": typed["country_code"] or "NL"})
        self.order_error, self.order_field_errors = "", {}
        acknowledge = form.get("acknowledge") in ("on", True, "true")
        expected = expected_total(self.order_totals)

        def work(s):
            return builder.order_build(
                s, customer, build_id, typed, acknowledge_blocks=acknowledge, expected_total=expected
            )

        try:
            order = await in_storefront(work)
        except DomainError as exc:
            fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
            self.order_field_errors = {k: sentence(str(v)) for k, v in (fields or {}).items()}
            self.order_error = sentence(exc.message, friendly=True)
            if exc.code == "price_changed":
                offer, _ = await self._offer(build_id)
                self.order_totals, self.order_blocks = offer.totals, offer.blocks
                self.order_error += f" The new total is {offer.totals.total}."
            return None
        self.order_open, self.order_id = False, ""
        self.placed_number = order.number
        return rx.toast.success(f"Thank you! Order {order.number} is placed.")


@dataclasses.dataclass
class OrderRow:
    """One of the customer's orders on My orders."""

    id: str = ""
    number: str = ""
    placed: str = ""  # the day, in the shop's format
    status: str = ""  # ORDER_STATUS value (its badge says the words)
    fulfillment: str = ""  # FULFILLMENT_STATUS value
    total: str = ""  # in the shop's money format
    tracking_number: str = ""
    tracking_url: str = ""  # "" when the carrier gave no web address
    tracking_carrier: str = ""
    is_pc: bool = False
    build_path: str = ""  # the build page, "" until the build has started
    steps: list[StepRow] = dataclasses.field(default_factory=list)
    done: int = 0  # how many of the steps are done
    percent: int = 0


def order_rows(orders: list[builds_view.OrderSummary], fmt: ShopFormat) -> list[OrderRow]:
    """The customer's orders in the shop's words and formats."""
    rows = []
    for o in orders:
        done = sum(1 for s in o.progress if s.state == "done")
        rows.append(
            OrderRow(
                id=str(o.id),
                number=o.number,
                placed=fmt.day(o.placed_at),
                status=o.status,
                fulfillment=o.fulfillment_status,
                total=fmt.money(o.total, o.currency),
                tracking_number=o.tracking_number,
                tracking_url=o.tracking_url,
                tracking_carrier=o.tracking_carrier,
                is_pc=o.is_pc,
                build_path=o.build_path,
                steps=step_rows(o.progress),
                done=done,
                percent=round(100 * done / len(o.progress)) if o.progress else 0,
            )
        )
    return rows


class AccountOrdersState(StorefrontState):
    """/account: the signed-in customer's orders (never anyone else's)."""

    orders: list[OrderRow] = []
    loaded: bool = False

    @rx.event
    @customer_required
    async def load(self):
        customer: CustomerPrincipal = current_customer()
        found = await in_storefront(lambda s: builds_view.customer_orders(s, customer), commit=False)
        fmt = await asyncio.to_thread(of_tenant, customer.tenant_id)
        self.orders = order_rows(found, fmt)
        self.loaded = True


__all__ = [
    "ORDER_FIELDS",
    "AccountBuildsState",
    "AccountOrdersState",
    "CustomerAuthState",
    "OrderOffer",
    "OrderRow",
    "SavedBuildRow",
    "expected_total",
    "order_offer",
    "order_rows",
    "order_totals",
]
