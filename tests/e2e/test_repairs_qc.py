"""The QC workbench as a technician uses it: devices wait for triage (one
triaged by a colleague leaves the queue live); one is triaged repairable
with two repair codes found, the other as suspected beyond economic repair
with a first estimate; both leave the triage queue. The review shows the
cost against the value and the client's threshold, is decided (return
unrepaired) and leaves the BER queue; a third review is estimated again and
scrapped only after the confirmation."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.platform.db import tenant_session
from app.repairs.models import BerReview, DeviceRepairCode, RepairAsset
from app.repairs.service import qc
from tests import factories
from tests.e2e.conftest import shot, sign_in
from tests.repairs_factories import make_asset, make_batch, make_client, make_device_model


@pytest.fixture
def shop():
    tenant = factories.make_tenant()
    with tenant_session(tenant.id) as s:
        client = make_client(s, name="Acme Leasing", ber_threshold_percent=70)
        batch = make_batch(s, client, client_reference="PO-2231")
        model = make_device_model(s, "Apple", "iPhone 12", typical_value=Decimal("300"))
        first = make_asset(s, batch=batch, device_model_id=model.id, fault="Cracked screen, battery drains")
        second = make_asset(s, batch=batch, device_model_id=model.id, fault="Dropped in water")
        third = make_asset(s, batch=batch, status="in_triage", device_model_id=model.id, declared_value=Decimal("80"))
        elsewhere = make_asset(s, batch=batch, fault="Does not charge")
        s.commit()
        ids = first.id, second.id, third.id, first.number, second.number, third.number, elsewhere.id
    with tenant_session(tenant.id) as s:  # the third was sent to review earlier (it waits there)
        qc.open_ber_review(
            s, ids[2], estimated_parts="90", estimated_labour="30", actor=factories.staff_principal(tenant)
        )
        s.commit()
    return tenant, ids


def _count(page: Page, view: str):
    """The count on a view's switch (the switch draws each label twice, one hidden for its width)."""
    return page.get_by_test_id(f"count-{view}").first


def _status(tenant, asset_id: uuid.UUID) -> str:
    with tenant_session(tenant.id) as s:
        a = s.get(RepairAsset, asset_id)
        assert a is not None
        return a.status


