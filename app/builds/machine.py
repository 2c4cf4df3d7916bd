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
    Status("none", "Not made yet", "gray"),
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

# How long a build has been where it is, in words for its card on the board:
# "{time}" is a length of time ("3 days"), "{ago}" a moment ("3 days ago").
STATUS_AGE = {
    "pending": "waiting {time}",
    "in_progress": "in progress for {time}",
    "paused": "paused for {time}",
    "testing": "in testing for {time}",
    "completed": "completed {ago}",
    "failed": "failed {ago}",
    "cancelled": "cancelled {ago}",
}
# Statuses the board folds away unless asked: the build's work is over.
CLOSED = ("completed", "cancelled")

# A test run (seed 000): what was tested and how it went.
TEST_RUN_TYPE = StatusTable(
    Status("benchmark", "Benchmark", "blue"),
    Status("stress_test", "Stress test", "orange"),
    Status("memory_test", "Memory test", "cyan"),
    Status("thermal_check", "Thermal check", "amber"),
    Status("storage_test", "Storage test", "teal"),
    Status("stability_test", "Stability test", "iris"),
    Status("incident", "Incident", "red"),
)
TEST_RUN_TYPES = TEST_RUN_TYPE.values
TEST_RUN_STATUS = StatusTable(
    Status("pending", "Pending", "gray"),
    Status("running", "Running", "blue"),
    Status("passed", "Passed", "green"),
    Status("failed", "Failed", "red"),
    Status("skipped", "Skipped", "gray"),
)
TEST_RUN_STATUSES = TEST_RUN_STATUS.values
# A stress test's outcome and the QA sign-off, as people read them.
STRESS_RESULT = StatusTable(Status("passed", "Passed", "green"), Status("failed", "Failed", "red"))
QA_RESULT = StatusTable(
    Status("passed", "Passed", "green"),
    Status("failed", "Failed", "red"),
    Status("open", "Not signed off", "gray"),
)
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
# A build event-log entry's kind (seed 000), in words.
EVENT_TYPE = StatusTable(
    Status("note", "Note", "gray"),
    Status("incident", "Incident", "red"),
    Status("correction", "Correction", "amber"),
    Status("observation", "Observation", "blue"),
    Status("measurement", "Measurement", "iris"),
    Status("issue", "Issue", "amber"),
    Status("fix", "Fix", "green"),
    Status("info", "Info", "gray"),
)
EVENT_TYPES = EVENT_TYPE.values
SEVERITIES = EVENT_SEVERITY.values


def qa_result(result: bool | None) -> str:
    """The QA sign-off as a QA_RESULT value."""
    return "passed" if result else "failed" if result is False else "open"


def allowed(current: str) -> list[str]:
    return BUILD.allowed(current)


def can_move(current: str, target: str) -> bool:
    return BUILD.can(current, target)


def check(current: str, target: str) -> None:
    """Raise InvalidTransition unless a build may go from `current` to `target`."""
    BUILD.check(current, target)
