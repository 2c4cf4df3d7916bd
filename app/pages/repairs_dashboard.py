"""/repairs: the owner dashboard (seed S9) — the repairs navigation entry."""

from __future__ import annotations

import reflex as rx

from app.pages.repairs_nav import repairs_tabs
from app.repairs import machine
from components.layout import staff_page, stat_card
from components.ui import empty_state, field, loading_table, status_badge, table_card
from state.repairs_dashboard import LateRow, SlaField, WipBar
from state.repairs_dashboard import RepairsDashboardState as S


def _figures() -> rx.Component:
    cards = [
        stat_card("In the shop", S.figures.in_shop, "smartphone", "stat-in-shop"),
        stat_card("Past their SLA", S.figures.late, "alarm-clock", "stat-late"),
        stat_card("Unmapped codes", S.figures.unmapped, "circle-help", "stat-unmapped"),
        stat_card("Received (30 days)", S.figures.received_30, "inbox", "stat-received"),
        stat_card("Dispatched (30 days)", S.figures.dispatched_30, "truck", "stat-dispatched"),
        stat_card("Invoiced (30 days)", S.figures.invoiced_30, "receipt", "stat-invoiced"),
        stat_card("Mean turnaround", S.figures.turnaround, "timer", "stat-turnaround"),
    ]
    for card in cards:
        card.style["min_width"] = "0"
    return rx.grid(*cards, columns=rx.breakpoints(initial="2", md="4", xl="7"), spacing="3", width="100%")


def _flow_chart() -> rx.Component:
    return rx.card(
        rx.text("Assets per day (30 days)", size="2", weight="medium"),
        rx.cond(
            S.has_history,
            rx.recharts.bar_chart(
                rx.recharts.bar(data_key="received", name="Received", fill=rx.color("gray", 8), radius=[3, 3, 0, 0]),
                rx.recharts.bar(data_key="repaired", name="Repaired", fill=rx.color("accent", 9), radius=[3, 3, 0, 0]),
                rx.recharts.bar(
                    data_key="dispatched", name="Dispatched", fill=rx.color("green", 9), radius=[3, 3, 0, 0]
                ),
                rx.recharts.x_axis(data_key="day", tick_line=False, font_size=11, interval="preserveStartEnd"),
                rx.recharts.y_axis(allow_decimals=False, width=30, font_size=11),
                rx.recharts.legend(),
                rx.recharts.graphing_tooltip(),
                data=S.days.to(list[dict]),
                height=240,
                width="100%",
            ),
            rx.text("No assets moved in the last 30 days.", size="2", color_scheme="gray", padding_y="40px"),
        ),
        min_width="0",
        data_testid="chart-flow",
    )


def _invoiced_chart() -> rx.Component:
    return rx.card(
        rx.text("Invoiced per day (30 days)", size="2", weight="medium"),
        rx.recharts.area_chart(
            rx.recharts.area(
                data_key="invoiced",
                name="Invoiced",
                stroke=rx.color("teal", 9),
                fill=rx.color("teal", 4),
                type_="monotone",
            ),
            rx.recharts.x_axis(data_key="day", tick_line=False, font_size=11, interval="preserveStartEnd"),
            rx.recharts.y_axis(width=50, font_size=11),
            rx.recharts.graphing_tooltip(),
            data=S.days.to(list[dict]),
            height=240,
            width="100%",
        ),
        min_width="0",
        data_testid="chart-invoiced",
    )


def _wip_row(w: rx.Var[WipBar]) -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.text(w.label, size="2", width="140px", flex_shrink="0"),
            href="/repairs/assets?status=" + w.status,
            underline="hover",
        ),
        rx.progress(
            value=rx.cond(S.figures.in_shop > 0, w.count * 100 / S.figures.in_shop, 0),
            color_scheme=w.color,
            size="3",
            flex_grow="1",
        ),
        rx.text(w.count, size="2", weight="bold", width="36px", text_align="right", data_testid="wip-" + w.status),
        align="center",
        spacing="3",
        width="100%",
    )


