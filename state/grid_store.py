"""/gridfinity on the storefront (the staff generator has /grid): a customer types a drawer's size, picks magnets
and a connector, and sees the baseplate in 3D, how many plates it prints
as, the price and the print time; then orders it.

The quote is the grid service's arithmetic (no geometry), so it answers as
the customer types; the 3D view follows when the browser has fetched the
preview GLB from the public route (`app.grid.preview_api`). The printer is
the shop's. Ordering mirrors the PC builder's checkout: a guest gives a
name, an email address and where to ship; a signed-in customer's email is
their account's, and the address typed last in this browser comes back.
The order then runs the same pipeline as a Shopify order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from decimal import Decimal, InvalidOperation
from typing import cast

import reflex as rx
from sqlmodel import Session

from app.builder import service as builder
from app.grid import service
from app.grid.geometry.spec import Connector, GridOptions, Magnets
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat
from app.settings import get_settings
from state.builder import (
    ADDRESS_KEY,
    ADDRESS_KEYS,
    SHIP_TO,
    CountryOption,
    OrderAddress,
    countries,
    stored_address,
)
from state.grid import CONNECTOR_WORDS, MAGNET_WORDS, drawer_words, grams, length_error, mm, print_time
from state.storefront import StorefrontState, in_storefront, storefront_format, storefront_public
from state.util import sentence

PREVIEW_PATH = "/api/v1/shop/grid/preview.glb"  # app.grid.preview_api


@dataclasses.dataclass
class StoreQuote:
    """What the customer sees of the drawer typed ("" price: nothing yet)."""

    plates: int = 0
    unique_shapes: int = 0
    cells: str = ""
    plate: str = ""
    grams: str = ""
    print_time: str = ""
    price: str = ""
    price_value: str = ""  # sent back with the order: charged as shown
    problems: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ShopGrid:
    """What the page needs of the shop."""

    enabled: bool = False
    printer: str = ""
    bed: str = ""
    max_mm: float = 1000.0
    max_words: str = "1,000 mm"
    max_sync_cells: int = 256


@dataclasses.dataclass(frozen=True)
class DrawerInput:
    width: str = ""
    depth: str = ""
    magnets: str = "press-fit"
    connector: str = "intersection-puzzle"


def shop_grid(s: Session) -> ShopGrid:
    st = service.grid_settings(s)
    p = st.profile()
    return ShopGrid(
        enabled=st.enabled,
        printer=p.name,
        bed=f"{mm(p.bed_width_mm)} × {mm(p.bed_depth_mm)} mm",
        max_mm=st.max_dimension_mm,
        max_words=f"{st.max_dimension_mm:,.0f} mm",
        max_sync_cells=st.max_sync_grid_size,
    )


def drawer_options(d: DrawerInput, shop: ShopGrid) -> tuple[GridOptions | None, dict[str, str]]:
    errors: dict[str, str] = {}
    width, e = length_error(d.width, "Drawer width", shop.max_mm)
    if e:
        errors["width"] = e
    depth, e = length_error(d.depth, "Drawer depth", shop.max_mm)
    if e:
        errors["depth"] = e
    if errors:
        return None, errors
    options = GridOptions(
        drawer_width_mm=width,
        drawer_depth_mm=depth,
        magnets=cast(Magnets, d.magnets if d.magnets in MAGNET_WORDS else "none"),
        connector=cast(Connector, d.connector if d.connector in CONNECTOR_WORDS else "intersection-puzzle"),
    )
    return options, {}


def preview_src(options: GridOptions) -> str:
    query = (
        f"width={mm(options.drawer_width_mm)}&depth={mm(options.drawer_depth_mm)}"
        f"&magnets={options.magnets}&connector={options.connector}"
    )
    return f"{get_settings().api_url.rstrip('/')}{PREVIEW_PATH}?{query}"


@dataclasses.dataclass
class Quoted:
    quote: StoreQuote
    errors: dict[str, str]
    preview: str
    preview_note: str


def quote_drawer(s: Session, d: DrawerInput, fmt: ShopFormat) -> Quoted:
    shop = shop_grid(s)
    options, errors = drawer_options(d, shop)
    if options is None:
        return Quoted(StoreQuote(), errors, "", "")
    try:
        q = service.quote_for(s, options)
    except DomainError as exc:
        return Quoted(StoreQuote(), {"form": sentence(exc.message, friendly=True)}, "", "")
    view = StoreQuote(
        plates=q.segments,
        unique_shapes=q.unique_shapes,
        cells=f"{q.cells_x:g} × {q.cells_y:g}",
        plate=drawer_words(q.plate_width_mm, q.plate_depth_mm),
        grams=grams(q.filament_g, fmt),
        print_time=print_time(q.print_seconds),
        price=fmt.money(q.price, q.currency or None),
        price_value=str(q.price),
        problems=[sentence(p, friendly=True) for p in q.problems],
    )
    if q.problems:
        return Quoted(view, {}, "", "")
    if q.cells_x * q.cells_y > shop.max_sync_cells:
        return Quoted(view, {}, "", "This drawer is too large for the instant 3D view; its plates are made to order.")
    return Quoted(view, {}, preview_src(options), "")


class GridStoreState(StorefrontState):
    shop: ShopGrid = ShopGrid()
    loaded: bool = False
    drawer: DrawerInput = DrawerInput()
    errors: dict[str, str] = {}
    quote: StoreQuote = StoreQuote()
    preview: str = ""
    preview_note: str = ""

    # kept in this browser: the address typed in the last order (the builder's too)
    last_address: str = rx.LocalStorage("", name=ADDRESS_KEY)

    # the order dialog
    order_open: bool = False
    order_address: OrderAddress = OrderAddress()
    order_countries: list[CountryOption] = []
    order_error: str = ""
    order_field_errors: dict[str, str] = {}
    placed_number: str = ""

    @rx.var
    def quoted(self) -> bool:
        return self.quote.price != "" and not self.quote.problems

    @rx.event
    @storefront_public
    async def load(self):
        await self._load_customer()
        self.shop = await in_storefront(shop_grid, commit=False)
        self.order_open, self.loaded = False, True
        if self.drawer.width or self.drawer.depth:
            await self._requote()

    async def _requote(self) -> None:
        d = self.drawer

        def work(s: Session) -> Quoted:
            return quote_drawer(s, d, storefront_format())

        result = await in_storefront(work, commit=False)
        self.quote, self.errors = result.quote, result.errors
        self.preview, self.preview_note = result.preview, result.preview_note

    async def _change(self, **changes: str) -> None:
        self.drawer = dataclasses.replace(self.drawer, **{k: v.strip()[:40] for k, v in changes.items()})
        self.placed_number = ""
        await self._requote()

    @rx.event
    @storefront_public
    async def set_width(self, value: str):
        await self._change(width=value)

    @rx.event
    @storefront_public
    async def set_depth(self, value: str):
        await self._change(depth=value)

    @rx.event
    @storefront_public
    async def set_magnets(self, value: bool):
        await self._change(magnets="press-fit" if value else "none")

    @rx.event
    @storefront_public
    async def set_connector(self, value: str):
        await self._change(connector=value if value in CONNECTOR_WORDS else "intersection-puzzle")

    # --- ordering ---------------------------------------------------------------------------

    @rx.event
    @storefront_public
    async def open_order(self):
        """The order dialog: the price, and the address to ship to, filled in
        from the customer's last order (signed in) or what this browser typed last."""
        await self._requote()
        if not self.quoted:
            return rx.toast.error("Type your drawer's width and depth first.")
        principal = await self._load_customer()
        typed = stored_address(self.last_address)
        if principal is not None:
            previous = await in_storefront(lambda s: builder.last_address(s, principal), commit=False)
            start = {**typed, **{k: v for k, v in previous.items() if v}} if previous else typed
            start["email"] = principal.email
            start.setdefault("name", principal.name)
        else:
            start = typed
        fields = {k: v for k, v in start.items() if k in OrderAddress.__dataclass_fields__ and v}
        country = fields.get("country_code", "").upper()
        fields["country_code"] = country if country in SHIP_TO else "NL"
        self.order_address = OrderAddress(**fields)
        fmt = await asyncio.to_thread(storefront_format)
        self.order_countries = [CountryOption(code, name) for code, name in await asyncio.to_thread(countries, fmt)]
        self.order_error, self.order_field_errors = "", {}
        self.order_open = True
        return None

    @rx.event
    @storefront_public
    def set_order_open(self, value: bool):
        self.order_open = bool(value)

    @rx.event
    @storefront_public
    async def place_order(self, form: dict):
        """Order the plates at the price the dialog shows; problems show in the dialog."""
        typed = {k: " ".join(str(form.get(k) or "").split())[:200] for k in ADDRESS_KEYS}
        self.last_address = json.dumps({k: v for k, v in typed.items() if k != "email" or v})
        self.order_address = OrderAddress(**{**typed, "country_code": typed["country_code"] or "NL"})
        self.order_error, self.order_field_errors = "", {}
        principal = await self._load_customer()
        shop = self.shop
        options, errors = drawer_options(self.drawer, shop)
        if options is None:
            self.order_error = " ".join(errors.values())
            return None
        try:
            expected = Decimal(self.quote.price_value)
        except InvalidOperation:
            expected = None

        def work(s: Session):
            return service.place_storefront_order(
                s,
                options,
                customer_name=typed["name"] or (principal.name if principal else ""),
                customer_email=principal.email if principal else typed["email"],
                address=typed,
                expected_price=expected,
                customer_id=principal.customer_id if principal else None,
            )

        try:
            order = await in_storefront(work)
        except DomainError as exc:
            fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
            self.order_field_errors = {k: sentence(str(v)) for k, v in (fields or {}).items()}
            self.order_error = sentence(exc.message, friendly=True)
            if exc.code == "price_changed":
                await self._requote()
            return None
        self.order_open = False
        self.placed_number = order.number
        return rx.toast.success(f"Thank you! Order {order.number} is placed.")
