"""The shipment lifecycle: what Sendcloud's parcel statuses mean and which
reported changes may be applied (a delivered parcel never moves back)."""

from __future__ import annotations

import pytest

from app.platform.errors import InvalidTransition
from app.shipping import machine


def test_every_status_of_the_contract_is_mapped():
    # contract §5: ids are not ordered by lifecycle, so each one is named
    expected = {
        1000: "LABEL_CREATED",
        1: "ANNOUNCED",
        22: "IN_TRANSIT",
        92: "IN_TRANSIT",
        12: "IN_TRANSIT",
        11: "DELIVERED",
        93: "DELIVERED",
        80: "FAILED",
        1002: "FAILED",
        2000: "CANCELLED",
        1998: "CANCELLED",
    }
    for status_id, status in expected.items():
        assert machine.status_for(status_id) == status


def test_unknown_and_in_between_statuses_change_nothing():
    assert machine.status_for(1337) is None  # "Unknown status"
    assert machine.status_for(1999) is None  # cancellation requested: not cancelled yet
    assert machine.status_for(424242) is None  # an id Sendcloud added later
    assert machine.status_for(None) is None


def test_a_delivered_or_cancelled_parcel_never_moves_again():
    for final in ("DELIVERED", "CANCELLED"):
        for target in machine.SHIPMENT_STATUSES:
            assert machine.may_apply(final, target) == (target == final)


def test_a_parcel_in_transit_does_not_go_back_to_its_label():
    assert not machine.may_apply("IN_TRANSIT", "ANNOUNCED")
    assert not machine.may_apply("IN_TRANSIT", "LABEL_CREATED")
    assert machine.may_apply("IN_TRANSIT", "DELIVERED")
    assert machine.may_apply("FAILED", "IN_TRANSIT")  # the carrier tries again
    with pytest.raises(InvalidTransition, match="cannot go from DELIVERED to IN_TRANSIT"):
        machine.SHIPMENT.check("DELIVERED", "IN_TRANSIT")


def test_every_status_has_words():
    for status in machine.SHIPMENT_STATUSES:
        assert machine.SHIPMENT_STATUS.label(status) != status
