"""Diagnostic-tool exports ("drfone" logs): the text format, read without a
database. The service (`app.repairs.service.diagnostics`) stores the file,
and a background job reads it with `parse` and turns its faults into repair
codes on the asset.

The format
==========

A diagnostic station (Dr.Fone Toolkit's "Device Diagnostics" report, saved
as text) writes one file per test run of one device, in UTF-8 (a byte-order
mark is allowed), lines ending in LF or CRLF::

    # Dr.Fone Toolkit - Device Diagnostics Report
    Tool: Dr.Fone Toolkit 13.2.1
    Tested: 2026-11-20T14:03:11Z
    Station: BENCH-03
    Device: Apple iPhone 12
    IMEI: 353912110123451
    Serial: F2LZK0XYN72J
    OS: iOS 17.1

    code,component,result,message
    DF-BAT-012,Battery,FAIL,Battery health 71% (below 80%)
    DF-SCR-001,Display,PASS,Dead-pixel scan complete
    DF-CHG-004,Charging,FAIL,"Charging current 0.2 A, expected 1.0 A or more"

**The header block** comes first: one `Key: value` per line. Keys are read
without regard to case; lines starting with `#` and blank lines are skipped.

- `Tool` (required): the tool and its version, as the station reports it.
- `Tested` (required): when the test ran, ISO 8601 with a time zone
  (`2026-11-20T14:03:11Z` or `2026-11-20T15:03:11+01:00`).
- `Device` (required): make and model in the tool's words.
- `IMEI`: 15 digits (spaces or dashes between groups are dropped). Devices
  without a modem (Wi-Fi tablets, laptops) have none.
- `Serial`: the maker's serial number (letters and digits).
  At least one of `IMEI` and `Serial` is required: the shop finds the asset
  by them.
- `OS`: the operating system and version.
- Any other key (`Station`, `Operator`, `Battery cycles`…) is kept as it is.

**The results** follow, as CSV, starting at the line
`code,component,result,message` (that exact header, any case). Each row is
one test:

- `code`: the tool's code, capital letters, digits and dashes, 2–60
  characters. Dr.Fone's codes read `DF-<area>-<number>`, the area naming
  the part under test (see `AREAS`).
- `component`: the part under test, in words.
- `result`: `PASS`, `FAIL`, `WARN` or `SKIP`. Only `FAIL` is a fault: a
  `FAIL` becomes a repair code on the asset (through the shop's mapping of
  the tool's code to a repair code) or waits in the unmapped-codes queue.
  `PASS`, `WARN` (worth a look, not a fault) and `SKIP` (not tested) are
  kept on the report only.
- `message`: what the tool says about it, up to 300 characters. A message
  containing a comma is quoted (`"…"`), as CSV does.

A code that fails twice in one run counts once (its first message is kept).
A file has at most `MAX_RESULTS` result rows.

Anything else is malformed and the whole file is refused with the line at
fault: a header line without a colon, a missing required key, a date
without a time zone, an IMEI that is not 15 digits, no results section, a row
with more or fewer than four fields, a result that is not one of the four.
Sample files live in `assets/repairs/drfone/`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS = ("PASS", "FAIL", "WARN", "SKIP")
FAULT = "FAIL"
MAX_RESULTS = 500
MAX_MESSAGE = 300
MAX_HEADER_VALUE = 200
CSV_HEADER = ("code", "component", "result", "message")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,59}$")
IMEI_RE = re.compile(r"^\d{15}$")
SERIAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,59}$")
HEADER_RE = re.compile(r"^([A-Za-z][A-Za-z0-9 _-]{0,40}):(.*)$")
REQUIRED = ("tool", "tested", "device")
SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "repairs" / "drfone"

# Dr.Fone's code areas (`DF-<area>-<number>`) and the canonical repair code a
# failure there usually needs: a suggestion when someone maps a new code,
# never applied on its own.
AREAS: dict[str, tuple[str, str]] = {
    "BAT": ("Battery", "BAT-REPL"),
    "SCR": ("Display", "SCR-REPL"),
    "TCH": ("Touch screen", "SCR-REPL"),
    "GLS": ("Front glass", "SCR-GLASS"),
    "CHG": ("Charging", "CHG-PORT"),
    "PWR": ("Power management", "PWR-IC"),
    "CAM": ("Rear camera", "CAM-REAR"),
    "FCM": ("Front camera", "CAM-FRONT"),
    "EAR": ("Earpiece", "SPK-EAR"),
    "SPK": ("Loudspeaker", "SPK-LOUD"),
    "MIC": ("Microphone", "MIC"),
    "BTN": ("Buttons", "BTN-PWR"),
    "VOL": ("Volume buttons", "BTN-VOL"),
    "FID": ("Face ID", "BIO-FACE"),
    "TID": ("Touch ID / fingerprint", "BIO-TOUCH"),
    "WIF": ("Wi-Fi", "WIFI-BT"),
    "BLU": ("Bluetooth", "WIFI-BT"),
    "CEL": ("Cellular", "BASEBAND"),
    "LIQ": ("Liquid contact indicators", "LIQUID"),
    "SYS": ("System software", "SOFTWARE"),
    "HSG": ("Housing", "HOUSING"),
}


class ParseError(ValueError):
    """The file is not a diagnostic report this format describes; `line` is
    the line at fault (1-based, 0 when it is the file as a whole)."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.reason = message