def _wip() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.text("Work in progress now", size="2", weight="medium"),
            rx.spacer(),
            rx.text("updated ", S.updated_at, size="1", color_scheme="gray"),
        ),
        rx.vstack(rx.foreach(S.wip, _wip_row), spacing="2", width="100%", padding_top="8px"),
        min_width="0",
        data_testid="wip",
    )


def _late_row(r: rx.Var[LateRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(r.number, href="/repairs/assets/" + r.asset_id, weight="medium"), white_space="nowrap"),
        rx.table.cell(status_badge(r.status, machine.ASSET_STATUS)),
        rx.table.cell(r.client),
        rx.table.cell(rx.text(r.waiting, color_scheme="red", weight="medium"), white_space="nowrap"),
        rx.table.cell(r.limit, white_space="nowrap"),
        rx.table.cell(rx.progress(value=r.over_percent, color_scheme="red", width="90px")),
        data_testid="late-row",
    )


def _late() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Waiting past their SLA", size="4"),
            rx.badge(S.figures.late, color_scheme=rx.cond(S.figures.late > 0, "red", "gray")),
            rx.spacer(),
            rx.cond(S.can_write, _sla_dialog()),
            align="center",
            width="100%",
        ),
        rx.cond(
            S.late.length() > 0,
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Asset"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Client"),
                            rx.table.column_header_cell("Waiting"),
                            rx.table.column_header_cell("Limit"),
                            rx.table.column_header_cell("Over"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.late, _late_row)),
                    width="100%",
                    data_testid="late-table",
                )
            ),
            empty_state("circle-check", "Nothing is late", "Every asset is within the shop's SLA limits."),
        ),
        width="100%",
        spacing="3",
    )


def _sla_input(f: rx.Var[SlaField]) -> rx.Component:
    return field(
        f.label,
        rx.vstack(
            rx.input(
                name="sla_" + f.status,
                default_value=f.hours.to(str),
                type="number",
                data_testid="sla-" + f.status,
            ),
            rx.cond(
                S.sla_errors.contains(f.status),
                rx.text(S.sla_errors[f.status], size="1", color_scheme="red"),
            ),
            spacing="1",
            width="100%",
        ),
    )


def _sla_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("settings-2", size=14),
                "SLA limits",
                variant="soft",
                size="2",
                on_click=S.open_sla,
                data_testid="sla-open",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("SLA limits"),
            rx.dialog.description("Hours an asset may wait in each status before it stands out.", size="2"),
            rx.form(
                rx.grid(
                    rx.foreach(S.sla, _sla_input),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    padding_y="12px",
                ),
                rx.cond(
                    S.sla_errors.contains("_"), rx.callout(S.sla_errors["_"], color_scheme="red", icon="triangle-alert")
                ),
                rx.flex(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                    rx.button("Save", type="submit", data_testid="sla-save"),
                    spacing="3",
                    justify="end",
                ),
                on_submit=S.save_sla,
                reset_on_submit=False,
            ),
            max_width="560px",
        ),
        open=S.sla_open,
        on_open_change=S.set_sla_open,
    )


@staff_page("/repairs", "Repairs", permission="repairs.read", icon="wrench", on_load=S.load)
def repairs_dashboard_page() -> rx.Component:
    return rx.vstack(
        repairs_tabs("dashboard"),
        rx.cond(
            S.error != "",
            rx.callout(S.error, color_scheme="red", icon="triangle-alert", width="100%"),
        ),
        rx.cond(
            S.loaded,
            rx.vstack(
                _figures(),
                rx.grid(
                    _flow_chart(),
                    _invoiced_chart(),
                    columns=rx.breakpoints(initial="1", lg="2"),
                    spacing="4",
                    width="100%",
                ),
                _wip(),
                rx.box(_late(), min_width="0", width="100%"),
                spacing="4",
                width="100%",
            ),
            loading_table(6),
        ),
        spacing="4",
        width="100%",
        data_testid="repairs-dashboard",
    )
