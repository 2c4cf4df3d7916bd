"""Row-level security: tenants cannot see or touch each other's rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel, select

from app.platform import config
from app.platform.db import get_engine, platform_session, tenant_session
from app.platform.models import SystemConfig, User
from tests.factories import make_tenant, make_user


def test_app_role_cannot_bypass_rls():
    with get_engine().connect() as conn:
        row = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        assert row == (False, False)
        owned = conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname='public' AND tableowner = current_user")
        ).scalar()
        assert owned == 0


def test_every_tenant_table_forces_rls_with_a_policy():
    tenant_tables = sorted(t.name for t in SQLModel.metadata.sorted_tables if "tenant_id" in t.columns)
    assert "users" in tenant_tables and "outbox" in tenant_tables
    with get_engine().connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
                "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
            )
        ).all()
    state = {r[0]: r[1:] for r in rows}
    for table in tenant_tables:
        assert state[table] == (True, True, 1), f"{table} is not protected by a forced RLS policy"


def test_tenant_a_cannot_read_update_or_delete_tenant_b_rows():
    a, b = make_tenant("Shop A"), make_tenant("Shop B")
    make_user(a, "operator")
    b_user = make_user(b, "operator")
    with tenant_session(b.id) as s:
        config.set_value(s, "shop.currency", "EUR")
        s.commit()

    with tenant_session(a.id) as s:
        assert s.get(User, b_user.id) is None
        assert s.exec(select(User).where(User.id == b_user.id)).first() is None
        assert all(u.tenant_id == a.id for u in s.exec(select(User)))
        updated = s.execute(text("UPDATE users SET display_name = 'hacked' WHERE id = :id"), {"id": b_user.id})
        deleted = s.execute(text("DELETE FROM users WHERE id = :id"), {"id": b_user.id})
        assert updated.rowcount == 0 and deleted.rowcount == 0
        assert s.execute(text("DELETE FROM system_config WHERE tenant_id = :t"), {"t": b.id}).rowcount == 0
        s.commit()

    with tenant_session(b.id) as s:
        still = s.get(User, b_user.id)
        assert still is not None and still.display_name != "hacked"
        assert config.get(s, "shop.currency") == "EUR"


def test_insert_with_another_tenants_id_is_refused():
    a, b = make_tenant(), make_tenant()
    with tenant_session(a.id) as s:
        s.add(SystemConfig(tenant_id=b.id, key="sneaky", value=True))
        with pytest.raises(DBAPIError, match="row-level security"):
            s.commit()


def test_moving_a_row_to_another_tenant_is_refused():
    a, b = make_tenant(), make_tenant()
    user = make_user(a)
    with tenant_session(a.id) as s, pytest.raises(DBAPIError, match="row-level security"):
        s.execute(text("UPDATE users SET tenant_id = :b WHERE id = :id"), {"b": b.id, "id": user.id})


def test_a_session_without_tenant_sees_nothing():
    a = make_tenant()
    make_user(a)
    with platform_session() as s:
        assert s.exec(select(User)).all() == []
        assert s.execute(text("SELECT count(*) FROM audit_log")).scalar() == 0
        s.add(User(tenant_id=a.id, username="ghost", password_hash="x"))
        with pytest.raises(DBAPIError, match="row-level security"):
            s.commit()


def test_pooled_connection_does_not_leak_tenant_setting():
    a = make_tenant()
    make_user(a)
    with tenant_session(a.id) as s:
        assert s.exec(select(User)).all()
        s.commit()
    # the same pool, no tenant now: the cleared setting must match nothing
    for _ in range(3):
        with platform_session() as s:
            assert s.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar() in ("", None)
            assert s.exec(select(User)).all() == []


def test_tenant_session_requires_a_tenant():
    with pytest.raises(ValueError), tenant_session(""):
        pass
    with pytest.raises(ValueError), tenant_session("not-a-uuid"):
        pass
    assert uuid.UUID(str(make_tenant().id))
