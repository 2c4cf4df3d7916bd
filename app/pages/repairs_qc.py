"""/repairs/qc, the QC workbench: devices waiting for triage (oldest first)
with a triage dialog, and the open beyond-economic-repair reviews with their
figures, estimates and decisions. Not in the navigation: the repairs tabs
(`repairs_tabs`) lead here."""

from __future__ import annotations

import reflex as rx

from app.pages.repairs_nav import repairs_tabs
from app.repairs import machine
from components.layout import staff_page
from components.ui import empty_state, field, loading_table, pager, search_box, status_badge, table_card
from state.repairs_qc import DECISION_CHOICES, RESULT_CHOICES, BerRowView, CodeOption, TriageRowView
from state.repairs_qc import RepairsQcState as S

# --- the header ----------------------------------------------------------------------------------


def _views() -> rx.Component:
    return rx.segmented_control.root(
        rx.segmented_control.item(
            rx.hstack(
                rx.icon("stethoscope", size=14),
                "Triage",
                rx.badge(S.counts.triage, radius="full", variant="soft", data_testid="count-triage"),
                align="center",
                spacing="2",
            ),
            value="triage",
            data_testid="view-triage",
        ),
        rx.segmented_control.item(
            rx.hstack(
                rx.icon("scale", size=14),
                "BER review",
                rx.badge(
                    S.counts.ber,
                    radius="full",
                    variant="soft",
                    color_scheme=rx.cond(S.counts.over > 0, "red", "accent"),
                    data_testid="count-ber",
                ),
                align="center",
                spacing="2",
            ),
            value="ber",
            data_testid="view-ber",
        ),
        value=S.view,
        on_change=S.set_view,
        data_testid="qc-view",
    )


def _search() -> rx.Component:
    return rx.flex(
        rx.box(
            search_box(
                S.search,
                S.set_search,
                rx.cond(S.view == "triage", "Search asset, IMEI, client, batch or model", "Search asset or client"),
                width="100%",
                data_testid="qc-search",
            ),
            width=rx.breakpoints(initial="100%", sm="360px"),
        ),
        rx.cond(
            S.search != "",
            rx.button(rx.icon("x", size=14), "Clear search", variant="ghost", on_click=S.clear_search),
        ),
        rx.spacer(),
        rx.cond(
            S.view == "triage",
            rx.text(S.total, " waiting", size="2", color_scheme="gray"),
            rx.hstack(
                rx.text(S.total, " open", size="2", color_scheme="gray"),
                rx.cond(
                    S.counts.over > 0,
                    rx.badge(
                        S.counts.over,
                        " beyond economic repair",
                        color_scheme="red",
                        variant="soft",
                        data_testid="count-over",
                    ),
                ),
                align="center",
                spacing="2",
            ),
        ),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
    )


# --- the triage table ----------------------------------------------------------------------------


def _code_badge(code: rx.Var[str]) -> rx.Component:
    return rx.badge(code, variant="surface", color_scheme="gray", size="1", data_testid="known-code")


def _triage_row(r: rx.Var[TriageRowView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(r.number, weight="medium", size="2", white_space="nowrap", data_testid="asset-number"),
                rx.cond(r.not_on_batch, rx.badge("Not on the manifest", color_scheme="amber", size="1")),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(r.device, size="2"),
                rx.text(r.identifier, size="1", color_scheme="gray", font_family="monospace"),
                spacing="0",
                min_width="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(r.client, size="2"),
                rx.text(r.batch, " · ", r.client_reference, size="1", color_scheme="gray"),
                spacing="0",
                min_width="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(rx.cond(r.fault != "", r.fault, "—"), size="2", trim="both"),
                rx.cond(
                    r.known_codes.length() > 0,
                    rx.tooltip(
                        rx.flex(rx.foreach(r.known_codes, _code_badge), spacing="1", wrap="wrap"),
                        content="Codes the diagnostic log already found",
                    ),
                ),
                spacing="1",
                min_width="0",
            )
        ),
        rx.table.cell(rx.tooltip(rx.text(r.waiting, size="2", white_space="nowrap"), content="Received " + r.received)),
        rx.table.cell(status_badge(r.status, machine.ASSET_STATUS, variant="soft", data_testid="asset-status")),
        rx.table.cell(
            rx.cond(
                S.can_write,
                rx.button(
                    rx.icon("stethoscope", size=14),
                    "Triage",
                    size="1",
                    on_click=S.open_triage(r.id),
                    data_testid="triage-open",
                ),
            )
        ),
        align="center",
        data_testid="triage-row",
    )


