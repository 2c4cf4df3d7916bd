"""/repairs/qc, the QC workbench: the triage queue (devices received or in
triage, oldest first) with a triage dialog (result, repair codes found,
notes, "awaiting parts"), and the open beyond-economic-repair reviews with
their figures, an estimate dialog and a decide dialog (scrapping asks to be
sure first).

The view (triage or BER review) and the search live in the URL (state/
paging.py); the page follows the repairs live channel, so an asset triaged
or a review decided elsewhere leaves the queue without a reload. Every rule
comes from `app.repairs.service.qc`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

import reflex as rx

from app.platform.db import tenant_session
from app.platform.errors import DomainError, ValidationFailed
from app.platform.formatting import ShopFormat, of_tenant
from app.repairs import machine
from app.repairs.service import qc
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, rows_of_page
from state.util import sentence

PATH = "/repairs/qc"
READ, WRITE = qc.READ, qc.WRITE
VIEWS = ("triage", "ber")
MAX_MATCHES = 40  # repair codes listed under the code search at once
# the triage results as the dialog offers them: (value, label, what happens next)
RESULT_CHOICES: tuple[tuple[str, str, str], ...] = (
    ("repairable", machine.TRIAGE_RESULT.label("repairable"), "On to repair, or waiting for parts"),
    ("ber_suspected", machine.TRIAGE_RESULT.label("ber_suspected"), "A BER review weighs cost against value"),
    ("no_fault", machine.TRIAGE_RESULT.label("no_fault"), "Back to the client unrepaired"),
    ("unrepairable", machine.TRIAGE_RESULT.label("unrepairable"), "Back to the client unrepaired"),
)
DECISION_CHOICES: tuple[tuple[str, str, str], ...] = (
    ("repair", "Repair", "The asset goes on to repair"),
    ("return_unrepaired", "Return unrepaired", "Back to the client as it came"),
    ("scrap", "Scrap", "The device is scrapped"),
)


@dataclasses.dataclass
class TriageRowView:
    """An asset waiting for triage (a row of the triage table; the dialog's subject)."""

    id: str = ""
    number: str = ""
    status: str = ""  # received | in_triage
    client: str = ""
    batch: str = ""
    client_reference: str = ""
    device: str = ""
    identifier: str = ""  # "IMEI 35…" or "S/N …"
    condition: str = ""
    fault: str = ""
    not_on_batch: bool = False
    received: str = ""
    waiting: str = ""  # "3 days ago"
    known_codes: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class BerRowView:
    """An open BER review (a row of the BER table; the dialogs' subject)."""

    id: str = ""
    asset_id: str = ""
    asset_number: str = ""
    client: str = ""
    device: str = ""
    identifier: str = ""
    triage_notes: str = ""
    parts: str = ""
    labour: str = ""
    cost: str = ""
    value: str = ""
    parts_raw: str = ""  # the figures as the estimate form fills them in
    labour_raw: str = ""
    value_raw: str = ""
    cost_percent: str = ""  # "80.00 %"
    threshold: str = ""  # "70 %"
    over: bool = False
    estimated: bool = False  # parts or labour were estimated
    bar: int = 0  # cost % as a share of the bar (at most 100)
    requested_by: str = ""
    waiting: str = ""


@dataclasses.dataclass
class CodeOption:
    id: str = ""
    code: str = ""
    name: str = ""
    category: str = ""
    canonical: bool = True


@dataclasses.dataclass
class QcCounts:
    triage: int = 0
    ber: int = 0
    over: int = 0


def _identifier(imei: str, serial: str) -> str:
    return f"IMEI {imei}" if imei else (f"S/N {serial}" if serial else "")


def _triage_view(r: qc.TriageRow, fmt: ShopFormat, now: datetime) -> TriageRowView:
    return TriageRowView(
        id=str(r.id),
        number=r.number,
        status=r.status,
        client=r.client,
        batch=r.batch,
        client_reference=r.client_reference,
        device=r.device or "Unknown model",
        identifier=_identifier(r.imei, r.serial),
        condition=r.condition,
        fault=r.fault,
        not_on_batch=r.not_on_batch,
        received=fmt.when(r.received_at),
        waiting=fmt.ago(r.received_at, now),
        known_codes=list(r.known_codes),
    )


def _plain(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _ber_view(r: qc.BerRow, fmt: ShopFormat, now: datetime) -> BerRowView:
    percent = r.cost_percent
    return BerRowView(
        id=str(r.id),
        asset_id=str(r.asset_id),
        asset_number=r.asset_number,
        client=r.client,
        device=r.device or "Unknown model",
        identifier=_identifier(r.imei, r.serial),
        triage_notes=r.triage_notes,
        parts=fmt.money(r.estimated_parts, r.currency),
        labour=fmt.money(r.estimated_labour, r.currency),
        cost=fmt.money(r.cost, r.currency),
        value=fmt.money(r.asset_value, r.currency) if r.asset_value > 0 else "Unknown",
        parts_raw=_plain(r.estimated_parts) if r.cost > 0 else "",
        labour_raw=_plain(r.estimated_labour) if r.cost > 0 else "",
        value_raw=_plain(r.asset_value) if r.asset_value > 0 else "",
        cost_percent=f"{fmt.number(percent, 2)} %",
        threshold=f"{r.threshold_percent} %",
        over=r.over_threshold,
        estimated=r.cost > 0,
        bar=int(min(Decimal(100), percent)),
        requested_by=r.requested_by,
        waiting=fmt.ago(r.created_at, now),
    )


@dataclasses.dataclass
class Snapshot:
    rows: list[TriageRowView]
    reviews: list[BerRowView]
    total: int
    page: int
    counts: QcCounts


def _snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, view: str, f: qc.QueueFilter) -> Snapshot:
    """What the page shows: the counts, and the rows of the view chosen."""
    now = datetime.now(UTC)
    with tenant_session(tenant_id) as s:
        c = qc.qc_counts(s)
        rows: list[qc.TriageRow] | list[qc.BerRow]
        if view == "triage":
            rows, total = rows_of_page(qc.triage_queue, s, f)
        else:
            rows, total = rows_of_page(qc.ber_queue, s, f)
    counts = QcCounts(triage=c["triage"], ber=c["ber"], over=c["over_threshold"])
    if view == "triage":
        triage_rows = [_triage_view(r, fmt, now) for r in rows if isinstance(r, qc.TriageRow)]
        return Snapshot(triage_rows, [], total, f.page, counts)
    reviews = [_ber_view(r, fmt, now) for r in rows if isinstance(r, qc.BerRow)]
    return Snapshot([], reviews, total, f.page, counts)


def _load_codes(tenant_id: uuid.UUID) -> list[CodeOption]:
    with tenant_session(tenant_id) as s:
        return [
            CodeOption(id=str(c.id), code=c.code, name=c.name, category=c.category, canonical=c.canonical)
            for c in qc.triage_codes(s)
        ]


def _field_errors(exc: ValidationFailed) -> dict[str, str]:
    fields = (exc.details or {}).get("fields") or {}
    return {str(k): str(v) for k, v in fields.items()} | {"form": sentence(exc.message)}


def _amount(form: dict, name: str, errors: dict[str, str], *, required: bool) -> str | None:
    """A figure of a form as the service takes it ("" when left empty and
    not required); a message in `errors` when it is not an amount."""
    raw = str(form.get(name) or "").strip().replace(",", ".")
    if not raw:
        if required:
            errors[name] = "Write an amount, 0 or more."
        return None
    try:
        value = Decimal(raw)
    except ArithmeticError:
        errors[name] = "Write an amount, like 45.00."
        return None
    if not value.is_finite() or value < 0:
        errors[name] = "Write an amount, 0 or more."
        return None
    return raw


def _triaged_words(number: str, result: str, status: str) -> str:
    """The toast after a triage: what was found and where the asset went."""
    if result == "ber_suspected":
        return f"Asset {number} may be beyond economic repair: it waits in BER review."
    if result == "repairable":
        where = "waits for parts" if status == "awaiting_parts" else "goes on to repair"
        return f"Asset {number} is repairable: it {where}."
    found = "no fault was found" if result == "no_fault" else "it cannot be repaired"
    return f"Asset {number}: {found}; it goes back to the client unrepaired."


class RepairsQcState(PageVisit, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("view", "search")
    # live: assets received, triaged, reviewed or decided anywhere in the shop
    LIVE: ClassVar[Live] = Live(READ, PATH, (qc.LIVE_KIND,), settle=1.0)

    view: str = "triage"
    search: str = ""
    page_size: int = 20
    rows: list[TriageRowView] = []
    reviews: list[BerRowView] = []
    counts: QcCounts = QcCounts()
    loaded: bool = False
    error: str = ""
    updated_at: str = ""

    # the triage dialog
    triage_open: bool = False
    subject: TriageRowView = TriageRowView()
    result: str = "repairable"
    awaiting_parts: bool = False
    codes: list[CodeOption] = []
    chosen: list[str] = []  # ids of the codes found, in the order chosen
    code_search: str = ""
    triage_errors: dict[str, str] = {}
    triage_busy: bool = False
    triage_key: int = 0

    # the estimate dialog (open a review's figures again)
    estimate_open: bool = False
    review: BerRowView = BerRowView()
    estimate_errors: dict[str, str] = {}
    estimate_busy: bool = False
    estimate_key: int = 0

    # the decide dialog, and the confirmation before scrapping
    decide_open: bool = False
    decision: str = ""
    decide_errors: dict[str, str] = {}
    decide_busy: bool = False
    decide_key: int = 0
    scrap_confirm_open: bool = False
    pending_notes: str = ""

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    @rx.var
    def chosen_codes(self) -> list[CodeOption]:
        by_id = {c.id: c for c in self.codes}
        return [by_id[i] for i in self.chosen if i in by_id]

    @rx.var
    def code_matches(self) -> list[CodeOption]:
        """Codes not chosen yet whose code, name or category hold every word searched."""
        words = self.code_search.lower().split()
        out = []
        for c in self.codes:
            if c.id in self.chosen:
                continue
            text = f"{c.code} {c.name} {c.category}".lower()
            if all(w in text for w in words):
                out.append(c)
                if len(out) >= MAX_MATCHES:
                    break
        return out

    @rx.var
    def subject_ber(self) -> bool:
        return self.result == "ber_suspected"

    def _filter(self) -> qc.QueueFilter:
        return qc.QueueFilter(search=self.search, page=self.page, page_size=self.page_size)

    def _clean_view(self) -> None:
        if self.view not in VIEWS:
            self.view = "triage"

    def _apply(self, snap: Snapshot, fmt: ShopFormat) -> None:
        self.rows, self.reviews, self.total, self.page = snap.rows, snap.reviews, snap.total, snap.page
        self.counts = snap.counts
        self.updated_at = fmt.clock(datetime.now(UTC), seconds=True)
        self.error, self.loaded = "", True

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        """The live reload (in a thread)."""
        fmt = of_tenant(tenant_id)
        try:
            self._apply(_snapshot(tenant_id, fmt, self.view, self._filter()), fmt)
        except DomainError as exc:
            self.error = sentence(exc.message)

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_snapshot, p.tenant_id, p.fmt, self.view, self._filter())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap, p.fmt)

    @guarded(READ, quiet=True)
    async def load(self):
        self._read_url()
        self._clean_view()
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.triage_open = self.estimate_open = self.decide_open = self.scrap_confirm_open = False
        await self._refresh()
        return RepairsQcState.watch

    # --- the view: each change goes through the URL (the loader follows) ----------------------

    @guarded(READ)
    def set_view(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) else value
        if value in VIEWS and value != self.view:
            return self._navigate(view=value, search="")
        return None

    @guarded(READ)
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded(READ)
    def clear_search(self):
        return self._navigate(search="")

    # --- triage -----------------------------------------------------------------------------------

    @guarded(WRITE)
    async def open_triage(self, asset_id: str):
        row = next((r for r in self.rows if r.id == asset_id), None)
        if row is None:
            return rx.toast.error("That asset is no longer waiting for triage.")
        p = current_principal()
        if not self.codes:
            self.codes = await asyncio.to_thread(_load_codes, p.tenant_id)
        self.subject, self.result, self.awaiting_parts = row, "repairable", False
        self.chosen, self.code_search = [], ""
        self.triage_errors, self.triage_busy = {}, False
        self.triage_key += 1
        self.triage_open = True
        return None

    @guarded(WRITE)
    def set_triage_open(self, value: bool):
        self.triage_open = value
        if not value:
            self.codes = []  # the catalogue is read again next time (codes added meanwhile)

    @guarded(WRITE)
    def set_result(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) else value
        if value in qc.TRIAGE_RESULTS:
            self.result = value
            if value != "repairable":
                self.awaiting_parts = False
            self.triage_errors = {k: v for k, v in self.triage_errors.items() if k not in ("result", "form")}

    @guarded(WRITE)
    def set_awaiting_parts(self, value: bool):
        self.awaiting_parts = bool(value) and self.result == "repairable"

    @guarded(WRITE)
    def set_code_search(self, value: str):
        self.code_search = value[:100]

    @guarded(WRITE)
    def add_code(self, code_id: str):
        if code_id not in self.chosen and any(c.id == code_id for c in self.codes):
            self.chosen = [*self.chosen, code_id]
            self.code_search = ""  # ready for the next code
            self.triage_errors = {k: v for k, v in self.triage_errors.items() if k != "repair_code_ids"}

    @guarded(WRITE)
    def remove_code(self, code_id: str):
        self.chosen = [i for i in self.chosen if i != code_id]

    @guarded(WRITE)
    async def submit_triage(self, form: dict):
        errors: dict[str, str] = {}
        notes = str(form.get("notes") or "").strip()
        if len(notes) > 2000:
            errors["notes"] = "Shorten the notes to 2000 characters."
        result = self.result
        if result == "repairable" and not self.chosen:
            errors["repair_code_ids"] = "Choose at least one repair code: what needs repairing?"
        parts = labour = value = None
        if result == "ber_suspected":
            parts = _amount(form, "estimated_parts", errors, required=False)
            labour = _amount(form, "estimated_labour", errors, required=False)
            value = _amount(form, "asset_value", errors, required=False)
        if errors:
            self.triage_errors = errors
            return
        p, asset_id, number = current_principal(), self.subject.id, self.subject.number
        chosen, awaiting = list(self.chosen), self.awaiting_parts
        self.triage_busy = True
        yield
        try:
            asset = await in_tenant(
                lambda s: qc.triage(
                    s,
                    asset_id,
                    result=result,
                    repair_code_ids=list(chosen),
                    notes=notes,
                    awaiting_parts=awaiting,
                    estimated_parts=parts,
                    estimated_labour=labour,
                    asset_value=value,
                    actor=p,
                )
            )
        except ValidationFailed as exc:
            self.triage_errors, self.triage_busy = _field_errors(exc), False
            return
        except DomainError as exc:
            self.triage_errors, self.triage_busy = {"form": sentence(exc.message)}, False
            await self._refresh()
            return
        self.triage_busy, self.triage_open = False, False
        self.codes = []
        await self._refresh()
        yield rx.toast.success(_triaged_words(number, result, asset.status))

    # --- BER reviews: estimate ---------------------------------------------------------------------

    def _review_row(self, review_id: str) -> BerRowView | None:
        return next((r for r in self.reviews if r.id == review_id), None)

    @guarded(WRITE)
    def open_estimate(self, review_id: str):
        row = self._review_row(review_id)
        if row is None:
            return rx.toast.error("That review is no longer open.")
        self.review, self.estimate_errors, self.estimate_busy = row, {}, False
        self.estimate_key += 1
        self.estimate_open = True
        return None

    @guarded(WRITE)
    def set_estimate_open(self, value: bool):
        self.estimate_open = value

    @guarded(WRITE)
    async def submit_estimate(self, form: dict):
        errors: dict[str, str] = {}
        parts = _amount(form, "estimated_parts", errors, required=True)
        labour = _amount(form, "estimated_labour", errors, required=True)
        value = _amount(form, "asset_value", errors, required=False)
        if errors or parts is None or labour is None:
            self.estimate_errors = errors
            return
        p, asset_id, number = current_principal(), self.review.asset_id, self.review.asset_number
        self.estimate_busy = True
        yield
        try:
            review = await in_tenant(
                lambda s: qc.open_ber_review(
                    s, asset_id, estimated_parts=parts, estimated_labour=labour, asset_value=value, actor=p
                )
            )
        except ValidationFailed as exc:
            self.estimate_errors, self.estimate_busy = _field_errors(exc), False
            return
        except DomainError as exc:
            self.estimate_errors, self.estimate_busy = {"form": sentence(exc.message)}, False
            return
        self.estimate_busy, self.estimate_open = False, False
        await self._refresh()
        over = review.cost_percent > review.threshold_percent
        verdict = "beyond economic repair" if over else "within the client's threshold"
        yield rx.toast.success(f"Asset {number}: the repair costs {review.cost_percent} % of its value, {verdict}.")

    # --- BER reviews: decide ----------------------------------------------------------------------

    @guarded(WRITE)
    def open_decide(self, review_id: str):
        row = self._review_row(review_id)
        if row is None:
            return rx.toast.error("That review is no longer open.")
        self.review, self.decision = row, ""
        self.decide_errors, self.decide_busy, self.pending_notes = {}, False, ""
        self.decide_key += 1
        self.decide_open = True
        return None

    @guarded(WRITE)
    def set_decide_open(self, value: bool):
        self.decide_open = value

    @guarded(WRITE)
    def set_decision(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) else value
        if value in qc.BER_DECISIONS:
            self.decision = value
            self.decide_errors = {}

    @guarded(WRITE)
    def set_scrap_confirm_open(self, value: bool):
        self.scrap_confirm_open = value

    async def _decide(self, decision: str, notes: str):
        p, review_id, number = current_principal(), self.review.id, self.review.asset_number
        self.decide_busy = True
        yield
        try:
            await in_tenant(lambda s: qc.decide_ber(s, review_id, decision=decision, notes=notes, actor=p))
        except ValidationFailed as exc:
            self.decide_errors, self.decide_busy = _field_errors(exc), False
            return
        except DomainError as exc:
            self.decide_errors, self.decide_busy = {"form": sentence(exc.message)}, False
            await self._refresh()
            return
        self.decide_busy, self.decide_open, self.scrap_confirm_open = False, False, False
        await self._refresh()
        words = {"repair": "goes on to repair", "return_unrepaired": "goes back unrepaired", "scrap": "is scrapped"}
        yield rx.toast.success(f"Asset {number} {words[decision]}.")

    @guarded(WRITE)
    async def submit_decision(self, form: dict):
        notes = str(form.get("notes") or "").strip()
        if self.decision not in qc.BER_DECISIONS:
            self.decide_errors = {"decision": "Choose a decision."}
            return
        if len(notes) > 2000:
            self.decide_errors = {"notes": "Shorten the notes to 2000 characters."}
            return
        if self.decision == "repair" and self.review.over and not notes:
            self.decide_errors = {
                "notes": "The repair is beyond economic repair: write why it is repaired anyway.",
            }
            return
        if self.decision == "scrap":  # ask first: scrapping a client's device is for good
            self.pending_notes, self.scrap_confirm_open = notes, True
            return
        async for item in self._decide(self.decision, notes):
            yield item

    @guarded(WRITE)
    async def confirm_scrap(self):
        if self.decision != "scrap":
            return
        async for item in self._decide("scrap", self.pending_notes):
            yield item
