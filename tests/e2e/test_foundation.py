"""Staff sign-in, the home page, the queue dashboard and admin pages, in Chromium."""

from __future__ import annotations

import contextlib
import re
import time
import uuid

import httpx
from playwright.sync_api import expect

from app.platform.tasks import queue
from app.settings import get_settings
from tests import factories
from tests.e2e.conftest import shot, sign_in, sign_in_with_form
from tests.e2e.jobs_for_tests import fail_once


def test_operator_signs_in_sees_the_shop_and_signs_out(page):
    tenant = factories.default_tenant()
    operator = factories.make_user(tenant, "operator")
    page.goto("/")
    page.wait_for_url("**/login**")
    shot(page, "01-login")
    sign_in_with_form(page, operator.username)
    expect(page.get_by_test_id("welcome")).to_have_text("Welcome, Test Operator")
    expect(page.get_by_test_id("tenant-badge")).to_have_text("Test Default Shop")
    expect(page.get_by_test_id("tile-orders.to-ship")).to_be_visible()  # the shop's work, not system counters
    expect(page.get_by_test_id("nav-admin/queues")).to_have_count(0)  # not for operators
    shot(page, "02-home-operator")

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("sign-out").click()
    page.wait_for_url("**/login")
    page.goto("/")
    page.wait_for_url("**/login**")  # the session is gone
    expect(page.locator("#username")).to_be_visible()


def test_wrong_password_shows_an_error(page):
    tenant = factories.default_tenant()
    user = factories.make_user(tenant, "operator")
    sign_in_with_form(page, user.username, "definitely-wrong")
    expect(page.get_by_test_id("login-error")).to_have_text("Wrong username or password.")
    expect(page).to_have_url(f"{get_settings().app_url}/login")
    shot(page, "03-login-error")


def test_viewer_is_refused_the_queue_dashboard(page):
    tenant = factories.default_tenant()
    viewer = factories.make_user(tenant, "viewer")
    sign_in(page, viewer.username)
    expect(page.get_by_test_id("welcome")).to_be_visible()
    page.goto("/admin/queues")
    expect(page.get_by_test_id("forbidden")).to_contain_text("Operate the system")
    expect(page.get_by_test_id("failed-jobs")).to_have_count(0)
    status = page.evaluate(
        "async (api) => (await fetch(api + '/api/v1/queues', {credentials: 'include'})).status", get_settings().api_url
    )
    assert status == 403
    shot(page, "04-queues-refused-viewer")


def test_sign_in_returns_to_the_page_asked_for_in_another_shop(page):
    other = factories.make_tenant("Second Shop")
    admin = factories.make_user(other, "admin")
    page.goto("/admin/users")
    page.wait_for_url(re.compile(r"/login\?next=(%2F|/)admin(%2F|/)users$"))
    page.locator("#username").fill(admin.username)
    page.locator("#password").fill(factories.PASSWORD)
    page.get_by_text("Another shop?").click()
    page.locator("#shop").fill(other.slug)
    page.get_by_test_id("sign-in").click()
    page.wait_for_url("**/admin/users")
    expect(page.get_by_test_id("tenant-badge")).to_have_text("Second Shop")
    expect(page.get_by_text(admin.username)).to_be_visible()


def _status(job_id: str) -> str | None:
    found = queue("default").fetch_job(job_id)
    return found.get_status() if found else None


def test_admin_sees_failed_job_and_requeues_it(page):
    tenant = factories.default_tenant()
    admin = factories.make_user(tenant, "admin")
    label = f"e2e: a job that fails {uuid.uuid4().hex[:6]}"
    job = queue("default").enqueue(fail_once, str(tenant.id), uuid.uuid4().hex, description=label)
    deadline = time.time() + 20  # the app's worker runs it, and it fails
    while _status(job.id) != "failed":
        assert time.time() < deadline, "the job never failed"
        time.sleep(0.2)

    sign_in(page, admin.username)
    expect(page.get_by_test_id("welcome")).to_be_visible()
    page.get_by_test_id("nav-admin/queues").click()
    page.wait_for_url("**/admin/queues")
    table = page.get_by_test_id("failed-jobs")
    row = table.get_by_role("row").filter(has_text=label)
    expect(row).to_contain_text("printer bridge timed out")
    shot(page, "05-queues-admin")
    row.get_by_role("button", name="Requeue").click()
    expect(page.get_by_text("Job requeued.")).to_be_visible()
    deadline = time.time() + 20  # the worker runs it again, and this time it succeeds
    while _status(job.id) != "finished":
        assert time.time() < deadline, "the requeued job never succeeded"
        time.sleep(0.2)
    expect(page.get_by_text(label)).to_have_count(0)


def test_admin_changes_a_role_and_it_is_audited(page):
    tenant = factories.default_tenant()
    admin = factories.make_user(tenant, "admin")
    target = factories.make_user(tenant, "viewer")
    sign_in(page, admin.username, next_path="/admin/users")
    page.wait_for_url("**/admin/users")
    page.get_by_placeholder("Search name, username or email").fill(target.username)
    expect(page.get_by_role("row")).to_have_count(2)  # the header and the one match
    page.get_by_role("row").filter(has_text=target.username).get_by_role("combobox").click()
    page.get_by_role("option", name="Operator", exact=True).click()
    expect(page.get_by_text(f"{target.username} is now operator.")).to_be_visible()
    shot(page, "06-users")
    page.goto("/admin/audit")
    expect(page.get_by_role("row").filter(has_text="Role changed").first).to_be_visible()
    changes = page.get_by_role("row").filter(has_text="Role changed").filter(has_text=target.username)
    expect(changes.filter(has_text="viewer → operator")).to_have_count(1)
    shot(page, "07-audit")


