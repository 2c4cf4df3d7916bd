"""/orders and /orders/[id]."""

from __future__ import annotations

import reflex as rx

from app.orders import machine
from app.platform.machine import SEVERITY
from app.shipping.machine import SHIPMENT_STATUS
from components.layout import staff_page
from components.ui import (
    bulk_bar,
    confirm_button,
    detail_page,
    download_link,
    empty_state,
    loading_table,
    pager,
    search_box,
    select,
    select_all_cell,
    select_cell,
    sortable_header,
    status_badge,
    status_shade,
    table_card,
)
from state.orders import (
    DraftLine,
    OrderDetailState,
    OrderLineRow,
    OrderRow,
    OrdersState,
    RetryRow,
    Suggestion,
    TimelineEntry,
)
from state.shipping import TrackingStep


def order_badge(status: rx.Var) -> rx.Component:
    return status_badge(status, machine.ORDER_STATUS, variant="soft", white_space="nowrap")


def fulfillment_badge(status: rx.Var) -> rx.Component:
    return status_badge(status, machine.FULFILLMENT_STATUS, variant="outline", white_space="nowrap")


def source_badge(source: rx.Var) -> rx.Component:
    return status_badge(source, machine.SOURCE, variant="surface", white_space="nowrap")


def _error(text: rx.Var, testid: str) -> rx.Component:
    """A field's error, right under it."""
    return rx.cond(text != "", rx.text(text, size="1", color_scheme="red", data_testid=testid))


def _field(label: str, control: rx.Component, error: rx.Var | None = None, testid: str = "") -> rx.Component:
    control.style.setdefault("width", "100%")
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        _error(error, testid) if error is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def _order_row(o: rx.Var[OrderRow]) -> rx.Component:
    return rx.table.row(
        rx.cond(OrdersState.can_write, select_cell(OrdersState, o.id)),
        rx.table.cell(rx.link(o.number, href="/orders/" + o.id, weight="medium", white_space="nowrap")),
        rx.table.cell(o.placed, white_space="nowrap"),
        rx.table.cell(
            rx.vstack(
                rx.text(o.customer, white_space="nowrap"),
                rx.text(o.city, " ", o.country, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(source_badge(o.source)),
        rx.table.cell(
            rx.hstack(
                order_badge(o.status),
                rx.cond(
                    o.problems > 0,
                    rx.tooltip(
                        rx.icon("triangle-alert", size=14, color=rx.color("amber", 10)),
                        content="This order has problems",
                    ),
                ),
                align="center",
            )
        ),
        rx.table.cell(fulfillment_badge(o.fulfillment)),
        rx.table.cell(o.total, text_align="right", white_space="nowrap"),
        align="center",
    )


# --- the "New order" dialog -------------------------------------------------------------------


def _suggestion(line_index: rx.Var[int], s: rx.Var[Suggestion], k: rx.Var[int]) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.text(s.title, size="2", weight="medium"),
                rx.text(s.sku, " · ", s.kind, size="1", color_scheme="gray"),
                spacing="0",
                min_width="0",
            ),
            rx.spacer(),
            rx.text(s.price_text, size="2", white_space="nowrap"),
            align="center",
            width="100%",
        ),
        on_click=OrdersState.pick(line_index, k),
        padding="6px 10px",
        cursor="pointer",
        _hover={"background": rx.color("accent", 3)},
        data_testid="sku-suggestion",
    )


