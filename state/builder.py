"""/build: the public PC builder, and /b/<slug>: a shared build, read-only.

The URL is the build (seed 002: Empty/Partial/Complete live in the query):
every pick pushes a new history entry, and back/forward or a reload lands in
`load`, which rebuilds the page from the query. Every change is also kept in
this browser's storage, so coming back to /build without a query brings the
build back (a shared link or an explicit query wins). Every verdict, price
and suggestion comes from `app.builder.evaluation`, and what an order costs
from `app.builder.service.quote`; this state only shapes them. Money is
written in the shop's format (`storefront_format`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from decimal import Decimal, InvalidOperation

import reflex as rx
from babel import Locale, UnknownLocaleError

from app.builder import cookie as saved_cookie
from app.builder import evaluation, slotmap
from app.builder import service as builder
from app.builder.slotmap import SLOT_TITLES, SLOTS
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat
from app.platform.values import to_int
from app.settings import get_settings
from state.storefront import (
    StorefrontState,
    current_customer,
    customer_required,
    in_storefront,
    storefront_format,
    storefront_public,
)
from state.util import sentence

PAGE_SIZE = 20
CHOOSE = {
    "cpu": "Choose a CPU",
    "motherboard": "Choose a motherboard",
    "ram": "Choose memory",
    "gpu": "Choose a graphics card",
    "storage": "Choose storage",
    "psu": "Choose a power supply",
    "case": "Choose a case",
    "cooler": "Choose a CPU cooler",
}
SEVERITY_RANK = {"pass": 0, "info": 1, "warn": 2, "block": 3}
BANNERS = {
    "pass": "Everything fits together.",
    "info": "No problems found, but some checks could not be made (see below).",
    "warn": "This build works, with warnings worth reading.",
    "block": "Some parts do not fit together. You can still save it, or apply a suggested fix.",
}


EMPTY_BANNER = "Pick your parts: each one is checked against the rest of the build as you choose it."

#: Countries the shop ships PCs to (ISO codes; the dialog shows their names in the shop's language).
SHIP_TO = ("NL", "BE", "DE", "FR", "LU", "AT", "DK", "ES", "IT", "GB", "IE", "US")
#: The browser storage keys: the build being edited, and the address typed in the last order.
DRAFT_KEY = "shopfloor_build_draft"
ADDRESS_KEY = "shopfloor_order_address"
ADDRESS_KEYS = ("name", "email", "street", "house_number", "address2", "postal_code", "city", "country_code", "phone")


def money(amount: Decimal | None, currency: str = "", fmt: ShopFormat | None = None) -> str:
    """An amount as the storefront's shop writes it ("€1,234.00" / "1.234,00 €");
    "—" when unknown. Blocking without `fmt` (see `storefront_format`)."""
    return (fmt or storefront_format()).money(amount, currency or None)


def countries(fmt: ShopFormat) -> list[tuple[str, str]]:
    """(code, name in the shop's language) of the countries the shop ships to, by name."""
    try:
        names = Locale.parse(fmt.locale).territories
    except (UnknownLocaleError, ValueError):
        names = {}
    return sorted(((code, names.get(code, code)) for code in SHIP_TO), key=lambda c: c[1])


def draft_slots(value: str) -> dict[str, list[str]] | None:
    """The build kept in browser storage: None when there is none (or it is
    unreadable), {} when the customer cleared it."""
    try:
        data = json.loads(value) if value else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("slots"), dict):
        return None
    return slotmap.normalise(data["slots"])


def draft_value(slots: dict[str, list[str]]) -> str:
    return json.dumps({"slots": slotmap.normalise(slots)}, separators=(",", ":"))


def stored_address(value: str) -> dict[str, str]:
    """The address typed in this browser's last order (only the known fields, as text)."""
    try:
        data = json.loads(value) if value else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(data[k])[:200] for k in ADDRESS_KEYS if isinstance(data.get(k), str | int)}


