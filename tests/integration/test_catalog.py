"""The parts catalog: idempotent import with progress, price lists with
per-row errors, the demo price list, tenant isolation of offers, the REST API."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections import Counter
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlmodel import select

from app.api import create_api
from app.catalog import demo, importer, normalize, service
from app.catalog.models import CatalogPart, PartOffer, PriceListImport
from app.platform import auth
from app.platform.db import platform_session, tenant_session
from app.platform.errors import ValidationFailed
from app.platform.models import AuditLog, EventLog
from app.platform.tasks import redis_conn
from app.platform.web import BodySizeLimit
from app.settings import get_settings
from tests.factories import PASSWORD, make_platform_operator, make_tenant, make_user


@pytest.fixture(scope="module")
def api():
    return create_api()


def _client(api, role: str = "admin"):
    tenant = make_tenant()
    user = make_user(tenant, role)
    client = TestClient(api)
    r = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return tenant, user, client


def _principal(tenant, user) -> auth.Principal:
    return auth.login(user.username, PASSWORD, shop=tenant.slug).principal


def _file_counts() -> Counter:
    """Importable records per slot, read straight from the data files."""
    counts: Counter = Counter()
    seen = set()
    for slot in normalize.SLOTS:
        for raw in normalize.iter_records(get_settings().catalog_data_path, slot):
            name, _, _ = normalize.normalize(slot, raw)
            if raw.get("opendb_id") and name and raw["opendb_id"] not in seen:
                seen.add(raw["opendb_id"])
                counts[slot] += 1
    return counts


def _some_parts(slot: str, n: int) -> list[CatalogPart]:
    with platform_session() as s:
        return list(s.exec(select(CatalogPart).where(CatalogPart.slot == slot).order_by(CatalogPart.id).limit(n)))


# --- the catalog import ------------------------------------------------------------------------


def test_counts_per_slot_match_the_data_files(catalog):
    assert catalog == {slot: n for slot, n in _file_counts().items()}
    assert list(catalog) == list(normalize.SLOTS)
    assert sum(catalog.values()) > 25_000
    with platform_session() as s:  # normalised specs and the upstream record are both kept
        cpu = s.exec(select(CatalogPart).where(CatalogPart.slot == "cpu", CatalogPart.name.ilike("%7800X3D%"))).first()
    assert cpu.specs["socket"] == "AM5" and cpu.raw["opendb_id"] == str(cpu.id) and len(cpu.source_hash) == 64


def test_reimport_changes_nothing_and_reports_progress_live(catalog):
    service.import_catalog(started_by="tests")  # brings in any change since the session's first import
    version = service.catalog_version()
    pubsub = redis_conn().pubsub()
    pubsub.subscribe(f"shopfloor:live:{service.CATALOG_CHANNEL}")
    seen = []
    started = time.monotonic()
    run = service.import_catalog(progress=lambda p: seen.append((p.status, p.processed)), started_by="tests")
    elapsed = time.monotonic() - started
    assert run.status == "COMPLETED", run.error
    assert (run.created, run.updated) == (0, 0)
    assert run.unchanged == sum(catalog.values()) and run.processed == run.total
    assert elapsed < 20, f"an unchanged re-import took {elapsed:.1f}s"
    assert service.catalog_version() == version  # nothing changed: caches keep their data
    assert seen[-1] == ("COMPLETED", run.total)
    processed = [n for _, n in seen]
    assert processed == sorted(processed) and len(seen) > 10
    messages = []
    while (m := pubsub.get_message(timeout=0.2)) is not None:
        if m["type"] == "message":
            messages.append(json.loads(m["data"]))
    mine = [m for m in messages if m["kind"] == "catalog-import" and m["id"] == str(run.id)]
    assert mine[-1]["status"] == "COMPLETED" and mine[-1]["processed"] == run.total
    with platform_session() as s:
        assert s.exec(select(CatalogPart.id)).all().__len__() == sum(catalog.values())  # never duplicated


def test_a_changed_record_is_updated(catalog):
    part = _some_parts("gpu", 1)[0]
    with platform_session() as s:  # as if upstream had changed this record
        s.execute(
            update(CatalogPart)
            .where(CatalogPart.id == part.id)
            .values(name="stale name", source_hash="0" * 64, specs={})
        )
        s.commit()
    version = service.catalog_version()
    run = service.import_catalog(started_by="tests")
    assert (run.created, run.updated) == (0, 1)
    assert service.catalog_version() > version
    with platform_session() as s:
        again = s.get(CatalogPart, part.id)
    assert again.name == part.name and again.specs == part.specs and again.source_hash == part.source_hash


def _write_gz(path, lines: list) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line)) + "\n")


def test_records_without_id_or_name_are_skipped_and_counted(catalog, tmp_path):
    for slot, filename in normalize.SOURCE_FILES.items():
        real = list(normalize.iter_records(get_settings().catalog_data_path, slot))[:2]
        no_id = {k: v for k, v in real[0].items() if k != "opendb_id"}
        no_name = {**real[1], "metadata": {**real[1].get("metadata", {}), "name": ""}}
        bad_id = {**real[0], "opendb_id": "not-a-uuid"}
        _write_gz(tmp_path / filename, [real[0], "", no_id, real[1], no_name, bad_id, real[0]])
    run = service.import_catalog(tmp_path, started_by="tests")
    assert run.status == "COMPLETED"
    n = len(normalize.SLOTS)
    assert (run.total, run.skipped, run.unchanged, run.created, run.updated) == (6 * n, 4 * n, 2 * n, 0, 0)


def test_missing_data_files_fail_the_run_with_a_clear_message(tmp_path):
    with pytest.raises(ValidationFailed, match="CATALOG_DATA_PATH"):
        service.import_catalog(tmp_path / "nowhere", started_by="tests")
    run = service.latest_import()
    assert run.status == "FAILED" and "lacks" in run.error


def test_import_runs_as_a_job_from_the_api(api, catalog, worker):
    tenant, user, client = _client(api, "admin")
    make_platform_operator(tenant, user)  # the catalog is shared: platform operators re-import it
    r = client.post("/api/v1/catalog/imports")
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    assert client.post("/api/v1/catalog/imports").status_code == 409  # one at a time
    worker(timeout=120, queues=("default",))
    deadline = time.monotonic() + 120  # another test process's worker may have taken the job: wait for it
    while (body := client.get(f"/api/v1/catalog/imports/{run_id}").json())["status"] in ("QUEUED", "RUNNING"):
        assert time.monotonic() < deadline, body
        time.sleep(0.5)
    assert body["status"] == "COMPLETED" and body["processed"] == body["total"] > 25_000
    assert body["created"] == body["updated"] == 0
    with tenant_session(tenant.id) as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "catalog.import.started")).first() is not None
    assert client.get(f"/api/v1/catalog/imports/{uuid.uuid4()}").status_code == 404


# --- price lists -----------------------------------------------------------------------------------


def test_price_list_applies_valid_rows_and_reports_each_bad_one(catalog):
    tenant = make_tenant()
    admin = make_user(tenant, "admin")
    p = _principal(tenant, admin)
    cpus = _some_parts("cpu", 4)
    version = service.offers_version(tenant.id)
    csv_text = "\n".join(
        [
            "\ufeffOpenDB_ID;Price;Stock;Active",
            f"{cpus[0].id};1.299,90;3;yes",  # 2: ok (decimal comma, thousands dot)
            f"{cpus[1].id};€ 249,5;0;",  # 3: ok
            f"{cpus[2].id};abc;1;",  # 4: bad price
            f"{cpus[3].id};10;-2;",  # 5: negative stock
            f"{cpus[0].id};12;1;",  # 6: duplicate of row 2
            f"{uuid.uuid4()};10;1;",  # 7: unknown part
            "not-an-id;10;1;",  # 8: not a uuid
            f"{cpus[3].id};0;1;",  # 9: price 0 (also the 2nd row of cpus[3])
            "",
        ]
    )
    with tenant_session(tenant.id) as s:
        result = service.import_price_list(s, csv_text.encode(), "prices.csv", p)
        s.commit()
    assert (result.rows_total, result.created, result.updated, result.unchanged, result.failed) == (8, 2, 0, 0, 6)
    problems = {e["row"]: e["message"] for e in result.errors}
    assert sorted(problems) == [4, 5, 6, 7, 8, 9]
    assert "not a price" in problems[4] and "negative" in problems[5] and "duplicate" in problems[6]
    assert "unknown part" in problems[7] and "OpenDB id" in problems[8]
    assert result.errors[0]["opendbId"] == str(cpus[2].id)
    assert service.offers_version(tenant.id) > version
    with tenant_session(tenant.id) as s:
        offers = {o.part_id: o for o in s.exec(select(PartOffer))}
        assert offers[cpus[0].id].price == Decimal("1299.90") and offers[cpus[0].id].stock == 3
        assert offers[cpus[1].id].price == Decimal("249.50") and offers[cpus[1].id].stock == 0
        assert not offers[cpus[0].id].is_demo and offers[cpus[0].id].currency == "EUR"
        assert s.exec(select(PriceListImport)).one().failed == 6
        assert s.exec(select(EventLog).where(EventLog.event_type == "catalog.price-list-imported")).one()
        assert s.exec(select(AuditLog).where(AuditLog.action == "catalog.price-list.imported")).one()

    # the same list again changes nothing; a changed price updates one offer
    version = service.offers_version(tenant.id)
    with tenant_session(tenant.id) as s:
        again = service.import_price_list(
            s, f'opendb_id,price,stock\n{cpus[0].id},1299.90,3\n{cpus[1].id},"260,00",0\n', "again.csv", p
        )
        s.commit()
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 1, 1, 0)
    assert service.offers_version(tenant.id) == version + 1


def test_rolled_back_offer_changes_do_not_bump_the_version(catalog):
    tenant = make_tenant()
    part = _some_parts("psu", 1)[0]
    version = service.offers_version(tenant.id)
    with tenant_session(tenant.id) as s:
        service.set_offer(s, part.id, price="89.90", stock=2, actor=None)
        s.rollback()
    assert service.offers_version(tenant.id) == version


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "empty_file"),
        (b"\n\n", "empty_file"),
        (b"opendb_id,price,stock\n", "empty_file"),
        (b"0000caee-142c-48f6-99be-9c6f4dd18845,10,1\n", "no_header"),
        (b"id_of_part,cost,qty\nx,1,1\n", "wrong_columns"),
        (b"opendb_id,price\nx,1\n", "wrong_columns"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not_text"),
    ],
)
def test_unreadable_price_lists_are_refused_whole(catalog, body, code):
    tenant = make_tenant()
    with tenant_session(tenant.id) as s, pytest.raises(ValidationFailed) as err:
        service.import_price_list(s, body, "list.csv", None)
    assert err.value.code == code


def test_single_offer_edits(catalog):
    tenant = make_tenant()
    p = _principal(tenant, make_user(tenant, "admin"))
    part = _some_parts("case", 1)[0]
    with tenant_session(tenant.id) as s:
        offer = service.set_offer(s, part.id, price="119.5", stock=4, actor=p)
        s.commit()
    assert offer.price == Decimal("119.50") and offer.active
    with tenant_session(tenant.id) as s:
        for bad in ("-1", "abc", "0"):
            with pytest.raises(ValidationFailed):
                service.set_offer(s, part.id, price=bad, stock=1, actor=p)
        with pytest.raises(ValidationFailed, match="USD"):
            service.set_offer(s, part.id, price="10", stock=1, currency="USD", actor=p)
        offer = service.deactivate_offer(s, part.id, actor=p)
        s.commit()
    assert not offer.active
    viewer = _principal(tenant, make_user(tenant, "viewer"))
    with tenant_session(tenant.id) as s, pytest.raises(Exception, match="catalog.write"):  # noqa: RUF043
        service.set_offer(s, part.id, price="10", stock=1, actor=viewer)


# --- demo prices, listing, isolation -------------------------------------------------------------------


def test_demo_price_list_is_varied_deterministic_and_idempotent(catalog):
    a, b = make_tenant(), make_tenant()
    created, updated, _ = demo.ensure_catalog_and_demo_prices(a.id)
    assert created > 2000 and updated == 0
    assert demo.ensure_catalog_and_demo_prices(a.id)[:2] == (0, 0)
    demo.ensure_catalog_and_demo_prices(b.id)
    with tenant_session(a.id) as s:
        rows = s.exec(select(PartOffer, CatalogPart).join(CatalogPart, CatalogPart.id == PartOffer.part_id)).all()
        counts = service.offer_counts(s)
    with tenant_session(b.id) as s:
        prices_b = {o.part_id: o.price for o in s.exec(select(PartOffer))}
    assert {o.part_id: o.price for o, _ in rows} == prices_b  # seeded: the same everywhere
    assert all(250 <= c["offers"] <= 400 and c["demo"] == c["offers"] for c in counts.values()), counts
    by = {slot: [(o, p) for o, p in rows if p.slot == slot] for slot in normalize.SLOTS}
    spec = lambda slot, key: {p.specs.get(key) for _, p in by[slot]}
    assert {"AM5", "LGA 1700", "AM4"} <= spec("cpu", "socket") and {"AM5", "LGA 1700"} <= spec("motherboard", "socket")
    assert {"DDR4", "DDR5"} <= spec("ram", "memory_type") and {"DDR4", "DDR5"} <= spec("motherboard", "memory_type")
    assert {"ATX", "SFX"} <= spec("psu", "form_factor") and {"m2", "sata"} <= spec("storage", "bus")
    longest_gpu = max(p.specs["length_mm"] for _, p in by["gpu"])
    assert any(p.specs["max_gpu_length_mm"] < longest_gpu - 30 for _, p in by["case"])  # a too-long GPU exists
    assert any(p.specs["psu_form_factors"] and "ATX" not in p.specs["psu_form_factors"] for _, p in by["case"])
    cooler_heights = [p.specs["height_mm"] for _, p in by["cooler"] if p.specs["height_mm"]]
    clearances = [p.specs["max_cooler_height_mm"] for _, p in by["case"] if p.specs["max_cooler_height_mm"]]
    assert max(cooler_heights) > min(clearances) and len(clearances) > 100
    price = {slot: sorted(o.price for o, _ in by[slot]) for slot in normalize.SLOTS}
    assert Decimal("40") < price["cpu"][len(price["cpu"]) // 2] < Decimal("600")
    assert Decimal("150") < price["gpu"][len(price["gpu"]) // 2] < Decimal("1500")
    assert all(Decimal("3") < prices[0] and prices[-1] < Decimal("5000") for prices in price.values())


def test_offers_list_filters_sorts_pages_and_is_tenant_isolated(api, catalog):
    tenant_a, _, client_a = _client(api, "admin")
    tenant_b, _, client_b = _client(api, "viewer")
    gpus = _some_parts("gpu", 3)
    with tenant_session(tenant_a.id) as s:
        for i, part in enumerate(gpus):
            service.set_offer(s, part.id, price=str(100 + 50 * i), stock=i, actor=None)
        service.set_offer(s, _some_parts("ram", 1)[0].id, price="80", stock=5, actor=None)
        s.commit()
        rows, total = service.list_offers(
            s, service.OfferFilter(slot="gpu", sort="price", descending=True, page_size=2)
        )
        assert total == 3 and [o.price for o, _ in rows] == [Decimal("200.00"), Decimal("150.00")]
        rows, _ = service.list_offers(s, service.OfferFilter(slot="gpu", sort="price", page=1, page_size=2))
        assert [o.price for o, _ in rows] == [Decimal("200.00")]
        rows, total = service.list_offers(s, service.OfferFilter(search=str(gpus[1].id)[:13]))
        assert total == 1 and rows[0][1].id == gpus[1].id
        rows, total = service.list_offers(
            s, service.OfferFilter(slot="gpu", whole_catalog=True, status="unsold", page_size=5)
        )
        assert total == catalog["gpu"] - 3 and all(o is None for o, _ in rows)

    r = client_a.get("/api/v1/catalog/offers", params={"slot": "gpu", "sort": "price"})
    assert r.status_code == 200 and [o["price"] for o in r.json()["offers"]] == ["100.00", "150.00", "200.00"]
    # tenant B sees none of A's offers, through the service and the API
    with tenant_session(tenant_b.id) as s:
        assert service.list_offers(s, service.OfferFilter())[1] == 0
        assert s.exec(select(PartOffer)).all() == []
        assert s.execute(text("SELECT count(*) FROM part_offers")).scalar() == 0
    r = client_b.get("/api/v1/catalog/offers")
    assert r.status_code == 200 and r.json()["total"] == 0
    r = client_b.get("/api/v1/catalog/offers", params={"wholeCatalog": True, "slot": "gpu", "pageSize": 200})
    assert all(item["offer"] is None for item in r.json()["parts"])


# --- the REST API ----------------------------------------------------------------------------------


def test_api_needs_sign_in_and_permissions(api, catalog):
    anon = TestClient(api)
    for method, path in (
        ("get", "/api/v1/catalog/parts"),
        ("get", "/api/v1/catalog/offers"),
        ("post", "/api/v1/catalog/imports"),
        ("get", "/api/v1/catalog/price-lists"),
        ("post", "/api/v1/catalog/price-lists"),
    ):
        assert getattr(anon, method)(path).status_code == 401, path
    _, _, viewer = _client(api, "viewer")
    assert viewer.get("/api/v1/catalog/parts").status_code == 200
    assert viewer.post("/api/v1/catalog/imports").status_code == 403
    files = {"file": ("p.csv", b"opendb_id,price,stock\n", "text/csv")}
    assert viewer.post("/api/v1/catalog/price-lists", files=files).status_code == 403
    _, _, operator = _client(api, "operator")
    assert operator.post("/api/v1/catalog/imports").status_code == 403


def test_api_parts_search_slot_and_paging(api, catalog):
    _, _, client = _client(api, "viewer")
    r = client.get("/api/v1/catalog/parts", params={"slot": "cpu", "search": "ryzen 7800X3D", "pageSize": 5})
    body = r.json()
    assert r.status_code == 200 and body["total"] >= 1 and body["counts"] == catalog
    assert all(p["slot"] == "cpu" and "7800X3D" in p["name"] for p in body["parts"])
    page0 = client.get("/api/v1/catalog/parts", params={"slot": "case", "pageSize": 3}).json()
    page1 = client.get("/api/v1/catalog/parts", params={"slot": "case", "pageSize": 3, "page": 1}).json()
    assert page0["total"] == catalog["case"] and not {p["id"] for p in page0["parts"]} & {
        p["id"] for p in page1["parts"]
    }
    assert client.get("/api/v1/catalog/parts", params={"slot": "toaster"}).status_code == 422
    one = client.get(f"/api/v1/catalog/parts/{page0['parts'][0]['id']}").json()
    assert one["raw"]["opendb_id"] == one["id"]


def test_api_price_list_upload_and_validation(api, catalog):
    tenant, _, client = _client(api, "admin")
    ram = _some_parts("ram", 2)
    csv_body = f"opendb_id,price,stock\n{ram[0].id},99.90,5\n{ram[1].id},-3,5\n".encode()
    r = client.post("/api/v1/catalog/price-lists", files={"file": ("ram.csv", csv_body, "text/csv")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["created"], body["failed"]) == (1, 1) and body["errors"][0]["row"] == 3
    listed = client.get("/api/v1/catalog/price-lists").json()["priceLists"]
    assert [p["id"] for p in listed] == [body["id"]]

    bad = {
        "binary": ({"file": ("x.csv", b"\x00\x01\x02PK\x03\x04" * 50, "text/csv")}, 422),
        "image type": ({"file": ("x.png", b"\x89PNG...", "image/png")}, 415),
        "not csv name": ({"file": ("prices.xlsx", b"opendb_id,price,stock\n", "application/octet-stream")}, 422),
        "no header": ({"file": ("x.csv", f"{ram[0].id},1,1\n".encode(), "text/csv")}, 422),
        "empty": ({"file": ("x.csv", b"", "text/csv")}, 422),
        "no file": ({"other": ("x.csv", b"a", "text/csv")}, 422),
    }
    for label, (files, status) in bad.items():
        r = client.post("/api/v1/catalog/price-lists", files=files)
        assert r.status_code == status, (label, r.text)
        assert r.json()["error"]["message"], label
    r = client.post(
        "/api/v1/catalog/price-lists", content=b"opendb_id,price,stock\n", headers={"content-type": "text/csv"}
    )
    assert r.status_code == 400
    limited = TestClient(BodySizeLimit(api), cookies=client.cookies)  # as app.app wraps it (api_transformer)
    too_big = b"opendb_id,price,stock\n" + b"x" * (get_settings().max_body_bytes + 10)
    r = limited.post("/api/v1/catalog/price-lists", files={"file": ("big.csv", too_big, "text/csv")})
    assert r.status_code == 413
    long_field = b"opendb_id,price,stock\n" + b"x" * 200_000 + b",1,1\n"
    r = client.post("/api/v1/catalog/price-lists", files={"file": ("long.csv", long_field, "text/csv")})
    assert r.status_code == 422 and "line 2" in r.json()["error"]["message"]
    with tenant_session(tenant.id) as s:
        assert len(s.exec(select(PriceListImport)).all()) == 1  # refused files leave no trace


def test_versions_survive_a_redis_flush_without_repeating():
    before = service.catalog_version()
    redis_conn().delete("catalog:version")
    after = service.catalog_version()
    assert after != before and service.bump_catalog_version() == after + 1
    assert importer.CATALOG_CHANNEL == service.CATALOG_CHANNEL


def test_demo_loader_gives_the_demo_shop_its_prices(catalog):
    from app import domains

    assert demo.load in [loader for _, loader in domains.demo_loaders()]
    tenant = make_tenant()
    with tenant_session(tenant.id) as s:
        demo.load(s)  # commits itself, like the other demo loaders
    with tenant_session(tenant.id) as s:
        counts = service.offer_counts(s)
    assert all(c["demo"] == c["offers"] > 250 for c in counts.values())
