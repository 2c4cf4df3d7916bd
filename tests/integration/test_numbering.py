"""Document numbering: numbers are given once, in order, without races; gapless
sequences leave no gap on a rollback; shops keep their own counters, prefixes
and starting numbers; order numbers continue from the counters they had."""

from __future__ import annotations

import importlib.util
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.platform import numbering
from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.errors import Forbidden, NotFound, ValidationFailed
from app.platform.models import AuditLog
from app.settings import get_settings
from tests.factories import make_tenant, set_shop_format, staff_principal

ROOT = Path(__file__).resolve().parents[2]
JUNE_2026 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _take(tenant_id: uuid.UUID, key: str, *, at: datetime | None = None, commit: bool = True) -> str:
    with tenant_session(tenant_id) as s:
        number = numbering.reserve(s, key, at=at)
        if commit:
            s.commit()
        else:
            s.rollback()
        return number


def _row(tenant_id: uuid.UUID, key: str, *, at: datetime | None = None) -> numbering.SequenceRow:
    with tenant_session(tenant_id) as s:
        return next(r for r in numbering.sequence_settings(s, at=at) if r.key == key)


def _set(tenant_id: uuid.UUID, actor: Principal, key: str, **change) -> numbering.SequenceRow:
    change.setdefault("prefix", None)
    change.setdefault("next_value", None)
    with tenant_session(tenant_id) as s:
        row = numbering.set_sequence(s, key, actor=actor, **change)
        s.commit()
        return row


def _manual_order(tenant_id: uuid.UUID, source: str = "manual") -> str:
    data = OrderInput(
        source=source,
        lines=[LineInput(sku="PC-CUSTOM", title="Custom PC", quantity=1)],
        customer_name="Grace Hopper",
    )
    with tenant_session(tenant_id) as s:
        order, _ = orders.create_order(s, data)
        s.commit()
        return order.number


def test_fifty_concurrent_first_numbers_are_one_to_fifty():
    tenant = make_tenant()
    start = threading.Barrier(50)
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take() -> None:
        try:
            start.wait(timeout=30)  # all fifty set off together (as many at once as the pool has connections)
            with tenant_session(tenant.id) as s:
                value, _ = numbering.reserve_value(s, "asset")
                s.commit()
            with lock:
                got.append(value)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(got) == list(range(1, 51))
    assert _take(tenant.id, "asset") == "AS-00051"


def test_a_rolled_back_gapless_number_is_given_again_and_leaves_no_gap():
    tenant = make_tenant()
    assert _take(tenant.id, "invoice", at=JUNE_2026) == "INV-2026-00001"
    assert _take(tenant.id, "invoice", at=JUNE_2026, commit=False) == "INV-2026-00002"
    assert _take(tenant.id, "invoice", at=JUNE_2026) == "INV-2026-00002"
    assert _take(tenant.id, "invoice", at=JUNE_2026) == "INV-2026-00003"


def test_a_gapless_number_waits_for_the_transaction_holding_the_one_before():
    tenant = make_tenant()
    with tenant_session(tenant.id) as first:
        assert numbering.reserve(first, "credit_note", at=JUNE_2026) == "CN-2026-00001"
        result: list[str] = []
        second = threading.Thread(target=lambda: result.append(_take(tenant.id, "credit_note", at=JUNE_2026)))
        second.start()
        second.join(timeout=1)
        assert second.is_alive(), "the second caller must wait while the first may still roll back"
        first.rollback()
    second.join(timeout=10)
    assert result == ["CN-2026-00001"]


def test_a_starting_number_continues_legacy_numbering():
    tenant = make_tenant()
    admin = staff_principal(tenant)
    row = _set(tenant.id, admin, "invoice", prefix="F{year}/", next_value=1207, at=JUNE_2026)
    assert row.preview == "F2026/01207" and row.custom_prefix
    assert _take(tenant.id, "invoice", at=JUNE_2026) == "F2026/01207"
    assert _take(tenant.id, "invoice", at=JUNE_2026) == "F2026/01208"
    assert _row(tenant.id, "invoice", at=JUNE_2026).last_issued == "F2026/01208"
    # an empty prefix goes back to the default
    assert _set(tenant.id, admin, "invoice", prefix="", at=JUNE_2026).preview == "INV-2026-01209"
    with tenant_session(tenant.id) as s:
        entries = s.exec(select(AuditLog).where(AuditLog.action == "numbering.changed")).all()
    assert len(entries) == 2 and entries[0].actor_user_id is None


