"""The words the orders pages show: one label per status, source, timeline event
and retried operation, and outbound errors as sentences."""

from __future__ import annotations

import re

import pytest

from app.orders import machine
from app.platform import retry

TABLES = {
    "order status": machine.ORDER_STATUS,
    "fulfillment": machine.FULFILLMENT_STATUS,
    "line item status": machine.LINE_ITEM_STATUS,
    "source": machine.SOURCE,
    "timeline event": machine.TIMELINE_EVENT,
    "retry operation": machine.RETRY_OPERATION,
    "retry state": machine.RETRY_STATE,
}
IDENTIFIER = re.compile(r"[A-Z]{2,}_|_[a-z]|\w\.\w|[a-z]-[a-z]+\.")


@pytest.mark.parametrize("name", TABLES)
def test_every_value_reads_as_words(name):
    for status in TABLES[name]:
        assert status.label and not IDENTIFIER.search(status.label), (name, status)
        assert status.label != status.value or (status.value[0].isupper() and status.value[1:].islower()), status


def test_the_tables_cover_what_the_domain_uses():
    assert set(machine.LINE_ITEM_STATUSES) == {
        "PENDING",
        "PRINTING",
        "PARTIALLY_COMPLETED",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
    }
    assert set(retry.JOB_TYPES) <= set(machine.RETRY_OPERATION.values)
    assert [machine.SOURCE.label(s) for s in ("shopify", "manual", "builder")] == ["Shopify", "Manual", "PC builder"]


def test_a_value_no_table_knows_still_reads_as_words():
    assert machine.words(machine.TIMELINE_EVENT, "print-job.paused") == "Print job paused"
    assert machine.words(machine.ORDER_STATUS, "ON_HOLD") == "On hold"
    assert machine.words(machine.TIMELINE_EVENT, "order.created") == "Order received"


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        ("ShopifyError: Shopify unreachable: [Errno 111] Connection refused", "Shopify could not be reached."),
        (
            "ShopifyError: Shopify refused the fulfillment: Fulfillment order is closed",
            "Shopify refused the fulfillment: Fulfillment order is closed.",
        ),
        ("ShopifyAuthError: Shopify refused the access token (401)", "Shopify refused our access token."),
        ("RuntimeError: Shopify is not connected", "Shopify is not connected"),
        ("ShopifyError: Shopify answered 503", "Shopify had a problem on its side."),
        ("KeyError: 'gid'", "The fulfillment did not go through."),
    ],
)
def test_outbound_errors_read_as_sentences(error, sentence):
    text = machine.retry_error("FULFILLMENT", error)
    assert text.startswith(sentence)
    assert "Error:" not in text and "Errno" not in text


def test_no_error_no_sentence():
    assert machine.retry_error("CANCELLATION", "") == ""