def _draft_line(line: rx.Var[DraftLine], i: rx.Var[int]) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.box(
                rx.text("SKU", size="1", color_scheme="gray"),
                rx.debounce_input(
                    rx.input(
                        value=line.sku,
                        on_change=lambda v: OrdersState.lookup(i, v),
                        placeholder="SKU or name",
                        aria_label="SKU",
                        auto_complete="off",
                        data_testid="line-sku",
                    ),
                    debounce_timeout=300,
                ),
                width=["100%", "100%", "170px"],
            ),
            rx.box(
                rx.text("Item", size="1", color_scheme="gray"),
                rx.debounce_input(
                    rx.input(
                        value=line.title,
                        on_change=lambda v: OrdersState.set_line(i, "title", v),
                        aria_label="Item",
                        data_testid="line-title",
                    ),
                    debounce_timeout=200,
                ),
                _error(line.title_error, "line-error"),
                flex="1",
                min_width="180px",
            ),
            rx.box(
                rx.text("Qty", size="1", color_scheme="gray"),
                rx.debounce_input(
                    rx.input(
                        value=line.quantity,
                        on_change=lambda v: OrdersState.set_line(i, "quantity", v),
                        input_mode="numeric",
                        aria_label="Quantity",
                        data_testid="line-quantity",
                    ),
                    debounce_timeout=200,
                ),
                _error(line.quantity_error, "line-error"),
                width="80px",
            ),
            rx.box(
                rx.text("Unit price", size="1", color_scheme="gray"),
                rx.debounce_input(
                    rx.input(
                        value=line.unit_price,
                        on_change=lambda v: OrdersState.set_line(i, "unit_price", v),
                        input_mode="decimal",
                        aria_label="Unit price",
                        data_testid="line-price",
                    ),
                    debounce_timeout=200,
                ),
                _error(line.price_error, "line-error"),
                width="110px",
            ),
            rx.icon_button(
                rx.icon("trash-2", size=14),
                variant="ghost",
                color_scheme="gray",
                type="button",
                aria_label="Remove this line",
                on_click=OrdersState.remove_line(i),
                disabled=OrdersState.draft_lines.length() <= 1,
                margin_top="22px",
            ),
            gap="8px",
            flex_wrap="wrap",
            align="start",
            width="100%",
        ),
        rx.cond(
            OrdersState.suggest_for == i,
            rx.card(
                rx.foreach(OrdersState.suggestions, lambda s, k: _suggestion(i, s, k)),
                padding="4px 0",
                margin_top="4px",
                width="100%",
                data_testid="sku-suggestions",
            ),
        ),
        width="100%",
        padding_bottom="8px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="draft-line",
    )