@dataclasses.dataclass
class ChosenPart:
    """A part chosen for a slot; `index`: its place in the slot (multi slots hold several)."""

    index: int = 0
    id: str = ""
    name: str = ""
    price: str = ""  # "Not sold" when the shop does not sell it now
    available: bool = False
    availability: str = ""  # "In stock" | "2 left" | "Back-order" ("" when not sold)
    availability_tone: str = "gray"


@dataclasses.dataclass
class SlotCard:
    """A slot of the build (CPU, motherboard, …) and what is chosen for it."""

    slot: str = ""
    title: str = ""
    choose: str = ""  # the button that opens the picker
    multi: bool = False
    can_add: bool = False
    severity: str = ""  # worst verdict concerning the slot; "" when empty
    parts: list[ChosenPart] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class SuggestedFix:
    """A part the shop sells that resolves a verdict; `query`: the build with it, as a URL query."""

    label: str = ""
    price: str = ""
    query: str = ""


@dataclasses.dataclass
class OrderAddress:
    """What the order dialog's fields start with."""

    name: str = ""
    email: str = ""
    street: str = ""
    house_number: str = ""
    address2: str = ""
    postal_code: str = ""
    city: str = ""
    country_code: str = "NL"
    phone: str = ""


@dataclasses.dataclass
class OrderTotals:
    """What the order costs, written in the shop's format; `total_value` is
    the total as a number, sent back with the order so it is charged as shown."""

    parts: str = ""
    assembly: str = ""
    shipping: str = ""
    total: str = ""
    total_value: str = ""


@dataclasses.dataclass
class CountryOption:
    code: str = ""
    name: str = ""


@dataclasses.dataclass
class VerdictRow:
    """A compatibility check that did not pass (info, warn or block)."""

    rule: str = ""
    severity: str = ""
    message: str = ""
    slots: str = ""  # the slots concerned, in words
    suggestions: list[SuggestedFix] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class PickerItem:
    """A part in the picker, judged against the build."""

    id: str = ""
    name: str = ""
    manufacturer: str = ""
    price: str = ""
    stock: int = 0  # available: on hand - reserved for builds
    stock_text: str = ""  # "In stock" | "2 left" | "Back-order"
    stock_tone: str = "gray"
    summary: str = ""
    compatible: bool = True
    severity: str = ""
    reasons: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class FacetOption:
    value: str = ""
    label: str = ""


@dataclasses.dataclass
class PickerFacet:
    """A filter of the picker (socket, form factor, …) with its options."""

    key: str = ""
    title: str = ""
    selected: str = ""  # "__all__" for any
    options: list[FacetOption] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class BuildSummary:
    """A BuildView as the page shows it (not a state var: `_show` spreads it)."""

    rows: list[SlotCard]
    verdicts: list[VerdictRow]
    overall: str
    banner: str
    state: str
    draw_w: int
    total: str
    unavailable: list[str]
    not_checked: list[str]
    passes: int
    draw_parts: list[str]
    empty: bool


def availability_tone(words: str) -> str:
    """The colour of a part's availability: green in stock, amber a few left, orange on back-order."""
    if words == "In stock":
        return "green"
    if words == "Back-order":
        return "orange"
    return "amber" if words else "gray"


