"""/orders and /orders/[id]."""

from __future__ import annotations

import reflex as rx

from app.orders import machine
from app.platform.machine import SEVERITY
from components.layout import staff_page
from components.ui import detail_page, empty_state, field, loading_table, pager, select, status_badge, status_shade
from state.orders import OrderDetailState, OrderLineRow, OrderRow, OrdersState, RetryRow, TimelineEntry


def order_badge(status: rx.Var) -> rx.Component:
    return status_badge(status, machine.ORDER_STATUS, variant="soft")


def fulfillment_badge(status: rx.Var) -> rx.Component:
    return status_badge(status, machine.FULFILLMENT_STATUS, variant="outline")


def _sortable(label: str, column: str) -> rx.Component:
    return rx.table.column_header_cell(
        rx.hstack(
            rx.text(label),
            rx.cond(
                OrdersState.sort == column,
                rx.cond(OrdersState.descending, rx.icon("arrow-down", size=12), rx.icon("arrow-up", size=12)),
                rx.icon("arrow-up-down", size=12, opacity=0.35),
            ),
            align="center",
            spacing="1",
            cursor="pointer",
        ),
        on_click=OrdersState.sort_by(column),
    )


def _order_row(o: rx.Var[OrderRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(o.number, href="/orders/" + o.id, weight="medium")),
        rx.table.cell(o.placed, white_space="nowrap"),
        rx.table.cell(
            rx.vstack(
                rx.text(o.customer),
                rx.text(o.city, " ", o.country, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.badge(o.source, variant="surface", color_scheme="gray")),
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
            )
        ),
        rx.table.cell(fulfillment_badge(o.fulfillment)),
        rx.table.cell(o.total, text_align="right", white_space="nowrap"),
        align="center",
    )


def _new_order_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "New order", on_click=OrdersState.open_create)),
        rx.dialog.content(
            rx.dialog.title("New manual order"),
            rx.form(
                rx.vstack(
                    rx.cond(
                        OrdersState.create_error != "",
                        rx.callout(OrdersState.create_error, icon="triangle-alert", color_scheme="red", width="100%"),
                    ),
                    rx.grid(
                        field("Customer name", rx.input(name="customer_name", required=True)),
                        field("Email", rx.input(name="customer_email", type="email")),
                        field("Street", rx.input(name="street")),
                        field("House number", rx.input(name="house_number")),
                        field("Postal code", rx.input(name="postal_code")),
                        field("City", rx.input(name="city")),
                        field("Country (2 letters)", rx.input(name="country_code", max_length=2, default_value="NL")),
                        columns="2",
                        spacing="3",
                        width="100%",
                    ),
                    rx.separator(),
                    rx.grid(
                        field("SKU", rx.input(name="sku")),
                        field("Item", rx.input(name="title", required=True)),
                        field("Quantity", rx.input(name="quantity", type="number", min=1, default_value="1")),
                        field(
                            "Unit price", rx.input(name="price", type="number", step="0.01", min=0, default_value="0")
                        ),
                        columns="2",
                        spacing="3",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Create order", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=OrdersState.create_manual,
                reset_on_submit=False,
            ),
            max_width="560px",
        ),
        open=OrdersState.create_open,
        on_open_change=OrdersState.set_create_open,
    )


def _charts() -> rx.Component:
    return rx.grid(
        rx.card(
            rx.text("Orders per day (30 days)", size="2", weight="medium"),
            rx.recharts.bar_chart(
                rx.recharts.bar(data_key="orders", fill=rx.color("accent", 9), radius=[3, 3, 0, 0]),
                rx.recharts.x_axis(data_key="day", tick_line=False, font_size=11, interval=4),
                rx.recharts.y_axis(allow_decimals=False, width=30, font_size=11),
                rx.recharts.graphing_tooltip(),
                data=OrdersState.per_day.to(list[dict]),  # recharts takes plain records
                height=200,
                width="100%",
            ),
        ),
        rx.card(
            rx.text("Status distribution", size="2", weight="medium"),
            rx.recharts.bar_chart(
                rx.recharts.bar(data_key="count", fill=rx.color("iris", 8), radius=[0, 3, 3, 0]),
                rx.recharts.x_axis(type_="number", allow_decimals=False, font_size=11),
                rx.recharts.y_axis(data_key="label", type_="category", width=140, font_size=11, interval=0),
                rx.recharts.graphing_tooltip(),
                data=OrdersState.counts.to(list[dict]),
                layout="vertical",
                height=200,
                width="100%",
            ),
        ),
        columns="2",
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
        spacing="2",
    )


@staff_page("/orders", "Orders", permission="orders.read", icon="shopping-cart", on_load=OrdersState.load)
def orders_page() -> rx.Component:
    statuses = [("all", "All statuses")] + [(s, s.replace("_", " ").title()) for s in machine.ORDER_STATUSES]
    fulfillment = [("all", "All fulfillment")] + [(s, s.title()) for s in machine.FULFILLMENT_STATUSES]
    sources = [("all", "All sources"), ("shopify", "Shopify"), ("builder", "PC builder"), ("manual", "Manual")]
    return rx.vstack(
        rx.hstack(
            _status_pills(),
            rx.spacer(),
            rx.cond(OrdersState.can_write, _new_order_dialog()),
            width="100%",
            align="center",
        ),
        rx.cond(OrdersState.loaded, _charts()),
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Search number, customer, email, SKU",
                value=OrdersState.search,
                on_change=OrdersState.set_search.debounce(300),
                width="280px",
                data_testid="order-search",
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
            rx.text(OrdersState.total, " orders", size="2", color_scheme="gray", data_testid="order-total"),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.cond(
            OrdersState.loaded,
            rx.cond(
                OrdersState.rows.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            _sortable("Order", "number"),
                            _sortable("Placed", "placed_at"),
                            _sortable("Customer", "customer"),
                            rx.table.column_header_cell("Source"),
                            _sortable("Status", "status"),
                            _sortable("Fulfillment", "fulfillment"),
                            _sortable("Total", "total"),
                        )
                    ),
                    rx.table.body(rx.foreach(OrdersState.rows, _order_row)),
                    variant="surface",
                    width="100%",
                    data_testid="orders-table",
                ),
                empty_state("inbox", "No orders match", "Change the filters, or wait for Shopify to send some."),
            ),
            loading_table(8),
        ),
        pager(OrdersState.page, OrdersState.page_count, OrdersState.prev_page, OrdersState.next_page),
        spacing="4",
        width="100%",
    )


