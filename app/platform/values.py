"""Reading loosely typed values (from a page, a webhook payload)."""

from __future__ import annotations

from typing import Any


def to_int(value: Any, default: int = 0) -> int:
    """`int(value)`, or `default` when it is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
