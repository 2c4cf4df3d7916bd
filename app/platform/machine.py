"""State machines (pure): one rule table per lifecycle, one way to check a move.

A domain's machine module declares its lifecycle once:

    BUILD = Machine("build", {"pending": {"in_progress"}, ...},
                    message="a build cannot go from {current} to {target}; allowed: {allowed}")

and services call `BUILD.check(current, target)`, which raises
`InvalidTransition` with that message ("allowed: none (final)" when nothing is).

Beside it, a `StatusTable` of its statuses (value → label, colour; InvenTree's
StatusCode idea), from which pages draw their badges (`components.ui.status_badge`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from app.platform.errors import InvalidTransition


class Machine:
    def __init__(
        self,
        name: str,
        transitions: Mapping[str, Iterable[str]],
        *,
        order: Iterable[str] | None = None,
        message: str = "{name} cannot go from {current} to {target}; allowed: {allowed}",
        none: str = "none (final)",
        details: bool = False,
    ) -> None:
        """`transitions`: status → the statuses it may move to. `order`: how
        `allowed()` lists them (default: alphabetical). `message`: the error's
        text, formatted with name, current, target, allowed and what `check()`
        is given; `none`: "allowed" when nothing is; `details`: the error
        carries {"allowed": [...]}."""
        self.name = name
        self.transitions: dict[str, set[str]] = {k: set(v) for k, v in transitions.items()}
        self.order = tuple(order) if order is not None else None
        self.message, self.none, self.details = message, none, details

    def can(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, set())

    def allowed(self, current: str) -> list[str]:
        targets = self.transitions.get(current, set())
        return [s for s in self.order if s in targets] if self.order is not None else sorted(targets)

    def check(self, current: str, target: str, **fields: object) -> None:
        """Raise InvalidTransition unless `current` → `target` is allowed."""
        if self.can(current, target):
            return
        allowed = self.allowed(current)
        text = self.message.format(
            name=self.name, current=current, target=target, allowed=", ".join(allowed) or self.none, **fields
        )
        raise InvalidTransition(text, details={"allowed": allowed} if self.details else None)


@dataclass(frozen=True)
class Status:
    value: str
    label: str
    color: str = "gray"  # a Radix colour scheme


class StatusTable:
    """The statuses of one lifecycle, in their order: value → label, colour."""

    def __init__(self, *statuses: Status, default_color: str = "gray") -> None:
        self.statuses = statuses
        self.default_color = default_color
        self._by_value = {s.value: s for s in statuses}

    def __iter__(self) -> Iterator[Status]:
        return iter(self.statuses)

    def __contains__(self, value: object) -> bool:
        return value in self._by_value

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(s.value for s in self.statuses)

    def label(self, value: str) -> str:
        status = self._by_value.get(value)
        return status.label if status else value

    def color(self, value: str) -> str:
        status = self._by_value.get(value)
        return status.color if status else self.default_color

    @property
    def colors(self) -> dict[str, str]:
        return {s.value: s.color for s in self.statuses}


# Statuses several domains share ------------------------------------------------

# A background run a person started and watches: the catalog price-list import,
# the Shopify order backfill.
RUN_STATUS = StatusTable(
    Status("QUEUED", "Queued", "blue"),
    Status("RUNNING", "Running", "blue"),
    Status("COMPLETED", "Completed", "green"),
    Status("FAILED", "Failed", "red"),
)

# An operational event's severity (the event log, notifications).
SEVERITY = StatusTable(
    Status("INFO", "Info", "gray"),
    Status("WARNING", "Warning", "amber"),
    Status("ERROR", "Error", "red"),
)
