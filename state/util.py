"""Small helpers the states share."""

from __future__ import annotations

from datetime import UTC, datetime


def sentence(message: str, *, friendly: bool = False) -> str:
    """A message as a sentence: a capital first letter and a closing full stop.
    `friendly` (the storefront): trimmed, "!" and "?" end a sentence too, and
    no message at all reads "Something went wrong."."""
    if friendly:
        message = message.strip()
        if not message:
            return "Something went wrong."
    ends = (".", "!", "?") if friendly else "."
    return message[:1].upper() + message[1:] + ("" if message.endswith(ends) else ".")


def at(dt: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp in UTC for a table cell ("" for none)."""
    return dt.astimezone(UTC).strftime(fmt) if dt else ""
