"""/shipping: the packing bench (orders ready to ship, their labels, one PDF of
labels and packing slips, the scan field) and the tracking board."""

from __future__ import annotations

import reflex as rx

from app.shipping import machine
from components.layout import staff_page
from components.ui import (
    bulk_bar,
    empty_state,
    filter_chip,
    loading_table,
    pager,
    search_box,
    select_all_cell,
    select_cell,
    status_badge,
    table_card,
)
from state.shipping import LABEL_STATE, BenchRowView, TrackingRowView
from state.shipping import ShippingState as S


def _pdf_button(label: rx.Var | str, href: rx.Var | str, icon: str, testid: str, **props) -> rx.Component:
    """A button that opens a PDF in a new tab (a link: no pop-up blocker stops it)."""
    return rx.link(
        rx.button(rx.icon(icon, size=14), label, size="1", variant="soft", **props),
        href=href,
        is_external=True,
        underline="none",
        data_testid=testid,
    )


def _tracking_link(carrier: rx.Var, number: rx.Var, url: rx.Var, testid: str) -> rx.Component:
    return rx.cond(
        number != "",
        rx.vstack(
            rx.cond(carrier != "", rx.text(carrier, size="1", color_scheme="gray")),
            rx.cond(
                url != "",
                rx.link(number, href=url, is_external=True, size="2", data_testid=testid),
                rx.text(number, size="2", data_testid=testid),
            ),
            spacing="0",
            min_width="0",
            overflow_wrap="anywhere",
        ),
        rx.text("—", size="2", color_scheme="gray"),
    )


# --- the view switch and banners --------------------------------------------------------------------


def _switch() -> rx.Component:
    return rx.flex(
        rx.segmented_control.root(
            rx.segmented_control.item(
                rx.hstack(rx.icon("package-open", size=14), "Packing bench ", S.counts.all, align="center"),
                value="bench",
            ),
            rx.segmented_control.item(
                rx.hstack(rx.icon("truck", size=14), "On their way ", S.on_their_way, align="center"),
                value="tracking",
            ),
            value=S.view,
            on_change=S.set_view,
            data_testid="shipping-view",
        ),
        rx.spacer(),
        rx.text("Live · updated ", S.updated_at, size="1", color_scheme="gray", data_testid="shipping-updated"),
        align="center",
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _banners() -> rx.Component:
    return rx.cond(
        S.connected,
        rx.cond(
            S.last_error != "",
            rx.callout(
                S.last_error, icon="cloud-alert", color_scheme="red", width="100%", data_testid="sendcloud-error"
            ),
        ),
        rx.callout(
            rx.text(
                "Manual mode: Sendcloud is not connected, so no labels are made. The bench still prints packing "
                "slips; write the carrier and tracking number on each order when it goes. ",
                rx.link("Connect Sendcloud", href="/settings/integrations"),
                " in Settings › Integrations.",
            ),
            icon="hand",
            color_scheme="amber",
            width="100%",
            data_testid="shipping-manual-mode",
        ),
    )


# --- the bench --------------------------------------------------------------------------------------


def _scan() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.flex(
                    rx.input(
                        rx.input.slot(rx.icon("scan-barcode", size=16)),
                        name="code",
                        placeholder="Scan or type an order number",
                        aria_label="Scan or type an order number",
                        auto_focus=True,
                        auto_complete="off",
                        size="3",
                        flex_grow="1",
                        min_width="0",
                        data_testid="scan-input",
                    ),
                    rx.button(rx.icon("printer", size=16), "Open label and slip", size="3", type="submit"),
                    spacing="2",
                    width="100%",
                    wrap="wrap",
                ),
                rx.cond(
                    S.scan_error != "",
                    rx.text(S.scan_error, size="2", color_scheme="red", data_testid="scan-error"),
                    rx.cond(
                        S.scanned_number != "",
                        rx.text(
                            "Last scanned: ",
                            rx.link(S.scanned_number, " — label and slip", href=S.scanned_href, is_external=True),
                            size="2",
                            color_scheme="gray",
                            data_testid="scan-last",
                        ),
                        rx.text(
                            "A barcode scanner types the number and Enter: the order's label and packing slip "
                            "open in a new tab.",
                            size="1",
                            color_scheme="gray",
                        ),
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=S.scan,
            reset_on_submit=True,
            width="100%",
        ),
        width="100%",
        data_testid="scan-card",
    )


def _chip(value: str, label: str, count: rx.Var) -> rx.Component:
    return filter_chip(S.label, value, label, S.set_label, count, "chip")


def _filters() -> rx.Component:
    return rx.flex(
        rx.flex(
            _chip("", "All", S.counts.all),
            _chip("ready", LABEL_STATE.label("ready"), S.counts.ready),
            _chip("waiting", "Waiting for a label", S.counts.waiting),
            _chip("problem", LABEL_STATE.label("problem"), S.counts.problem),
            spacing="2",
            wrap="wrap",
        ),
        rx.box(
            search_box(
                S.search, S.set_search, "Search order, customer or city", width="100%", data_testid="bench-search"
            ),
            width=rx.breakpoints(initial="100%", sm="280px"),
        ),
        rx.cond(
            S.filtered, rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=S.clear_filters)
        ),
        rx.spacer(),
        rx.cond(
            S.with_label_on_page > 0,
            _pdf_button(
                "Print all with labels",
                S.print_page_href,
                "printer",
                "print-page",
            ),
        ),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
    )


