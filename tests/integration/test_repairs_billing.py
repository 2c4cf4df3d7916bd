"""Repair dispatches and invoices (issue 17): a dispatch takes a client's
ready assets; finalizing it is idempotent (twice, or twenty at once: one
invoice, one event) and writes the draft from the repair codes done, the
price rules, the spare parts kept and the shop's settings; sending takes the
next gapless invoice number (a failed send leaves no gap) and renders a real
PDF; a sent invoice is paid, or voided with a credit note of the opposite
sign; refusals list the allowed moves; another shop sees nothing; a viewer
changes nothing."""

from __future__ import annotations

import re
import subprocess
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from app.api import create_api
from app.inventory import service as inventory
from app.platform import config
from app.platform.db import tenant_session
from app.platform.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.platform.models import Outbox
from app.repairs import events as names
from app.repairs.models import (
    AssetStatusChange,
    DeviceRepairCode,
    PriceRule,
    RepairAsset,
    RepairCode,
    RepairDispatch,
    RepairInvoice,
    Worksheet,
)
from app.repairs.service import billing
from app.settings import ROOT
from tests.factories import PASSWORD, make_tenant, make_user, staff_principal
from tests.repairs_factories import make_asset, make_batch, make_client, make_device_model

ARTIFACTS = ROOT / "test-artifacts" / "repairs"


@pytest.fixture(scope="module")
def api():
    return create_api()


@pytest.fixture
def tenant():
    return make_tenant("Fix & Return Ltd")


def _pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def _code(s, code: str) -> RepairCode:
    found = s.exec(select(RepairCode).where(RepairCode.code == code, col(RepairCode.tenant_id).is_(None))).one()
    return found


class Shop:
    """A client with two assets waiting to leave: one repaired (a screen with a
    price rule, a battery without one, a spare part kept) and one going back
    unrepaired; the shop bills parts at cost + 25 % and assessments at 15.00."""

    def __init__(self, tenant, *, settings: bool = True):
        self.tenant, self.actor = tenant, staff_principal(tenant)
        with tenant_session(tenant.id) as s:
            self.client = make_client(
                s, "Phone Fleet BV", payment_terms_days=14, billing_address="Keizersgracht 1\nAmsterdam"
            )
            model = make_device_model(s, "Apple", f"iPhone 13 {uuid.uuid4().hex[:4]}")
            batch = make_batch(s, self.client)
            self.repaired = make_asset(s, status="ready_for_dispatch", batch=batch, device_model_id=model.id)
            self.unrepaired = make_asset(s, status="return_unrepaired", batch=batch, device_model_id=model.id)
            ws = Worksheet(tenant_id=tenant.id, number=f"T-W-{uuid.uuid4().hex[:6]}", asset_id=self.repaired.id)
            ws.status = "passed"
            s.add(ws)
            s.flush()
            self.worksheet_id = ws.id
            screen, battery = _code(s, "SCR-REPL"), _code(s, "BAT-REPL")
            for code in (screen, battery):
                s.add(
                    DeviceRepairCode(
                        tenant_id=tenant.id,
                        asset_id=self.repaired.id,
                        repair_code_id=code.id,
                        source="worksheet",
                        worksheet_id=ws.id,
                        done=True,
                    )
                )
            s.add(
                PriceRule(
                    tenant_id=tenant.id, client_id=self.client.id, repair_code_id=screen.id, price=Decimal("89.95")
                )
            )
            if settings:
                config.set_value(s, billing.MARKUP_KEY, 25)
                config.set_value(s, billing.ASSESSMENT_KEY, "15.00")
            s.commit()
        self.part_sku = f"SCR-{uuid.uuid4().hex[:5].upper()}"
        with tenant_session(tenant.id) as s:
            part = inventory.create_spare_part(
                s,
                inventory.SparePartData(sku=self.part_sku, name="iPhone 13 screen", unit_cost="40.00", stock=5),
                actor=self.actor,
            )
            s.flush()
            inventory.issue_spare_part(
                s, part.id, 1, worksheet_id=self.worksheet_id, idempotency_key=uuid.uuid4().hex, actor=self.actor
            )
            s.commit()

    def dispatch(self, *assets: RepairAsset) -> uuid.UUID:
        with tenant_session(self.tenant.id) as s:
            d = billing.create_dispatch(s, self.client.id, actor=self.actor, carrier="PostNL")
            billing.add_assets(s, d.id, [a.id for a in (assets or (self.repaired, self.unrepaired))], actor=self.actor)
            s.commit()
            return d.id

    def finalize(self, dispatch_id) -> RepairInvoice:
        with tenant_session(self.tenant.id) as s:
            invoice = billing.finalize_dispatch(s, dispatch_id, actor=self.actor)
            s.commit()
            return invoice

    def call(self, fn, *args, **kwargs):
        with tenant_session(self.tenant.id) as s:
            out = fn(s, *args, actor=self.actor, **kwargs)
            s.commit()
            return out

    def read(self, fn, *args, **kwargs):
        with tenant_session(self.tenant.id) as s:
            return fn(s, *args, **kwargs)

    def finalized_events(self, dispatch_id) -> int:
        with tenant_session(self.tenant.id) as s:
            return s.exec(
                select(func.count())
                .select_from(Outbox)
                .where(
                    Outbox.event_type == names.DISPATCH_FINALIZED,
                    Outbox.payload["dispatchId"].astext == str(dispatch_id),
                )
            ).one()