def _new_order_dialog() -> rx.Component:
    e = OrdersState.form_errors
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("plus", size=16), "New order", on_click=OrdersState.open_create, data_testid="new-order")
        ),
        rx.dialog.content(
            rx.dialog.title("New manual order"),
            rx.form(
                rx.vstack(
                    rx.cond(
                        OrdersState.create_error != "",
                        rx.callout(
                            OrdersState.create_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            data_testid="create-error",
                        ),
                    ),
                    rx.grid(
                        _field("Customer name", rx.input(name="customer_name"), e.customer_name, "error-customer_name"),
                        _field(
                            "Email",
                            rx.input(name="customer_email", input_mode="email"),
                            e.customer_email,
                            "error-customer_email",
                        ),
                        _field("Phone", rx.input(name="customer_phone", type="tel")),
                        _field("Street", rx.input(name="ship_street"), e.ship_street, "error-ship_street"),
                        _field("House number", rx.input(name="ship_house_number")),
                        _field(
                            "Postal code",
                            rx.input(name="ship_postal_code"),
                            e.ship_postal_code,
                            "error-ship_postal_code",
                        ),
                        _field("City", rx.input(name="ship_city"), e.ship_city, "error-ship_city"),
                        _field(
                            "Country (2 letters)",
                            rx.input(name="ship_country_code", max_length=2, default_value="NL"),
                            e.ship_country_code,
                            "error-ship_country_code",
                        ),
                        columns=rx.breakpoints(initial="1", xs="2"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.separator(width="100%"),
                    rx.text("Items", size="2", weight="medium"),
                    _error(e.lines, "error-lines"),
                    rx.foreach(OrdersState.draft_lines, _draft_line),
                    rx.button(
                        rx.icon("plus", size=14),
                        "Add line",
                        type="button",
                        variant="soft",
                        size="1",
                        on_click=OrdersState.add_line,
                        data_testid="add-line",
                    ),
                    rx.flex(
                        rx.box(
                            _field(
                                "Shipping",
                                rx.debounce_input(
                                    rx.input(
                                        value=OrdersState.draft_shipping,
                                        on_change=OrdersState.set_shipping,
                                        input_mode="decimal",
                                        data_testid="draft-shipping",
                                    ),
                                    debounce_timeout=200,
                                ),
                                e.shipping_total,
                                "error-shipping_total",
                            ),
                            width="140px",
                        ),
                        rx.spacer(),
                        rx.vstack(
                            rx.text("Total", size="1", color_scheme="gray"),
                            rx.text(OrdersState.draft_total, size="4", weight="bold", data_testid="draft-total"),
                            spacing="0",
                            align="end",
                        ),
                        align="end",
                        width="100%",
                        gap="8px",
                        flex_wrap="wrap",
                    ),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Create order", type="submit", data_testid="create-order"),
                        justify="end",
                        gap="8px",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=OrdersState.create_manual,
                reset_on_submit=False,
            ),
            max_width="720px",
            width="calc(100vw - 24px)",
        ),
        open=OrdersState.create_open,
        on_open_change=OrdersState.set_create_open,
    )


# --- the list ----------------------------------------------------------------------------------


def _charts() -> rx.Component:
    return rx.grid(
        rx.card(
            rx.text("Orders per day (30 days)", size="2", weight="medium"),
            rx.recharts.bar_chart(
                rx.recharts.bar(data_key="orders", name="Orders", fill=rx.color("accent", 9), radius=[3, 3, 0, 0]),
                rx.recharts.x_axis(data_key="day", tick_line=False, font_size=11, interval="preserveStartEnd"),
                rx.recharts.y_axis(allow_decimals=False, width=30, font_size=11),
                rx.recharts.graphing_tooltip(),
                data=OrdersState.per_day.to(list[dict]),  # recharts takes plain records
                height=200,
                width="100%",
            ),
            min_width="0",
        ),
        rx.card(
            rx.text("Status distribution", size="2", weight="medium"),
            rx.recharts.bar_chart(
                rx.recharts.bar(data_key="count", name="Orders", fill=rx.color("iris", 8), radius=[0, 3, 3, 0]),
                rx.recharts.x_axis(type_="number", allow_decimals=False, font_size=11),
                rx.recharts.y_axis(data_key="label", type_="category", width=130, font_size=11, interval=0),
                rx.recharts.graphing_tooltip(),
                data=OrdersState.counts.to(list[dict]),
                layout="vertical",
                height=200,
                width="100%",
            ),
            min_width="0",
        ),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )


def _status_pills() -> rx.Component:
    return rx.flex(
        rx.foreach(
            OrdersState.counts,
            lambda c: rx.button(
                c.label,
                rx.badge(c.count, variant="solid", color_scheme=c.color),
                size="1",
                variant=rx.cond(OrdersState.status == c.status, "solid", "soft"),
                color_scheme="gray",
                on_click=OrdersState.set_status(rx.cond(OrdersState.status == c.status, "all", c.status)),
                data_testid="count-" + c.status,
            ),
        ),
        wrap="wrap",
        gap="8px",
    )


def _export_button() -> rx.Component:
    """Every order of the current filters as a CSV file (not just this page)."""
    return rx.button(
        download_link(
            rx.icon("download", size=16),
            "Export CSV",
            href=OrdersState.export_href,
            data_testid="export-csv",
        ),
        variant="soft",
        as_child=True,
    )


def _bulk_cancel() -> rx.Component:
    return confirm_button(
        "Cancel orders",
        rx.fragment("Cancel ", OrdersState.selected.length(), " order(s)?"),
        "Production and shipping stop for each of them. Orders that have shipped are not cancelled; "
        "the message afterwards names them. Customers are not refunded from here.",
        OrdersState.bulk_cancel,
        icon="ban",
        keep="Keep them",
        testid="bulk-cancel",
    )


def _bulk_actions() -> rx.Component:
    return bulk_bar(
        OrdersState,
        rx.button(
            download_link(rx.icon("download", size=14), "Export", href=OrdersState.export_selected_href),
            size="1",
            variant="soft",
            as_child=True,
            data_testid="bulk-export",
        ),
        rx.button(
            rx.icon("package-check", size=14),
            "Mark ready",
            size="1",
            variant="soft",
            on_click=OrdersState.bulk_advance("ready"),
            data_testid="bulk-ready",
        ),
        rx.button(
            rx.icon("package", size=14),
            "Start packaging",
            size="1",
            variant="soft",
            on_click=OrdersState.bulk_advance("packaging"),
            data_testid="bulk-packaging",
        ),
        rx.button(
            rx.icon("truck", size=14),
            "Mark shipped",
            size="1",
            variant="soft",
            on_click=OrdersState.bulk_advance("shipped"),
            data_testid="bulk-shipped",
        ),
        _bulk_cancel(),
    )


def _filters() -> rx.Component:
    statuses = [("all", "All statuses")] + [(s.value, s.label) for s in machine.ORDER_STATUS]
    fulfillment = [("all", "All fulfillment")] + [(s.value, s.label) for s in machine.FULFILLMENT_STATUS]
    sources = [("all", "All sources")] + [(s.value, s.label) for s in machine.SOURCE]
    return rx.flex(
        rx.box(
            search_box(
                OrdersState.search,
                OrdersState.set_search,
                "Search number, customer, email, SKU",
                data_testid="order-search",
            ),
            width=["100%", "100%", "320px"],
        ),
        select(OrdersState.status, OrdersState.set_status, statuses, "Status"),
        select(OrdersState.fulfillment, OrdersState.set_fulfillment, fulfillment, "Fulfillment"),
        select(OrdersState.source, OrdersState.set_source, sources, "Source"),
        rx.input(
            type="date",
            value=OrdersState.date_from,
            on_change=OrdersState.set_date_from,
            aria_label="From date",
            width="150px",
        ),
        rx.input(
            type="date",
            value=OrdersState.date_to,
            on_change=OrdersState.set_date_to,
            aria_label="To date",
            width="150px",
        ),
        rx.button(rx.icon("x", size=14), "Clear", variant="ghost", on_click=OrdersState.clear_filters),
        rx.spacer(),
        rx.text(
            OrdersState.total,
            rx.cond(OrdersState.total == 1, " order", " orders"),
            size="2",
            color_scheme="gray",
            data_testid="order-total",
        ),
        gap="8px",
        wrap="wrap",
        align="center",
        width="100%",
    )


@staff_page("/orders", "Orders", permission="orders.read", icon="shopping-cart", on_load=OrdersState.load)
def orders_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            _status_pills(),
            rx.spacer(),
            rx.flex(
                _export_button(),
                rx.cond(OrdersState.can_write, _new_order_dialog()),
                gap="8px",
                wrap="wrap",
            ),
            width="100%",
            align="center",
            gap="8px",
            wrap="wrap",
        ),
        rx.cond(OrdersState.loaded, _charts()),
        _filters(),
        rx.cond(OrdersState.can_write, _bulk_actions()),
        rx.cond(
            OrdersState.loaded,
            rx.cond(
                OrdersState.rows.length() > 0,
                table_card(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.cond(OrdersState.can_write, select_all_cell(OrdersState)),
                                sortable_header(OrdersState, "Order", "number"),
                                sortable_header(OrdersState, "Placed", "placed_at"),
                                sortable_header(OrdersState, "Customer", "customer"),
                                rx.table.column_header_cell("Source"),
                                sortable_header(OrdersState, "Status", "status"),
                                sortable_header(OrdersState, "Fulfillment", "fulfillment"),
                                sortable_header(OrdersState, "Total", "total"),
                            )
                        ),
                        rx.table.body(rx.foreach(OrdersState.rows, _order_row)),
                        variant="ghost",
                        width="100%",
                        data_testid="orders-table",
                    )
                ),
                empty_state("inbox", "No orders match", "Change the filters, or wait for Shopify to send some."),
            ),
            loading_table(8),
        ),
        pager(OrdersState.page, OrdersState.page_count, OrdersState.prev_page, OrdersState.next_page),
        spacing="4",
        width="100%",
        min_width="0",
    )


