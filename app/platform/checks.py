"""Invariant checks: what a domain's records must agree on (an order's status
with its print jobs, a build with its QA). Each domain declares its checks on
its door (`Domain.checks`); `python -m app.cli check` runs them for every shop
and the tests run them after the demo and after the flows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One disagreement: `subject` names the record as staff know it
    ("order #1042", "build for M-00003"), `problem` says what disagrees."""

    subject: str
    problem: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.problem}"