def test_api_key_is_shown_once_and_revoked_after_confirmation(page):
    tenant = factories.default_tenant()
    admin = factories.make_user(tenant, "admin")
    sign_in(page, admin.username, next_path="/admin/api-keys")
    page.wait_for_url("**/admin/api-keys")
    name = f"Label printer {uuid.uuid4().hex[:4]}"
    page.get_by_placeholder("What uses this key?").fill(name)
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_test_id("new-api-key").inner_text()
    assert secret.startswith("sfk_")
    api = get_settings().api_url
    assert httpx.get(f"{api}/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    shot(page, "08-api-keys")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Viewer")  # the least privileged role unless another is chosen
    expect(row.get_by_test_id("key-status")).to_have_text("Active")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("API key revoked.")).to_be_visible()
    expect(row.get_by_test_id("key-status")).to_have_text("Revoked")
    assert httpx.get(f"{api}/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_server_limits_bodies_cors_and_reports_health(app_url):
    api = get_settings().api_url
    big = b"x" * (get_settings().max_body_bytes + 1)
    r = httpx.post(f"{api}/_upload", content=big, headers={"content-type": "application/octet-stream"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    r = httpx.post(f"{api}/api/v1/webhooks/shopify", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    evil = httpx.options(
        f"{api}/api/v1/auth/login", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert evil.headers.get("access-control-allow-origin") is None
    good = httpx.options(
        f"{api}/api/v1/auth/login", headers={"Origin": app_url, "Access-Control-Request-Method": "POST"}
    )
    assert good.headers.get("access-control-allow-origin") == app_url
    assert httpx.get(f"{api}/health/ready").json()["status"] == "ok"
    docs = httpx.get(f"{api}/api/docs")
    assert docs.status_code == 200 and "Shopfloor API" in httpx.get(f"{api}/api/openapi.json").text


def test_staff_are_told_their_account_was_being_guessed_at(page):
    from app.platform import auth
    from app.platform.errors import DomainError

    tenant = factories.default_tenant()
    user = factories.make_user(tenant, "operator")
    for i in range(7):  # a stranger elsewhere: 5 guesses checked, then made to wait
        with contextlib.suppress(DomainError):
            auth.login(user.username, f"guess-{i}-wrong", shop=tenant.slug, ip="203.0.113.9")
    sign_in(page, user.username)  # the owner, from another address, is not held up
    expect(page.get_by_test_id("welcome")).to_be_visible()
    notice = page.get_by_text("7 failed sign-in attempts since your last visit, the last from 203.0.113.9")
    expect(notice).to_be_visible()
    expect(page.get_by_text("Change your password if this was not you.")).to_be_visible()
    shot(page, "09-guessing-notice")
    page.reload()  # told once
    expect(page.get_by_test_id("welcome")).to_be_visible()
    page.wait_for_timeout(1500)
    expect(notice).to_have_count(0)


def test_a_signed_out_page_receives_no_new_orders(page):
    from decimal import Decimal

    from app.orders import service as orders
    from app.orders.inputs import LineInput, OrderInput
    from app.platform.db import tenant_session

    tag = uuid.uuid4().hex[:8]
    tenant = factories.default_tenant()
    operator = factories.make_user(tenant, "operator")

    def new_order(customer: str) -> None:
        with tenant_session(tenant.id) as s:
            orders.create_manual_order(
                s,
                OrderInput(
                    source="manual",
                    customer_name=customer,
                    ship_country_code="NL",
                    lines=[LineInput(sku="VASE-1", title="Vase", quantity=1, unit_price=Decimal("20"))],
                ),
                actor=factories.staff_principal(tenant),
            )
            s.commit()

    sign_in(page, operator.username, next_path="/orders")
    page.wait_for_url("**/orders")
    page.get_by_test_id("order-search").fill(tag)
    expect(page.get_by_test_id("order-total")).to_have_text("0 orders")
    new_order(f"Live {tag} one")
    expect(page.get_by_test_id("order-total")).to_have_text("1 order", timeout=20_000)  # live, no reload

    other_tab = page.context.new_page()  # sign out in another tab of the same browser
    other_tab.goto("/login")
    status = other_tab.evaluate(
        "async (api) => (await fetch(api + '/api/v1/auth/logout', {method: 'POST', credentials: 'include'})).status",
        get_settings().api_url,
    )
    assert status == 204
    new_order(f"Live {tag} two")
    page.wait_for_timeout(5000)  # more than enough for a live update to arrive
    expect(page.get_by_test_id("order-total")).to_have_text("1 order")  # the signed-out page shows nothing new
    expect(page.get_by_text(f"Live {tag} two")).to_have_count(0)
    shot(page, "10-signed-out-page-quiet")