# --- one order ---------------------------------------------------------------------------


def _kv(label: str, value) -> rx.Component:
    shown = (
        rx.box(value, font_size="var(--font-size-2)", min_width="0", overflow_wrap="anywhere")
        if isinstance(value, rx.Component)
        else rx.text(rx.cond(value != "", value, "—"), size="2", overflow_wrap="anywhere", min_width="0")
    )
    return rx.hstack(rx.text(label, size="2", color_scheme="gray", min_width="100px"), shown, align="start")


def _ship_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("truck", size=16), "Mark shipped", data_testid="action-shipped")),
        rx.dialog.content(
            rx.dialog.title("Ship order ", OrderDetailState.order.number),
            rx.form(
                rx.vstack(
                    _field("Carrier", rx.input(name="carrier", placeholder="PostNL")),
                    _field("Tracking number", rx.input(name="tracking_number")),
                    _field("Tracking URL", rx.input(name="tracking_url", type="url")),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Mark shipped", type="submit"),
                        justify="end",
                        gap="8px",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=OrderDetailState.ship,
            ),
        ),
        open=OrderDetailState.ship_open,
        on_open_change=OrderDetailState.set_ship_open,
    )


def _cancel_dialog() -> rx.Component:
    return confirm_button(
        "Cancel order",
        rx.fragment("Cancel order ", OrderDetailState.order.number, "?"),
        "Production and shipping for this order stop. The customer is not refunded from here.",
        OrderDetailState.cancel("customer"),
        icon="ban",
        keep="Keep the order",
        size="2",
        testid="action-cancel",
    )


