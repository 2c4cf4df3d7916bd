"""The "Invoice settings" dialog on /repairs/invoices: what a repair invoice says
about the shop (address, VAT number, support e-mail) and how it charges (VAT
rate, markup on spare parts, assessment fee for a device returned unrepaired).
Everyone with repairs.read sees the figures in words; only settings.write
(admins) gets the form. The rules are `app.repairs.service.billing`'s."""

from __future__ import annotations

import dataclasses

import reflex as rx
from sqlmodel import Session

from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat
from app.repairs.service import billing
from app.repairs.service._common import READ
from state.base import AppState, current_principal, guarded, in_tenant
from state.util import field_errors


@dataclasses.dataclass
class BillingSettingsView:
    shop_address: str = ""
    shop_vat_number: str = ""
    support_email: str = ""
    vat_percent: str = ""
    parts_markup_percent: str = ""
    assessment_fee: str = ""
    words: str = ""  # the charging rules as a sentence


def settings_words(st: billing.BillingSettings, fmt: ShopFormat) -> str:
    fee = fmt.money(st.assessment_fee) if st.assessment_fee else "no assessment fee"
    return (
        f"VAT {st.vat_percent.normalize():f} % · spare parts at cost + {st.parts_markup_percent.normalize():f} % · "
        f"{fee} for a device returned unrepaired"
    )


def _view(s: Session, fmt: ShopFormat) -> BillingSettingsView:
    st = billing.billing_settings(s)
    return BillingSettingsView(
        shop_address=st.shop_address,
        shop_vat_number=st.shop_vat_number,
        support_email=st.support_email,
        vat_percent=f"{st.vat_percent.normalize():f}",
        parts_markup_percent=f"{st.parts_markup_percent.normalize():f}",
        assessment_fee=f"{st.assessment_fee:.2f}",
        words=settings_words(st, fmt),
    )


class RepairBillingSettingsState(AppState):
    billing_view: BillingSettingsView = BillingSettingsView()
    billing_open: bool = False
    billing_errors: dict[str, str] = {}
    billing_saving: bool = False
    billing_version: int = 0  # the form's key: opening it again reads the stored values

    @rx.var
    def billing_can_edit(self) -> bool:
        return billing.SETTINGS_PERMISSION in self.permissions

    async def _read(self) -> None:
        p = current_principal()
        self.billing_view = await in_tenant(lambda s: _view(s, p.fmt))

    @guarded(READ, quiet=True)
    async def load_billing(self):
        await self._read()

    @guarded(billing.SETTINGS_PERMISSION)
    async def open_billing(self):
        await self._read()
        self.billing_errors, self.billing_open = {}, True
        self.billing_version += 1

    @guarded(billing.SETTINGS_PERMISSION)
    def set_billing_open(self, value: bool):
        self.billing_open = value

    @guarded(billing.SETTINGS_PERMISSION)
    async def save_billing(self, form: dict):
        p = current_principal()
        values = {k: str(form.get(k) or "") for k in billing.SETTING_FIELDS if k in form}
        self.billing_saving = True
        yield
        try:
            await in_tenant(lambda s: billing.set_billing_settings(s, values, actor=p))
        except DomainError as exc:
            self.billing_errors = field_errors(exc, whole="_")
            self.billing_saving = False
            return
        self.billing_saving, self.billing_errors, self.billing_open = False, {}, False
        await self._read()
        yield rx.toast.success("Invoice settings saved. They apply to the next invoice written.")
