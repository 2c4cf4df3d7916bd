"""Build status lifecycle (seed 000, pure).

pending → in_progress → testing → completed, with paused (parts wait, …) and
failed (transient: staff fix the issue and move back). Completing needs a
passed QA sign-off (builds.service). Cancelling the order cancels the build:
no move leaves `cancelled`.
"""

from __future__ import annotations

from app.platform.machine import Machine, Status, StatusTable

STATUS = StatusTable(
    Status("pending", "Pending", "gray"),
    Status("in_progress", "In progress", "blue"),
    Status("paused", "Paused", "amber"),
    Status("testing", "Testing", "iris"),
    Status("completed", "Completed", "green"),
    Status("failed", "Failed", "red"),
    Status("cancelled", "Cancelled", "gray"),
)
STATUSES = STATUS.values

# The build's two PDF booklets (one render job makes both).
BOOKLET_STATUS = StatusTable(
    Status("none", "None", "gray"),
    Status("queued", "Queued", "blue"),
    Status("rendering", "Rendering", "blue"),
    Status("ready", "Ready", "green"),
    Status("failed", "Failed", "red"),
)

# A build's activity feed entry (workbench events, test runs).
EVENT_SEVERITY = StatusTable(
    Status("info", "Info", "gray"),
    Status("warning", "Warning", "amber"),
    Status("error", "Error", "red"),
    Status("critical", "Critical", "red"),
)

BUILD = Machine(
    "build",
    {
        "pending": {"in_progress"},
        "in_progress": {"paused", "testing", "failed"},
        "paused": {"in_progress", "failed"},
        "testing": {"completed", "in_progress", "failed", "paused"},
        "failed": {"in_progress", "testing"},
        "completed": {"testing"},  # reopened after a problem found at packaging
        # Its order was cancelled (builds.service stops it; never a staff move): out of the workbench flow.
        "cancelled": set(),
    },
    message="a build cannot go from {current} to {target}; allowed: {allowed}",
    none="none",
    details=True,
)
TRANSITIONS = BUILD.transitions

# How a build's status moves its order's fulfillment status (failed: unchanged).
TO_FULFILLMENT = {"in_progress": "building", "testing": "testing", "completed": "ready"}

TEST_RUN_TYPES = (
    "benchmark",
    "stress_test",
    "memory_test",
    "thermal_check",
    "storage_test",
    "stability_test",
    "incident",
)
TEST_RUN_STATUSES = ("pending", "running", "passed", "failed", "skipped")
# The eleven build timeline steps (seed 000), each with its words for people.
TIMELINE_STEP = StatusTable(
    Status("start", "Build started", "blue"),
    Status("parts_received", "Parts received", "gray"),
    Status("assembly", "Assembly", "blue"),
    Status("cable_management", "Cable management", "blue"),
    Status("os_install", "OS installed", "blue"),
    Status("software_setup", "Software set up", "blue"),
    Status("testing", "Testing", "iris"),
    Status("packaging", "Packaging", "amber"),
    Status("shipped", "Shipped", "green"),
    Status("milestone", "Milestone", "green"),
    Status("update", "Update", "gray"),
)
TIMELINE_STEPS = TIMELINE_STEP.values
EVENT_TYPES = ("note", "incident", "correction", "observation", "measurement", "issue", "fix", "info")
SEVERITIES = ("info", "warning", "error", "critical")


def allowed(current: str) -> list[str]:
    return BUILD.allowed(current)


def can_move(current: str, target: str) -> bool:
    return BUILD.can(current, target)


def check(current: str, target: str) -> None:
    """Raise InvalidTransition unless a build may go from `current` to `target`."""
    BUILD.check(current, target)
