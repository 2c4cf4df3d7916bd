"""Repairs reports (issue 17, seed S9): the daily snapshot counts a day from the
assets' history, is idempotent (twice is one row with the same figures), sees
work in progress as it stood at the end of the day, and belongs to its shop;
assets past the shop's SLA limit stand out; the report routes and their
permissions."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.api import create_api
from app.platform.db import session_tenant_id, tenant_session
from app.platform.errors import ValidationFailed
from app.platform.formatting import of_tenant
from app.repairs.models import AssetStatusChange, DailyMetricsSnapshot, RepairAsset
from app.repairs.service import reports
from jobs import repairs_reports
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal
from tests.repairs_factories import make_asset, make_batch


@pytest.fixture(scope="module")
def api():
    return create_api()


def _client(api, tenant, role: str) -> TestClient:
    user = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c


def _history(s, asset: RepairAsset, *steps: tuple[str, str, datetime]) -> None:
    for frm, to, at in steps:
        s.add(
            AssetStatusChange(
                tenant_id=asset.tenant_id, asset_id=asset.id, from_status=frm, to_status=to, changed_at=at
            )
        )
    s.flush()


def _noon(s: Session, days_ago: int) -> datetime:
    """Noon, in the shop's zone, of the day `days_ago` before the shop's today. The shop's
    calendar, not UTC's: in the last hour before midnight UTC it is tomorrow in Amsterdam."""
    day = reports.today(s) - timedelta(days=days_ago)
    zone = ZoneInfo(of_tenant(session_tenant_id(s)).timezone)
    return datetime.combine(day, time(12), tzinfo=zone).astimezone(UTC)


def test_a_day_is_counted_from_the_history_and_snapshotting_it_again_changes_nothing():
    tenant = make_tenant("Repairs Reports Shop")
    with tenant_session(tenant.id) as s:
        batch = make_batch(s)
        day = _noon(s, 3)
        a = make_asset(s, batch=batch, status="dispatched", received_at=day - timedelta(hours=30))
        b = make_asset(s, batch=batch, status="ber_review", received_at=day)
        c = make_asset(s, batch=batch, status="in_repair", received_at=day)
        _history(
            s,
            a,
            ("", "received", day - timedelta(hours=30)),
            ("received", "in_triage", day - timedelta(hours=29)),
            ("in_triage", "in_repair", day - timedelta(hours=28)),
            ("in_repair", "final_qc", day - timedelta(hours=2)),
            ("final_qc", "ready_for_dispatch", day - timedelta(hours=1)),
            ("ready_for_dispatch", "dispatched", day),
        )
        minute = timedelta(minutes=1)
        _history(
            s,
            b,
            ("", "received", day),
            ("received", "in_triage", day + minute),
            ("in_triage", "ber_review", day + 2 * minute),
        )
        _history(
            s,
            c,
            ("", "received", day),
            ("received", "in_triage", day + minute),
            ("in_triage", "in_repair", day + 2 * minute),
        )
        s.commit()

        the_day = reports.today(s) - timedelta(days=3)
        first = reports.snapshot_day(s, the_day)
        s.commit()
        assert (first.received, first.triaged, first.ber, first.repaired, first.dispatched) == (2, 2, 1, 1, 1)
        assert first.wip_by_status == {"ber_review": 1, "in_repair": 1}  # a left the shop that day
        assert first.turnaround_hours == Decimal("30.00")

        again = reports.snapshot_day(s, the_day)
        s.commit()
        rows = s.exec(select(DailyMetricsSnapshot).where(DailyMetricsSnapshot.day == the_day)).all()
        assert len(rows) == 1 and again.id == first.id
        assert (again.received, again.dispatched, again.wip_by_status) == (2, 1, first.wip_by_status)

        # the day before: only a's arrival
        before = reports.snapshot_day(s, the_day - timedelta(days=1))
        assert (before.received, before.dispatched) == (1, 0)
        assert before.wip_by_status == {"in_repair": 1}


def test_the_cron_job_writes_today_and_yesterday_for_its_shop_only():
    mine, other = make_tenant("Snapshot Mine"), make_tenant("Snapshot Other")
    with tenant_session(mine.id) as s:
        asset = make_asset(s)
        _history(s, asset, ("", "received", datetime.now(UTC)))
        s.commit()
    assert repairs_reports.snapshot(str(mine.id)) == {"days": 2}
    assert repairs_reports.snapshot(str(mine.id)) == {"days": 2}  # idempotent
    with tenant_session(mine.id) as s:
        rows = s.exec(select(DailyMetricsSnapshot)).all()
        assert len(rows) == 2
        assert max(rows, key=lambda r: r.day).received == 1
    with tenant_session(other.id) as s:
        assert s.exec(select(DailyMetricsSnapshot)).all() == []  # row-level security