def _bulk() -> rx.Component:
    return bulk_bar(
        S,
        _pdf_button("Print labels", S.print_selected_href, "printer", "print-selected"),
        rx.text("one PDF: each label then its packing slip, in pack order", size="1", color_scheme="gray"),
    )


def _label_cell(r: rx.Var[BenchRowView]) -> rx.Component:
    return rx.vstack(
        status_badge(r.label_state, LABEL_STATE, variant="soft", white_space="nowrap", data_testid="label-state"),
        rx.cond(
            r.reason != "",
            rx.text(
                r.reason,
                size="1",
                color_scheme=rx.cond(r.label_state == "problem", "red", "gray"),
                data_testid="label-reason",
            ),
        ),
        rx.cond(
            r.tracking_number != "",
            _tracking_link(r.carrier, r.tracking_number, r.tracking_url, "bench-tracking"),
        ),
        spacing="1",
        min_width="0",
    )


def _row_actions(r: rx.Var[BenchRowView]) -> rx.Component:
    return rx.flex(
        rx.cond(r.label_href != "", _pdf_button("Label", r.label_href, "file-text", "row-label")),
        _pdf_button(
            rx.cond(r.label_href != "", "Label and slip", "Packing slip"),
            r.pack_href,
            "printer",
            "row-pack",
            color_scheme="gray",
        ),
        rx.cond(
            S.can_write & r.can_create,
            rx.button(
                rx.icon("tag", size=14),
                "Create label",
                size="1",
                on_click=S.create_label(r.order_id),
                data_testid="row-create-label",
            ),
        ),
        spacing="1",
        wrap="wrap",
        justify="end",
    )