def _priced(shop: Shop, invoice_id) -> None:
    """Price the lines the draft flagged (the battery: 7.55)."""
    for line in shop.read(billing.invoice_lines, invoice_id):
        if line.warning:
            shop.call(billing.update_line, line.id, unit_price="7.55")


# --- finalize ---------------------------------------------------------------------------------


def test_finalizing_writes_the_draft_from_codes_prices_parts_and_settings(tenant):
    shop = Shop(tenant)
    did = shop.dispatch()
    invoice = shop.finalize(did)

    assert invoice.status == "draft" and invoice.kind == "invoice" and invoice.number == ""
    assert invoice.currency == "EUR" and invoice.vat_rate == Decimal("21.00")
    lines = shop.read(billing.invoice_lines, invoice.id)
    got = {(ln.kind, ln.description.split(" · ")[0], ln.quantity, ln.unit_price, bool(ln.warning)) for ln in lines}
    assert got == {
        ("repair", "Screen replacement (SCR-REPL)", Decimal("1.00"), Decimal("89.95"), False),
        ("repair", "Battery replacement (BAT-REPL)", Decimal("1.00"), Decimal("0.00"), True),  # no price rule
        (
            "part",
            f"iPhone 13 screen ({shop.part_sku})",
            Decimal("1.00"),
            Decimal("50.00"),
            False,
        ),
        ("other", "Assessment, returned unrepaired", Decimal("1.00"), Decimal("15.00"), False),
    }
    # 154.95 + 21 % (32.5395 → 32.54)
    assert (invoice.subtotal, invoice.vat_amount, invoice.total) == (
        Decimal("154.95"),
        Decimal("32.54"),
        Decimal("187.49"),
    )

    with tenant_session(tenant.id) as s:
        d = s.get(RepairDispatch, did)
        assert d is not None and d.status == "finalized" and d.invoice_id == invoice.id
        for a in (shop.repaired, shop.unrepaired):
            asset = s.get(RepairAsset, a.id)
            assert asset is not None and asset.status == "dispatched"

    # a price by hand clears the warning; totals round halves up: 162.50 × 21 % = 34.125 → 34.13
    _priced(shop, invoice.id)
    invoice = shop.read(billing.get_invoice, invoice.id)
    assert (invoice.subtotal, invoice.vat_amount, invoice.total) == (
        Decimal("162.50"),
        Decimal("34.13"),
        Decimal("196.63"),
    )
    assert not any(ln.warning for ln in shop.read(billing.invoice_lines, invoice.id))