@dataclass(frozen=True)
class TestResult:
    line: int
    code: str
    component: str
    result: str  # PASS | FAIL | WARN | SKIP
    message: str


@dataclass
class Report:
    """One test run of one device, as the file says."""

    tool: str
    tested_at: datetime
    device: str
    imei: str = ""
    serial: str = ""
    os: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    results: list[TestResult] = field(default_factory=list)

    @property
    def faults(self) -> list[TestResult]:
        """The failed tests, one per code (the first time it failed)."""
        seen: set[str] = set()
        out = []
        for r in self.results:
            if r.result == FAULT and r.code not in seen:
                seen.add(r.code)
                out.append(r)
        return out

    def count(self, result: str) -> int:
        return sum(1 for r in self.results if r.result == result)


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark). Binary
    files and other encodings are refused in words a person understands."""
    if not data.strip():
        raise ParseError("the file is empty")
    if b"\x00" in data[:8192] or data[:4] in (b"%PDF", b"PK\x03\x04") or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ParseError("this is a binary file, not a text export of the diagnostic tool")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError("the file is not UTF-8 text (save the export as UTF-8)", line) from None
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        raise ParseError("the file holds control characters: it is not a text export of the diagnostic tool")
    return text


def _tested(value: str, line: int) -> datetime:
    raw = value.strip()
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise ParseError(f"'Tested' must be a date and time such as 2026-11-20T14:03:11Z, not '{raw}'", line) from None
    if when.tzinfo is None:
        raise ParseError(f"'Tested' needs a time zone (Z for UTC): '{raw}'", line)
    return when.astimezone(UTC)


def _imei(value: str, line: int) -> str:
    digits = re.sub(r"[\s-]", "", value)
    if digits and not IMEI_RE.match(digits):
        raise ParseError(f"the IMEI must be 15 digits, not '{value.strip()}'", line)
    return digits


def _serial(value: str, line: int) -> str:
    serial = value.strip().upper()
    if serial and not SERIAL_RE.match(serial):
        raise ParseError(f"the serial number may hold letters, digits and dashes only, not '{value.strip()}'", line)
    return serial


def parse(text: str) -> Report:
    """Read a report (see the module's description of the format). Raises
    ParseError naming the line at fault."""
    lines = text.splitlines()
    header: dict[str, tuple[str, int]] = {}
    start = None
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if tuple(c.strip().lower() for c in line.split(",")) == CSV_HEADER:
            start = n
            break
        m = HEADER_RE.match(line)
        if m is None:
            if "," in line:
                raise ParseError("results before the 'code,component,result,message' line (or that line is missing)", n)
            raise ParseError(f"a header line reads 'Key: value', not '{line[:80]}'", n)
        key = " ".join(m.group(1).lower().split())
        if key in header:
            raise ParseError(f"'{m.group(1).strip()}' is given twice", n)
        value = m.group(2).strip()
        if len(value) > MAX_HEADER_VALUE:
            raise ParseError(f"'{m.group(1).strip()}' is longer than {MAX_HEADER_VALUE} characters", n)
        header[key] = (value, n)
    missing = [k.capitalize() for k in REQUIRED if not header.get(k, ("", 0))[0]]
    if missing:
        raise ParseError(f"the header lacks {', '.join(missing)} (see the format: Tool, Tested, Device, IMEI/Serial)")
    if start is None:
        raise ParseError("no results: the 'code,component,result,message' line is missing")
    imei = _imei(*header["imei"]) if "imei" in header else ""
    serial = _serial(*header["serial"]) if "serial" in header else ""
    if not imei and not serial:
        raise ParseError("the header names no IMEI and no serial number: the device cannot be identified")
    report = Report(
        tool=header["tool"][0][:60],
        tested_at=_tested(*header["tested"]),
        device=header["device"][0],
        imei=imei,
        serial=serial,
        os=header.get("os", ("", 0))[0],
        extra={k: v for k, (v, _) in header.items() if k not in (*REQUIRED, "imei", "serial", "os")},
    )
    report.results = _results(lines, start)
    return report


def _row(raw: str, n: int) -> list[str]:
    try:
        return next(csv.reader([raw], skipinitialspace=True, strict=True))
    except csv.Error:
        raise ParseError("a quoted message is not closed on its line", n) from None


def _results(lines: list[str], header_line: int) -> list[TestResult]:
    out: list[TestResult] = []
    for n, raw in enumerate(lines[header_line:], header_line + 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        row = _row(raw, n)
        if len(row) != 4:
            raise ParseError(f"a result row has four fields (code,component,result,message), this one {len(row)}", n)
        code, component, result, message = (c.strip() for c in row)
        code = code.upper()
        if not CODE_RE.match(code):
            raise ParseError(f"'{code[:60]}' is not a code (capital letters, digits and dashes)", n)
        result = result.upper()
        if result not in RESULTS:
            raise ParseError(f"the result of {code} must be PASS, FAIL, WARN or SKIP, not '{result[:20]}'", n)
        if len(out) >= MAX_RESULTS:
            raise ParseError(f"more than {MAX_RESULTS} results in one file", n)
        out.append(TestResult(n, code, component[:100], result, message[:MAX_MESSAGE]))
    if not out:
        raise ParseError("the results section is empty", header_line)
    return out


def read(data: bytes) -> Report:
    """`decode` then `parse`."""
    return parse(decode(data))


def area(code: str) -> str:
    """The part under test a Dr.Fone code names, in words ('' when unknown)."""
    parts = code.split("-")
    return AREAS[parts[1]][0] if len(parts) >= 3 and parts[0] == "DF" and parts[1] in AREAS else ""


def suggest(code: str) -> str:
    """The canonical repair code a failure of `code` usually needs ('' when unknown)."""
    parts = code.split("-")
    return AREAS[parts[1]][1] if len(parts) >= 3 and parts[0] == "DF" and parts[1] in AREAS else ""


def sample_files() -> list[Path]:
    """The well-formed sample exports (demo data and tests)."""
    return sorted(p for p in SAMPLES.glob("*.txt") if not p.name.startswith("malformed"))


def malformed_samples() -> list[Path]:
    """Sample files the format refuses (tests)."""
    return sorted(SAMPLES.glob("malformed*.txt"))