def test_assets_past_their_sla_limit_stand_out_and_limits_are_validated():
    tenant = make_tenant("SLA Shop")
    admin = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        late = make_asset(s, status="in_triage", status_changed_at=datetime.now(UTC) - timedelta(hours=30))
        make_asset(s, status="in_triage", status_changed_at=datetime.now(UTC) - timedelta(hours=2))
        s.commit()
        found, total = reports.late_assets(s)
        assert total == 1 and [r.number for r in found] == [late.number]
        assert found[0].hours >= 30 and found[0].limit == 24

        reports.set_sla_hours(s, {"in_triage": "48"}, actor=admin)
        s.commit()
        assert reports.late_assets(s)[1] == 0
        for bad in ({"in_triage": "0"}, {"in_triage": "two"}, {"dispatched": "5"}):
            with pytest.raises(ValidationFailed):
                reports.set_sla_hours(s, bad, actor=admin)
        assert reports.sla_hours(s)["in_triage"] == 48

        d = reports.dashboard(s)
        assert d.wip["in_triage"] == 2 and d.in_shop == 2


def test_report_routes_read_for_viewers_and_write_for_operators(api):
    tenant = make_tenant("Report Routes Shop")
    viewer, operator = _client(api, tenant, "viewer"), _client(api, tenant, "operator")
    with tenant_session(tenant.id) as s:
        make_asset(s, status="in_repair")
        s.commit()
    r = viewer.get("/api/v1/repairs/reports/wip")
    assert r.status_code == 200 and r.json()["wipByStatus"] == {"in_repair": 1}
    assert viewer.get("/api/v1/repairs/reports/daily?days=7").status_code == 200
    today = datetime.now(UTC).date().isoformat()
    assert viewer.post(f"/api/v1/repairs/reports/snapshots/{today}").status_code == 403
    assert operator.post(f"/api/v1/repairs/reports/snapshots/{today}").status_code == 200
    assert operator.post("/api/v1/repairs/reports/snapshots/not-a-day").status_code == 422
    r = operator.put("/api/v1/repairs/reports/sla", json={"in_repair": 0})
    assert r.status_code == 422 and "between" in r.json()["error"]["message"]
    assert TestClient(api).get("/api/v1/repairs/reports/wip").status_code == 401


def test_the_home_page_shows_devices_in_the_shop_and_their_latest_moves():
    from app.repairs import home
    from app.repairs.service._common import move_asset

    tenant = make_tenant("Repairs Home Shop")
    actor = staff_principal(tenant)
    with tenant_session(tenant.id) as s:
        assert home.tiles(s, actor) == []  # a shop that repairs nothing sees no repair tile
        asset = make_asset(s, status="received", status_changed_at=datetime.now(UTC) - timedelta(hours=30))
        s.commit()
        tile = home.tiles(s, actor)[0]
        assert (tile.key, tile.value, tile.tone) == ("repairs.in-shop", "1", "red")
        assert "1 waiting past" in tile.hint
        move_asset(s, asset, "in_triage", actor=actor)
        s.commit()
        [moved] = home.activity(s, actor, 5)
        assert moved.text == f"Asset {asset.number} moved to in triage"
        assert home.tiles(s, actor)[0].tone == "green"


def test_the_late_list_puts_the_most_overdue_first_even_when_it_is_not_the_oldest():
    tenant = make_tenant("SLA Order Shop")
    now = datetime.now(UTC)
    with tenant_session(tenant.id) as s:
        # waiting longest (130 h) but only 10 h past its 120 h limit
        patient = make_asset(s, status="awaiting_parts", status_changed_at=now - timedelta(hours=130))
        # waiting 60 h, 36 h past its 24 h limit
        urgent = make_asset(s, status="in_triage", status_changed_at=now - timedelta(hours=60))
        s.commit()
        found, total = reports.late_assets(s, limit=1)
        assert total == 2
        assert [r.number for r in found] == [urgent.number]  # not cut off by the older, less late one
        assert [r.number for r in reports.late_assets(s)[0]] == [urgent.number, patient.number]
