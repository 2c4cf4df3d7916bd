"""Settings › Numbering: how the shop's document numbers read (orders,
assets, batches, worksheets, dispatches, invoices, credit notes). Admins
(settings.write) change a prefix or the next number, to continue numbering
the shop used before; everyone with settings.read sees them."""

from __future__ import annotations

import dataclasses

import reflex as rx
from sqlmodel import Session

from app.platform import numbering
from app.platform.errors import DomainError, ValidationFailed
from state.base import AppState, current_principal, guarded, in_tenant
from state.util import sentence


@dataclasses.dataclass
class NumberingRowView:
    """One kind of number on the card, with what went wrong when saving it."""

    key: str = ""
    title: str = ""
    prefix: str = ""
    default_prefix: str = ""
    custom_prefix: bool = False
    next_value: str = ""
    preview: str = ""
    last_issued: str = ""
    rule: str = ""  # "Starts again at 1 every year, without gaps"
    prefix_error: str = ""
    next_error: str = ""
    form_error: str = ""


def rule_words(row: numbering.SequenceRow) -> str:
    """How a sequence counts, in words."""
    when = f"Starts again at 1 every year ({row.year} now)" if row.reset == "yearly" else "Counts on, never restarts"
    return f"{when}, without gaps" if row.gapless else when


def _view(row: numbering.SequenceRow) -> NumberingRowView:
    return NumberingRowView(
        key=row.key,
        title=row.title,
        prefix=row.prefix,
        default_prefix=row.default_prefix,
        custom_prefix=row.custom_prefix,
        next_value=str(row.next_value),
        preview=row.preview,
        last_issued=row.last_issued,
        rule=rule_words(row),
    )


def _rows(s: Session) -> list[NumberingRowView]:
    return [_view(r) for r in numbering.sequence_settings(s)]


def change_from_form(form: dict) -> tuple[str, str | None, int | None, dict[str, str]]:
    """(key, prefix, next number, errors) from one row's form. An empty next
    number leaves it as it is."""
    key = str(form.get("key") or "").strip()
    prefix = form.get("prefix")
    raw = str(form.get("next_value") or "").strip().replace(",", "").replace(" ", "")
    errors: dict[str, str] = {}
    next_value: int | None = None
    if raw:
        try:
            next_value = int(raw)
        except ValueError:
            errors["next_value"] = "Write a whole number, e.g. 1207."
    return key, (str(prefix) if prefix is not None else None), next_value, errors


class NumberingSettingsState(AppState):
    num_rows: list[NumberingRowView] = []
    num_version: int = 0  # part of each form's key: a save re-reads its defaults
    num_loaded: bool = False
    num_saving: str = ""  # the key of the row being saved

    @rx.var
    def num_can_edit(self) -> bool:
        return "settings.write" in self.permissions

    async def _reload(self) -> None:
        """Read the sequences; the rows' forms start again only when they changed (as the
        inventory card: a new key remounts them under the person's click)."""
        rows = await in_tenant(_rows)
        if rows != self.num_rows or not self.num_version:
            self.num_rows, self.num_version = rows, self.num_version + 1

    def _show_errors(self, key: str, errors: dict[str, str]) -> None:
        rows = []
        for r in self.num_rows:
            if r.key == key:
                r = dataclasses.replace(
                    r,
                    prefix_error=errors.get("prefix", ""),
                    next_error=errors.get("next_value", ""),
                    form_error=errors.get("form", ""),
                )
            rows.append(r)
        self.num_rows = rows

    @guarded("settings.read", quiet=True)
    async def load(self):
        await self._reload()
        self.num_loaded = True

    @guarded("settings.write")
    async def save(self, form: dict):
        key, prefix, next_value, errors = change_from_form(form)
        if errors:
            self._show_errors(key, errors)
            return None
        p = current_principal()
        self.num_saving = key
        try:
            saved = await in_tenant(
                lambda s: numbering.set_sequence(s, key, prefix=prefix, next_value=next_value, actor=p)
            )
        except ValidationFailed as exc:
            fields = exc.details.get("fields")
            found = {str(k): sentence(str(v)) for k, v in fields.items()} if fields else {}
            self._show_errors(key, found or {"form": sentence(exc.message)})
            return None
        except DomainError as exc:
            self._show_errors(key, {"form": sentence(exc.message)})
            return None
        finally:
            self.num_saving = ""
        await self._reload()
        return rx.toast.success(f"{saved.title}: the next number reads {saved.preview}.")
