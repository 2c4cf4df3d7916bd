"""Grid presets and settings: system presets and a shop's public ones are
seen by every shop, a private one only by its shop; a shop never writes a
system or another shop's preset (the service refuses, and so does the
database); the shop's pricing, limits and printer profile are checked field
by field and read back as saved."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.grid import service
from app.grid.models import GridPreset
from app.platform import audit, config
from app.platform.db import tenant_session
from app.platform.errors import Forbidden, NotFound, ValidationFailed
from tests.factories import make_tenant, staff_principal

SYSTEM = {"Bambu Lab A1, magnets", "Bambu Lab A1 mini", "Prusa MK4, edge puzzle", "IKEA Alex drawer"}


def _names(tenant) -> set[str]:
    with tenant_session(tenant.id) as s:
        return {p.name for p in service.list_presets(s)}


def _save(tenant, name: str, *, public: bool, **parameters) -> uuid.UUID:
    with tenant_session(tenant.id) as s:
        row = service.save_preset(
            s, name=name, parameters=parameters or {"magnets": "none"}, is_public=public, actor=staff_principal(tenant)
        )
        s.commit()
        return row.id


def test_presets_are_seen_by_the_shops_they_are_meant_for():
    a, b = make_tenant("Shop A"), make_tenant("Shop B")
    shared = _save(a, "A's deep drawers", public=True, drawer_width_mm=300, drawer_depth_mm=500)
    private = _save(a, "A's own", public=False, magnets="press-fit")
    _save(b, "B's own", public=False, connector="edge-puzzle")

    assert _names(a) >= SYSTEM and _names(b) >= SYSTEM
    assert {"A's deep drawers", "A's own"} <= _names(a) and "B's own" not in _names(a)
    assert "A's deep drawers" in _names(b) and "A's own" not in _names(b)
    with tenant_session(b.id) as s:
        rows = {p.name: p for p in service.list_presets(s)}
        assert rows["A's deep drawers"].mine is False and rows["B's own"].mine is True
        assert rows["IKEA Alex drawer"].is_system and not rows["IKEA Alex drawer"].mine
        order = [(p.is_system, p.mine) for p in service.list_presets(s)]
        assert order == sorted(order, key=lambda o: (not o[0], not o[1]))  # system first, then the shop's own
        with pytest.raises(NotFound):
            service.get_preset(s, private)
        options = service.apply_preset(s, shared, drawer_width_mm=320)
        assert (options.drawer_width_mm, options.drawer_depth_mm) == (320, 500)
        with pytest.raises(ValidationFailed, match="drawer's width and depth"):
            service.apply_preset(s, rows["Bambu Lab A1 mini"].id)


def test_a_shop_never_changes_a_system_preset_or_another_shops():
    a, b = make_tenant(), make_tenant()
    shared = _save(a, "Shared", public=True, magnets="none")
    with tenant_session(b.id) as s:
        system = s.exec(select(GridPreset.id).where(GridPreset.name == "IKEA Alex drawer")).one()
        actor = staff_principal(b)
        for preset_id in (shared, system):
            with pytest.raises(Forbidden):
                service.save_preset(
                    s, name="Mine now", parameters={"magnets": "none"}, preset_id=preset_id, actor=actor
                )
            with pytest.raises(Forbidden):
                service.delete_preset(s, preset_id, actor=actor)

    # the database refuses too, whatever the code does
    for sql, params in (
        ("UPDATE grid_presets SET name = 'hacked' WHERE id = :id", {"id": shared}),
        ("DELETE FROM grid_presets WHERE id = :id", {"id": shared}),
        ("UPDATE grid_presets SET is_public = false WHERE name = 'IKEA Alex drawer'", {}),
        ("DELETE FROM grid_presets WHERE tenant_id IS NULL", {}),
        (
            "INSERT INTO grid_presets (id, tenant_id, name, description, parameters, is_public, is_system, created_by,"
            " created_at, updated_at) VALUES (gen_random_uuid(), :t, 'Planted', '', '{}', true, false, '',"
            " now(), now())",
            {"t": a.id},
        ),
        (
            "INSERT INTO grid_presets (id, tenant_id, name, description, parameters, is_public, is_system, created_by,"
            " created_at, updated_at) VALUES (gen_random_uuid(), NULL, 'Fake system', '', '{}', true, true, '',"
            " now(), now())",
            {},
        ),
    ):
        with tenant_session(b.id) as s, pytest.raises(DBAPIError):
            s.execute(text(sql), params)
            s.flush()
    assert "Shared" in _names(a) and "IKEA Alex drawer" in _names(b)

    with tenant_session(a.id) as s:  # its own shop changes and deletes it
        service.save_preset(
            s,
            name="Shared, renamed",
            parameters={"magnets": "press-fit"},
            preset_id=shared,
            is_public=True,
            actor=staff_principal(a),
        )
        s.commit()
    assert "Shared, renamed" in _names(b)
    with tenant_session(a.id) as s:
        service.delete_preset(s, shared, actor=staff_principal(a))
        s.commit()
    assert "Shared, renamed" not in _names(a)


def test_preset_names_and_parameters_are_checked():
    a = make_tenant()
    _save(a, "Twice", public=False)
    with tenant_session(a.id) as s:
        actor = staff_principal(a)
        with pytest.raises(Exception, match="already has a preset called"):
            service.save_preset(s, name="Twice", parameters={"magnets": "none"}, actor=actor)
        for parameters, words in (
            ({}, "at least one"),
            ({"drawer_width_mm": 10}, "from 42"),
            ({"drawer_width_mm": float("nan")}, "takes a number"),
            ({"connector": "glue"}, "connector is one of"),
            ({"label": "yes"}, "yes or no"),
        ):
            with pytest.raises(ValidationFailed, match=words):
                service.save_preset(s, name="Odd", parameters=parameters, actor=actor)
        with pytest.raises(ValidationFailed, match="1 to 100"):
            service.save_preset(s, name=" ", parameters={"magnets": "none"}, actor=actor)


def test_settings_are_checked_field_by_field_and_read_back():
    a = make_tenant()
    admin = staff_principal(a)
    with tenant_session(a.id) as s:
        d = service.grid_settings(s)
        assert d.enabled is False and d.unit_size_mm == 42 and d.profile().bed_width_mm == 256
        d.base_price, d.unit_price, d.currency = Decimal("-1"), Decimal("0.123"), "euro"
        d.max_dimension_mm, d.expiry_hours, d.max_sync_grid_size = 20.0, 0, -3
        d.print_settings = {"printer": "bambu-a1", "layer_height_mm": 0.5}
        with pytest.raises(ValidationFailed) as refused:
            service.save_grid_settings(s, d, actor=admin)
        fields = refused.value.details["fields"]
        assert set(fields) == {
            "basePrice",
            "unitPrice",
            "currency",
            "maxDimensionMm",
            "expiryHours",
            "maxSyncGridSize",
            "printSettings",
        }
        assert "two decimals" in fields["unitPrice"] and "too thick" in fields["printSettings"]

        good = service.GridSettings(
            enabled=True,
            base_price=Decimal("3"),
            unit_price=Decimal("0.4"),
            currency="usd",
            max_dimension_mm=900,
            print_settings={"printer": "bambu-a1-mini"},
            expiry_hours=24,
            max_sync_grid_size=64,
        )
        service.save_grid_settings(s, good, actor=admin)
        s.commit()
    with tenant_session(a.id) as s:
        back = service.grid_settings(s)
        assert back.enabled and service.enabled(s)
        assert (back.base_price, back.unit_price, back.currency) == (Decimal("3.00"), Decimal("0.40"), "USD")
        assert (back.max_dimension_mm, back.expiry_hours, back.max_sync_grid_size) == (900, 24, 64)
        assert back.profile().bed_width_mm == 180 and back.defaults() == {"bed_width_mm": 180, "bed_depth_mm": 180}
        config.set_value(s, "grid.unitPrice", "a lot")  # a hand-edited value that does not read
        config.set_value(s, "grid.expiry_hours", "soon")
        assert service.grid_settings(s).unit_price == service.GridSettings().unit_price
        assert service.grid_settings(s).expiry_hours == service.GridSettings().expiry_hours
        operator = replace(staff_principal(a), permissions=frozenset({"grid.read", "grid.write"}))
        with pytest.raises(Forbidden):
            service.save_grid_settings(s, good, actor=operator)
    assert audit.CONFIG_WORDS["grid.basePrice"] == "Gridfinity: base price"
