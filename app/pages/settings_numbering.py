"""The Numbering card (and /settings/numbering): each kind of document number
with its prefix, the next number and how that number will read. Admins change
the prefix and the next number; everyone else with settings.read reads them."""

from __future__ import annotations

import reflex as rx

from components.layout import staff_page
from components.ui import loading_table
from state.settings_numbering import NumberingRowView
from state.settings_numbering import NumberingSettingsState as N


def _error(message: rx.Var, testid: str) -> rx.Component:
    return rx.cond(message != "", rx.text(message, size="1", color_scheme="red", data_testid=testid))


def _title(row: rx.Var[NumberingRowView]) -> rx.Component:
    return rx.vstack(
        rx.text(row.title, size="2", weight="medium"),
        rx.text(row.rule, size="1", color_scheme="gray"),
        spacing="0",
        min_width="12em",
    )


def _reads_as(row: rx.Var[NumberingRowView]) -> rx.Component:
    return rx.vstack(
        rx.text("Next reads", size="1", color_scheme="gray"),
        rx.code(row.preview, data_testid="numbering-preview"),
        rx.cond(
            row.last_issued != "",
            rx.text("Last given: ", row.last_issued, size="1", color_scheme="gray"),
            rx.text("No number given yet", size="1", color_scheme="gray"),
        ),
        spacing="1",
        min_width="10em",
    )


def _labelled(label: str, control: rx.Component, error: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), control, error, spacing="1")


def _edit_row(row: rx.Var[NumberingRowView]) -> rx.Component:
    return rx.form(
        rx.flex(
            _title(row),
            rx.el.input(type="hidden", name="key", default_value=row.key),
            _labelled(
                "Prefix",
                rx.input(
                    name="prefix",
                    default_value=row.prefix,
                    placeholder=row.default_prefix,
                    max_length=20,
                    aria_label=row.title + ": prefix",
                    data_testid="numbering-prefix-" + row.key,
                    width="11em",
                ),
                _error(row.prefix_error, "numbering-prefix-error-" + row.key),
            ),
            _labelled(
                "Next number",
                rx.input(
                    name="next_value",
                    default_value=row.next_value,
                    type="number",
                    min=1,
                    aria_label=row.title + ": next number",
                    data_testid="numbering-next-" + row.key,
                    width="8em",
                ),
                _error(row.next_error, "numbering-next-error-" + row.key),
            ),
            _reads_as(row),
            rx.button(
                rx.icon("save", size=14),
                "Save",
                type="submit",
                size="2",
                variant="soft",
                loading=N.num_saving == row.key,
                data_testid="numbering-save-" + row.key,
            ),
            align="end",
            spacing="4",
            wrap="wrap",
            width="100%",
        ),
        _error(row.form_error, "numbering-error-" + row.key),
        on_submit=N.save,
        reset_on_submit=False,
        key=row.key + "-" + N.num_version.to_string(),
        width="100%",
        data_testid="numbering-row",
    )


def _read_row(row: rx.Var[NumberingRowView]) -> rx.Component:
    return rx.flex(
        _title(row),
        _labelled("Prefix", rx.code(row.prefix), rx.fragment()),
        _labelled("Next number", rx.text(row.next_value, size="2"), rx.fragment()),
        _reads_as(row),
        align="end",
        spacing="4",
        wrap="wrap",
        width="100%",
        data_testid="numbering-row",
    )


def _row(row: rx.Var[NumberingRowView]) -> rx.Component:
    return rx.vstack(
        rx.cond(N.num_can_edit, _edit_row(row), _read_row(row)),
        rx.separator(size="4"),
        spacing="3",
        width="100%",
    )


def numbering_card() -> rx.Component:
    """The card; its state loads with `NumberingSettingsState.load`."""
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("hash", size=20), rx.heading("Numbering", size="4"), align="center"),
            rx.text(
                "How the shop's order, asset, batch, worksheet, dispatch, invoice and credit note numbers read. "
                "Write {year} in a prefix for the year. To continue numbering used before, set the next number; "
                "a number already given is never given again. Leave a prefix empty for the default.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                N.num_loaded,
                rx.vstack(rx.foreach(N.num_rows, _row), spacing="3", width="100%"),
                loading_table(),
            ),
            rx.cond(~N.num_can_edit, rx.text("Only an admin changes these.", size="1", color_scheme="gray")),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="numbering-settings",
    )


@staff_page(
    "/settings/numbering",
    "Numbering",
    permission="settings.read",
    icon="hash",
    section="Admin",
    on_load=N.load,
)
def numbering_page() -> rx.Component:
    return numbering_card()