def test_the_next_number_cannot_go_back_to_a_number_already_given():
    tenant = make_tenant()
    admin = staff_principal(tenant)
    for _ in range(3):
        _take(tenant.id, "worksheet")
    with pytest.raises(ValidationFailed) as refused:
        _set(tenant.id, admin, "worksheet", next_value=3)
    assert "WS-00003 has already been given" in refused.value.message
    assert refused.value.details["fields"] == {"next_value": refused.value.message}
    with pytest.raises(ValidationFailed):
        _set(tenant.id, admin, "worksheet", next_value=1)
    assert _set(tenant.id, admin, "worksheet", next_value=4).preview == "WS-00004"  # the next one: allowed
    assert _set(tenant.id, admin, "worksheet", next_value=500).preview == "WS-00500"
    assert _take(tenant.id, "worksheet") == "WS-00500"


def test_a_starting_number_not_yet_used_may_be_lowered_again():
    tenant = make_tenant()
    admin = staff_principal(tenant)
    _set(tenant.id, admin, "batch", next_value=9000)
    assert _set(tenant.id, admin, "batch", next_value=90).preview == "BA-00090"
    assert _take(tenant.id, "batch") == "BA-00090"


def test_a_gapless_sequence_keeps_its_next_number_once_it_has_given_one():
    tenant = make_tenant()
    admin = staff_principal(tenant)
    _take(tenant.id, "invoice", at=JUNE_2026)
    with pytest.raises(ValidationFailed, match="without gaps"):
        _set(tenant.id, admin, "invoice", next_value=100, at=JUNE_2026)
    # the prefix may still change
    assert _set(tenant.id, admin, "invoice", prefix="R-{year}-", at=JUNE_2026).preview == "R-2026-00002"


@pytest.mark.parametrize(
    "prefix",
    ["INV 2026", "A{month}-", "<b>", "X" * 21, "M-"],  # a space, another placeholder, markup, too long, taken
)
def test_bad_or_taken_prefixes_are_refused(prefix):
    tenant = make_tenant()
    with pytest.raises(ValidationFailed) as refused:
        _set(tenant.id, staff_principal(tenant), "order_builder", prefix=prefix)
    assert refused.value.details["fields"].keys() == {"prefix"}
    assert _row(tenant.id, "order_builder").prefix == "B-"


def test_changing_numbering_needs_the_settings_permission():
    tenant = make_tenant()
    reader = Principal(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        tenant_slug=tenant.slug,
        user_id=None,
        username="reader",
        display_name="Reader",
        roles=("operator",),
        permissions=frozenset({"settings.read"}),
    )
    with pytest.raises(Forbidden):
        _set(tenant.id, reader, "asset", next_value=10)
    assert _row(tenant.id, "asset").next_value == 1


def test_an_unknown_numbering_is_not_found():
    tenant = make_tenant()
    with pytest.raises(NotFound), tenant_session(tenant.id) as s:
        numbering.reserve(s, "no-such-thing")


def test_each_shop_counts_for_itself():
    a, b = make_tenant(), make_tenant()
    assert [_take(a.id, "dispatch") for _ in range(3)] == ["DS-00001", "DS-00002", "DS-00003"]
    _set(b.id, staff_principal(b), "dispatch", prefix="SHIP-", next_value=70)
    assert _take(b.id, "dispatch") == "SHIP-00070"
    assert _take(a.id, "dispatch") == "DS-00004"
    with tenant_session(a.id) as s:
        assert {r.tenant_id for r in s.exec(select(numbering.NumberingSequence))} == {a.id}
        # a shop cannot write a counter for another shop
        with pytest.raises(Exception, match="row-level security"):
            s.execute(
                text("INSERT INTO numbering_sequences VALUES (:t, 'dispatch', 0, NULL, 1, NULL, now())"), {"t": b.id}
            )


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM numbering_sequences",
        "UPDATE sequence_definitions SET padding = 1",
        "INSERT INTO sequence_definitions VALUES ('x', 'X', 'X-', 5, 'never', false)",
    ],
)
def test_the_app_role_never_deletes_a_counter_nor_changes_a_definition(statement):
    from app import cli

    cli.db_setup()  # the database set-up runs again before every migration (each deploy)
    tenant = make_tenant()
    _take(tenant.id, "asset")
    with tenant_session(tenant.id) as s, pytest.raises(Exception, match="permission denied"):
        s.execute(text(statement))


def test_a_yearly_sequence_starts_again_at_one_and_keeps_the_shops_prefix():
    tenant = make_tenant()
    _set(tenant.id, staff_principal(tenant), "invoice", prefix="F{year}-", at=JUNE_2026)
    assert _take(tenant.id, "invoice", at=JUNE_2026) == "F2026-00001"
    assert _take(tenant.id, "invoice", at=JUNE_2026) == "F2026-00002"
    new_year = datetime(2027, 1, 2, tzinfo=UTC)
    assert _row(tenant.id, "invoice", at=new_year).preview == "F2027-00001"
    assert _take(tenant.id, "invoice", at=new_year) == "F2027-00001"
    assert _take(tenant.id, "invoice", at=JUNE_2026) == "F2026-00003"  # a late 2026 document keeps counting 2026


