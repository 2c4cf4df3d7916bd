"""The shipping pages' words: every label state and shipment status reads as
words, weights and sizes in the shop's format, service points as a person
writes them, the reconciliation's outcome as one sentence; and each shipment
offers only the actions that apply to it."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

from app.platform.formatting import ShopFormat
from app.shipping import machine
from app.shipping.models import Shipment
from state.shipping import (
    LABEL_STATE,
    labels_href,
    problem_words,
    reconcile_summary,
    service_point_words,
    shipment_view,
    size_words,
    weight_words,
)

UPPER_SNAKE = re.compile(r"\b[A-Z]{3,}(?:_[A-Z]+)*\b")
FMT = ShopFormat()


def _shipment(status: str, *, label: bool = True, parcel: bool = True, manual: bool = False) -> Shipment:
    return Shipment(
        tenant_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        status=status,
        manual=manual,
        sendcloud_parcel_id=383707309 if parcel else None,
        label_attachment_id=uuid.uuid4() if label else None,
        carrier="postnl",
        tracking_number="3SSTND0000001",
        weight_grams=1250,
        length_cm=30,
        width_cm=20,
        height_cm=10,
        service_point={"name": "Primera Utrecht", "address": "Vredenburg 40", "carrier": "postnl"},
        status_changed_at=datetime(2026, 11, 29, 13, 5, tzinfo=UTC),
    )


def test_every_state_and_status_has_words():
    for table in (LABEL_STATE, machine.SHIPMENT_STATUS, machine.LABEL_FORMAT):
        for status in table:
            assert status.label and status.label != status.value and not UPPER_SNAKE.search(status.label)
    assert LABEL_STATE.label("manual") == "No Sendcloud"


def test_weights_sizes_and_service_points_read_as_words():
    assert weight_words(FMT, 850) == "850 g"
    assert weight_words(FMT, 12000) == "12.00 kg"
    assert weight_words(ShopFormat(locale="de_DE"), 1250) == "1,25 kg"
    assert weight_words(FMT, 0) == ""
    assert size_words(60, 35, 55) == "60 × 35 × 55 cm"
    assert size_words(60, None, 55) == ""
    assert service_point_words({"name": "Primera", "address": "Vredenburg 40", "carrier": "postnl"}) == (
        "PostNL point: Primera, Vredenburg 40"
    )
    assert service_point_words({}) == ""
    assert problem_words("SendcloudError: Sendcloud could not be reached") == "Sendcloud could not be reached."
    assert (
        problem_words("Sendcloud refused the label: weight: too heavy.")
        == "Sendcloud refused the label: weight: too heavy."
    )
    assert problem_words("") == ""


@pytest.mark.parametrize(
    ("status", "label", "parcel", "edit", "remake", "void"),
    [
        ("PENDING", False, False, True, False, False),
        ("FAILED", False, False, True, False, False),
        ("LABEL_CREATED", True, True, False, True, True),
        ("ANNOUNCED", True, True, False, True, True),
        ("IN_TRANSIT", True, True, False, False, False),
        ("DELIVERED", True, True, False, False, False),
        ("CANCELLED", True, True, False, True, False),
    ],
)
def test_a_shipment_offers_only_what_applies(status, label, parcel, edit, remake, void):
    view = shipment_view(_shipment(status, label=label, parcel=parcel), FMT, connected=True, order_open=True)
    assert (view.can_edit, view.can_remake, view.can_void) == (edit, remake, void)
    assert view.carrier == "PostNL" and view.weight == "1.25 kg" and view.size == "30 × 20 × 10 cm"
    assert bool(view.label_href) == (label and status != "CANCELLED")


def test_without_sendcloud_or_by_hand_nothing_is_made_or_remade():
    view = shipment_view(_shipment("PENDING", label=False, parcel=False), FMT, connected=False, order_open=True)
    assert not (view.can_edit or view.can_remake)
    view = shipment_view(
        _shipment("IN_TRANSIT", label=False, parcel=False, manual=True), FMT, connected=True, order_open=True
    )
    assert not (view.can_edit or view.can_remake or view.can_void)
    closed = shipment_view(_shipment("LABEL_CREATED"), FMT, connected=True, order_open=False)
    assert not closed.can_remake and closed.can_void


def test_the_labels_pdf_address_names_the_orders_in_the_given_order():
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    href = labels_href([a, b])
    assert href.endswith(f"/api/v1/shipping/labels.pdf?orders={a}%2C{b}")
    assert labels_href([]) == ""


def test_the_reconciliation_reads_as_one_sentence():
    assert reconcile_summary({"applied": 2, "no-change": 1}, "") == (
        "success",
        "Sendcloud checked: 2 parcels moved on (1 unchanged).",
    )
    assert reconcile_summary({"applied": 1}, "") == ("success", "Sendcloud checked: 1 parcel moved on.")
    assert reconcile_summary({"no-change": 3, "out-of-order": 1}, "") == (
        "success",
        "Sendcloud checked (3 unchanged, 1 older news ignored).",
    )
    assert reconcile_summary({}, "")[0] == "info"
    assert reconcile_summary({}, "Checking parcels with Sendcloud failed: Sendcloud could not be reached") == (
        "error",
        "Checking parcels with Sendcloud failed: Sendcloud could not be reached.",
    )