def _triage_table() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Asset", width="140px"),
                    rx.table.column_header_cell("Device"),
                    rx.table.column_header_cell("Client and batch"),
                    rx.table.column_header_cell("Reported fault"),
                    rx.table.column_header_cell("Waiting", width="120px"),
                    rx.table.column_header_cell("Status", width="110px"),
                    rx.table.column_header_cell("", width="100px"),
                )
            ),
            rx.table.body(rx.foreach(S.rows, _triage_row)),
            variant="surface",
            width="100%",
            min_width="900px",
            table_layout="fixed",
            data_testid="triage-table",
        )
    )


# --- the BER table -------------------------------------------------------------------------------


def _verdict(over: rx.Var[bool], **props) -> rx.Component:
    return rx.cond(
        over,
        rx.badge("Beyond economic repair", color_scheme="red", variant="soft", white_space="nowrap", **props),
        rx.badge("Within threshold", color_scheme="green", variant="soft", white_space="nowrap", **props),
    )


def _ber_row(r: rx.Var[BerRowView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(r.asset_number, weight="medium", size="2", white_space="nowrap", data_testid="review-asset"),
                rx.text(r.waiting, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(r.device, size="2"),
                rx.text(r.client, size="1", color_scheme="gray"),
                rx.cond(
                    r.triage_notes != "",
                    rx.tooltip(
                        rx.text(
                            r.triage_notes,
                            size="1",
                            color_scheme="gray",
                            white_space="nowrap",
                            overflow="hidden",
                            text_overflow="ellipsis",
                            max_width="100%",
                        ),
                        content=r.triage_notes,
                    ),
                ),
                spacing="0",
                min_width="0",
            )
        ),
        rx.table.cell(rx.text(r.parts, size="2", white_space="nowrap"), text_align="right", data_testid="review-parts"),
        rx.table.cell(
            rx.text(r.labour, size="2", white_space="nowrap"), text_align="right", data_testid="review-labour"
        ),
        rx.table.cell(rx.text(r.value, size="2", white_space="nowrap"), text_align="right", data_testid="review-value"),
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(
                        r.cost_percent,
                        weight="bold",
                        size="2",
                        color_scheme=rx.cond(r.over, "red", "gray"),
                        white_space="nowrap",
                        data_testid="review-percent",
                    ),
                    rx.text("of ", r.threshold, size="1", color_scheme="gray", data_testid="review-threshold"),
                    align="baseline",
                    spacing="1",
                ),
                rx.progress(
                    value=r.bar, max=100, size="1", color_scheme=rx.cond(r.over, "red", "green"), width="120px"
                ),
                rx.cond(
                    r.estimated,
                    _verdict(r.over, size="1", data_testid="review-verdict"),
                    rx.badge(
                        "Estimate needed",
                        color_scheme="gray",
                        variant="outline",
                        size="1",
                        data_testid="review-verdict",
                    ),
                ),
                spacing="1",
            ),
        ),
        rx.table.cell(
            rx.cond(
                S.can_write,
                rx.hstack(
                    rx.button(
                        rx.icon("calculator", size=14),
                        "Estimate",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=S.open_estimate(r.id),
                        data_testid="review-estimate",
                    ),
                    rx.button(
                        rx.icon("gavel", size=14),
                        "Decide",
                        size="1",
                        on_click=S.open_decide(r.id),
                        data_testid="review-decide",
                    ),
                    spacing="2",
                    justify="end",
                ),
            )
        ),
        align="center",
        data_testid="review-row",
    )


def _ber_table() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Asset", width="140px"),
                    rx.table.column_header_cell("Device and client"),
                    rx.table.column_header_cell("Parts", width="95px", text_align="right"),
                    rx.table.column_header_cell("Labour", width="95px", text_align="right"),
                    rx.table.column_header_cell("Value", width="95px", text_align="right"),
                    rx.table.column_header_cell("Cost of value · threshold", width="200px"),
                    rx.table.column_header_cell("", width="190px"),
                )
            ),
            rx.table.body(rx.foreach(S.reviews, _ber_row)),
            variant="surface",
            width="100%",
            min_width="960px",
            table_layout="fixed",
            data_testid="ber-table",
        )
    )


# --- the triage dialog ---------------------------------------------------------------------------


