"""The diagnostic-log format (app/repairs/drfone.py): every sample file reads
as documented, and each way a file can be wrong is refused with a sentence
naming the line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.repairs import drfone

SAMPLES = {p.name: p for p in drfone.sample_files()}

GOOD = """Tool: Dr.Fone Toolkit 13.2.1
Tested: 2026-11-20T14:03:11Z
Device: Apple iPhone 12
IMEI: 353912110123451
Serial: F2LZK0XYN72J
OS: iOS 17.1

code,component,result,message
DF-BAT-012,Battery,FAIL,Battery health 71% (below 80%)
DF-SCR-001,Display,PASS,Dead-pixel scan complete
"""


def _read(name: str) -> drfone.Report:
    return drfone.read(SAMPLES[name].read_bytes())


def test_there_are_five_good_samples_and_a_malformed_one():
    assert len(SAMPLES) >= 5
    assert drfone.malformed_samples()


def test_iphone_sample_header_and_faults():
    r = _read("iphone12_battery_port.txt")
    assert r.tool == "Dr.Fone Toolkit 13.2.1"
    assert r.tested_at == datetime(2026, 11, 20, 14, 3, 11, tzinfo=UTC)
    assert (r.device, r.imei, r.serial, r.os) == ("Apple iPhone 12", "353912110123451", "F2LZK0XYN72J", "iOS 17.1")
    assert r.extra["station"] == "BENCH-03" and r.extra["battery cycles"] == "912"
    assert [(f.code, f.component) for f in r.faults] == [("DF-BAT-012", "Battery"), ("DF-CHG-004", "Charging")]
    # a quoted message keeps its comma
    assert r.faults[1].message == "Charging current 0.2 A, expected 1.0 A or more"
    assert r.count("PASS") == 14


def test_galaxy_sample_spaced_imei_offset_time_and_warnings():
    r = _read("galaxy_s21_screen_fingerprint.txt")
    assert r.imei == "358240512345679"  # the groups' spaces dropped
    assert r.tested_at == datetime(2026, 11, 20, 14, 41, 57, tzinfo=UTC)  # +01:00 read as UTC
    assert [f.code for f in r.faults] == ["DF-SCR-001", "DF-SCR-007", "DF-TCH-002", "DF-TID-003"]
    assert r.count("WARN") == 1 and r.count("SKIP") == 1  # kept, but no fault


def test_a_tablet_without_a_modem_has_a_serial_only_and_no_faults():
    r = _read("ipad_air_wifi_all_pass.txt")
    assert (r.imei, r.serial) == ("", "DMPHK4Q7Q1GC")
    assert r.faults == []
    assert r.count("PASS") == len(r.results) == 12


def test_unknown_codes_are_read_like_any_other():
    r = _read("pixel7_unknown_nfc_code.txt")
    assert [f.code for f in r.faults] == ["DF-NFC-044", "DF-VOL-002"]
    assert drfone.area("DF-NFC-044") == "" and drfone.suggest("DF-NFC-044") == ""
    assert drfone.area("DF-VOL-002") == "Volume buttons" and drfone.suggest("DF-VOL-002") == "BTN-VOL"


def test_crlf_file_without_comments_and_a_code_that_fails_twice_counts_once():
    r = _read("iphone_se_liquid_crlf.txt")
    assert b"\r\n" in SAMPLES["iphone_se_liquid_crlf.txt"].read_bytes()
    assert [f.code for f in r.faults] == ["DF-LIQ-001", "DF-SPK-001", "DF-MIC-001"]
    assert r.faults[1].message == "No output on sweep"  # the first time it failed


def test_the_malformed_sample_is_refused_naming_the_line():
    with pytest.raises(drfone.ParseError) as exc:
        drfone.read(drfone.malformed_samples()[0].read_bytes())
    assert exc.value.line == 6
    assert "code,component,result,message" in str(exc.value)


def test_a_byte_order_mark_is_fine():
    assert drfone.read(b"\xef\xbb\xbf" + GOOD.encode()).imei == "353912110123451"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"%PDF-1.7\n...", "binary"),
        (b"PK\x03\x04zipped", "binary"),
        (b"Tool: x\x00\x01\x02", "binary"),
        ("Tool: Dr.Fone\nDevice: Caf\u00e9".encode("latin-1"), "not UTF-8"),
        (GOOD.encode("utf-16"), "binary"),
        (b"Tool: a\x07b\n", "control characters"),
    ],
)
def test_binary_and_wrongly_encoded_files_are_refused(data, words):
    with pytest.raises(drfone.ParseError) as exc:
        drfone.decode(data)
    assert words in str(exc.value)


def _bad(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (_bad("Tool: Dr.Fone Toolkit 13.2.1\n", ""), 0, "lacks Tool"),
        (_bad("Device: Apple iPhone 12\n", "Device:\n"), 0, "lacks Device"),
        (_bad("2026-11-20T14:03:11Z", "2026-11-20 14:03"), 2, "time zone"),
        (_bad("2026-11-20T14:03:11Z", "yesterday"), 2, "date and time"),
        (_bad("353912110123451", "35391211012"), 4, "15 digits"),
        (_bad("IMEI: 353912110123451\nSerial: F2LZK0XYN72J\n", ""), 0, "no IMEI and no serial"),
        (_bad("F2LZK0XYN72J", "F2/LZK"), 5, "serial number"),
        (_bad("OS: iOS 17.1", "OS iOS 17.1"), 6, "Key: value"),
        (_bad("OS: iOS 17.1", "Tool: again"), 6, "given twice"),
        (_bad("code,component,result,message\n", ""), 8, "results before"),
        (GOOD.split("code,")[0], 0, "no results"),
        (GOOD.split("DF-BAT")[0], 8, "empty"),
        (_bad("DF-SCR-001,Display,PASS,", "DF-SCR-001,Display,PASS"), 10, "four fields"),
        (_bad("DF-SCR-001,Display,PASS,", "DF-SCR-001,Display,PASS,x,"), 10, "four fields"),
        (_bad("DF-SCR-001,Display,PASS,", "DF-SCR-001,Display,OK,"), 10, "PASS, FAIL, WARN or SKIP"),
        (_bad("DF-SCR-001,", "DF SCR 001,"), 10, "is not a code"),
        (_bad("Dead-pixel scan complete", '"unclosed, quote'), 10, "not closed"),
    ],
)
def test_malformed_files_are_refused_with_the_line_at_fault(text, line, words):
    with pytest.raises(drfone.ParseError) as exc:
        drfone.parse(text)
    assert words in str(exc.value), str(exc.value)
    assert exc.value.line == line, str(exc.value)


def test_too_many_results_are_refused():
    rows = "".join(f"DF-BAT-{i:03d},Battery,PASS,ok\n" for i in range(drfone.MAX_RESULTS + 1))
    with pytest.raises(drfone.ParseError, match="more than 500"):
        drfone.parse(GOOD + rows)


def test_lower_case_codes_and_results_are_read_in_capitals():
    r = drfone.parse(_bad("DF-BAT-012,Battery,FAIL", "df-bat-012,Battery,fail"))
    assert [(f.code, f.result) for f in r.faults] == [("DF-BAT-012", "FAIL")]
