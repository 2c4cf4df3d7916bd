"""Repairs master data pages: the repair clients (/repairs/clients), device
models (/repairs/devices), technicians with their teams
(/repairs/technicians) and the repair-codes catalogue with the price rules
(/repairs/codes). Each table searches, sorts and pages; create and edit open
a dialog; deactivating asks first. Not in the navigation: the repairs tabs
lead here."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.pages.repairs_nav import repairs_tabs
from components.layout import staff_page
from components.ui import (
    confirm_button,
    empty_state,
    field,
    loading_table,
    pager,
    search_box,
    select,
    sortable_header,
    table_card,
)
from state.repairs_master import (
    CATEGORY_OPTIONS,
    CODE_CATEGORY_OPTIONS,
    ORIGIN_OPTIONS,
    SHOW_OPTIONS,
    ClientView,
    CodeView,
    DeviceModelsState,
    DeviceView,
    PriceRulesState,
    RepairClientsState,
    RepairCodesState,
    RuleView,
    TeamsState,
    TeamView,
    TechniciansState,
    TechnicianView,
)

READ = "repairs.read"


# --- shared pieces -------------------------------------------------------------------------------


def _err(S: Any, key: str) -> rx.Component:
    return rx.cond(
        S.form_errors.contains(key),
        rx.text(S.form_errors[key], size="1", color_scheme="red", data_testid=f"error-{key}"),
    )


def _input(S: Any, label: str, name: str, default: Any, **props) -> rx.Component:
    return rx.vstack(
        field(
            label, rx.input(name=name, default_value=default, aria_label=label, data_testid=f"field-{name}", **props)
        ),
        _err(S, name),
        spacing="1",
        width="100%",
    )


def _area(S: Any, label: str, name: str, default: Any, rows: str = "3", **props) -> rx.Component:
    return rx.vstack(
        field(
            label,
            rx.text_area(
                name=name, default_value=default, rows=rows, aria_label=label, data_testid=f"field-{name}", **props
            ),
        ),
        _err(S, name),
        spacing="1",
        width="100%",
    )


def _pick(S: Any, label: str, name: str, default: Any, options: Any) -> rx.Component:
    """A drop-down in a form: `options` are (value, text) pairs or a list of Choice."""
    if isinstance(options, list):
        items = [rx.select.item(text, value=value) for value, text in options]
    else:
        items = [rx.foreach(options, lambda c: rx.select.item(c.label, value=c.value))]
    return rx.vstack(
        field(
            label,
            rx.select.root(
                rx.select.trigger(aria_label=label, data_testid=f"field-{name}", width="100%", overflow="hidden"),
                rx.select.content(*items),
                name=name,
                default_value=default,
            ),
        ),
        _err(S, name),
        spacing="1",
        width="100%",
    )


def _form_error(S: Any) -> rx.Component:
    return rx.cond(
        S.form_errors.contains("form"),
        rx.callout(
            S.form_errors["form"], icon="triangle-alert", color_scheme="red", width="100%", data_testid="form-error"
        ),
    )


def _dialog(S: Any, title: Any, description: str, body: list[rx.Component], on_submit, testid: str) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(description, size="2", color_scheme="gray"),
            rx.form(
                rx.vstack(
                    _form_error(S),
                    *body,
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save", type="submit", loading=S.form_busy, data_testid=f"{testid}-save"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
                key=S.form_key,
                width="100%",
            ),
            max_width="600px",
            data_testid=f"{testid}-dialog",
        ),
        open=S.form_open,
        on_open_change=S.set_form_open,
    )


def _two(*children: rx.Component) -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial="1", xs="2"), spacing="3", width="100%")


def _status(active: rx.Var) -> rx.Component:
    return rx.cond(
        active,
        rx.badge("Active", color_scheme="green", variant="soft"),
        rx.badge("Deactivated", color_scheme="gray", variant="soft", data_testid="row-deactivated"),
    )


def _actions(S: Any, active: rx.Var, name: Any, on_edit, on_deactivate, on_reactivate, what: str) -> rx.Component:
    """A row's Edit and Deactivate (asked first) or Reactivate buttons, for those who may write."""
    return rx.cond(
        S.can_write,
        rx.hstack(
            rx.button(
                rx.icon("pencil", size=14), "Edit", size="1", variant="soft", on_click=on_edit, data_testid="row-edit"
            ),
            rx.cond(
                active,
                confirm_button(
                    "Deactivate",
                    rx.text("Deactivate ", name, "?"),
                    f"The {what} stays on the records that name it but is no longer offered for new ones. "
                    "You can reactivate it later.",
                    on_deactivate,
                    icon="archive",
                    keep="Keep active",
                    testid="row-deactivate",
                    confirm_testid="confirm-deactivate",
                ),
                rx.button(
                    rx.icon("archive-restore", size=14),
                    "Reactivate",
                    size="1",
                    variant="soft",
                    color_scheme="green",
                    on_click=on_reactivate,
                    data_testid="row-reactivate",
                ),
            ),
            spacing="2",
            justify="end",
        ),
    )