def build_summary(view: evaluation.BuildView, fmt: ShopFormat) -> BuildSummary:
    """A BuildView as plain data for the page, money in the shop's format. An
    empty build says what to do, never that everything fits."""
    rows = []
    for slot in SLOTS:
        parts = view.parts.get(slot, [])
        rows.append(
            SlotCard(
                slot=slot,
                title=SLOT_TITLES[slot],
                choose=CHOOSE[slot],
                multi=slot in slotmap.MULTI_SLOTS,
                can_add=len(parts) < slotmap.capacity(slot),
                severity=view.slot_severity.get(slot, "pass") if parts else "",
                parts=[
                    ChosenPart(
                        index=i,
                        id=p.part.id,
                        name=p.part.name,
                        price=fmt.money(p.price, p.currency or None) if p.available else "Not sold",
                        available=p.available,
                        availability=p.availability if p.available else "",
                        availability_tone=availability_tone(p.availability),
                    )
                    for i, p in enumerate(parts)
                ],
            )
        )
    verdicts = sorted(
        (
            VerdictRow(
                rule=v.rule,
                severity=v.severity,
                message=v.message,
                slots=", ".join(SLOT_TITLES.get(s, s) for s in v.slots),
                suggestions=[
                    SuggestedFix(
                        label=f"{SLOT_TITLES.get(sg.slot, sg.slot)}: {sg.name}",
                        price=fmt.money(sg.price, sg.currency or None),
                        query=slotmap.to_query(sg.slots),
                    )
                    for sg in v.suggestions
                ],
            )
            for v in view.verdicts
            if v.severity != "pass" and v.message not in view.not_checked
        ),
        key=lambda v: -SEVERITY_RANK[v.severity],
    )
    empty = not any(r.parts for r in rows)
    return BuildSummary(
        rows=rows,
        verdicts=verdicts,
        overall=view.overall,
        banner=EMPTY_BANNER if empty else BANNERS[view.overall],
        state=view.state,
        draw_w=view.draw_w,
        total=fmt.money(view.total, view.currency or None),
        unavailable=list(view.unavailable),
        not_checked=list(view.not_checked),
        passes=sum(1 for v in view.verdicts if v.severity == "pass"),
        draw_parts=[f"{label}: {watts} W" for label, watts in view.draw_parts],
        empty=empty,
    )


class BuildViewState(StorefrontState):
    """What a build looks like on a page: its slots, verdicts and prices."""

    rows: list[SlotCard] = []
    verdicts: list[VerdictRow] = []
    overall: str = "pass"
    banner: str = ""
    build_state: str = "Empty"
    draw_w: int = 0
    total_price: str = ""
    unavailable: list[str] = []
    not_checked: list[str] = []
    passes: int = 0
    draw_parts: list[str] = []
    is_empty: bool = True

    def _show(self, view: evaluation.BuildView, fmt: ShopFormat) -> None:
        d = build_summary(view, fmt)
        self.rows, self.verdicts = d.rows, d.verdicts
        self.overall, self.banner, self.build_state = d.overall, d.banner, d.state
        self.draw_w, self.total_price, self.passes = d.draw_w, d.total, d.passes
        self.unavailable, self.not_checked = d.unavailable, d.not_checked
        self.draw_parts, self.is_empty = d.draw_parts, d.empty


