"""What the builder page says, from a build view (no services): an empty
build never claims everything fits, money is in the shop's format, the build
kept in the browser and the last typed address read back safely."""

from __future__ import annotations

from decimal import Decimal

from app.builder import evaluation, rules
from app.builder.slotmap import SLOTS
from app.platform.formatting import ShopFormat
from state.builder import (
    BANNERS,
    EMPTY_BANNER,
    build_summary,
    countries,
    draft_slots,
    draft_value,
    stored_address,
)

CPU_ID = "60a8ba0d-d6a5-4e84-89df-a5ca2a8915c9"
GERMAN = ShopFormat(locale="de_DE", currency="EUR", timezone="Europe/Berlin")
IRISH = ShopFormat(locale="en_IE", currency="EUR", timezone="Europe/Dublin")


def _view(parts: dict[str, list[evaluation.PricedPart]], overall: str = "pass") -> evaluation.BuildView:
    return evaluation.BuildView(
        slots={s: [p.part.id for p in ps] for s, ps in parts.items() if ps},
        parts={slot: parts.get(slot, []) for slot in SLOTS},
        verdicts=[],
        overall=overall,
        state="Partial" if parts else "Empty",
        draw_w=0,
        draw_parts=[],
        total=sum((p.price or Decimal(0) for ps in parts.values() for p in ps), Decimal(0)),
        currency="EUR",
        unavailable=[],
        not_checked=[],
        slot_severity={},
    )


def _cpu(price: str) -> evaluation.PricedPart:
    part = rules.Part(CPU_ID, "cpu", "AMD Ryzen 7 7700X", {})
    return evaluation.PricedPart(part, Decimal(price), "EUR", 3, True)


def test_an_empty_build_asks_for_parts_instead_of_saying_everything_fits():
    empty = build_summary(_view({}), IRISH)
    assert empty.empty and empty.banner == EMPTY_BANNER
    assert "fits" not in empty.banner.lower()
    chosen = build_summary(_view({"cpu": [_cpu("329.00")]}), IRISH)
    assert not chosen.empty and chosen.banner == BANNERS["pass"] == "Everything fits together."


def test_money_is_written_the_shops_way():
    german = build_summary(_view({"cpu": [_cpu("1234.50")]}), GERMAN)
    assert german.total == "1.234,50\xa0€"
    assert german.rows[0].parts[0].price == "1.234,50\xa0€"
    assert build_summary(_view({"cpu": [_cpu("1234.50")]}), IRISH).total == "€1,234.50"
    assert [r.title for r in german.rows][:2] == ["CPU", "Motherboard"]  # slots in words


def test_the_build_kept_in_the_browser_reads_back_and_never_trusts_junk():
    kept = draft_value({"cpu": [CPU_ID], "monitor": ["x"]})
    assert draft_slots(kept) == {"cpu": [CPU_ID]}
    assert draft_slots(draft_value({})) == {}  # cleared on purpose: nothing comes back
    assert draft_slots("") is None and draft_slots("{nonsense") is None and draft_slots('{"slots": 3}') is None
    assert draft_slots('{"slots": {"cpu": ["not-an-id"]}}') == {}


def test_the_last_typed_address_reads_back_only_known_fields():
    typed = '{"name": "Ada", "city": "Amsterdam", "evil": "<script>", "phone": 612345678}'
    assert stored_address(typed) == {"name": "Ada", "city": "Amsterdam", "phone": "612345678"}
    assert stored_address("[1, 2]") == {} and stored_address("not json") == {} and stored_address("") == {}


def test_countries_are_named_in_the_shops_language():
    names = dict(countries(GERMAN))
    assert names["NL"] == "Niederlande" and names["DE"] == "Deutschland"
    assert dict(countries(IRISH))["GB"] == "United Kingdom"
