"""The admin pages speak words: actions, details, job names and errors read
as people say them, never as the program's identifiers."""

from __future__ import annotations

from app.platform import audit, queues
from state.admin import role_title


def test_actions_and_details_read_as_words():
    assert audit.action_label("user.roles.changed") == "Role changed"
    assert audit.action_label("print_job.needs-review") == "Print job needs review"
    assert audit.describe({"before": ["viewer"], "after": ["operator"]}) == "viewer → operator"
    assert audit.describe({"reason": "bad_credentials", "correlationId": "c1"}) == "reason: bad credentials"
    assert audit.describe({"customerId": "2276dbd1-c739", "email": "x@example.com"}) == "email: x@example.com"
    assert (
        audit.describe({"before": {"currency": "EUR"}, "after": {"currency": "CHF"}}) == "currency EUR → currency CHF"
    )
    assert audit.describe({"email": "anna_b@example.com"}) == "email: anna_b@example.com"  # names stay as written


def test_jobs_and_errors_read_as_words():
    assert queues.job_title("jobs.printing.reconcile_if_due") == "Printing: reconcile if due"
    assert queues.job_title(None) == "A background job"
    assert queues.plain_error("RuntimeError: printer bridge timed out") == "printer bridge timed out"
    assert queues.plain_error("httpx.ConnectTimeout: timed out") == "timed out"
    assert (
        queues.plain_error("Shopify is not connected: check the token") == "Shopify is not connected: check the token"
    )
    assert queues.WORKER_STATE.label("busy") == "Busy"


def test_role_names_read_as_titles():
    assert role_title("legacy-admin") == "Legacy admin"
    assert role_title("viewer") == "Viewer"