def _actions() -> rx.Component:
    acts = OrderDetailState.actions
    return rx.flex(
        rx.cond(
            acts.contains("ready"),
            rx.button(
                rx.icon("package-check", size=16),
                "Mark ready",
                on_click=OrderDetailState.advance("ready"),
                data_testid="action-ready",
            ),
        ),
        rx.cond(
            acts.contains("packaging"),
            rx.button(
                rx.icon("package", size=16),
                "Start packaging",
                on_click=OrderDetailState.advance("packaging"),
                data_testid="action-packaging",
            ),
        ),
        rx.cond(acts.contains("shipped"), _ship_dialog()),
        rx.cond(
            acts.contains("completed"),
            rx.button(
                rx.icon("circle-check", size=16),
                "Mark delivered",
                on_click=OrderDetailState.advance("completed"),
                data_testid="action-completed",
            ),
        ),
        rx.cond(acts.contains("cancel"), _cancel_dialog()),
        rx.cond(
            OrderDetailState.order.build_id != "",
            rx.link(
                rx.button(rx.icon("wrench", size=16), "Open build", variant="soft"),
                href="/builds/" + OrderDetailState.order.build_id,
            ),
        ),
        rx.cond(
            OrderDetailState.order.can_build,
            rx.button(
                rx.icon("wrench", size=16),
                "Create build",
                variant="soft",
                on_click=OrderDetailState.create_build,
                data_testid="create-build",
            ),
        ),
        gap="8px",
        wrap="wrap",
    )


def _line_row(li: rx.Var[OrderLineRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(li.sku, white_space="nowrap")),
        rx.table.cell(
            rx.vstack(
                rx.text(li.title),
                rx.text(li.variant, " ", li.properties, size="1", color_scheme="gray"),
                spacing="0",
            ),
            min_width="180px",
        ),
        rx.table.cell(li.qty, text_align="right"),
        rx.table.cell(li.price, text_align="right", white_space="nowrap"),
        rx.table.cell(status_badge(li.status, machine.LINE_ITEM_STATUS, variant="soft", white_space="nowrap")),
        rx.table.cell(li.parts, white_space="nowrap"),
        rx.table.cell(rx.text(li.problem, color_scheme="amber", size="1")),
    )


def _timeline_item(e: rx.Var[TimelineEntry]) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="8px",
            height="8px",
            min_width="8px",
            border_radius="50%",
            margin_top="6px",
            background=status_shade(e.severity, SEVERITY),
        ),
        rx.vstack(
            rx.text(e.message, size="2", overflow_wrap="anywhere"),
            rx.text(
                e.at,
                " · ",
                e.type,
                rx.cond(
                    e.cid != "",
                    rx.fragment(" · ", rx.code(e.cid, size="1", title="Reference for the logs")),
                    "",
                ),
                size="1",
                color_scheme="gray",
            ),
            spacing="0",
            min_width="0",
        ),
        align="start",
        spacing="3",
    )


def _retry_row(r: rx.Var[RetryRow]) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("refresh-cw", size=16)),
        rx.vstack(
            rx.flex(
                rx.text(r.operation, weight="medium", size="2"),
                status_badge(r.status, machine.RETRY_STATE, variant="soft", white_space="nowrap"),
                rx.text("after ", r.attempts, " attempt(s)", size="1", color_scheme="gray"),
                rx.spacer(),
                rx.cond(
                    r.needs & OrderDetailState.can_write,
                    rx.button(
                        "Try again", size="1", on_click=OrderDetailState.retry_now(r.id), data_testid="retry-now"
                    ),
                ),
                gap="8px",
                align="center",
                wrap="wrap",
                width="100%",
            ),
            rx.cond(r.problem != "", rx.text(r.problem, size="2", data_testid="retry-problem")),
            rx.cond(
                r.detail != "",
                rx.el.details(
                    rx.el.summary("Show details", cursor="pointer", font_size="var(--font-size-1)"),
                    rx.code(r.detail, size="1", white_space="pre-wrap", overflow_wrap="anywhere"),
                    data_testid="retry-details",
                ),
            ),
            spacing="1",
            width="100%",
        ),
        color_scheme=rx.cond(r.needs, "red", "gray"),
        width="100%",
        data_testid="retry-row",
    )


