"""Settings › Numbering as an admin uses it: a new prefix and a starting number
continue the shop's old numbering (the next asset gets it), a number already
given is refused with the reason on the field, a prefix another kind of number
uses is refused; an operator reads the numbering without a form."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from app.platform import numbering
from app.platform.db import tenant_session
from tests import factories
from tests.e2e.conftest import shot, sign_in


def test_an_admin_continues_the_old_numbering_and_cannot_reuse_a_number(page: Page):
    shop = factories.make_tenant()
    admin = factories.make_user(shop, "admin", username=f"numbers-{uuid.uuid4().hex[:6]}")
    sign_in(page, admin.username, shop=shop.slug, next_path="/settings/numbering")
    page.wait_for_url("**/settings/numbering")
    card = page.get_by_test_id("numbering-settings")
    expect(card.get_by_test_id("numbering-prefix-asset")).to_be_visible()

    # continue the asset numbers used before: prefix DEV- from 500
    card.get_by_test_id("numbering-prefix-asset").fill("DEV-")
    card.get_by_test_id("numbering-next-asset").fill("500")
    card.get_by_test_id("numbering-save-asset").click()
    expect(page.get_by_text("the next number reads DEV-")).to_be_visible()
    row = card.get_by_test_id("numbering-row").filter(has=page.get_by_test_id("numbering-prefix-asset"))
    expect(row.get_by_test_id("numbering-preview")).to_contain_text("DEV-")
    expect(row.get_by_test_id("numbering-preview")).to_contain_text("500")
    shot(page, "settings-numbering")

    # the next asset takes that number; the page shows it as given
    with tenant_session(shop.id) as s:
        given = numbering.reserve(s, "asset")
        s.commit()
    assert given.startswith("DEV-") and given.endswith("500")
    page.reload()
    row = card.get_by_test_id("numbering-row").filter(has=page.get_by_test_id("numbering-prefix-asset"))
    expect(row).to_contain_text(f"Last given: {given}")

    # going back below a number already given is refused on the field, and nothing changes
    card.get_by_test_id("numbering-next-asset").fill("400")
    card.get_by_test_id("numbering-save-asset").click()
    expect(card.get_by_test_id("numbering-next-error-asset")).to_contain_text("has already been given")
    # a prefix another kind of number uses is refused too
    card.get_by_test_id("numbering-prefix-batch").fill("DEV-")
    card.get_by_test_id("numbering-save-batch").click()
    expect(card.get_by_test_id("numbering-prefix-error-batch")).to_contain_text("already the prefix")
    shot(page, "settings-numbering-refused")
    with tenant_session(shop.id) as s:
        asset = next(r for r in numbering.sequence_settings(s) if r.key == "asset")
        assert asset.prefix == "DEV-" and asset.next_value == 501


def test_an_operator_reads_the_numbering_without_a_form(page: Page):
    shop = factories.make_tenant()
    operator = factories.make_user(shop, "operator", username=f"numview-{uuid.uuid4().hex[:6]}")
    sign_in(page, operator.username, shop=shop.slug, next_path="/settings/numbering")
    page.wait_for_url("**/settings/numbering")
    card = page.get_by_test_id("numbering-settings")
    expect(card.get_by_text("Only an admin changes these.")).to_be_visible()
    expect(card.get_by_test_id("numbering-row").first).to_be_visible()
    expect(card.get_by_test_id("numbering-prefix-asset")).to_have_count(0)
