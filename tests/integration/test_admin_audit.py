"""The audit log: filtered by action, by who did it and by the shop's days;
exported as CSV with the same filters, in words and the shop's time zone, to
those who may read the audit log only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from app.api import create_api
from app.platform import audit
from app.platform.db import tenant_session
from app.platform.formatting import ShopFormat
from app.platform.models import AuditLog
from tests.factories import PASSWORD, make_tenant, make_user

AMSTERDAM = ShopFormat(timezone="Europe/Amsterdam")


@pytest.fixture(scope="module")
def api():
    return create_api()


def _entry(tenant, action: str, at: datetime, actor=None, **meta) -> None:
    with tenant_session(tenant.id) as s:
        entry = audit.record(
            s, action, actor_user_id=actor.id if actor else None, target_type="user", target_id="x", meta=meta
        )
        entry.created_at = at
        s.commit()


def _shop():
    tenant = make_tenant()
    anna, ben = make_user(tenant, "admin", "anna"), make_user(tenant, "operator", "ben")
    # 23:30 UTC on 1 March is already 2 March in Amsterdam
    _entry(tenant, "user.created", datetime(2026, 3, 1, 12, 0, tzinfo=UTC), anna)
    _entry(
        tenant,
        "user.roles.changed",
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        anna,
        before=["viewer"],
        after=["operator"],
    )
    _entry(tenant, "api_key.created", datetime(2026, 3, 5, 9, 0, tzinfo=UTC), ben, name="Label printer", role="viewer")
    return tenant, anna, ben


def _search(tenant, **f) -> list[AuditLog]:
    f.setdefault("date_from", date(2026, 3, 1))
    f.setdefault("date_to", date(2026, 3, 31))  # leave out the sign-ups the factories wrote today
    with tenant_session(tenant.id) as s:
        rows, total = audit.search(s, audit.AuditFilter(**f), AMSTERDAM)
    assert total == len(rows)
    return rows


def test_filters_by_user_action_and_the_shops_days():
    tenant, _, _ = _shop()
    assert [a.action for a in _search(tenant, user="anna")] == ["user.roles.changed", "user.created"]
    assert [a.action for a in _search(tenant, user="BEN")] == ["api_key.created"]
    assert _search(tenant, user="nobody") == []
    assert [a.action for a in _search(tenant, action="user.created")] == ["user.created"]
    # the shop's days: 23:30 UTC on 1 March belongs to 2 March in Amsterdam
    assert [a.action for a in _search(tenant, date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))] == [
        "user.roles.changed"
    ]
    assert [a.action for a in _search(tenant, date_to=date(2026, 3, 1))] == ["user.created"]
    assert _search(tenant, newest_first=False)[0].action == "user.created"


def test_entries_read_as_words():
    tenant, _, _ = _shop()
    [changed] = _search(tenant, action="user.roles.changed")
    assert audit.action_label(changed.action) == "Role changed"
    assert audit.describe(changed.meta) == "viewer → operator"
    [key] = _search(tenant, action="api_key.created")
    key.target_type = "api_key"
    assert audit.target_label(key) == "API key Label printer"  # its name, not its id
    assert audit.action_label("orders.backfill.started") == "Shopify order import started"
    assert audit.action_label("something.new-thing") == "Something new thing"


def _client(api, tenant, username: str) -> TestClient:
    client = TestClient(api)
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200
    return client


def test_csv_export_follows_the_filters(api):
    tenant, _, _ = _shop()
    client = _client(api, tenant, "anna")
    r = client.get("/api/v1/audit-log/export.csv", params={"user": "anna", "from": "2026-03-01", "to": "2026-03-31"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows[0] == ["When", "Action", "Who", "Target", "IP address", "Details"]
    assert [row[1] for row in rows[1:]] == ["Role changed", "Staff account created"]
    changed = rows[1]
    assert changed[0] == "2 Mar 2026, 00:30:00"  # the shop's time zone and words
    assert changed[2] == "anna" and changed[5] == "viewer → operator"

    r = client.get("/api/v1/audit-log", params={"action": "api_key.created"})
    assert [a["action"] for a in r.json()] == ["api_key.created"]


def test_only_audit_readers_export(api):
    tenant, _, _ = _shop()
    client = _client(api, tenant, "ben")  # an operator: no audit.read
    assert client.get("/api/v1/audit-log/export.csv").status_code == 403
    assert TestClient(api).get("/api/v1/audit-log/export.csv").status_code == 401


def test_bad_dates_are_refused_with_a_clear_message(api):
    tenant, _, _ = _shop()
    client = _client(api, tenant, "anna")
    r = client.get("/api/v1/audit-log/export.csv", params={"from": "yesterday"})
    assert r.status_code == 422 and "from" in r.json()["error"]["message"]