def test_settings_default_to_21_percent_vat_no_markup_and_no_assessment_line(tenant):
    shop = Shop(tenant, settings=False)
    invoice = shop.finalize(shop.dispatch())
    lines = shop.read(billing.invoice_lines, invoice.id)
    assert invoice.vat_rate == Decimal("21.00")
    assert [ln.unit_price for ln in lines if ln.kind == "part"] == [Decimal("40.00")]
    assert not [ln for ln in lines if ln.kind == "other"]


def test_finalize_twice_gives_one_invoice_and_one_event(tenant):
    shop = Shop(tenant)
    did = shop.dispatch()
    first, second = shop.finalize(did), shop.finalize(did)
    assert first.id == second.id
    with tenant_session(tenant.id) as s:
        assert s.exec(select(func.count()).where(RepairInvoice.dispatch_id == did)).one() == 1
        moves = s.exec(
            select(func.count()).where(
                AssetStatusChange.asset_id == shop.repaired.id, AssetStatusChange.to_status == "dispatched"
            )
        ).one()
        assert moves == 1
    assert shop.finalized_events(did) == 1


def test_twenty_concurrent_finalize_calls_give_one_invoice(tenant):
    shop = Shop(tenant)
    did = shop.dispatch()
    start, ids, errors = threading.Barrier(20), [], []

    def go():
        try:
            start.wait()
            ids.append(shop.finalize(did).id)
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(ids) == 20 and len(set(ids)) == 1
    with tenant_session(tenant.id) as s:
        assert s.exec(select(func.count()).where(RepairInvoice.dispatch_id == did)).one() == 1
    assert shop.finalized_events(did) == 1


# --- dispatch refusals --------------------------------------------------------------------------


def test_a_dispatch_refuses_what_it_cannot_take(tenant):
    shop = Shop(tenant)
    with tenant_session(tenant.id) as s:
        in_repair = make_asset(s, status="in_repair", batch=make_batch(s, shop.client))
        stranger = make_asset(s, status="ready_for_dispatch")  # another client
        s.commit()
    first = shop.dispatch(shop.repaired)
    with tenant_session(tenant.id) as s:
        second = billing.create_dispatch(s, shop.client.id, actor=shop.actor)
        s.commit()
    number = shop.read(billing.get_dispatch, first).number
    with pytest.raises(Conflict, match=f"already in open dispatch {number}"):
        shop.call(billing.add_assets, second.id, [shop.repaired.id])
    with pytest.raises(InvalidTransition, match="in repair: a dispatch takes assets that are ready"):
        shop.call(billing.add_assets, second.id, [in_repair.id])
    with pytest.raises(ValidationFailed, match="another client"):
        shop.call(billing.add_assets, second.id, [stranger.id])
    with pytest.raises(ValidationFailed, match="empty"):
        shop.call(billing.finalize_dispatch, second.id)

    # taken out of the first, it may go into the second
    shop.call(billing.remove_asset, first, shop.repaired.id)
    shop.call(billing.add_assets, second.id, [shop.repaired.id])
    assert [a.id for a in shop.read(billing.dispatch_assets, second.id)] == [shop.repaired.id]
    shop.call(billing.cancel_dispatch, first)
    with pytest.raises(InvalidTransition, match="cancelled cannot go to finalized; allowed: none"):
        shop.call(billing.finalize_dispatch, first)

    shop.finalize(second.id)
    with pytest.raises(InvalidTransition, match="only an open dispatch"):
        shop.call(billing.add_assets, second.id, [shop.unrepaired.id])
    with pytest.raises(InvalidTransition, match="cancelled"):
        shop.call(billing.cancel_dispatch, second.id)


# --- sending and numbering ----------------------------------------------------------------------


def _suffix(number: str) -> int:
    match = re.search(r"(\d+)$", number)
    assert match, number
    return int(match.group(1))


