"""Build status lifecycle (seed 000, pure).

pending → in_progress → testing → completed, with paused (parts wait, …) and
failed (transient: staff fix the issue and move back).
"""

from __future__ import annotations

STATUSES = ("pending", "in_progress", "paused", "testing", "completed", "failed")

TRANSITIONS: dict[str, set[str]] = {
    "pending": {"in_progress"},
    "in_progress": {"paused", "testing", "failed"},
    "paused": {"in_progress", "failed"},
    "testing": {"completed", "in_progress", "failed", "paused"},
    "failed": {"in_progress", "testing"},
    "completed": {"testing"},  # reopened after a problem found at packaging
}

# How a build's status moves its order's fulfillment status (failed: unchanged).
TO_FULFILLMENT = {"in_progress": "building", "testing": "testing", "completed": "ready"}

TEST_RUN_TYPES = ("benchmark", "stress_test", "memory_test", "thermal_check", "storage_test", "stability_test",
                  "incident")
TEST_RUN_STATUSES = ("pending", "running", "passed", "failed", "skipped")
TIMELINE_STEPS = ("start", "parts_received", "assembly", "cable_management", "os_install", "software_setup",
                  "testing", "packaging", "shipped", "milestone", "update")
EVENT_TYPES = ("note", "incident", "correction", "observation", "measurement", "issue", "fix", "info")
SEVERITIES = ("info", "warning", "error", "critical")


def allowed(current: str) -> list[str]:
    return sorted(TRANSITIONS.get(current, set()))


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, set())