def test_the_year_is_the_shops_year():
    tenant = make_tenant()
    set_shop_format(tenant, timezone="Pacific/Auckland")  # 13 hours ahead of UTC in December
    new_years_eve_utc = datetime(2026, 12, 31, 12, tzinfo=UTC)  # already 1 January 2027 in Auckland
    assert _take(tenant.id, "credit_note", at=new_years_eve_utc) == "CN-2027-00001"


def test_a_never_resetting_sequence_does_not_start_again():
    tenant = make_tenant()
    assert _take(tenant.id, "asset", at=JUNE_2026) == "AS-00001"
    assert _take(tenant.id, "asset", at=datetime(2027, 3, 1, tzinfo=UTC)) == "AS-00002"


def test_settings_list_every_kind_of_number():
    tenant = make_tenant()
    rows = {r.key: r for r in _row_list(tenant.id)}
    assert set(rows) == {
        "order_manual",
        "order_builder",
        "asset",
        "batch",
        "worksheet",
        "dispatch",
        "invoice",
        "credit_note",
    }
    assert rows["invoice"].gapless and rows["invoice"].reset == "yearly"
    assert rows["order_manual"].preview == "M-00001" and rows["order_manual"].last_issued == ""


def _row_list(tenant_id: uuid.UUID) -> list[numbering.SequenceRow]:
    with tenant_session(tenant_id) as s:
        return numbering.sequence_settings(s, at=JUNE_2026)


# --- orders -------------------------------------------------------------------------------------


def test_order_numbers_keep_their_format_and_follow_the_shops_prefix():
    tenant = make_tenant()
    assert _manual_order(tenant.id) == "M-00001"
    assert _manual_order(tenant.id) == "M-00002"
    assert _manual_order(tenant.id, "builder") == "B-00001"
    _set(tenant.id, staff_principal(tenant), "order_manual", prefix="SHOP-")
    assert _manual_order(tenant.id) == "SHOP-00003"


def _migration():
    path = ROOT / "alembic" / "versions" / "0014_numbering.py"
    spec = importlib.util.spec_from_file_location("numbering_migration", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_order_numbers_continue_from_the_counter_kept_before_numbering():
    tenant, untouched = make_tenant(), make_tenant()
    engine = create_engine(get_settings().migrations_database_url)  # the owner role, as migrations run
    try:
        with engine.begin() as conn:
            for key, value in (("orders.sequence.M", "41"), ("orders.sequence.B", '"7"')):
                conn.execute(
                    text(
                        "INSERT INTO system_config (tenant_id, key, value, updated_at) "
                        "VALUES (:t, :k, CAST(:v AS jsonb), now())"
                    ),
                    {"t": tenant.id, "k": key, "v": value},
                )
            _migration().carry_over_order_counters(conn)
            left = conn.execute(
                text("SELECT count(*) FROM system_config WHERE tenant_id = :t AND key LIKE 'orders.sequence.%'"),
                {"t": tenant.id},
            ).scalar()
    finally:
        engine.dispose()
    assert left == 0
    assert _manual_order(tenant.id) == "M-00042"
    assert _manual_order(tenant.id, "builder") == "B-00008"
    assert _manual_order(untouched.id) == "M-00001"


def test_carrying_the_counters_over_twice_never_moves_a_counter_back():
    tenant = make_tenant()
    for _ in range(5):
        _manual_order(tenant.id)
    engine = create_engine(get_settings().migrations_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO system_config (tenant_id, key, value, updated_at) "
                    "VALUES (:t, 'orders.sequence.M', '2'::jsonb, now())"
                ),
                {"t": tenant.id},
            )
            _migration().carry_over_order_counters(conn)
    finally:
        engine.dispose()
    assert _manual_order(tenant.id) == "M-00006"


def test_a_block_of_numbers_is_taken_at_once_and_the_counter_continues_after_it():
    tenant = make_tenant()
    with tenant_session(tenant.id) as s:
        assert numbering.reserve_block(s, "batch", 3) == ["BA-00001", "BA-00002", "BA-00003"]
        assert numbering.reserve_block(s, "batch", 0) == []
        s.commit()
    assert _take(tenant.id, "batch") == "BA-00004"
    with tenant_session(tenant.id) as s:
        assert numbering.reserve_block(s, "batch", 2) == ["BA-00005", "BA-00006"]