def test_sending_numbers_invoices_without_gaps_also_after_a_failed_send(tenant, worker):
    shop = Shop(tenant)
    drafts = []
    for asset in (shop.repaired, shop.unrepaired):
        invoice = shop.finalize(shop.dispatch(asset))
        _priced(shop, invoice.id)
        drafts.append(invoice.id)
    with tenant_session(tenant.id) as s:
        extra = make_asset(s, status="ready_for_dispatch", batch=make_batch(s, shop.client))
        s.commit()
    third = shop.finalize(shop.dispatch(extra))
    _priced(shop, third.id)

    sent = shop.call(billing.send_invoice, drafts[0])
    assert sent.status == "sent" and sent.number.startswith("INV-")
    assert sent.issued_on is not None and sent.due_on is not None and (sent.due_on - sent.issued_on).days == 14

    # a send that fails after its number was taken hands the number back
    with pytest.raises(RuntimeError), tenant_session(tenant.id) as s:
        taken = billing.send_invoice(s, drafts[1], actor=shop.actor)
        assert _suffix(taken.number) == _suffix(sent.number) + 1
        raise RuntimeError("the mail server fell over")
    assert shop.read(billing.get_invoice, drafts[1]).status == "draft"

    numbers = [
        sent.number,
        shop.call(billing.send_invoice, drafts[1]).number,
        shop.call(billing.send_invoice, third.id).number,
    ]
    assert [_suffix(n) for n in numbers] == [_suffix(numbers[0]) + i for i in range(3)]
    with tenant_session(tenant.id) as s:
        for asset in (shop.repaired, shop.unrepaired, extra):
            found = s.get(RepairAsset, asset.id)
            assert found is not None and found.status == "invoiced"
    worker()


def test_sending_is_refused_with_unpriced_lines_and_lines_change_only_on_a_draft(tenant, worker):
    shop = Shop(tenant)
    invoice = shop.finalize(shop.dispatch())
    with pytest.raises(ValidationFailed, match="1 line\\(s\\) still need a price"):
        shop.call(billing.send_invoice, invoice.id)
    assert shop.read(billing.get_invoice, invoice.id).number == ""

    line = shop.call(billing.add_line, invoice.id, description="Express return", unit_price="10", quantity="2")
    assert line.amount == Decimal("20.00")
    with pytest.raises(ValidationFailed, match="cannot be below 0"):
        shop.call(billing.update_line, line.id, unit_price="-1")
    with pytest.raises(ValidationFailed, match="a number"):
        shop.call(billing.add_line, invoice.id, description="x", unit_price="ten")
    shop.call(billing.remove_line, line.id)
    _priced(shop, invoice.id)
    shop.call(billing.send_invoice, invoice.id)

    with pytest.raises(InvalidTransition, match="only a draft's lines change"):
        shop.call(billing.add_line, invoice.id, description="Late fee", unit_price="5")
    with pytest.raises(InvalidTransition, match="cannot go to sent; allowed: paid, void"):
        shop.call(billing.send_invoice, invoice.id)
    worker()


# --- the PDF ------------------------------------------------------------------------------------


def test_a_sent_invoice_has_a_real_pdf_and_a_failed_render_says_why_and_retries(tenant, worker, monkeypatch, api):
    shop = Shop(tenant)
    invoice = shop.finalize(shop.dispatch())
    _priced(shop, invoice.id)
    sent = shop.call(billing.send_invoice, invoice.id)
    assert sent.pdf_status == "queued"
    worker()

    done = shop.read(billing.get_invoice, invoice.id)
    assert done.pdf_status == "ready" and done.pdf_key, done.pdf_error
    data, filename = shop.read(billing.invoice_pdf, invoice.id)
    assert data.startswith(b"%PDF") and filename == f"Invoice-{done.number}.pdf"
    text = _pdf_text(data)
    for words in (
        done.number,
        "Phone Fleet BV",
        "Keizersgracht 1",
        "Screen replacement (SCR-REPL)",
        "Total due",
        "196.63",
    ):
        assert words in text, words
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "invoice.pdf").write_bytes(data)

    # the download route
    user = make_user(tenant, "viewer")
    c = TestClient(api)
    c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    r = c.get(f"/api/v1/repairs/invoices/{invoice.id}/pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")

    def broken(html: str) -> bytes:
        raise RuntimeError("the fonts are missing")

    monkeypatch.setattr(billing, "render_pdf", broken)
    shop.call(billing.request_pdf, invoice.id)
    worker()
    failed = shop.read(billing.get_invoice, invoice.id)
    assert failed.pdf_status == "failed" and "the fonts are missing" in failed.pdf_error
    assert failed.pdf_key == done.pdf_key  # the last good PDF stays downloadable

    monkeypatch.undo()
    shop.call(billing.request_pdf, invoice.id)
    worker()
    again = shop.read(billing.get_invoice, invoice.id)
    assert again.pdf_status == "ready" and again.pdf_error == "" and again.pdf_key != done.pdf_key