def test_triage_two_assets_and_decide_the_ber_reviews(page: Page, shop):
    tenant, (first, second, third, first_no, second_no, third_no, elsewhere) = shop
    admin = factories.make_user(tenant, "admin", username=f"qc-{uuid.uuid4().hex[:6]}")
    sign_in(page, admin.username, shop=tenant.slug, next_path="/repairs/qc")
    page.wait_for_url("**/repairs/qc")
    expect(page.get_by_test_id("repairs-tabs")).to_be_visible()
    rows = page.get_by_test_id("triage-row")
    expect(rows).to_have_count(3)
    expect(_count(page, "triage")).to_have_text("3")
    expect(_count(page, "ber")).to_have_text("1")
    expect(rows.first.get_by_test_id("asset-status")).to_have_text("Received")
    shot(page, "repairs-qc-01-triage-queue")

    # a colleague triages one at another bench: it leaves this queue without a reload
    with tenant_session(tenant.id) as s:
        qc.triage(s, elsewhere, result="no_fault", repair_code_ids=[], actor=factories.staff_principal(tenant))
        s.commit()
    expect(rows).to_have_count(2)
    expect(_count(page, "triage")).to_have_text("2")

    # the first: repairable, two codes found
    rows.filter(has_text=first_no).get_by_test_id("triage-open").click()
    dialog = page.get_by_test_id("triage-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("triage-submit").click()  # no code yet: refused in the form
    expect(dialog.get_by_test_id("error-repair_code_ids")).to_contain_text("at least one repair code")
    dialog.get_by_test_id("code-search").fill("screen repl")
    dialog.get_by_test_id("code-option").filter(has_text="SCR-REPL").click()
    dialog.get_by_test_id("code-search").fill("battery")
    dialog.get_by_test_id("code-option").filter(has_text="BAT-REPL").click()
    expect(dialog.get_by_test_id("chosen-code")).to_have_count(2)
    expect(dialog.get_by_test_id("chosen-count")).to_have_text("2 chosen")
    dialog.get_by_test_id("field-notes").fill("Screen cracked top left; battery health 71%.")
    shot(page, "repairs-qc-02-triage-dialog")
    dialog.get_by_test_id("triage-submit").click()
    expect(page.get_by_text(f"Asset {first_no} is repairable: it goes on to repair.")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(rows).to_have_count(1)
    expect(_count(page, "triage")).to_have_text("1")
    assert _status(tenant, first) == "in_repair"
    with tenant_session(tenant.id) as s:
        found = s.exec(select(DeviceRepairCode).where(DeviceRepairCode.asset_id == first)).all()
        assert sorted(r.source for r in found) == ["triage", "triage"]

    # the second: suspected beyond economic repair, with a first estimate
    rows.filter(has_text=second_no).get_by_test_id("triage-open").click()
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("result-ber_suspected").click()
    dialog.get_by_test_id("field-estimated_parts").fill("200")
    dialog.get_by_test_id("field-estimated_labour").fill("60")
    dialog.get_by_test_id("field-notes").fill("Board corroded around the charging IC.")
    shot(page, "repairs-qc-03-triage-ber-suspected")
    dialog.get_by_test_id("triage-submit").click()
    expect(
        page.get_by_text(f"Asset {second_no} may be beyond economic repair: it waits in BER review.")
    ).to_be_visible()
    expect(rows).to_have_count(0)
    expect(page.get_by_text("Nothing waits for triage")).to_be_visible()
    expect(_count(page, "ber")).to_have_text("2")
    assert _status(tenant, second) == "ber_review"

    # the BER queue: figures, threshold and the verdict
    page.get_by_test_id("view-ber").click()
    page.wait_for_url("**/repairs/qc?view=ber")
    reviews = page.get_by_test_id("review-row")
    expect(reviews).to_have_count(2)
    mine = reviews.filter(has_text=second_no)
    expect(mine.get_by_test_id("review-percent")).to_have_text("86.67 %")
    expect(mine.get_by_test_id("review-threshold")).to_have_text("of 70 %")
    expect(mine.get_by_test_id("review-verdict")).to_have_text("Beyond economic repair")
    expect(page.get_by_test_id("count-over")).to_have_text("2 beyond economic repair")
    shot(page, "repairs-qc-04-ber-queue")

    # decide: return unrepaired
    mine.get_by_test_id("review-decide").click()
    decide = page.get_by_test_id("decide-dialog")
    expect(decide).to_be_visible()
    decide.get_by_test_id("decision-repair").click()
    decide.get_by_test_id("decide-submit").click()  # over the threshold without a reason: refused
    expect(decide.get_by_test_id("error-notes")).to_contain_text("write why")
    decide.get_by_test_id("decision-return_unrepaired").click()
    decide.get_by_test_id("decide-notes").fill("Client does not want to pay 86% of the value.")
    shot(page, "repairs-qc-05-decide")
    decide.get_by_test_id("decide-submit").click()
    expect(page.get_by_text(f"Asset {second_no} goes back unrepaired.")).to_be_visible()
    expect(reviews).to_have_count(1)
    assert _status(tenant, second) == "return_unrepaired"
    with tenant_session(tenant.id) as s:
        review = s.exec(select(BerReview).where(BerReview.asset_id == second)).one()
        assert review.decision == "return_unrepaired" and review.decided_by_id == admin.id

    # the third: estimated again (within the threshold now), then scrapped, only once confirmed
    third_row = reviews.filter(has_text=third_no)
    expect(third_row.get_by_test_id("review-percent")).to_have_text("150.00 %")
    third_row.get_by_test_id("review-estimate").click()
    estimate = page.get_by_test_id("estimate-dialog")
    expect(estimate.get_by_test_id("field-estimated_parts")).to_have_value("90.00")
    estimate.get_by_test_id("field-estimated_parts").fill("40")
    estimate.get_by_test_id("field-estimated_labour").fill("ten")
    estimate.get_by_test_id("estimate-submit").click()
    expect(estimate.get_by_test_id("error-estimated_labour")).to_be_visible()
    estimate.get_by_test_id("field-estimated_labour").fill("10")
    shot(page, "repairs-qc-06-estimate")
    estimate.get_by_test_id("estimate-submit").click()
    expect(page.get_by_text(f"Asset {third_no}: the repair costs 62.50 % of its value")).to_be_visible()
    expect(third_row.get_by_test_id("review-percent")).to_have_text("62.50 %")
    expect(third_row.get_by_test_id("review-verdict")).to_have_text("Within threshold")
    third_row.get_by_test_id("review-decide").click()
    expect(decide).to_be_visible()
    decide.get_by_test_id("decision-scrap").click()
    decide.get_by_test_id("decide-submit").click()
    confirm = page.get_by_test_id("scrap-confirm")
    expect(confirm).to_be_visible()
    shot(page, "repairs-qc-07-scrap-confirm")
    assert _status(tenant, third) == "ber_review"  # nothing happened before the confirmation
    confirm.click()
    expect(page.get_by_text(f"Asset {third_no} is scrapped.")).to_be_visible()
    expect(reviews).to_have_count(0)
    expect(page.get_by_text("No open BER review")).to_be_visible()
    expect(_count(page, "ber")).to_have_text("0")
    assert _status(tenant, third) == "scrapped"
    shot(page, "repairs-qc-08-queues-empty")