def _error(errors: rx.Var, key: str) -> rx.Component:
    return rx.cond(
        errors.contains(key),
        rx.text(errors[key], size="1", color_scheme="red", data_testid=f"error-{key}"),
    )


def _form_error(errors: rx.Var, testid: str) -> rx.Component:
    return rx.cond(
        errors.contains("form"),
        rx.callout(errors["form"], icon="triangle-alert", color_scheme="red", width="100%", data_testid=testid),
    )


def _result_cards() -> rx.Component:
    return rx.radio_cards.root(
        *[
            rx.radio_cards.item(
                rx.vstack(
                    rx.text(label, weight="bold", size="2"),
                    rx.text(hint, size="1", color_scheme="gray"),
                    spacing="0",
                    align="start",
                    width="100%",
                ),
                value=value,
                data_testid=f"result-{value}",
            )
            for value, label, hint in RESULT_CHOICES
        ],
        value=S.result,
        on_value_change=S.set_result,
        columns=rx.breakpoints(initial="1", sm="2"),
        size="1",
        width="100%",
        aria_label="Triage result",
    )


def _chosen(c: rx.Var[CodeOption]) -> rx.Component:
    return rx.badge(
        rx.text(c.code, weight="bold"),
        rx.text(c.name),
        rx.icon("x", size=12, cursor="pointer", on_click=S.remove_code(c.id), aria_label="Remove"),
        size="2",
        variant="soft",
        color_scheme=rx.cond(c.canonical, "blue", "violet"),
        data_testid="chosen-code",
    )


def _match(c: rx.Var[CodeOption]) -> rx.Component:
    return rx.hstack(
        rx.icon("plus", size=14, color=rx.color("accent", 10)),
        rx.text(c.code, weight="bold", size="2", width="110px", flex_shrink="0", font_family="monospace"),
        rx.text(c.name, size="2", flex="1", min_width="0"),
        rx.cond(
            c.canonical,
            rx.text(c.category, size="1", color_scheme="gray"),
            rx.badge("Shop", size="1", color_scheme="violet", variant="soft"),
        ),
        align="center",
        spacing="2",
        width="100%",
        padding="6px 8px",
        border_radius="6px",
        cursor="pointer",
        _hover={"background": rx.color("accent", 3)},
        on_click=S.add_code(c.id),
        data_testid="code-option",
    )


def _code_picker() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Repair codes found", size="2", weight="medium"),
            rx.text(S.chosen.length(), " chosen", size="1", color_scheme="gray", data_testid="chosen-count"),
            justify="between",
            width="100%",
        ),
        rx.cond(
            S.chosen_codes.length() > 0,
            rx.flex(rx.foreach(S.chosen_codes, _chosen), spacing="2", wrap="wrap", width="100%"),
        ),
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder="Search codes: screen, battery, SCR…",
            value=S.code_search,
            on_change=S.set_code_search,
            aria_label="Search repair codes",
            width="100%",
            data_testid="code-search",
        ),
        rx.scroll_area(
            rx.cond(
                S.code_matches.length() > 0,
                rx.vstack(rx.foreach(S.code_matches, _match), spacing="0", width="100%"),
                rx.text(
                    "No code matches. Shops add their own under Codes & prices.",
                    size="2",
                    color_scheme="gray",
                    padding="8px",
                ),
            ),
            type="auto",
            scrollbars="vertical",
            max_height="180px",
            border=f"1px solid {rx.color('gray', 5)}",
            border_radius="6px",
            data_testid="code-options",
        ),
        _error(S.triage_errors, "repair_code_ids"),
        spacing="2",
        width="100%",
    )


def _money_input(name: str, label: str, placeholder: str, default: rx.Var | str = "") -> rx.Component:
    return rx.vstack(
        field(
            label,
            rx.input(
                name=name,
                input_mode="decimal",
                placeholder=placeholder,
                default_value=default,
                aria_label=label,
                data_testid=f"field-{name}",
            ),
        ),
        spacing="1",
        width="100%",
    )