# --- paid, void and credit notes ----------------------------------------------------------------


def test_void_gives_a_credit_note_with_a_negative_total_and_a_draft_is_voided_without(tenant, worker):
    shop = Shop(tenant)
    invoice = shop.finalize(shop.dispatch(shop.repaired))
    _priced(shop, invoice.id)
    sent = shop.call(billing.send_invoice, invoice.id)
    with pytest.raises(ValidationFailed, match="say why"):
        shop.call(billing.void_invoice, invoice.id, "  ")
    note = shop.call(billing.void_invoice, invoice.id, "Billed the wrong client")
    assert note is not None and note.kind == "credit_note" and note.status == "sent"
    assert note.number.startswith("CN-") and note.credit_for_id == invoice.id
    assert note.total == -sent.total and note.total < 0 and note.vat_amount == -sent.vat_amount
    lines = shop.read(billing.invoice_lines, note.id)
    originals = shop.read(billing.invoice_lines, invoice.id)
    assert [ln.amount for ln in lines] == [-ln.amount for ln in originals]
    voided = shop.read(billing.get_invoice, invoice.id)
    assert voided.status == "void" and voided.void_reason == "Billed the wrong client"
    found = shop.read(billing.credit_note_for, invoice.id)
    assert found is not None and found.id == note.id
    with pytest.raises(InvalidTransition, match="cannot go to paid; allowed: none"):
        shop.call(billing.mark_paid, invoice.id)

    worker()
    data, filename = shop.read(billing.invoice_pdf, note.id)
    text = _pdf_text(data)
    assert filename.startswith("Credit-note-") and note.number in text and sent.number in text
    assert "Billed the wrong client" in text
    (ARTIFACTS / "credit-note.pdf").parent.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "credit-note.pdf").write_bytes(data)

    draft = shop.finalize(shop.dispatch(shop.unrepaired))
    assert shop.call(billing.void_invoice, draft.id, "Goodwill: no charge") is None
    assert shop.read(billing.get_invoice, draft.id).status == "void"
    assert shop.read(billing.credit_note_for, draft.id) is None


def test_paid_and_its_refusals(tenant, worker):
    shop = Shop(tenant)
    invoice = shop.finalize(shop.dispatch())
    with pytest.raises(InvalidTransition, match="cannot go to paid; allowed: sent, void"):
        shop.call(billing.mark_paid, invoice.id)
    _priced(shop, invoice.id)
    shop.call(billing.send_invoice, invoice.id)
    paid = shop.call(billing.mark_paid, invoice.id)
    assert paid.status == "paid" and paid.paid_at is not None
    with pytest.raises(InvalidTransition, match="cannot go to void; allowed: none"):
        shop.call(billing.void_invoice, invoice.id, "too late")
    totals = shop.read(billing.invoice_totals)
    assert totals.counts["paid"] == 1 and totals.totals["paid"]["EUR"] == paid.total
    worker()


# --- shops and permissions ----------------------------------------------------------------------


def test_another_shop_sees_no_dispatch_or_invoice(tenant):
    shop = Shop(tenant)
    did = shop.dispatch()
    invoice = shop.finalize(did)
    other = make_tenant()
    with tenant_session(other.id) as s:
        with pytest.raises(NotFound):
            billing.get_dispatch(s, did)
        with pytest.raises(NotFound):
            billing.get_invoice(s, invoice.id)
        assert billing.list_invoices(s, billing.InvoiceFilter())[1] == 0
        assert billing.list_dispatches(s, billing.DispatchFilter())[1] == 0
        with pytest.raises(NotFound):
            billing.finalize_dispatch(s, did, actor=staff_principal(other))