class BuilderState(BuildViewState):
    slots: dict[str, list[str]] = {}
    loaded: bool = False
    build_cookie: str = rx.Cookie(
        "", name=saved_cookie.COOKIE_NAME, max_age=saved_cookie.MAX_AGE_SECONDS, same_site="lax", path="/"
    )

    # the picker
    picker_open: bool = False
    picker_slot: str = ""
    picker_index: int = -1  # -1: add (multi slots) or replace (single slots)
    search: str = ""
    filters: dict[str, str] = {}
    compatible_only: bool = True
    sort: str = "price_asc"
    page: int = 0
    items: list[PickerItem] = []
    total: int = 0
    hidden_incompatible: int = 0
    facets: list[PickerFacet] = []

    # share / save dialogs
    share_url: str = ""
    share_open: bool = False
    save_name: str = "My build"
    save_open: bool = False

    # kept in this browser: the build being edited, the address of the last order
    draft: str = rx.LocalStorage("", name=DRAFT_KEY)
    last_address: str = rx.LocalStorage("", name=ADDRESS_KEY)

    # the order dialog
    order_open: bool = False
    order_address: OrderAddress = OrderAddress()
    order_totals: OrderTotals = OrderTotals()
    order_countries: list[CountryOption] = []
    order_blocks: bool = False
    order_error: str = ""
    order_field_errors: dict[str, str] = {}
    order_busy: bool = False
    placed_number: str = ""

    @rx.var
    def picker_title(self) -> str:
        return CHOOSE.get(self.picker_slot, "")

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @rx.var
    def has_parts(self) -> bool:
        return bool(self.slots)

    async def _refresh_view(self, remember: bool = True) -> None:
        """Evaluate the build and show it; `remember` keeps it in this browser too."""
        slots = self.slots

        def work(s):
            return evaluation.evaluate_build(s, slots), storefront_format()

        view, fmt = await in_storefront(work, commit=False)
        self.slots = view.slots
        self._show(view, fmt)
        if remember:
            self.draft = draft_value(self.slots)

    def _push_url(self) -> rx.event.EventSpec:
        url = slotmap.builder_url(self.slots)
        return rx.call_script(f"window.history.pushState(null, '', {json.dumps(url)})")

    @rx.event
    @storefront_public
    async def load(self):
        """on_load: the build is whatever the URL says. Without a query it is
        the build kept in this browser as it was last changed, else the build
        saved in this browser (its signed cookie), if any."""
        await self._load_customer()
        self.slots = slotmap.parse_query(self.router.url.query_parameters)
        self.picker_open = self.order_open = False
        self.placed_number = ""
        restored = ""
        if not self.slots:
            kept = draft_slots(self.draft)
            if kept:
                self.slots, restored = kept, "Your build is back as you left it."
            elif kept is None and self.build_cookie:
                value = self.build_cookie
                saved, _ = await in_storefront(lambda s: saved_cookie.decode_anonymous(s, value), commit=False)
                if saved:
                    self.slots, restored = saved, "Restored the build you saved in this browser."
        # an empty page does not overwrite what this browser keeps (a cleared build is kept as cleared)
        await self._refresh_view(remember=bool(self.slots))
        self.loaded = True
        if restored:
            return [
                rx.call_script(f"window.history.replaceState(null, '', {json.dumps(slotmap.builder_url(self.slots))})"),
                rx.toast.info(restored),
            ]
        return None

    # --- the picker -------------------------------------------------------------------

    async def _fetch_items(self) -> None:
        slots, slot = self.slots, self.picker_slot
        index = self.picker_index if self.picker_index >= 0 else None
        search, sort, number, compatible_only = self.search, self.sort, self.page, self.compatible_only
        filters = {k: v for k, v in self.filters.items() if v}

        def work(s):
            found = evaluation.pick_list(
                s,
                slots,
                slot,
                search=search,
                filters=filters,
                compatible_only=compatible_only,
                sort=sort,
                page=number,
                page_size=PAGE_SIZE,
                index=index,
            )
            return found, storefront_format()

        page, fmt = await in_storefront(work, commit=False)
        self.items = [
            PickerItem(
                id=it.part_id,
                name=it.name,
                manufacturer=it.manufacturer,
                price=fmt.money(it.price, it.currency or None),
                stock=it.stock,
                stock_text=it.availability,
                stock_tone=availability_tone(it.availability),
                summary=it.summary,
                compatible=it.compatible,
                severity=it.severity,
                reasons=list(it.reasons),
            )
            for it in page.items
        ]
        self.total, self.page = page.total, page.page
        self.hidden_incompatible = page.hidden_incompatible
        self.facets = [
            PickerFacet(
                key=key,
                title=page.filter_titles.get(key, key),
                selected=self.filters.get(key) or "__all__",
                options=[FacetOption(value="__all__", label=f"Any {page.filter_titles.get(key, key).lower()}")]
                + [FacetOption(value=str(v), label=f"{v} ({n})") for v, n in values if str(v)],
            )
            for key, values in page.facets.items()
        ]

    @rx.event
    @storefront_public
    async def open_picker(self, slot: str, index: int = -1):
        if slot not in SLOTS:
            return None
        self.picker_slot, self.picker_index = slot, to_int(index, -1)
        self.search, self.filters, self.sort, self.page = "", {}, "price_asc", 0
        self.compatible_only = True
        self.picker_open = True
        await self._fetch_items()

    @rx.event
    @storefront_public
    def close_picker(self):
        self.picker_open = False

    @rx.event
    @storefront_public
    async def picker_open_change(self, value: bool):
        self.picker_open = bool(value)

    @rx.event
    @storefront_public
    async def set_search(self, value: str):
        self.search, self.page = (value or "")[:100], 0
        await self._fetch_items()

    @rx.event
    @storefront_public
    async def set_filter(self, key: str, value: str):
        self.filters = {**self.filters, key: "" if value == "__all__" else value}
        self.page = 0
        await self._fetch_items()

    @rx.event
    @storefront_public
    async def set_compatible_only(self, value: bool):
        self.compatible_only, self.page = bool(value), 0
        await self._fetch_items()

    @rx.event
    @storefront_public
    async def set_sort(self, value: str):
        self.sort = value if value in ("price_asc", "price_desc", "name") else "price_asc"
        self.page = 0
        await self._fetch_items()

    @rx.event
    @storefront_public
    async def go_page(self, delta: int):
        self.page = min(max(0, self.page + to_int(delta, 0)), self.page_count - 1)
        await self._fetch_items()

    # --- changing the build -------------------------------------------------------------

    @rx.event
    @storefront_public
    async def choose(self, part_id: str):
        slot, index = self.picker_slot, self.picker_index
        current = list(self.slots.get(slot, []))
        if slot in slotmap.MULTI_SLOTS:
            if 0 <= index < len(current):
                current[index] = part_id
            else:
                current.append(part_id)
        else:
            current = [part_id]
        self.slots = slotmap.normalise({**self.slots, slot: current})
        self.picker_open = False
        await self._refresh_view()
        return self._push_url()

    @rx.event
    @storefront_public
    async def remove(self, slot: str, index: int):
        current = list(self.slots.get(slot, []))
        if 0 <= to_int(index, -1) < len(current):
            current.pop(to_int(index, -1))
        self.slots = slotmap.normalise({**self.slots, slot: current})
        await self._refresh_view()
        return self._push_url()

    @rx.event
    @storefront_public
    async def clear_all(self):
        self.slots = {}
        await self._refresh_view()
        return self._push_url()

    @rx.event
    @storefront_public
    async def apply_suggestion(self, query: str):
        """One click on a suggested part: the build becomes the suggestion's slot map."""
        self.slots = slotmap.parse_query(dict(p.split("=", 1) for p in query.split("&") if "=" in p))
        await self._refresh_view()
        return [self._push_url(), rx.toast.success("Suggested part applied.")]

    # --- saving and sharing -------------------------------------------------------------

    @rx.event
    @storefront_public
    async def save(self):
        """Save: into the account when a customer is signed in, otherwise in a
        signed cookie in this browser (claimed into the account at sign-in)."""
        principal = await self._load_customer()
        if principal is not None:
            self.save_open = True
            return None
        slots, previous = self.slots, self.build_cookie
        self.build_cookie = await in_storefront(lambda s: saved_cookie.encode_anonymous(s, slots, previous=previous))
        return rx.toast.success("Saved in this browser. Sign in or create an account to keep it for good.")

    @rx.event
    @customer_required
    async def save_to_account(self, form: dict):
        name = (form.get("name") or "").strip() or "My build"
        customer, slots = current_customer(), self.slots
        saved = await in_storefront(lambda s: builder.save_build(s, customer, slots, name))
        self.save_open = False
        return rx.toast.success(f"Saved “{saved.name}” to My builds.")

    @rx.event
    @storefront_public
    def set_save_open(self, value: bool):
        self.save_open = bool(value)

    @rx.event
    @storefront_public
    async def share(self):
        principal = await self._load_customer()
        slots, cookie_value = self.slots, self.build_cookie

        def work(s):
            return builder.share_slots(s, slots, principal, cookie_value=cookie_value)

        result = await in_storefront(work)
        if result.cookie_value is not None:
            self.build_cookie = result.cookie_value
        self.share_url = f"{get_settings().app_url.rstrip('/')}/b/{result.slug}"
        self.share_open = True
        return None

    @rx.event
    @storefront_public
    def set_share_open(self, value: bool):
        self.share_open = bool(value)

    # --- ordering the build -----------------------------------------------------------

    async def _quote(self) -> tuple[OrderTotals, bool, list[str], ShopFormat]:
        slots = self.slots

        def work(s):
            view = evaluation.evaluate_build(s, slots)
            return view, builder.quote(s, view), storefront_format()

        view, price, fmt = await in_storefront(work, commit=False)
        totals = OrderTotals(
            parts=fmt.money(price.parts, price.currency or None),
            assembly=fmt.money(price.assembly, price.currency or None),
            shipping=fmt.money(price.shipping, price.currency or None),
            total=fmt.money(price.total, price.currency or None),
            total_value=str(price.total),
        )
        blocks = any(v.severity == "block" for v in view.verdicts)
        return totals, blocks, list(view.unavailable), fmt

    @rx.event
    @storefront_public
    async def open_order(self):
        """The order dialog: what the PC costs, and the address to ship it to,
        filled in from the customer's last order (signed in) or from what was
        typed in this browser last time."""
        if not self.slots:
            return rx.toast.error("Add parts to the build before ordering it.")
        principal = await self._load_customer()
        totals, blocks, unavailable, fmt = await self._quote()
        if unavailable:
            return rx.toast.error(
                "The shop does not sell these parts at the moment: " + "; ".join(unavailable) + ". Choose others first."
            )
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
        self.order_totals, self.order_blocks = totals, blocks
        self.order_countries = [CountryOption(code, name) for code, name in await asyncio.to_thread(countries, fmt)]
        self.order_error, self.order_field_errors, self.order_busy = "", {}, False
        self.order_open = True
        return None

    @rx.event
    @storefront_public
    def set_order_open(self, value: bool):
        self.order_open = bool(value)

    @rx.event
    @storefront_public
    async def place_order(self, form: dict):
        """Order the build at the amounts the dialog shows. The address typed
        is kept in this browser for the next order; problems show in the dialog."""
        typed = {k: " ".join(str(form.get(k) or "").split()) for k in ADDRESS_KEYS}
        self.last_address = json.dumps({k: v for k, v in typed.items() if k != "email" or v})
        self.order_address = OrderAddress(**{**typed, "country_code": typed["country_code"] or "NL"})
        self.order_error, self.order_field_errors = "", {}
        principal = await self._load_customer()
        slots, acknowledge = self.slots, form.get("acknowledge") in ("on", True, "true")
        try:
            expected = Decimal(self.order_totals.total_value)
        except InvalidOperation:
            expected = None

        def work(s):
            return builder.order_slots(
                s,
                slots,
                typed,
                customer=principal,
                email=typed["email"],
                acknowledge_blocks=acknowledge,
                expected_total=expected,
            )

        try:
            order = await in_storefront(work)
        except DomainError as exc:
            fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
            self.order_field_errors = {k: sentence(str(v)) for k, v in (fields or {}).items()}
            self.order_error = sentence(exc.message, friendly=True)
            if exc.code == "price_changed":
                self.order_totals, self.order_blocks, _, _ = await self._quote()
            return None
        self.order_open = False
        self.placed_number = order.number
        return rx.toast.success(f"Thank you! Order {order.number} is placed.")


class SharedBuildState(BuildViewState):
    """/b/<slug>: a shared build, read-only; a deleted one is gone (410)."""

    name: str = ""
    query: str = ""
    gone: bool = False
    missing: bool = False
    loaded: bool = False

    def _slug(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    @rx.event
    @storefront_public
    async def load(self):
        from app.platform.errors import Gone, NotFound

        await self._load_customer()
        self.gone = self.missing = False
        self.loaded = False
        slug = self._slug()
        try:
            saved = await in_storefront(lambda s: builder.get_shared(s, slug), commit=False)
        except Gone:
            self.gone, self.loaded = True, True
            return None
        except NotFound:
            self.missing, self.loaded = True, True
            return None
        slots = saved.slots

        def work(s):
            return evaluation.evaluate_build(s, slots), storefront_format()

        view, fmt = await in_storefront(work, commit=False)
        self.name = saved.name
        self._show(view, fmt)
        self.query = slotmap.to_query(view.slots)
        self.loaded = True
        return None