# --- the shipment ------------------------------------------------------------------------


def _number_input(name: str, value: rx.Var, unit: str, label: str) -> rx.Component:
    return rx.input(
        rx.input.slot(rx.text(unit, size="1", color_scheme="gray"), side="right"),
        name=name,
        default_value=value,
        input_mode="numeric",
        pattern="[0-9]*",
        aria_label=label,
    )


def _parcel_dialog() -> rx.Component:
    sh = OrderDetailState.shipment
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("ruler", size=14), "Edit parcel", size="1", variant="soft", data_testid="parcel-edit")
        ),
        rx.dialog.content(
            rx.dialog.title("Parcel of order ", OrderDetailState.order.number),
            rx.dialog.description(
                "What the label will say. Change it before the label is made.", size="2", color_scheme="gray"
            ),
            rx.form(
                rx.vstack(
                    _field("Weight", _number_input("weight", sh.weight_grams.to(str), "g", "Weight in grams")),
                    _field(
                        "Size (length × width × height)",
                        rx.grid(
                            _number_input("length", sh.length_cm, "cm", "Length in cm"),
                            _number_input("width", sh.width_cm, "cm", "Width in cm"),
                            _number_input("height", sh.height_cm, "cm", "Height in cm"),
                            columns="3",
                            spacing="2",
                        ),
                    ),
                    _field(
                        "Shipping method",
                        rx.cond(
                            OrderDetailState.methods.length() > 0,
                            rx.select.root(
                                rx.select.trigger(aria_label="Shipping method", width="100%"),
                                rx.select.content(
                                    rx.foreach(
                                        OrderDetailState.methods, lambda m: rx.select.item(m.label, value=m.value)
                                    )
                                ),
                                name="method",
                                default_value=sh.method_id,
                            ),
                            rx.text(
                                rx.cond(
                                    OrderDetailState.methods_error != "",
                                    OrderDetailState.methods_error,
                                    "Asking Sendcloud for its shipping methods…",
                                ),
                                size="2",
                                color_scheme="gray",
                            ),
                        ),
                    ),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save parcel", type="submit", data_testid="parcel-save"),
                        justify="end",
                        gap="8px",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=OrderDetailState.save_parcel,
                reset_on_submit=False,
            ),
        ),
        open=OrderDetailState.parcel_open,
        on_open_change=OrderDetailState.set_parcel_open,
    )


def _remake_dialog() -> rx.Component:
    sh = OrderDetailState.shipment
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("rotate-ccw", size=14), "Remake label", size="1", variant="soft", data_testid="label-remake"
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Remake the label of order ", OrderDetailState.order.number, "?"),
            rx.dialog.description(
                rx.cond(
                    sh.status == "CANCELLED",
                    "A new label is made with a new tracking number.",
                    "The current label is voided at Sendcloud first (throw its print away); the new one gets a "
                    "new tracking number.",
                ),
                size="2",
            ),
            rx.form(
                rx.vstack(
                    _field("Weight", _number_input("weight", sh.weight_grams.to(str), "g", "Weight in grams")),
                    rx.flex(
                        rx.dialog.close(
                            rx.button("Keep the label", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Remake label", type="submit", data_testid="label-remake-confirm"),
                        justify="end",
                        gap="8px",
                        width="100%",
                    ),
                    spacing="3",
                    padding_top="12px",
                ),
                on_submit=OrderDetailState.remake_label,
                reset_on_submit=False,
            ),
        ),
        open=OrderDetailState.remake_open,
        on_open_change=OrderDetailState.set_remake_open,
    )