def _client(api, tenant, role: str) -> TestClient:
    user = make_user(tenant, role)
    c = TestClient(api)
    r = c.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "shop": tenant.slug})
    assert r.status_code == 200, r.text
    return c


def test_the_api_finalizes_once_and_a_viewer_changes_nothing(api, tenant, worker):
    shop = Shop(tenant)
    viewer, operator = _client(api, tenant, "viewer"), _client(api, tenant, "operator")
    body = {"clientId": str(shop.client.id), "carrier": "DHL"}
    assert viewer.post("/api/v1/repairs/dispatches", json=body).status_code == 403
    r = operator.post("/api/v1/repairs/dispatches", json=body)
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    ready = operator.get(f"/api/v1/repairs/dispatches/{did}/ready-assets").json()["assets"]
    assert {a["id"] for a in ready} == {str(shop.repaired.id), str(shop.unrepaired.id)}
    r = operator.post(f"/api/v1/repairs/dispatches/{did}/assets", json={"assetIds": [a["id"] for a in ready]})
    assert r.status_code == 200 and r.json()["assetCount"] == 2

    assert viewer.post(f"/api/v1/repairs/dispatches/{did}/finalize").status_code == 403
    first = operator.post(f"/api/v1/repairs/dispatches/{did}/finalize")
    second = operator.post(f"/api/v1/repairs/dispatches/{did}/finalize")
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert shop.finalized_events(did) == 1
    inv = first.json()
    assert [ln["warning"] is not None for ln in inv["lines"]].count(True) == 1

    r = operator.post(f"/api/v1/repairs/invoices/{inv['id']}/send")
    assert r.status_code == 422 and "still need a price" in r.json()["error"]["message"]
    flagged = next(ln for ln in inv["lines"] if ln["warning"])
    assert (
        viewer.patch(f"/api/v1/repairs/invoices/{inv['id']}/lines/{flagged['id']}", json={"unitPrice": "5"}).status_code
        == 403
    )
    r = operator.patch(f"/api/v1/repairs/invoices/{inv['id']}/lines/{flagged['id']}", json={"unitPrice": "5"})
    assert r.status_code == 200 and r.json()["total"] == "193.54"  # 159.95 + 21 % (33.5895 → 33.59)

    r = operator.post(f"/api/v1/repairs/invoices/{inv['id']}/send")
    assert r.status_code == 200, r.text
    sent = r.json()
    assert sent["status"] == "sent" and sent["number"].startswith("INV-") and sent["pdf"]["status"] == "queued"
    worker()
    got = viewer.get(f"/api/v1/repairs/invoices/{inv['id']}").json()
    assert got["pdf"]["status"] == "ready" and got["pdf"]["url"]
    pdf = viewer.get(got["pdf"]["url"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert viewer.post(f"/api/v1/repairs/invoices/{inv['id']}/pay").status_code == 403
    assert viewer.post(f"/api/v1/repairs/invoices/{inv['id']}/void", json={"reason": "x"}).status_code == 403
    r = operator.post(f"/api/v1/repairs/invoices/{inv['id']}/pay")
    assert r.status_code == 200 and r.json()["status"] == "paid"
    r = operator.post(f"/api/v1/repairs/invoices/{inv['id']}/void", json={"reason": "x"})
    assert r.status_code == 409 and "allowed: none" in r.json()["error"]["message"]
    listed = viewer.get("/api/v1/repairs/invoices", params={"status": "paid"}).json()
    assert [i["id"] for i in listed["invoices"]] == [inv["id"]] and listed["invoices"][0][
        "clientName"
    ] == "Phone Fleet BV"
    assert operator.get(f"/api/v1/repairs/invoices/{uuid.uuid4()}").status_code == 404
    assert TestClient(api).get("/api/v1/repairs/dispatches").status_code == 401


def test_a_pdf_whose_job_was_lost_is_queued_again_by_the_sweep(tenant, worker):
    from app.platform.tasks import queue
    from jobs import repairs_invoices

    shop = Shop(tenant)
    invoice = shop.finalize(shop.dispatch())
    _priced(shop, invoice.id)
    shop.call(billing.send_invoice, invoice.id)
    queue(billing.PDF_QUEUE).empty()  # the queue was away: the render job is lost
    assert repairs_invoices.sweep(str(tenant.id)) == {"requeued": 0}  # sent just now: not stale yet
    with tenant_session(tenant.id) as s:
        row = billing.get_invoice(s, invoice.id, lock=True)
        row.issued_at = row.issued_at - timedelta(minutes=billing.STALE_PDF_MINUTES + 1)
        s.commit()
    assert repairs_invoices.sweep(str(tenant.id)) == {"requeued": 1}
    worker()
    assert shop.read(billing.get_invoice, invoice.id).pdf_status == "ready"


# --- invoice settings --------------------------------------------------------------------------------


def test_an_admin_sets_what_invoices_say_and_charge_and_the_next_invoice_follows(api, tenant, worker):
    shop = Shop(tenant, settings=False)
    admin, operator = _client(api, tenant, "admin"), _client(api, tenant, "operator")
    assert operator.get("/api/v1/repairs/billing/settings").json()["vatPercent"] == "21.00"
    body = {
        "shopAddress": "Fix & Return Ltd\n  Prinsengracht 263 \n\n1016 GV Amsterdam",
        "shopVatNumber": "nl 8536.21.004 B01",
        "supportEmail": "desk@fixreturn.example",
        "vatPercent": "9",
        "partsMarkupPercent": "12.5",
        "assessmentFee": "19,50",
    }
    assert operator.put("/api/v1/repairs/billing/settings", json=body).status_code == 403  # an admin's to change
    r = admin.put("/api/v1/repairs/billing/settings", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "shopAddress": "Fix & Return Ltd\nPrinsengracht 263\n1016 GV Amsterdam",
        "shopVatNumber": "NL853621004B01",
        "supportEmail": "desk@fixreturn.example",
        "vatPercent": "9.00",
        "partsMarkupPercent": "12.50",
        "assessmentFee": "19.50",
    }

    # the next invoice charges that way, and its PDF names the shop so
    invoice = shop.finalize(shop.dispatch())
    lines = shop.read(billing.invoice_lines, invoice.id)
    assert invoice.vat_rate == Decimal("9.00")
    assert [ln.unit_price for ln in lines if ln.kind == "part"] == [Decimal("45.00")]  # 40.00 + 12.5 %
    assert [ln.unit_price for ln in lines if ln.kind == "other"] == [Decimal("19.50")]  # the unrepaired device
    _priced(shop, invoice.id)
    shop.call(billing.send_invoice, invoice.id)
    worker()
    data, _ = shop.read(billing.invoice_pdf, invoice.id)
    text = _pdf_text(data)
    for words in ("Prinsengracht 263", "1016 GV Amsterdam", "NL853621004B01", "desk@fixreturn.example"):
        assert words in text, words


def test_wrong_invoice_settings_are_refused_field_by_field_and_nothing_changes(api, tenant):
    admin = _client(api, tenant, "admin")
    r = admin.put(
        "/api/v1/repairs/billing/settings",
        json={"vatPercent": "121", "partsMarkupPercent": "ten", "supportEmail": "desk@", "shopVatNumber": "12345"},
    )
    assert r.status_code == 422
    fields = r.json()["error"]["details"]["fields"]
    assert set(fields) == {"vat_percent", "parts_markup_percent", "support_email", "shop_vat_number"}
    assert "from 0 to 100" in fields["vat_percent"]
    assert admin.get("/api/v1/repairs/billing/settings").json()["vatPercent"] == "21.00"
    with tenant_session(tenant.id) as s:
        with pytest.raises(ValidationFailed):
            billing.set_billing_settings(
                s, {"shop_address": "\n".join("line" for _ in range(9))}, actor=staff_principal(tenant)
            )
        with pytest.raises(ValidationFailed):
            billing.set_billing_settings(s, {"currency": "EUR"}, actor=staff_principal(tenant))
        assert billing.billing_settings(s).shop_address == ""