def _triage_dialog() -> rx.Component:
    a = S.subject
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Triage · ", a.number),
            rx.dialog.description(
                a.device,
                " · ",
                a.identifier,
                " · ",
                a.client,
                rx.cond(a.fault != "", rx.fragment(" · reported: ", a.fault)),
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    _form_error(S.triage_errors, "triage-error"),
                    rx.text("Result", size="2", weight="medium"),
                    _result_cards(),
                    _error(S.triage_errors, "result"),
                    _code_picker(),
                    rx.cond(
                        S.result == "repairable",
                        rx.hstack(
                            rx.switch(
                                checked=S.awaiting_parts,
                                on_change=S.set_awaiting_parts,
                                data_testid="awaiting-parts",
                            ),
                            rx.vstack(
                                rx.text("Awaiting parts", size="2", weight="medium"),
                                rx.text(
                                    "The parts are not in stock: the asset waits for them before repair.",
                                    size="1",
                                    color_scheme="gray",
                                ),
                                spacing="0",
                            ),
                            align="center",
                            spacing="3",
                        ),
                    ),
                    rx.cond(
                        S.subject_ber,
                        rx.vstack(
                            rx.text(
                                "First estimate (optional: it can be given on the BER review too)",
                                size="2",
                                weight="medium",
                            ),
                            rx.grid(
                                _money_input("estimated_parts", "Parts", "0.00"),
                                _money_input("estimated_labour", "Labour", "0.00"),
                                _money_input("asset_value", "Asset value", "declared or typical"),
                                columns=rx.breakpoints(initial="1", sm="3"),
                                spacing="3",
                                width="100%",
                            ),
                            _error(S.triage_errors, "estimated_parts"),
                            _error(S.triage_errors, "estimated_labour"),
                            _error(S.triage_errors, "asset_value"),
                            spacing="2",
                            width="100%",
                        ),
                    ),
                    rx.vstack(
                        field(
                            "Notes",
                            rx.text_area(
                                name="notes",
                                rows="3",
                                placeholder="What you tested and found",
                                data_testid="field-notes",
                            ),
                        ),
                        _error(S.triage_errors, "notes"),
                        spacing="1",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save triage", type="submit", loading=S.triage_busy, data_testid="triage-submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=S.submit_triage,
                reset_on_submit=False,
                key=S.triage_key,
                width="100%",
            ),
            max_width="640px",
            data_testid="triage-dialog",
        ),
        open=S.triage_open,
        on_open_change=S.set_triage_open,
    )


# --- the BER dialogs -----------------------------------------------------------------------------


def _figures(r: rx.Var) -> rx.Component:
    return rx.flex(
        rx.badge("Parts ", r.parts, color_scheme="gray", size="2"),
        rx.badge("Labour ", r.labour, color_scheme="gray", size="2"),
        rx.badge("Value ", r.value, color_scheme="gray", size="2"),
        rx.badge(
            r.cost_percent,
            " of value · threshold ",
            r.threshold,
            color_scheme=rx.cond(r.over, "red", "green"),
            size="2",
        ),
        spacing="2",
        wrap="wrap",
    )