def _shipment_actions() -> rx.Component:
    sh = OrderDetailState.shipment
    no_label_yet = (sh.id == "") | (sh.status == "FAILED")
    return rx.cond(
        OrderDetailState.can_ship & OrderDetailState.sendcloud,
        rx.flex(
            rx.cond(
                no_label_yet & (OrderDetailState.label_problems.length() == 0),
                rx.button(
                    rx.icon("tag", size=14),
                    rx.cond(sh.status == "FAILED", "Try the label again", "Create label"),
                    size="1",
                    on_click=OrderDetailState.create_label,
                    data_testid="label-create",
                ),
            ),
            rx.cond(sh.can_edit, _parcel_dialog()),
            rx.cond(sh.can_remake, _remake_dialog()),
            rx.cond(
                sh.can_void,
                confirm_button(
                    "Void label",
                    rx.fragment("Void the label of order ", OrderDetailState.order.number, "?"),
                    "Sendcloud cancels the parcel, so the carrier will not take it; throw the printed label away. "
                    "The order stays: make a new label when it is ready to go. A parcel already with the carrier "
                    "cannot be voided.",
                    OrderDetailState.void_label,
                    icon="ban",
                    keep="Keep the label",
                    testid="label-void",
                    confirm_testid="label-void-confirm",
                ),
            ),
            gap="8px",
            wrap="wrap",
        ),
    )


def _tracking_step(step: rx.Var[TrackingStep]) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="8px",
            height="8px",
            min_width="8px",
            border_radius="50%",
            margin_top="6px",
            background=rx.cond(step.applied, status_shade(step.status, SHIPMENT_STATUS), rx.color("gray", 6)),
        ),
        rx.vstack(
            rx.text(
                step.message,
                rx.cond(step.applied, "", rx.text(" · ignored (older)", as_="span", color_scheme="gray")),
                size="2",
                overflow_wrap="anywhere",
            ),
            rx.text(step.at, " · ", step.source, size="1", color_scheme="gray"),
            spacing="0",
            min_width="0",
        ),
        align="start",
        spacing="3",
        data_testid="tracking-step",
    )


