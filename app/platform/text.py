"""Text that comes in from outside (forms, query strings, JSON, webhooks) and
reaches PostgreSQL: the few rules every door applies the same way.

- PostgreSQL text cannot hold a NUL character: left alone it becomes a
  driver error and a 500. Doors refuse it with a message (the API) or strip it
  (what people type in pages, where it can only be a paste accident).
- A search box's `%` and `_` are what the person typed, not LIKE wildcards.
- Free-form text has a size: one field may not turn a row into megabytes
  that every list, export and live update then carries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypeVar

from pydantic import AfterValidator

from app.platform.errors import ValidationFailed

T = TypeVar("T")

NUL = "\x00"


def has_nul(text: str) -> bool:
    return NUL in text


def strip_nul(text: str) -> str:
    """`text` without NUL characters (for what people type into pages)."""
    return text.replace(NUL, "") if NUL in text else text


def refuse_nul(text: str, field: str) -> str:
    """`text` unchanged, or a 422 naming `field` when it holds a NUL character."""
    if NUL in text:
        raise ValidationFailed(f"{field}: must not contain NUL characters", code="nul_character")
    return text


def like_pattern(search: str) -> str:
    """A LIKE/ILIKE pattern that finds `search` anywhere in a value, with `%`,
    `_` and `\\` taken literally ("100%" finds "100%", not every row).
    Backslash is PostgreSQL's default LIKE escape character. NUL characters
    are dropped (they cannot match anything stored)."""
    escaped = strip_nul(search).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def bounded(text: str, field: str, max_length: int) -> str:
    """`text` unchanged, or a 422 naming `field` and its limit."""
    refuse_nul(text, field)
    if len(text) > max_length:
        raise ValidationFailed(
            f"{field}: at most {max_length:,} characters (this one has {len(text):,})", code="too_long"
        )
    return text


def bounded_mapping(
    value: Mapping[str, object], field: str, *, max_entries: int, max_key: int, max_value: int
) -> Mapping[str, object]:
    """A small name → value mapping (an order line's properties, say): at most
    `max_entries` entries, names and values (as text) within their lengths."""
    if len(value) > max_entries:
        raise ValidationFailed(f"{field}: at most {max_entries} entries (this one has {len(value)})", code="too_long")
    for key, item in value.items():
        bounded(str(key), f"{field} name", max_key)
        text = item if isinstance(item, str) else str(item)
        bounded(text, f"{field} '{str(key)[:40]}'", max_value)
    return value


def json_size(max_chars: int) -> AfterValidator:
    """A pydantic check for a free-form JSON object field (a print profile,
    a settings value): at most `max_chars` characters once written as JSON."""

    def check(value: T) -> T:
        size = len(json.dumps(value, default=str))
        if size > max_chars:
            raise ValueError(f"at most {max_chars:,} characters of JSON (this one has {size:,})")
        return value

    return AfterValidator(check)
