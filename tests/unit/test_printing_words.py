"""The print farm's words: every print-job, printer, purpose, mapping and sync
value has its label; refusals name statuses in words; errors read as sentences
with the technical detail apart; operators may start a queued job by hand."""

from __future__ import annotations

import re

import pytest

from app.platform.errors import InvalidTransition
from app.printing import machine
from state.print_products import profile_text

UPPER_SNAKE = re.compile(r"\b[A-Z]{3,}(?:_[A-Z]+)*\b")
EXCEPTION_NAME = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception)\b")


def test_an_operator_starts_a_queued_job_by_hand_in_manual_mode():
    assert machine.can_move_manually("QUEUED", "PRINTING")
    assert "PRINTING" in machine.allowed_manual("QUEUED")
    machine.check_manual("QUEUED", "PRINTING")  # no refusal


def test_a_refused_move_names_the_statuses_in_words_and_keeps_the_values_for_the_api():
    with pytest.raises(InvalidTransition) as refused:
        machine.check_manual("COMPLETED", "PRINTING")
    assert refused.value.message == "a completed job cannot be moved to printing; it can go to: none (it is final)"
    with pytest.raises(InvalidTransition) as refused:
        machine.check_manual("QUEUED", "FAILED")
    assert "a queued job cannot be moved to failed" in refused.value.message
    assert not UPPER_SNAKE.search(refused.value.message)
    assert refused.value.details == {"allowed": ["ASSIGNED", "PRINTING", "COMPLETED", "CANCELLED"]}


def test_every_value_the_farm_shows_has_one_label():
    assert set(machine.STATUS.values) == set(machine.JOB.transitions)
    assert set(machine.JOB_STATE.values()) <= set(machine.STATUS.values)
    assert set(machine.PURPOSE.values) == {"ORDER", "STOCK"}
    for table in (machine.STATUS, machine.PRINTER_STATE, machine.PURPOSE, machine.MAPPING_STATE, machine.SYNC):
        for status in table:
            assert status.label and status.label != status.value and not UPPER_SNAKE.search(status.label)
    states = {
        machine.sync_state(connected, polled, error)
        for connected in (True, False)
        for polled in (True, False)
        for error in ("", "boom")
    }
    assert states == set(machine.SYNC.values)
    assert machine.PROFILE_FIELD.label("layer_height") == "Layer height"


@pytest.mark.parametrize(
    ("error", "sentence", "detail"),
    [
        (
            "SimplyPrint: SimplyPrint unreachable (queue/AddItem): [Errno 111] Connection refused",
            "SimplyPrint could not be reached.",
            "SimplyPrint unreachable (queue/AddItem): [Errno 111] Connection refused",
        ),
        (
            "SimplyPrint reported job.failed on Prusa MK4 left",
            "The printer reported a failure: the print on Prusa MK4 left did not finish.",
            "SimplyPrint reported job.failed on Prusa MK4 left",
        ),
        (
            "SimplyPrint history says failed",
            "The printer reported a failure: the print did not finish.",
            "SimplyPrint history says failed",
        ),
        (
            "Shopify unreachable: httpx.ConnectError: timed out",
            "Shopify could not be reached.",
            "Shopify unreachable: timed out",
        ),
        (
            "SimplyPrint: SimplyPrint queue/AddItem answered HTTP 502",
            "SimplyPrint had a problem on its side and did not take the job.",
            "SimplyPrint queue/AddItem answered HTTP 502",
        ),
        (
            "no file for this part: upload its G-code on the product's page",
            "This part has no print file yet: upload its G-code on the product's page.",
            "",
        ),
        ("the nozzle clogged", "The nozzle clogged.", ""),
        ("order cancelled", "Its order was cancelled.", ""),
        ("", "", ""),
    ],
)
def test_print_job_errors_read_as_a_sentence_with_the_detail_apart(error, sentence, detail):
    assert machine.describe_error(error) == (sentence, detail)
    assert not EXCEPTION_NAME.search(sentence) and not EXCEPTION_NAME.search(detail)


def test_the_connection_error_reads_as_a_sentence():
    assert machine.describe_sync_error("SimplyPrint unreachable (printers/Get): timed out")[0] == (
        "SimplyPrint could not be reached."
    )
    assert machine.describe_sync_error("SimplyPrint printers/Get answered HTTP 401: Invalid API key")[0].startswith(
        "SimplyPrint refused the API key"
    )
    assert machine.describe_sync_error("") == ("", "")
    refused = "SimplyPrint was not called: that address is inside a private network"
    assert machine.describe_sync_error(refused) == (refused, "")


def test_a_print_profile_reads_in_words_even_for_fields_from_elsewhere():
    text = profile_text({"material": "PLA", "layer_height": 0.2, "infill": 15, "supports": False, "bed_temp": 60})
    assert text == "PLA, 0.2 mm layers, 15% infill, no supports, Bed temp: 60"
