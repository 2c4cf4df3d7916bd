"""Small helpers the states share."""

from __future__ import annotations

from datetime import UTC, datetime

from app.platform.errors import DomainError


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


def field_errors(exc: DomainError, whole: str = "form") -> dict[str, str]:
    """A refusal as a form shows it: per field when the service named them
    (`details["fields"]`), else one line under `whole` at the top."""
    fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
    if isinstance(fields, dict) and fields:
        return {str(k): sentence(str(v)) for k, v in fields.items()}
    return {whole: sentence(exc.message)}