# --- one order ---------------------------------------------------------------------------


def _kv(label: str, value) -> rx.Component:
    shown = (
        rx.box(value, font_size="var(--font-size-2)") if isinstance(value, rx.Component) else rx.text(value, size="2")
    )
    return rx.hstack(rx.text(label, size="2", color_scheme="gray", min_width="110px"), shown, align="start")


def _ship_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("truck", size=16), "Mark shipped", data_testid="action-shipped")),
        rx.dialog.content(
            rx.dialog.title("Ship order ", OrderDetailState.order.number),
            rx.form(
                rx.vstack(
                    field("Carrier", rx.input(name="carrier", placeholder="PostNL")),
                    field("Tracking number", rx.input(name="tracking_number")),
                    field("Tracking URL", rx.input(name="tracking_url", type="url")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Mark shipped", type="submit"),
                        justify="end",
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
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("ban", size=16), "Cancel order", color_scheme="red", variant="soft", data_testid="action-cancel"
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel order ", OrderDetailState.order.number, "?"),
            rx.alert_dialog.description(
                "Production and shipping for this order stop. The customer is not refunded from here."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep the order", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Cancel order", color_scheme="red", on_click=OrderDetailState.cancel("customer"))
                ),
                justify="end",
                spacing="3",
                padding_top="12px",
            ),
        ),
    )


def _actions() -> rx.Component:
    acts = OrderDetailState.actions
    return rx.hstack(
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
        spacing="2",
        wrap="wrap",
    )


def _line_row(li: rx.Var[OrderLineRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(li.sku)),
        rx.table.cell(
            rx.vstack(
                rx.text(li.title),
                rx.text(li.variant, " ", li.properties, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(li.qty),
        rx.table.cell(li.price),
        rx.table.cell(rx.badge(li.status, variant="soft")),
        rx.table.cell(li.parts),
        rx.table.cell(rx.text(li.problem, color_scheme="amber", size="1")),
    )


def _timeline_item(e: rx.Var[TimelineEntry]) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="8px",
            height="8px",
            border_radius="50%",
            margin_top="6px",
            background=status_shade(e.severity, SEVERITY),
        ),
        rx.vstack(
            rx.text(e.message, size="2"),
            rx.text(
                e.at,
                " · ",
                e.type,
                rx.cond(
                    e.cid != "",
                    rx.fragment(" · ", rx.code(e.cid, size="1", title="correlation id: find it in the logs")),
                    "",
                ),
                size="1",
                color_scheme="gray",
            ),
            spacing="0",
        ),
        align="start",
        spacing="3",
    )


def _retry_row(r: rx.Var[RetryRow]) -> rx.Component:
    return rx.callout(
        rx.hstack(
            rx.text(r.type, ": ", r.status, " after ", r.attempts, " attempt(s). ", r.error),
            rx.cond(r.needs, rx.button("Try again", size="1", on_click=OrderDetailState.retry_now(r.id))),
            align="center",
        ),
        icon="refresh-cw",
        color_scheme=rx.cond(r.needs, "red", "gray"),
        width="100%",
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
            rx.hstack(
                rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Orders")), href="/orders", size="2"),
                rx.heading("Order ", o.number, size="6", data_testid="order-number"),
                rx.badge(o.source, variant="surface", color_scheme="gray"),
                rx.box(order_badge(o.status), data_testid="order-status"),
                rx.box(fulfillment_badge(o.fulfillment), data_testid="order-fulfillment"),
                rx.spacer(),
                _actions(),
                align="center",
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
                    )
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("Ship to", size="3"),
                        _kv("Name", o.ship_name),
                        _kv("Company", o.company),
                        _kv("Street", o.street),
                        _kv("", o.address2),
                        _kv("City", rx.fragment(o.postal_code, " ", o.city, " ", o.country)),
                        _kv("Delivery", o.delivery),
                        _kv("Service point", o.service_point),
                        spacing="2",
                    )
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("Money & shipping", size="3"),
                        _kv("Subtotal", o.subtotal),
                        _kv("Shipping", o.shipping),
                        _kv("Total", o.total),
                        _kv("Parts done", o.parts),
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
                    )
                ),
                columns="3",
                spacing="4",
                width="100%",
            ),
            rx.cond(o.note != "", rx.callout(o.note, icon="sticky-note", color_scheme="gray", width="100%")),
            rx.heading("Line items", size="4"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("SKU", "Item", "Qty", "Unit price", "Status", "Parts", "")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(OrderDetailState.items, _line_row)),
                variant="surface",
                width="100%",
            ),
            rx.heading("Timeline", size="4"),
            rx.card(
                rx.vstack(rx.foreach(OrderDetailState.events, _timeline_item), spacing="3"),
                width="100%",
                data_testid="timeline",
            ),
            spacing="4",
            width="100%",
        ),
        rows=6,
    )
