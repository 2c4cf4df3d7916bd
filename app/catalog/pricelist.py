"""Reading a price-list CSV (pure, no database): `opendb_id, price, stock`
with optional `currency` and `active` columns.

Tolerant of what spreadsheets export: a UTF-8 byte-order mark, `,` `;` or tab
as the delimiter, a decimal comma (`12,50`), currency signs and spaces in
prices, header names in any case. Whole-file problems (not text, empty, no
header, missing columns) raise `ValidationFailed`; problems of single rows are
returned with the row number so the valid rows can still be applied.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from app.platform.errors import ValidationFailed

REQUIRED = ("opendb_id", "price", "stock")
OPTIONAL = ("currency", "active")
MAX_ROWS = 50_000
MAX_PRICE = Decimal("1000000")
MAX_STOCK = 1_000_000
_ALIASES = {
    "opendbid": "opendb_id",
    "opendb id": "opendb_id",
    "opendb-id": "opendb_id",
    "id": "opendb_id",
    "part_id": "opendb_id",
    "qty": "stock",
    "quantity": "stock",
}
_TRUE = {"", "1", "true", "yes", "y", "ja", "active", "x"}
_FALSE = {"0", "false", "no", "n", "nee", "inactive"}


@dataclass
class PriceRow:
    row: int  # 1-based line of the file (the header is row 1)
    part_id: uuid.UUID
    price: Decimal
    stock: int
    currency: str | None
    active: bool


@dataclass
class RowError:
    row: int
    opendb_id: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "opendbId": self.opendb_id, "message": self.message}


@dataclass
class ParsedList:
    rows: list[PriceRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0  # data rows in the file (blank lines not counted)


def decode(data: bytes | str) -> str:
    """The file's text; refuses binary files and undecodable bytes."""
    if isinstance(data, str):
        text = data
    else:
        if b"\x00" in data[:8192]:
            raise ValidationFailed("this file is not a CSV text file (it looks binary)", code="not_text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise ValidationFailed(
                    "this file is not a CSV text file (save it as UTF-8 CSV)", code="not_text"
                ) from exc
    text = text.lstrip("\ufeff")
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    if "\x00" in sample or (sample and controls > len(sample) // 100):
        raise ValidationFailed("this file is not a CSV text file (it looks binary)", code="not_text")
    return text


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _column(name: str) -> str:
    key = re.sub(r"\s+", " ", name.strip().strip('"').lower())
    return _ALIASES.get(key, key.replace(" ", "_"))


def parse_price(value: str) -> Decimal:
    """`12.50`, `12,50`, `€ 1.234,50`, `1,234.50` → Decimal; raises ValueError."""
    text = re.sub(r"[\s\u00a0€$£]|EUR|USD|GBP", "", value.strip(), flags=re.IGNORECASE)
    if not text:
        raise ValueError("the price is empty")
    if "," in text and "." in text:
        # 1.234,50 or 1,234.50
        decimal_comma = text.rfind(",") > text.rfind(".")
        text = text.replace(".", "").replace(",", ".") if decimal_comma else text.replace(",", "")
    elif "," in text:
        whole, _, frac = text.rpartition(",")
        if text.count(",") > 1 or len(frac) not in (1, 2):
            raise ValueError(f"'{value.strip()}' is not a price (write 1234.50 or 1234,50)")
        text = f"{whole}.{frac}"
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise ValueError(f"'{value.strip()}' is not a price")
    try:
        price = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"'{value.strip()}' is not a price") from exc
    if price <= 0:
        raise ValueError("the price must be more than 0")
    if price >= MAX_PRICE:
        raise ValueError(f"the price {price} is too high")
    if price != price.quantize(Decimal("0.01")):
        raise ValueError(f"the price {value.strip()} has more than two decimals")
    return price.quantize(Decimal("0.01"))


def parse_stock(value: str) -> int:
    text = value.strip()
    if not text:
        raise ValueError("the stock is empty")
    if re.fullmatch(r"-?\d+([.,]0+)?", text) is None:
        raise ValueError(f"'{text}' is not a whole number of items in stock")
    stock = int(re.split(r"[.,]", text)[0])
    if stock < 0:
        raise ValueError("the stock cannot be negative")
    if stock > MAX_STOCK:
        raise ValueError(f"the stock {stock} is too high")
    return stock


def parse(data: bytes | str) -> ParsedList:
    """Parse a whole price list; row-level problems are collected, not raised."""
    text = decode(data)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise ValidationFailed("the file is empty", code="empty_file")
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=_delimiter(lines[first]))
    header: list[str] | None = None
    out = ParsedList()
    seen: dict[uuid.UUID, int] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ValidationFailed(
                f"line {reader.line_num} cannot be read as CSV ({exc})", code="malformed_csv"
            ) from exc
        lineno = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [_column(c) for c in cells]
            try:
                uuid.UUID(cells[0].strip().strip('"'))
                looks_like_data = True
            except ValueError:
                looks_like_data = False
            if looks_like_data:
                raise ValidationFailed("the first line must be the header: opendb_id,price,stock", code="no_header")
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise ValidationFailed(
                    f"the header lacks {', '.join(missing)}; the columns are opendb_id,price,stock "
                    f"(optional: {', '.join(OPTIONAL)}); found: {', '.join(h or '(empty)' for h in header)}",
                    code="wrong_columns",
                )
            dupes = sorted({h for h in header if h and header.count(h) > 1})
            if dupes:
                raise ValidationFailed(f"the header repeats {', '.join(dupes)}", code="wrong_columns")
            continue
        out.total += 1
        if out.total > MAX_ROWS:
            raise ValidationFailed(f"a price list holds at most {MAX_ROWS} rows", code="too_many_rows")
        values = dict(zip(header, (c.strip() for c in cells), strict=False))
        raw_id = values.get("opendb_id", "")
        if len(cells) > len(header):
            out.errors.append(RowError(lineno, raw_id, f"{len(cells)} values for {len(header)} columns"))
            continue
        try:
            part_id = uuid.UUID(raw_id)
        except ValueError:
            out.errors.append(
                RowError(lineno, raw_id, "not an OpenDB id (a UUID)" if raw_id else "the opendb_id is empty")
            )
            continue
        if part_id in seen:
            out.errors.append(RowError(lineno, raw_id, f"duplicate row: this part is already on row {seen[part_id]}"))
            continue
        seen[part_id] = lineno
        try:
            price = parse_price(values.get("price", ""))
            stock = parse_stock(values.get("stock", ""))
        except ValueError as exc:
            out.errors.append(RowError(lineno, raw_id, str(exc)))
            continue
        currency = (values.get("currency") or "").upper() or None
        if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
            out.errors.append(RowError(lineno, raw_id, f"'{values.get('currency')}' is not a currency code"))
            continue
        active_text = (values.get("active") or "").lower()
        if active_text not in _TRUE | _FALSE:
            out.errors.append(RowError(lineno, raw_id, f"active is '{values.get('active')}' (use true or false)"))
            continue
        out.rows.append(PriceRow(lineno, part_id, price, stock, currency, active_text in _TRUE))
    if header is None:
        raise ValidationFailed("the file is empty", code="empty_file")
    if out.total == 0:
        raise ValidationFailed("the price list has a header but no rows", code="empty_file")
    return out