def _estimate_dialog() -> rx.Component:
    r = S.review
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Estimate · ", r.asset_number),
            rx.dialog.description(
                r.device,
                " · ",
                r.client,
                " · the client's threshold is ",
                r.threshold,
                " of the asset's value",
                size="2",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    _form_error(S.estimate_errors, "estimate-error"),
                    rx.grid(
                        rx.vstack(
                            _money_input("estimated_parts", "Parts", "0.00", r.parts_raw),
                            _error(S.estimate_errors, "estimated_parts"),
                            width="100%",
                        ),
                        rx.vstack(
                            _money_input("estimated_labour", "Labour", "0.00", r.labour_raw),
                            _error(S.estimate_errors, "estimated_labour"),
                            width="100%",
                        ),
                        rx.vstack(
                            _money_input("asset_value", "Asset value", "declared or typical", r.value_raw),
                            _error(S.estimate_errors, "asset_value"),
                            width="100%",
                        ),
                        columns=rx.breakpoints(initial="1", sm="3"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.text(
                        "Left empty, the value is the asset's declared value, else its model's typical value.",
                        size="1",
                        color_scheme="gray",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(
                            "Save estimate", type="submit", loading=S.estimate_busy, data_testid="estimate-submit"
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=S.submit_estimate,
                reset_on_submit=False,
                key=S.estimate_key,
                width="100%",
            ),
            max_width="560px",
            data_testid="estimate-dialog",
        ),
        open=S.estimate_open,
        on_open_change=S.set_estimate_open,
    )


def _decision_cards() -> rx.Component:
    return rx.radio_cards.root(
        *[
            rx.radio_cards.item(
                rx.vstack(
                    rx.text(label, weight="bold", size="2"),
                    rx.text(hint, size="1", color_scheme="gray"),
                    spacing="0",
                    align="start",
                    width="100%",
                ),
                value=value,
                data_testid=f"decision-{value}",
            )
            for value, label, hint in DECISION_CHOICES
        ],
        value=S.decision,
        on_value_change=S.set_decision,
        columns=rx.breakpoints(initial="1", sm="3"),
        size="1",
        width="100%",
        aria_label="Decision",
    )


def _decide_dialog() -> rx.Component:
    r = S.review
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Decide · ", r.asset_number),
            rx.dialog.description(r.device, " · ", r.client, size="2", color_scheme="gray"),
            rx.form(
                rx.vstack(
                    _form_error(S.decide_errors, "decide-error"),
                    _figures(r),
                    rx.cond(
                        r.over,
                        rx.callout(
                            "Beyond economic repair: the estimate is over the client's threshold. Repairing it anyway "
                            "needs a reason in the notes.",
                            icon="scale",
                            color_scheme="red",
                            size="1",
                            width="100%",
                        ),
                    ),
                    _decision_cards(),
                    _error(S.decide_errors, "decision"),
                    rx.vstack(
                        field(
                            "Notes",
                            rx.text_area(
                                name="notes",
                                rows="3",
                                placeholder="The client agreed, the reason to repair…",
                                data_testid="decide-notes",
                            ),
                        ),
                        _error(S.decide_errors, "notes"),
                        spacing="1",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(
                            "Decide",
                            type="submit",
                            loading=S.decide_busy,
                            color_scheme=rx.cond(S.decision == "scrap", "red", "accent"),
                            data_testid="decide-submit",
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    padding_top="8px",
                ),
                on_submit=S.submit_decision,
                reset_on_submit=False,
                key=S.decide_key,
                width="100%",
            ),
            max_width="620px",
            data_testid="decide-dialog",
        ),
        open=S.decide_open,
        on_open_change=S.set_decide_open,
    )


def _scrap_confirm() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Scrap ", S.review.asset_number, "?"),
            rx.alert_dialog.description(
                "The client's ",
                S.review.device,
                " is scrapped for good: it will not be repaired or sent back.",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Scrap", color_scheme="red", on_click=S.confirm_scrap, data_testid="scrap-confirm")
                ),
                justify="end",
                spacing="3",
                padding_top="12px",
            ),
        ),
        open=S.scrap_confirm_open,
        on_open_change=S.set_scrap_confirm_open,
    )


# --- the page ------------------------------------------------------------------------------------


def _body() -> rx.Component:
    return rx.cond(
        S.view == "triage",
        rx.cond(
            S.rows.length() > 0,
            _triage_table(),
            rx.cond(
                S.search != "",
                empty_state("list-filter", "No asset matches", "Change or clear the search."),
                empty_state("circle-check", "Nothing waits for triage", "Devices received show here, oldest first."),
            ),
        ),
        rx.cond(
            S.reviews.length() > 0,
            _ber_table(),
            rx.cond(
                S.search != "",
                empty_state("list-filter", "No review matches", "Change or clear the search."),
                empty_state(
                    "scale",
                    "No open BER review",
                    "Assets that may be beyond economic repair wait here for a decision.",
                ),
            ),
        ),
    )


@staff_page("/repairs/qc", "QC workbench", permission="repairs.read", icon="stethoscope", nav=False, on_load=S.load)
def repairs_qc_page() -> rx.Component:
    return rx.vstack(
        repairs_tabs("qc"),
        rx.flex(
            _views(),
            rx.spacer(),
            rx.text("Live · updated ", S.updated_at, size="1", color_scheme="gray", data_testid="qc-updated"),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.text(
            rx.cond(
                S.view == "triage",
                "Devices received and waiting for triage, oldest first. Triage records what is wrong (repair codes), "
                "and sends each on: to repair, to a BER review, or back unrepaired.",
                "A repair beyond the client's threshold (a share of the device's value) is beyond economic repair: "
                "decide to repair it anyway, return it unrepaired or scrap it.",
            ),
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            S.error != "",
            rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="qc-error"),
        ),
        rx.cond(
            S.loaded,
            rx.vstack(
                _search(),
                _body(),
                pager(S.page, S.page_count, S.prev_page, S.next_page),
                spacing="3",
                width="100%",
                min_width="0",
            ),
            loading_table(8),
        ),
        _triage_dialog(),
        _estimate_dialog(),
        _decide_dialog(),
        _scrap_confirm(),
        spacing="4",
        width="100%",
        min_width="0",
    )