def _toolbar(
    S: Any, placeholder: str, testid: str, *extra: rx.Component, add: rx.Component | None = None, show: bool = True
) -> rx.Component:
    return rx.flex(
        rx.box(
            search_box(S.search, S.set_search, placeholder, width="100%", data_testid=f"{testid}-search"),
            width=rx.breakpoints(initial="100%", sm="280px"),
        ),
        *extra,
        rx.box(select(S.show, S.set_show, SHOW_OPTIONS, "Show"), data_testid=f"{testid}-show")
        if show
        else rx.fragment(),
        rx.spacer(),
        rx.cond(S.can_write, add) if add is not None else rx.fragment(),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
    )


def _add(label: str, on_click, testid: str) -> rx.Component:
    return rx.button(rx.icon("plus", size=14), label, on_click=on_click, data_testid=testid)


def _table(S: Any, header: list[rx.Component], row, empty: rx.Component, testid: str, min_width: str) -> rx.Component:
    return rx.cond(
        S.loaded,
        rx.vstack(
            rx.cond(
                S.rows.length() > 0,
                table_card(
                    rx.table.root(
                        rx.table.header(rx.table.row(*header)),
                        rx.table.body(rx.foreach(S.rows, row)),
                        variant="surface",
                        size="2",
                        width="100%",
                        min_width=min_width,
                        data_testid=testid,
                    )
                ),
                empty,
            ),
            rx.hstack(
                rx.text(
                    S.total,
                    " in all",
                    size="1",
                    color_scheme="gray",
                    white_space="nowrap",
                    flex_shrink="0",
                    data_testid=f"{testid}-total",
                ),
                pager(S.page, S.page_count, S.prev_page, S.next_page),
                align="center",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        loading_table(6),
    )


def _error(S: Any) -> rx.Component:
    return rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%"))


def _header(tab: str, text: str) -> list[rx.Component]:
    return [repairs_tabs(tab), rx.text(text, size="2", color_scheme="gray")]


# --- /repairs/clients ----------------------------------------------------------------------------

C = RepairClientsState


def _client_row(r: rx.Var[ClientView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(r.name, weight="medium", data_testid="client-name"),
                rx.text(r.contact_name, " ", r.email, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.code(r.vat_number, variant="ghost"), data_testid="client-vat"),
        rx.table.cell(r.country),
        rx.table.cell(r.currency, data_testid="client-currency"),
        rx.table.cell(r.payment_terms_days, " days", white_space="nowrap", data_testid="client-terms"),
        rx.table.cell(r.ber_threshold_percent, " %", data_testid="client-ber"),
        rx.table.cell(_status(r.active)),
        rx.table.cell(
            _actions(
                C,
                r.active,
                r.name,
                C.edit_client(r.id),
                C.set_client_active(r.id, False),
                C.set_client_active(r.id, True),
                "client",
            )
        ),
        align="center",
        data_testid="client-row",
    )


def _client_dialog() -> rx.Component:
    f = C.form
    return _dialog(
        C,
        rx.cond(C.editing, rx.text("Edit ", f.name), "New repair client"),
        "A business that sends devices in for repair and is invoiced for the work.",
        [
            _input(C, "Name", "name", f.name, placeholder="SafeHands Phone Insurance"),
            _two(
                _input(C, "Contact", "contact_name", f.contact_name),
                _input(C, "E-mail", "email", f.email, type="email"),
            ),
            _two(_input(C, "Phone", "phone", f.phone), _input(C, "Country (2 letters)", "country", f.country)),
            _area(C, "Billing address", "billing_address", f.billing_address, rows="3"),
            _two(
                _input(C, "VAT number", "vat_number", f.vat_number, placeholder="NL123456789B01"),
                _input(C, "Currency", "currency", f.currency, placeholder="EUR"),
            ),
            _two(
                _input(C, "Payment terms (days)", "payment_terms_days", f.payment_terms_days.to(str), type="number"),
                _input(C, "BER threshold (%)", "ber_threshold_percent", f.ber_threshold_percent.to(str), type="number"),
            ),
            rx.text(
                "Beyond economic repair: a repair costing more than this share of the device's value goes to review.",
                size="1",
                color_scheme="gray",
            ),
            _area(C, "Notes", "notes", f.notes, rows="2"),
        ],
        C.save_client,
        "client",
    )


@staff_page("/repairs/clients", "Repair clients", permission=READ, icon="building-2", nav=False, on_load=C.load)
def repairs_clients_page() -> rx.Component:
    return rx.vstack(
        *_header(
            "clients", "The businesses that send devices in: billing details, payment terms and their BER threshold."
        ),
        _error(C),
        _toolbar(C, "Search name, contact, VAT", "clients", add=_add("New client", C.new_client, "client-new")),
        _table(
            C,
            [
                sortable_header(C, "Client", "name"),
                rx.table.column_header_cell("VAT number"),
                rx.table.column_header_cell("Country"),
                sortable_header(C, "Currency", "currency"),
                sortable_header(C, "Terms", "terms"),
                sortable_header(C, "BER at", "ber"),
                rx.table.column_header_cell("Status"),
                rx.table.column_header_cell(""),
            ],
            _client_row,
            empty_state("building-2", "No clients here", "Add a client, or change the search and filter."),
            "clients-table",
            "880px",
        ),
        _client_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- /repairs/devices ----------------------------------------------------------------------------

D = DeviceModelsState


def _device_row(r: rx.Var[DeviceView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.manufacturer, data_testid="device-maker"),
        rx.table.cell(rx.text(r.model, weight="medium"), data_testid="device-model"),
        rx.table.cell(rx.badge(r.category_word, variant="outline", color_scheme="gray")),
        rx.table.cell(
            rx.flex(
                rx.foreach(r.variants, lambda v: rx.badge(v, variant="soft", color_scheme="blue", size="1")),
                spacing="1",
                wrap="wrap",
            )
        ),
        rx.table.cell(r.value_shown, text_align="right", white_space="nowrap"),
        rx.table.cell(_status(r.active)),
        rx.table.cell(
            _actions(
                D,
                r.active,
                r.model,
                D.edit_device(r.id),
                D.set_device_active(r.id, False),
                D.set_device_active(r.id, True),
                "device model",
            )
        ),
        align="center",
        data_testid="device-row",
    )


def _device_dialog() -> rx.Component:
    f = D.form
    return _dialog(
        D,
        rx.cond(D.editing, rx.text("Edit ", f.manufacturer, " ", f.model), "New device model"),
        "A make and model the shop repairs, with the variants it comes in.",
        [
            _two(
                _input(D, "Manufacturer", "manufacturer", f.manufacturer, placeholder="Apple"),
                _input(D, "Model", "model", f.model, placeholder="iPhone 13"),
            ),
            _two(
                _pick(D, "Category", "category", f.category, [(c, t) for c, t in CATEGORY_OPTIONS if c != "all"]),
                _input(D, "Typical value", "typical_value", f.typical_value, placeholder="389.00"),
            ),
            _area(D, "Variants (one per line)", "variants", f.variants_text, rows="4", placeholder="128 GB\n256 GB"),
            rx.text(
                "The typical value is used in beyond-economic-repair reviews when the client declares none.",
                size="1",
                color_scheme="gray",
            ),
        ],
        D.save_device,
        "device",
    )


@staff_page("/repairs/devices", "Device models", permission=READ, icon="tablet-smartphone", nav=False, on_load=D.load)
def repairs_devices_page() -> rx.Component:
    return rx.vstack(
        *_header("devices", "Phones, tablets and laptops the shop repairs, with their variants and typical values."),
        _error(D),
        _toolbar(
            D,
            "Search maker, model, variant",
            "devices",
            rx.box(select(D.category, D.set_category, CATEGORY_OPTIONS, "Category"), data_testid="devices-category"),
            add=_add("New device model", D.new_device, "device-new"),
        ),
        _table(
            D,
            [
                sortable_header(D, "Manufacturer", "manufacturer"),
                sortable_header(D, "Model", "model"),
                sortable_header(D, "Category", "category"),
                rx.table.column_header_cell("Variants"),
                sortable_header(D, "Typical value", "value"),
                rx.table.column_header_cell("Status"),
                rx.table.column_header_cell(""),
            ],
            _device_row,
            rx.cond(
                D.filtered,
                empty_state("list-filter", "No device models match", "Change or clear the search and filters."),
                empty_state("tablet-smartphone", "No device models yet", "Add the models the shop repairs."),
            ),
            "devices-table",
            "860px",
        ),
        _device_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- /repairs/technicians ------------------------------------------------------------------------

T = TechniciansState
G = TeamsState


def _technician_row(r: rx.Var[TechnicianView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(r.name, weight="medium", data_testid="technician-name"),
                rx.text(r.email, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.cond(r.team_name != "", r.team_name, rx.text("—", color_scheme="gray"))),
        rx.table.cell(
            rx.cond(
                r.user_name != "",
                rx.hstack(rx.icon("user-check", size=14), rx.text(r.user_name, size="2"), spacing="1", align="center"),
                rx.text("Not linked", size="1", color_scheme="gray"),
            )
        ),
        rx.table.cell(r.rate_shown, " / h", white_space="nowrap", text_align="right"),
        rx.table.cell(_status(r.active)),
        rx.table.cell(
            _actions(
                T,
                r.active,
                r.name,
                T.edit_technician(r.id),
                T.set_technician_active(r.id, False),
                T.set_technician_active(r.id, True),
                "technician",
            )
        ),
        align="center",
        data_testid="technician-row",
    )


def _technician_dialog() -> rx.Component:
    f = T.form
    return _dialog(
        T,
        rx.cond(T.editing, rx.text("Edit ", f.name), "New technician"),
        "Someone who repairs devices; link their staff account when they sign in to Shopfloor.",
        [
            _two(_input(T, "Name", "name", f.name), _input(T, "E-mail", "email", f.email, type="email")),
            _two(
                _pick(T, "Team", "team_id", f.team_id, T.teams),
                _input(T, "Hourly rate (internal cost)", "hourly_rate", f.hourly_rate, placeholder="30.00"),
            ),
            _pick(T, "Staff account", "user_id", f.user_id, T.staff),
        ],
        T.save_technician,
        "technician",
    )


def _team_row(r: rx.Var[TeamView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(r.name, weight="medium"), data_testid="team-name"),
        rx.table.cell(rx.text(r.description, size="2", color_scheme="gray")),
        rx.table.cell(r.members, data_testid="team-members"),
        rx.table.cell(_status(r.active)),
        rx.table.cell(
            _actions(
                G,
                r.active,
                r.name,
                G.edit_team(r.id),
                G.set_team_active(r.id, False),
                G.set_team_active(r.id, True),
                "team",
            )
        ),
        align="center",
        data_testid="team-row",
    )


def _team_dialog() -> rx.Component:
    f = G.form
    return _dialog(
        G,
        rx.cond(G.editing, rx.text("Edit team ", f.name), "New team"),
        "A group of technicians a worksheet can be given to.",
        [_input(G, "Name", "name", f.name), _area(G, "Description", "description", f.description, rows="2")],
        G.save_team,
        "team",
    )


@staff_page("/repairs/technicians", "Technicians", permission=READ, icon="users", nav=False, on_load=T.load)
def repairs_technicians_page() -> rx.Component:
    return rx.vstack(
        *_header("technicians", "The people who repair devices, and the teams worksheets can be given to."),
        _error(T),
        rx.card(
            rx.vstack(
                rx.heading("Technicians", size="4"),
                _toolbar(
                    T,
                    "Search name, e-mail, team",
                    "technicians",
                    rx.box(
                        rx.select.root(
                            rx.select.trigger(aria_label="Team"),
                            rx.select.content(
                                rx.foreach(T.team_filter_options, lambda c: rx.select.item(c.label, value=c.value))
                            ),
                            value=T.team,
                            on_change=T.set_team,
                        ),
                        data_testid="technicians-team",
                    ),
                    add=_add("New technician", T.new_technician, "technician-new"),
                ),
                _table(
                    T,
                    [
                        sortable_header(T, "Technician", "name"),
                        sortable_header(T, "Team", "team"),
                        rx.table.column_header_cell("Staff account"),
                        sortable_header(T, "Rate", "rate"),
                        rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell(""),
                    ],
                    _technician_row,
                    empty_state("users", "No technicians here", "Add one, or change the search and filters."),
                    "technicians-table",
                    "760px",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.heading("Teams", size="4"),
                _error(G),
                _toolbar(G, "Search teams", "teams", add=_add("New team", G.new_team, "team-new"), show=False),
                _table(
                    G,
                    [
                        sortable_header(G, "Team", "name"),
                        rx.table.column_header_cell("Description"),
                        sortable_header(G, "Members", "members"),
                        rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell(""),
                    ],
                    _team_row,
                    empty_state("users-round", "No teams yet", "Teams group technicians for shared worksheets."),
                    "teams-table",
                    "640px",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        _technician_dialog(),
        _team_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- /repairs/codes ------------------------------------------------------------------------------

K = RepairCodesState
P = PriceRulesState


def _code_row(r: rx.Var[CodeView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(r.code, weight="bold"), data_testid="code-code"),
        rx.table.cell(r.name, data_testid="code-name"),
        rx.table.cell(rx.badge(r.category, variant="outline", color_scheme="gray")),
        rx.table.cell(r.minutes, " min", white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                r.canonical,
                rx.tooltip(
                    rx.badge(rx.icon("lock", size=12), "Canonical", color_scheme="gray", variant="soft"),
                    content="Shared by every shop; it cannot be changed.",
                ),
                rx.badge("Shop's own", color_scheme="violet", variant="soft", data_testid="code-own"),
            )
        ),
        rx.table.cell(_status(r.active)),
        rx.table.cell(
            rx.cond(
                r.canonical,
                rx.fragment(),
                _actions(
                    K,
                    r.active,
                    r.code,
                    K.edit_code(r.id),
                    K.set_code_active(r.id, False),
                    K.set_code_active(r.id, True),
                    "code",
                ),
            )
        ),
        align="center",
        data_testid="code-row",
    )


def _code_dialog() -> rx.Component:
    f = K.form
    return _dialog(
        K,
        rx.cond(K.editing, rx.text("Edit code ", f.code), "New repair code"),
        "A code of the shop's own, next to the canonical ones (it may not take a canonical code's name).",
        [
            _two(
                _input(K, "Code", "code", f.code, placeholder="HINGE-REPL"),
                _input(K, "Labour (minutes)", "minutes", f.minutes.to(str), type="number"),
            ),
            _input(K, "Name", "name", f.name, placeholder="Laptop hinge replacement"),
            _pick(K, "Category", "category", f.category, CODE_CATEGORY_OPTIONS),
        ],
        K.save_code,
        "code",
    )


def _rule_row(r: rx.Var[RuleView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.cond(r.client_name != "", rx.text(r.client_name), rx.text("Every client", color_scheme="gray")),
            data_testid="rule-client",
        ),
        rx.table.cell(
            rx.cond(
                r.code != "",
                rx.tooltip(rx.code(r.code), content=r.code_name),
                rx.text("—", color_scheme="gray"),
            ),
            data_testid="rule-code",
        ),
        rx.table.cell(rx.cond(r.model_name != "", r.model_name, rx.text("—", color_scheme="gray"))),
        rx.table.cell(rx.text(r.price_shown, weight="medium"), text_align="right", data_testid="rule-price"),
        rx.table.cell(
            rx.hstack(
                rx.text(r.validity, size="2", white_space="nowrap"),
                rx.cond(r.valid_today, rx.fragment(), rx.badge("Not today", color_scheme="amber", variant="soft")),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(rx.text(r.kind, size="1", color_scheme="gray", white_space="nowrap")),
        rx.table.cell(
            rx.cond(
                P.can_write,
                rx.hstack(
                    rx.button(
                        rx.icon("pencil", size=14),
                        "Edit",
                        size="1",
                        variant="soft",
                        on_click=P.edit_rule(r.id),
                        data_testid="rule-edit",
                    ),
                    confirm_button(
                        "Delete",
                        "Delete this price rule?",
                        "Invoices already made keep their prices; new ones use the next rule that fits.",
                        P.delete_rule(r.id),
                        testid="rule-delete",
                        confirm_testid="confirm-delete",
                    ),
                    spacing="2",
                    justify="end",
                ),
            )
        ),
        align="center",
        data_testid="rule-row",
    )


def _rule_dialog() -> rx.Component:
    f = P.form
    return _dialog(
        P,
        rx.cond(P.editing, "Edit price rule", "New price rule"),
        "The most specific rule valid on the day wins: client + code + model, client + code, client + model, "
        "then the defaults in the same order.",
        [
            _pick(P, "Client", "client_id", f.client_id, P.clients),
            _two(
                _pick(P, "Repair code", "repair_code_id", f.code_id, P.codes),
                _pick(P, "Device model", "device_model_id", f.model_id, P.models),
            ),
            _two(
                _input(P, "Price", "price", f.price, placeholder="79.00"),
                _input(P, "Description", "description", f.description, placeholder="Contract price"),
            ),
            _two(
                _input(P, "Valid from", "valid_from", f.valid_from, type="date"),
                _input(P, "Valid until", "valid_to", f.valid_to, type="date"),
            ),
            rx.text("Leave the dates empty for a rule without a start or an end.", size="1", color_scheme="gray"),
        ],
        P.save_rule,
        "rule",
    )


@staff_page("/repairs/codes", "Codes & prices", permission=READ, icon="tags", nav=False, on_load=K.load)
def repairs_codes_page() -> rx.Component:
    return rx.vstack(
        *_header(
            "codes",
            "The repair-codes catalogue (the canonical codes every shop shares, and your own) and the prices "
            "invoices use.",
        ),
        _error(K),
        rx.card(
            rx.vstack(
                rx.heading("Repair codes", size="4"),
                _toolbar(
                    K,
                    "Search code, name, category",
                    "codes",
                    rx.box(select(K.origin, K.set_origin, ORIGIN_OPTIONS, "Origin"), data_testid="codes-origin"),
                    add=_add("New code", K.new_code, "code-new"),
                ),
                _table(
                    K,
                    [
                        sortable_header(K, "Code", "code"),
                        sortable_header(K, "Name", "name"),
                        sortable_header(K, "Category", "category"),
                        sortable_header(K, "Labour", "minutes"),
                        rx.table.column_header_cell("Origin"),
                        rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell(""),
                    ],
                    _code_row,
                    empty_state("tags", "No codes match", "Change the search or the filters."),
                    "codes-table",
                    "820px",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.heading("Price rules", size="4"),
                _error(P),
                _toolbar(
                    P,
                    "Search client, code, model",
                    "rules",
                    rx.box(
                        rx.select.root(
                            rx.select.trigger(aria_label="Client"),
                            rx.select.content(
                                rx.foreach(P.client_filter_options, lambda c: rx.select.item(c.label, value=c.value))
                            ),
                            value=P.client,
                            on_change=P.set_client,
                        ),
                        data_testid="rules-client",
                    ),
                    add=_add("New price rule", P.new_rule, "rule-new"),
                    show=False,
                ),
                _table(
                    P,
                    [
                        sortable_header(P, "Client", "client"),
                        sortable_header(P, "Code", "code"),
                        sortable_header(P, "Device model", "model"),
                        sortable_header(P, "Price", "price"),
                        sortable_header(P, "Valid", "valid_from"),
                        rx.table.column_header_cell("Kind"),
                        rx.table.column_header_cell(""),
                    ],
                    _rule_row,
                    empty_state("receipt", "No price rules", "Add a default price per code, then clients' own."),
                    "rules-table",
                    "900px",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        _code_dialog(),
        _rule_dialog(),
        spacing="4",
        width="100%",
        min_width="0",
    )