def _shipment_details() -> rx.Component:
    sh = OrderDetailState.shipment
    return rx.vstack(
        rx.cond(
            sh.error != "",
            rx.callout(sh.error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="shipment-error"),
        ),
        rx.cond(
            sh.manual,
            rx.text("Shipped by hand: no Sendcloud label.", size="2", color_scheme="gray"),
        ),
        rx.grid(
            rx.vstack(
                _kv("Carrier", sh.carrier),
                _kv(
                    "Tracking",
                    rx.cond(
                        sh.tracking_url != "",
                        rx.link(sh.tracking_number, href=sh.tracking_url, is_external=True),
                        rx.fragment(rx.cond(sh.tracking_number != "", sh.tracking_number, "—")),
                    ),
                ),
                _kv(
                    "Label",
                    rx.cond(
                        sh.label_href != "",
                        rx.link(
                            rx.hstack(rx.icon("file-text", size=14), rx.text("Label PDF"), align="center", spacing="1"),
                            href=sh.label_href,
                            is_external=True,
                            data_testid="shipment-label",
                        ),
                        rx.fragment("—"),
                    ),
                ),
                _kv("Last news", sh.last_news),
                spacing="2",
                min_width="0",
            ),
            rx.vstack(
                _kv("Weight", sh.weight),
                _kv("Size", sh.size),
                _kv("Method", sh.method),
                rx.cond(sh.service_point != "", _kv("Service point", sh.service_point)),
                spacing="2",
                min_width="0",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.cond(
            OrderDetailState.tracking.length() > 0,
            rx.vstack(
                rx.text("Tracking history", size="2", weight="medium"),
                rx.vstack(rx.foreach(OrderDetailState.tracking, _tracking_step), spacing="2"),
                spacing="2",
                width="100%",
                data_testid="tracking-history",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _no_shipment() -> rx.Component:
    return rx.cond(
        OrderDetailState.sendcloud,
        rx.cond(
            OrderDetailState.label_problems.length() > 0,
            rx.vstack(
                rx.text("No label yet. What stops one now:", size="2"),
                rx.foreach(
                    OrderDetailState.label_problems,
                    lambda p: rx.text("• ", p, size="2", color_scheme="gray"),
                ),
                spacing="1",
                data_testid="label-problems",
            ),
            rx.text("No label yet: it can be made now.", size="2", color_scheme="gray"),
        ),
        rx.text(
            "Sendcloud is not connected: write the carrier and tracking number with “Mark shipped” when it goes.",
            size="2",
            color_scheme="gray",
        ),
    )


def _shipment_card() -> rx.Component:
    sh = OrderDetailState.shipment
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.icon("truck", size=18),
                rx.heading("Shipment", size="3"),
                rx.cond(
                    sh.id != "",
                    status_badge(
                        sh.status, SHIPMENT_STATUS, variant="soft", white_space="nowrap", data_testid="shipment-status"
                    ),
                ),
                rx.cond(sh.id != "", rx.text("since ", sh.updated, size="1", color_scheme="gray")),
                rx.spacer(),
                _shipment_actions(),
                align="center",
                gap="8px",
                wrap="wrap",
                width="100%",
            ),
            rx.cond(
                (sh.id != "") & ((sh.status == "PENDING") | (sh.status == "FAILED")),
                rx.cond(
                    OrderDetailState.label_problems.length() > 0,
                    rx.text(
                        "What stops a label now: ",
                        OrderDetailState.label_problems.join(" "),
                        size="2",
                        color_scheme="amber",
                        data_testid="label-problems",
                    ),
                ),
            ),
            rx.cond(sh.id != "", _shipment_details(), _no_shipment()),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="shipment-card",
    )


@staff_page(
    "/orders/[id]", "Order", permission="orders.read", icon="shopping-cart", nav=False, on_load=OrderDetailState.load
)
def order_page() -> rx.Component:
    o = OrderDetailState.order
    return detail_page(
        OrderDetailState.error,
        OrderDetailState.loaded,
        "Order not found",
        rx.vstack(
            rx.flex(
                rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Orders")), href="/orders", size="2"),
                rx.heading("Order ", o.number, size="6", data_testid="order-number"),
                source_badge(o.source),
                rx.box(order_badge(o.status), data_testid="order-status"),
                rx.box(fulfillment_badge(o.fulfillment), data_testid="order-fulfillment"),
                rx.spacer(),
                _actions(),
                align="center",
                gap="8px",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                OrderDetailState.missing != "",
                rx.callout(
                    OrderDetailState.missing,
                    icon="shield-alert",
                    color_scheme="amber",
                    width="100%",
                    data_testid="next-step-missing",
                ),
            ),
            rx.foreach(
                o.problem_list,
                lambda p: rx.callout(p, icon="triangle-alert", color_scheme="amber", width="100%"),
            ),
            rx.foreach(OrderDetailState.attention, _retry_row),
            rx.grid(
                rx.card(
                    rx.vstack(
                        rx.heading("Customer", size="3"),
                        _kv("Name", o.customer),
                        _kv("Email", o.email),
                        _kv("Phone", o.phone),
                        _kv("Placed", o.placed),
                        _kv("Shopify id", o.shopify_id),
                        spacing="2",
                    ),
                    min_width="0",
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("Ship to", size="3"),
                        _kv("Name", o.ship_name),
                        _kv("Company", o.company),
                        _kv("Street", o.street),
                        rx.cond(o.address2 != "", _kv("", o.address2)),
                        _kv("City", rx.fragment(o.postal_code, " ", o.city, " ", o.country)),
                        _kv("Delivery", o.delivery),
                        _kv("Service point", o.service_point),
                        spacing="2",
                    ),
                    min_width="0",
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("Money & shipping", size="3"),
                        _kv("Subtotal", o.subtotal),
                        _kv("Shipping", o.shipping),
                        _kv("Total", o.total),
                        _kv("Parts printed", o.parts),
                        _kv("Carrier", o.carrier),
                        _kv(
                            "Tracking",
                            rx.cond(
                                o.tracking_url != "",
                                rx.link(o.tracking_number, href=o.tracking_url, is_external=True),
                                rx.fragment(o.tracking_number),
                            ),
                        ),
                        spacing="2",
                    ),
                    min_width="0",
                ),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="4",
                width="100%",
                data_testid="order-cards",
            ),
            rx.cond(OrderDetailState.can_see_shipping, _shipment_card()),
            rx.cond(o.note != "", rx.callout(o.note, icon="sticky-note", color_scheme="gray", width="100%")),
            rx.heading("Line items", size="4"),
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h, white_space="nowrap")
                                for h in ("SKU", "Item", "Qty", "Unit price", "Status", "Parts", "")
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(OrderDetailState.items, _line_row)),
                    variant="ghost",
                    width="100%",
                    data_testid="line-items",
                )
            ),
            rx.heading("Timeline", size="4"),
            rx.card(
                rx.vstack(rx.foreach(OrderDetailState.events, _timeline_item), spacing="3"),
                width="100%",
                data_testid="timeline",
            ),
            spacing="4",
            width="100%",
            min_width="0",
        ),
        rows=6,
    )
