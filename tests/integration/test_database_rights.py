"""Defence in depth in the database: a shop's rows can only point at its own
rows, the app's role cannot write the platform's global tables, "not found"
says nothing about other shops' ids, and only a platform operator re-imports
the catalog every shop shares."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import select

from app.api import create_api
from app.builds.models import Build
from app.catalog import service as catalog
from app.catalog.models import CatalogImport
from app.orders.models import LineItem, Order
from app.platform import auth, shop
from app.platform.db import get_engine, platform_session, tenant_session
from app.platform.errors import ValidationFailed
from app.platform.models import ApiKey, Role, Tenant, UserRole
from app.printing.models import PrintJob, ProductMapping
from tests.factories import PASSWORD, make_platform_operator, make_tenant, make_user


@pytest.fixture(scope="module")
def api():
    return create_api()


def _order(tenant: Tenant, number: str = "M-1") -> Order:
    with tenant_session(tenant.id) as s:
        order = Order(tenant_id=tenant.id, number=number, source="manual", customer_name="Ada")
        s.add(order)
        s.commit()
        return order


# --- foreign keys include the shop ---------------------------------------------------------------


def test_a_row_cannot_point_at_another_shops_order():
    a, b = make_tenant("Shop A"), make_tenant("Shop B")
    theirs = _order(b)
    with tenant_session(a.id) as s:
        s.add(Build(tenant_id=a.id, order_id=theirs.id))
        with pytest.raises(IntegrityError, match="fk_builds_order_id"):
            s.commit()
    with tenant_session(a.id) as s:
        s.add(LineItem(tenant_id=a.id, order_id=theirs.id, sku="X", title="Sneaky"))
        with pytest.raises(IntegrityError, match="fk_order_line_items_order_id"):
            s.commit()
    with tenant_session(a.id) as s:
        s.add(PrintJob(tenant_id=a.id, order_id=theirs.id, sku="X"))
        with pytest.raises(IntegrityError, match="fk_print_jobs_order_id"):
            s.commit()
    # its own order is fine
    mine = _order(a, "M-2")
    with tenant_session(a.id) as s:
        s.add(Build(tenant_id=a.id, order_id=mine.id))
        s.commit()


def test_a_row_cannot_point_at_another_shops_user():
    a, b = make_tenant(), make_tenant()
    theirs = make_user(b, "admin")
    with tenant_session(a.id) as s:
        viewer = s.exec(select(Role).where(Role.name == "viewer")).one()
        s.add(UserRole(tenant_id=a.id, user_id=theirs.id, role_id=viewer.id))
        with pytest.raises(IntegrityError, match="fk_user_roles_user_id"):
            s.commit()


def test_deleting_a_user_clears_only_the_reference_not_the_shop():
    """ON DELETE SET NULL on a key that names the shop clears the id column
    only: the build stays in its shop."""
    a = make_tenant()
    user = make_user(a)
    order = _order(a)
    with tenant_session(a.id) as s:
        build = Build(tenant_id=a.id, order_id=order.id, assignee_id=user.id)
        s.add(build)
        s.commit()
        s.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})
        s.commit()
        s.refresh(build)
        assert build.assignee_id is None and build.tenant_id == a.id


# --- the app role's rights on global tables ------------------------------------------------------


def _refused(statement: str, **params) -> bool:
    with get_engine().connect() as conn:
        try:
            conn.execute(text(statement), params)
        except DBAPIError as exc:
            conn.rollback()
            return "permission denied" in str(exc.orig)
        conn.rollback()
        return False


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO role_permissions (role_id, permission_code) "
        "SELECT r.id, 'users.write' FROM roles r WHERE r.name = 'viewer'",
        "DELETE FROM role_permissions",
        "UPDATE role_permissions SET permission_code = permission_code",
        "INSERT INTO roles (id, name, description) VALUES (gen_random_uuid(), 'root', '')",
        "UPDATE roles SET description = 'changed'",
        "DELETE FROM roles",
        "INSERT INTO permissions (code, description) VALUES ('platform.own', '')",
        "UPDATE permissions SET description = 'changed'",
        "DELETE FROM permissions",
        "INSERT INTO tenants (id, slug, name, is_default, created_at) "
        "VALUES (gen_random_uuid(), 'evil', 'Evil', false, now())",
        "UPDATE tenants SET name = 'pwned'",
        "DELETE FROM tenants",
        "UPDATE alembic_version SET version_num = '0001'",
        "DELETE FROM alembic_version",
        "INSERT INTO alembic_version (version_num) VALUES ('x')",
        "INSERT INTO platform_operators (tenant_id, user_id, granted_at, note) "
        "SELECT tenant_id, id, now(), '' FROM users LIMIT 1",
        "DELETE FROM catalog_parts",
        "TRUNCATE catalog_imports",
    ],
)
def test_the_app_role_cannot_write_the_platforms_tables(statement):
    assert _refused(statement), statement


def test_the_app_role_still_reads_roles_permissions_and_shops():
    tenant = make_tenant()
    with platform_session() as s:
        assert s.execute(text("SELECT count(*) FROM role_permissions")).scalar()
        assert s.execute(text("SELECT count(*) FROM permissions")).scalar()
        assert s.get(Tenant, tenant.id) is not None
    # and signing in (which reads them) works
    user = make_user(tenant, "viewer")
    assert "orders.read" in auth.login(user.username, PASSWORD, shop=tenant.slug).principal.permissions


def test_shops_are_created_through_the_narrow_function():
    first = shop.create_tenant("fn-" + uuid.uuid4().hex[:8], "Function Shop")
    with platform_session() as s:
        made = s.get(Tenant, first)
        assert made is not None and made.name == "Function Shop" and not made.is_default
        # the same code again is the same shop, not a second one
        assert shop.create_tenant(made.slug, "Another name") == first
        assert s.exec(select(Tenant).where(Tenant.slug == made.slug)).one().name == "Function Shop"
    with pytest.raises(ValidationFailed, match="lower-case"):
        shop.create_tenant("Not A Code!", "Bad")
    with pytest.raises(ValidationFailed, match="name"):
        shop.create_tenant("fn-" + uuid.uuid4().hex[:8], "  ")


def test_set_shop_format_changes_only_the_sessions_own_shop():
    a, b = make_tenant(), make_tenant()
    with tenant_session(a.id) as s:
        s.execute(text("SELECT set_shop_format('de_DE', 'CHF', 'Europe/Zurich')"))
        s.commit()
    with platform_session() as s:
        mine, theirs = s.get(Tenant, a.id), s.get(Tenant, b.id)
        assert mine is not None and (mine.locale, mine.currency, mine.timezone) == ("de_DE", "CHF", "Europe/Zurich")
        assert theirs is not None and (theirs.locale, theirs.currency) == ("en_IE", "EUR")
        # without a shop in the session the function refuses
        with pytest.raises(DBAPIError, match="no shop"):
            s.execute(text("SELECT set_shop_format('de_DE', NULL, NULL)"))


def test_the_settings_page_format_change_still_works_and_is_audited():
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    principal = auth.login(admin.username, PASSWORD, shop=tenant.slug).principal
    with tenant_session(tenant.id) as s:
        changed = shop.update_shop_format(s, actor=principal, currency="gbp", timezone="Europe/London")
    assert (changed.currency, changed.timezone, changed.locale) == ("GBP", "Europe/London", "en_IE")


# --- "not found" tells nothing about other shops -------------------------------------------------


def _signed_in(api, tenant: Tenant, role: str = "admin") -> TestClient:
    user = make_user(tenant, role)
    client = TestClient(api)
    r = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return client


def test_not_found_reads_the_same_whether_the_id_exists_in_another_shop(api):
    a, b = make_tenant(), make_tenant()
    client = _signed_in(api, a)
    order = _order(b)
    their_user = make_user(b, "viewer")
    with tenant_session(b.id) as s:
        build = Build(tenant_id=b.id, order_id=order.id)
        mapping = ProductMapping(tenant_id=b.id, sku="SKU-1", name="Lamp")
        s.add_all([build, mapping])
        s.flush()
        job = PrintJob(tenant_id=b.id, order_id=order.id, product_mapping_id=mapping.id, sku="SKU-1")
        admin = s.exec(select(Role).where(Role.name == "admin")).one()
        key = ApiKey(tenant_id=b.id, name="k", key_prefix="sfk_x", key_hash=uuid.uuid4().hex, role_id=admin.id)
        s.add_all([job, key])
        s.commit()
    ID = "{id}"
    routes = [
        ("get", "/api/v1/orders/{id}", order.id, None),
        ("patch", "/api/v1/orders/{id}", order.id, {"fulfillmentStatus": "packaging"}),
        ("post", "/api/v1/orders/{id}/cancel", order.id, {"reason": "customer"}),
        ("get", "/api/v1/builds/{id}", build.id, None),
        ("patch", "/api/v1/builds/{id}", build.id, {"status": "in_progress"}),
        ("post", "/api/v1/builds", order.id, {"orderId": ID}),  # a new row pointing at their order
        ("get", "/api/v1/printing/mappings/{id}", mapping.id, None),
        ("delete", "/api/v1/printing/mappings/{id}", mapping.id, None),
        ("get", "/api/v1/printing/jobs/{id}", job.id, None),
        ("post", "/api/v1/printing/jobs/{id}/cancel", job.id, None),
        ("put", "/api/v1/users/{id}/roles", their_user.id, {"roles": ["viewer"]}),
        ("delete", "/api/v1/api-keys/{id}", key.id, None),
    ]
    for method, path, theirs, body in routes:
        answers = []
        for ident in (theirs, uuid.uuid4()):
            sent = {k: str(ident) if v == ID else v for k, v in body.items()} if body is not None else None
            answers.append(client.request(method.upper(), path.format(id=ident), json=sent))
        elsewhere, nowhere = answers
        assert elsewhere.status_code == nowhere.status_code == 404, (path, elsewhere.text, nowhere.text)
        assert elsewhere.json() == nowhere.json(), path
    # the other shop's rows are untouched
    with tenant_session(b.id) as s:
        assert s.get(Order, order.id).status != "CANCELLED"  # type: ignore[union-attr]
        assert s.get(ProductMapping, mapping.id) is not None


# --- the shared catalog: platform operators only -------------------------------------------------


def test_only_a_platform_operator_may_re_import_the_shared_catalog(api):
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    client = TestClient(api)
    client.post("/api/v1/auth/login", json={"username": admin.username, "password": PASSWORD, "shop": tenant.slug})
    # a shop's admin holds every shop permission, yet not this one
    r = client.post("/api/v1/catalog/imports")
    assert r.status_code == 403 and "platform operator" in r.json()["error"]["message"]
    principal = auth.login(admin.username, PASSWORD, shop=tenant.slug).principal
    assert not catalog.can_import_catalog(principal)
    make_platform_operator(tenant, admin)
    assert catalog.can_import_catalog(principal)
    # an operator of one shop is not one for a colleague, nor for an API key
    colleague = make_user(tenant, "admin")
    assert not catalog.can_import_catalog(auth.login(colleague.username, PASSWORD, shop=tenant.slug).principal)


def test_the_import_history_shows_no_other_shops_names(api):
    a, b = make_tenant(), make_tenant()
    with platform_session() as s:
        runs = {
            "b": CatalogImport(status="COMPLETED", started_by="Bob of B", started_by_tenant_id=b.id),
            "a": CatalogImport(status="COMPLETED", started_by="Alice of A", started_by_tenant_id=a.id),
            "cli": CatalogImport(status="COMPLETED", started_by="cli"),
        }
        s.add_all(runs.values())
        s.commit()
    client = _signed_in(api, a, "viewer")
    seen = {k: client.get(f"/api/v1/catalog/imports/{run.id}").json()["startedBy"] for k, run in runs.items()}
    assert seen == {"b": "another shop", "a": "Alice of A", "cli": "the platform"}


def test_the_command_line_names_and_unnames_a_platform_operator(capsys):
    """`python -m app.cli platform-operator SHOP USER` (make dev runs it for the demo admin)."""
    from app import cli

    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    principal = auth.login(admin.username, PASSWORD, shop=tenant.slug).principal
    assert cli.platform_operator(tenant.slug, admin.username) == 0
    assert "is now a platform operator" in capsys.readouterr().out
    assert catalog.can_import_catalog(principal)
    assert cli.platform_operator(tenant.slug, admin.username) == 0  # again: still one, no error
    assert cli.platform_operator(tenant.slug, admin.username, revoke=True) == 0
    assert "is no longer a platform operator" in capsys.readouterr().out
    assert not catalog.can_import_catalog(principal)
    assert cli.platform_operator(tenant.slug, "nobody") == 2