def _bench_row(r: rx.Var[BenchRowView]) -> rx.Component:
    return rx.table.row(
        select_cell(S, r.order_id),
        rx.table.cell(
            rx.vstack(
                rx.link(r.number, href="/orders/" + r.order_id, weight="medium", data_testid="bench-order"),
                rx.text(r.placed, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(r.customer, size="2")),
        rx.table.cell(
            rx.vstack(
                rx.text(r.destination, size="2"),
                rx.cond(
                    r.service_point != "",
                    rx.tooltip(
                        rx.badge(rx.icon("map-pin", size=12), "Service point", variant="soft", color_scheme="iris"),
                        content=r.service_point,
                    ),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(r.weight, size="2", white_space="nowrap", data_testid="bench-weight"),
                rx.text(rx.cond(r.method != "", r.method, "—"), size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(_label_cell(r)),
        rx.table.cell(_row_actions(r)),
        align="center",
        data_testid="bench-row",
    )


BENCH_COLUMNS = (
    ("Order", "120px"),
    ("Customer", "auto"),
    ("Destination", "140px"),
    ("Parcel", "150px"),
    ("Label", "180px"),
    ("", "200px"),
)


def _bench_table() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(
                rx.table.row(select_all_cell(S), *[rx.table.column_header_cell(h, width=w) for h, w in BENCH_COLUMNS])
            ),
            rx.table.body(rx.foreach(S.rows, _bench_row)),
            variant="surface",
            width="100%",
            min_width="960px",
            table_layout="fixed",
            data_testid="bench-table",
        )
    )


def _bench() -> rx.Component:
    return rx.vstack(
        _scan(),
        _filters(),
        _bulk(),
        rx.cond(
            S.rows.length() > 0,
            _bench_table(),
            rx.cond(
                S.filtered,
                empty_state("list-filter", "No orders match", "Change or clear the filters."),
                empty_state(
                    "package-open",
                    "Nothing to pack",
                    "Orders appear here when they are ready: every part printed, or a PC packed.",
                ),
            ),
        ),
        pager(S.page, S.page_count, S.prev_page, S.next_page),
        spacing="3",
        width="100%",
        min_width="0",
    )


# --- the tracking board -----------------------------------------------------------------------------


def _parcel_row(p: rx.Var[TrackingRowView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(p.number, href="/orders/" + p.order_id, weight="medium", data_testid="parcel-order")),
        rx.table.cell(
            rx.vstack(
                rx.text(p.customer, size="2"),
                rx.text(p.destination, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(_tracking_link(p.carrier, p.tracking_number, p.tracking_url, "parcel-tracking")),
        rx.table.cell(rx.text(rx.cond(p.news != "", p.news, "—"), size="2", data_testid="parcel-news")),
        rx.table.cell(
            rx.flex(
                status_badge(
                    p.status, machine.SHIPMENT_STATUS, variant="soft", white_space="nowrap", data_testid="parcel-status"
                ),
                rx.cond(
                    p.flag != "",
                    rx.badge(
                        rx.icon("triangle-alert", size=12),
                        p.flag,
                        color_scheme=p.flag_color,
                        variant="solid",
                        white_space="nowrap",
                        data_testid="parcel-flag",
                    ),
                ),
                spacing="1",
                wrap="wrap",
            )
        ),
        rx.table.cell(rx.text(p.age, size="2", white_space="nowrap", data_testid="parcel-age")),
        align="center",
        background=rx.cond(p.flag == "Stuck", rx.color("red", 2), rx.cond(p.flag != "", rx.color("amber", 2), "")),
        data_testid="parcel-row",
    )


def _chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Parcels by status", size="2", weight="medium"),
            rx.recharts.bar_chart(
                rx.recharts.bar(
                    data_key="parcels",
                    name="Parcels",
                    fill=rx.color("accent", 9),
                    radius=[3, 3, 0, 0],
                    is_animation_active=False,  # a live refresh redraws it: no bars sliding about
                ),
                rx.recharts.x_axis(data_key="status", tick_line=False, font_size=11, interval=0),
                rx.recharts.y_axis(allow_decimals=False, width=32, font_size=11),
                rx.recharts.graphing_tooltip(cursor={"fill": rx.color("gray", 3)}),
                data=S.chart.to(list[dict]),  # recharts takes plain records
                height=160,
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        data_testid="parcel-chart",
    )


def _tracking() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.heading("Parcels on their way", size="4"),
                rx.text(
                    "Labels made and parcels with the carrier, the quietest first; stuck ones on top.",
                    size="2",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                S.can_write & S.connected,
                rx.button(
                    rx.icon("refresh-cw", size=14),
                    "Check with Sendcloud now",
                    size="2",
                    variant="soft",
                    loading=S.checking,
                    on_click=S.check_now,
                    data_testid="check-now",
                ),
            ),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        _chart(),
        rx.cond(
            S.parcels.length() > 0,
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h, width=w)
                                for h, w in (
                                    ("Order", "110px"),
                                    ("Customer", "auto"),
                                    ("Tracking", "170px"),
                                    ("Last news", "220px"),
                                    ("Status", "200px"),
                                    ("Age", "110px"),
                                )
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(S.parcels, _parcel_row)),
                    variant="surface",
                    width="100%",
                    min_width="900px",
                    table_layout="fixed",
                    data_testid="tracking-table",
                )
            ),
            empty_state("truck", "No parcels on their way", "Parcels show here from the moment their label is made."),
        ),
        spacing="3",
        width="100%",
        min_width="0",
    )


@staff_page("/shipping", "Shipping", permission="shipping.read", icon="truck", on_load=S.load)
def shipping_page() -> rx.Component:
    return rx.cond(
        S.error != "",
        rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%"),
        rx.vstack(
            _switch(),
            rx.cond(
                S.loaded,
                rx.vstack(
                    _banners(),
                    rx.cond(S.view == "tracking", _tracking(), _bench()),
                    spacing="4",
                    width="100%",
                    min_width="0",
                ),
                loading_table(8),
            ),
            spacing="4",
            width="100%",
            min_width="0",
        ),
    )
