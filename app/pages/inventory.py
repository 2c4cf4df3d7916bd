"""/inventory (the stock of printed products, stock batches, the
replenishment scheduler's status) and /inventory/products/[mapping_id] (one
product's figures, stock over time, ledger and batches).

`inventory_tabs` is the header every inventory page shares (the PC parts page
too)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.layout import staff_page
from components.ui import (
    confirm_button,
    detail_page,
    empty_state,
    field,
    filter_chip,
    loading_table,
    pager,
    search_box,
    sortable_header,
    status_badge,
    table_card,
)
from state.inventory import BATCH_STATUS, STOCK_STATUS, BatchView, ConditionView, LedgerView, StockRowView
from state.inventory import InventoryProductState as P
from state.inventory import InventoryState as S

HOURS = [(str(h), f"{h:02d}:00") for h in range(24)]


# --- the header every inventory page shares ------------------------------------------------------


def _tab(label: str, icon: str, href: str, on: Any, testid: str) -> rx.Component:
    """One header link; `on` (a Var or a bool) marks the page shown."""
    if isinstance(on, rx.Var):
        look = {"variant": rx.cond(on, "solid", "soft"), "color_scheme": rx.cond(on, "accent", "gray")}
    else:
        look = {"variant": "solid"} if on else {"variant": "soft", "color_scheme": "gray"}
    return rx.link(
        rx.button(rx.icon(icon, size=14), label, size="2", radius="full", **look),
        href=href,
        underline="none",
        data_testid=testid,
    )


def inventory_tabs(active: rx.Var | str) -> rx.Component:
    """ "Printed products" / "Stock batches" / "PC parts" / "Spare parts": `active`
    is "stock", "batches", "parts" or "spare-parts" (a page's constant or its state's view)."""
    current = active if isinstance(active, rx.Var) else None

    def on(name: str) -> Any:
        return current == name if current is not None else active == name

    return rx.flex(
        _tab("Printed products", "package", "/inventory", on("stock"), "tab-stock"),
        _tab("Stock batches", "layers", "/inventory?view=batches", on("batches"), "tab-batches"),
        _tab("PC parts", "cpu", "/inventory/parts", on("parts"), "tab-parts"),
        _tab("Spare parts", "wrench", "/inventory/spare-parts", on("spare-parts"), "tab-spare-parts"),
        spacing="2",
        wrap="wrap",
        data_testid="inventory-tabs",
    )


def stock_off_callout(can_settle: rx.Var) -> rx.Component:
    return rx.callout(
        rx.text(
            "Stock management is off: every order is printed, nothing is taken from the shelf and replenishment "
            "plans nothing. The figures below stay readable. ",
            rx.cond(
                can_settle,
                rx.fragment("Turn it on in ", rx.link("Settings", href="/settings"), "."),
                rx.fragment("An admin turns it on in ", rx.link("Settings", href="/settings"), "."),
            ),
        ),
        icon="info",
        color_scheme="amber",
        width="100%",
        data_testid="stock-off",
    )


# --- small pieces ---------------------------------------------------------------------------------


def _mark(at: rx.Var[str], shade: int) -> rx.Component:
    """A mark across the bar at `at` ("" none)."""
    return rx.cond(
        at != "",
        rx.box(
            position="absolute",
            left=at,
            top="-3px",
            width="2px",
            height="14px",
            transform="translateX(-50%)",  # centred on its value (the maximum's sits on the bar's end)
            background=rx.color("gray", shade),
        ),
    )


def stock_bar(r: rx.Var[StockRowView], width: str = "140px") -> rx.Component:
    """The shelf against its minimum (dark mark) and maximum (light mark)."""
    return rx.tooltip(
        rx.box(
            rx.box(
                width=r.fill,
                height="100%",
                border_radius="4px",
                background=rx.match(
                    r.status, ("low", rx.color("red", 9)), ("over", rx.color("amber", 9)), rx.color("green", 9)
                ),
            ),
            _mark(r.min_at, 12),
            _mark(r.max_at, 9),
            position="relative",
            height="8px",
            width=width,
            max_width="100%",
            border_radius="4px",
            background=rx.color("gray", 4),
            data_testid="stock-bar",
        ),
        content=f"{r.current} on the shelf · minimum {r.minimum} · maximum {r.maximum}",
    )


def stock_badge(status: rx.Var, **props) -> rx.Component:
    return status_badge(status, STOCK_STATUS, variant="soft", white_space="nowrap", **props)


def _err(A: Any, key: str) -> rx.Component:
    return rx.cond(
        A.act_errors.contains(key),
        rx.text(A.act_errors[key], size="1", color_scheme="red", data_testid=f"error-{key}"),
    )


def _number(name: str, value: Any, label: str, **props) -> rx.Component:
    """A whole number field; its limits are the service's to check (and to say, under the field)."""
    return rx.input(
        name=name, default_value=value, type="number", aria_label=label, data_testid=f"field-{name}", **props
    )


def _labelled(A: Any, label: str, control: rx.Component, key: str) -> rx.Component:
    """A form field with its error (from the service's field names) under it."""
    return rx.vstack(field(label, control), _err(A, key), spacing="1", width="100%")


def _configure_fields(A: Any) -> rx.Component:
    return rx.vstack(
        rx.grid(
            _labelled(A, "Minimum on the shelf", _number("minimum", A.act.minimum, "Minimum"), "minimumStock"),
            _labelled(
                A,
                "Maximum (empty: no cap)",
                _number("maximum", A.act.maximum, "Maximum", placeholder="no cap"),
                "maximumStock",
            ),
            _labelled(
                A, "Priority (higher first)", _number("priority", A.act.priority, "Priority"), "replenishmentPriority"
            ),
            _labelled(
                A,
                "Units per run",
                _number("batch_size", A.act.batch_size, "Units per run"),
                "replenishmentBatchSize",
            ),
            columns=rx.breakpoints(initial="1", xs="2"),
            spacing="3",
            width="100%",
        ),
        rx.text(
            "Below its minimum, replenishment prints up to the maximum (or the minimum without one), at most "
            "this many units per run. A minimum of 0 leaves the product alone.",
            size="1",
            color_scheme="gray",
        ),
        spacing="3",
        width="100%",
    )


def _quantity(A: Any, default: str, label: str = "Units") -> rx.Component:
    return _labelled(A, label, _number("quantity", default, label), "quantity")


def _reason(A: Any, placeholder: str) -> rx.Component:
    area = rx.text_area(name="reason", placeholder=placeholder, rows="2", data_testid="field-reason")
    return _labelled(A, "Reason", area, "reason")


def _adjust_fields(A: Any) -> rx.Component:
    return rx.vstack(
        rx.grid(
            field(
                "Direction",
                rx.select.root(
                    rx.select.trigger(aria_label="Direction", width="100%", data_testid="field-direction"),
                    rx.select.content(
                        rx.select.item("Add to the shelf", value="IN"),
                        rx.select.item("Take off the shelf", value="OUT"),
                    ),
                    name="direction",
                    default_value="IN",
                ),
            ),
            _quantity(A, ""),
            columns="2",
            spacing="3",
            width="100%",
        ),
        _reason(A, "A count, a correction, a return…"),
        spacing="3",
        width="100%",
    )


def _scrap_fields(A: Any) -> rx.Component:
    return rx.vstack(
        _quantity(A, "1", "Units to scrap"),
        _reason(A, "Damaged, failed inspection…"),
        spacing="3",
        width="100%",
    )


def _print_fields(A: Any) -> rx.Component:
    return rx.vstack(
        _quantity(A, "1", "Units to print"),
        rx.text(
            "Each unit is one stock batch: its parts as print jobs, queued behind every order. The shelf goes up "
            "by one when a batch's prints are all done.",
            size="1",
            color_scheme="gray",
        ),
        spacing="3",
        width="100%",
    )


def _scrap_confirm(A: Any) -> rx.Component:
    return rx.vstack(
        rx.callout(
            rx.text(
                "Scrap ",
                rx.text.strong(A.act_quantity, " × ", A.act.sku),
                "? The units leave the shelf for good; the ledger records them as scrapped (“",
                A.act_reason,
                "”).",
            ),
            icon="triangle-alert",
            color_scheme="red",
            width="100%",
            data_testid="scrap-confirm-text",
        ),
        rx.hstack(
            rx.button("Back", variant="soft", color_scheme="gray", on_click=A.back_to_form, type="button"),
            rx.button(
                rx.icon("trash-2", size=14),
                "Scrap ",
                A.act_quantity,
                " unit(s)",
                color_scheme="red",
                loading=A.act_busy,
                on_click=A.confirm_scrap,
                data_testid="scrap-confirm",
            ),
            justify="end",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def stock_dialog(A: Any) -> rx.Component:
    """Configure / Adjust / Scrap / Print for stock, for the product in `A.act`
    (`A` mixes in state.inventory.StockActions)."""
    submit = rx.match(
        A.act_kind, ("configure", "Save"), ("adjust", "Adjust"), ("scrap", "Continue"), ("print", "Print for stock"), ""
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.match(
                    A.act_kind,
                    ("configure", "Stock settings"),
                    ("adjust", "Adjust the stock"),
                    ("scrap", "Scrap units"),
                    ("print", "Print for stock"),
                    "",
                ),
                " · ",
                A.act.sku,
            ),
            rx.dialog.description(A.act.name, " · ", A.act.current, " on the shelf", size="2", color_scheme="gray"),
            rx.vstack(
                rx.cond(
                    A.act_errors.contains("form"),
                    rx.callout(
                        A.act_errors["form"],
                        icon="triangle-alert",
                        color_scheme="red",
                        width="100%",
                        data_testid="dialog-error",
                    ),
                ),
                rx.cond(
                    A.act_confirm,
                    _scrap_confirm(A),
                    rx.form(
                        rx.vstack(
                            rx.match(
                                A.act_kind,
                                ("configure", _configure_fields(A)),
                                ("adjust", _adjust_fields(A)),
                                ("scrap", _scrap_fields(A)),
                                ("print", _print_fields(A)),
                                rx.fragment(),
                            ),
                            rx.hstack(
                                rx.dialog.close(
                                    rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                                ),
                                rx.button(
                                    submit,
                                    type="submit",
                                    color_scheme=rx.cond(A.act_kind == "scrap", "red", "accent"),
                                    data_testid="dialog-submit",
                                ),
                                justify="end",
                                width="100%",
                            ),
                            spacing="4",
                            width="100%",
                        ),
                        on_submit=A.submit_action,
                        reset_on_submit=False,
                        key=A.act_key,
                        width="100%",
                    ),
                ),
                spacing="3",
                width="100%",
                padding_top="8px",
            ),
            max_width="520px",
            data_testid="stock-dialog",
        ),
        open=A.act_open,
        on_open_change=A.set_act_open,
    )


def _menu_item(A: Any, kind: str, label: str, icon: str, row: rx.Var[StockRowView], **props) -> rx.Component:
    return rx.menu.item(
        rx.hstack(rx.icon(icon, size=14), label, align="center", spacing="2"),
        on_click=A.open_action(kind, row),
        data_testid=f"action-{kind}",
        **props,
    )


def stock_actions_menu(A: Any, row: rx.Var[StockRowView]) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                rx.icon("ellipsis", size=14), size="1", variant="soft", aria_label="Actions", data_testid="row-actions"
            )
        ),
        rx.menu.content(
            _menu_item(A, "configure", "Configure", "sliders-horizontal", row),
            _menu_item(A, "adjust", "Adjust", "diff", row),
            _menu_item(A, "print", "Print for stock", "printer", row),
            rx.menu.separator(),
            _menu_item(A, "scrap", "Scrap", "trash-2", row, color="red"),
        ),
    )


def batch_table(rows: rx.Var[list[BatchView]], A: Any, can_write: rx.Var, *, product: bool = True) -> rx.Component:
    def row(b: rx.Var[BatchView]) -> rx.Component:
        return rx.table.row(
            *(
                [
                    rx.table.cell(
                        rx.vstack(
                            rx.link(
                                b.sku,
                                href="/inventory/products/" + b.mapping_id,
                                weight="medium",
                                data_testid="batch-product",
                            ),
                            rx.text(b.name, size="1", color_scheme="gray"),
                            spacing="0",
                        )
                    )
                ]
                if product
                else []
            ),
            rx.table.cell(
                rx.vstack(
                    rx.progress(value=b.percent, max=100, width="100%", data_testid="batch-progress"),
                    rx.text(
                        b.done,
                        " of ",
                        b.total,
                        " print(s) done",
                        size="1",
                        color_scheme="gray",
                        data_testid="batch-done",
                    ),
                    spacing="1",
                    width="100%",
                )
            ),
            rx.table.cell(
                rx.vstack(
                    status_badge(
                        b.status, BATCH_STATUS, variant="soft", white_space="nowrap", data_testid="batch-status"
                    ),
                    rx.cond(b.error != "", rx.text(b.error, size="1", color_scheme="red", data_testid="batch-error")),
                    spacing="1",
                )
            ),
            rx.table.cell(rx.text(b.origin, size="2")),
            rx.table.cell(rx.text(b.created, size="2", white_space="nowrap")),
            rx.table.cell(rx.text(rx.cond(b.finished != "", b.finished, "—"), size="2", white_space="nowrap")),
            rx.table.cell(
                rx.cond(
                    can_write & b.can_cancel,
                    confirm_button(
                        "Cancel",
                        rx.fragment("Cancel this stock batch of ", b.sku, "?"),
                        "Its waiting prints are cancelled and leave the SimplyPrint queue; a print already on a "
                        "printer is flagged for review. The shelf does not change.",
                        A.cancel_batch(b.id),
                        icon="circle-x",
                        keep="Keep printing",
                        confirm="Cancel batch",
                        testid="batch-cancel",
                        confirm_testid="batch-cancel-confirm",
                    ),
                )
            ),
            align="center",
            data_testid="batch-row",
        )

    heads = [("Product", "auto")] if product else []
    heads += [
        ("Progress", "170px"),
        ("Status", "180px"),
        ("Origin", "90px"),
        ("Started", "150px"),
        ("Finished", "150px"),
        ("", "110px"),
    ]
    return table_card(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, width=w) for h, w in heads])),
            rx.table.body(rx.foreach(rows, row)),
            variant="surface",
            width="100%",
            min_width="960px" if product else "760px",
            table_layout="fixed",
            data_testid="batches-table",
        )
    )


# --- /inventory: the scheduler's status card ---------------------------------------------------------


def _condition(c: rx.Var[ConditionView]) -> rx.Component:
    return rx.hstack(
        rx.cond(
            c.ok,
            rx.icon("circle-check", size=16, color=rx.color("green", 10), aria_label="holds"),
            rx.icon("circle-x", size=16, color=rx.color("red", 10), aria_label="does not hold"),
        ),
        rx.vstack(
            rx.text(c.name, size="1", weight="bold", color_scheme="gray"),
            rx.text(c.text, size="2"),
            spacing="0",
            min_width="0",
        ),
        align="start",
        spacing="2",
        data_testid="replenishment-condition",
    )


def _replenishment_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.icon("calendar-clock", size=18),
                rx.heading("Replenishment", size="4"),
                rx.cond(
                    S.replenishing & S.enabled,
                    rx.badge("On", color_scheme="green", variant="soft"),
                    rx.badge("Off", color_scheme="gray", variant="soft"),
                ),
                rx.spacer(),
                rx.cond(
                    S.can_write,
                    rx.button(
                        rx.icon("play", size=14),
                        "Run now",
                        size="2",
                        variant="soft",
                        loading=S.running,
                        on_click=S.run_now,
                        data_testid="run-now",
                    ),
                ),
                align="center",
                spacing="2",
                width="100%",
            ),
            rx.cond(
                S.run.at != "",
                rx.vstack(
                    rx.text(
                        "Last run ",
                        S.run.at,
                        " (",
                        S.run.ago,
                        ", ",
                        S.run.trigger,
                        ")",
                        size="1",
                        color_scheme="gray",
                        data_testid="replenishment-last",
                    ),
                    rx.text(S.run.summary, size="3", weight="medium", data_testid="replenishment-summary"),
                    rx.grid(
                        rx.foreach(S.conditions, _condition),
                        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.foreach(S.run.notes, lambda n: rx.text("· ", n, size="1", color_scheme="gray")),
                    spacing="2",
                    width="100%",
                ),
                rx.text(
                    "The scheduler has not run yet.", size="2", color_scheme="gray", data_testid="replenishment-summary"
                ),
            ),
            rx.separator(size="4"),
            rx.flex(
                rx.text("Next evaluation: ", rx.text.strong(S.next_run), size="2", data_testid="replenishment-next"),
                rx.text(S.settings_words, size="1", color_scheme="gray", data_testid="replenishment-settings"),
                rx.cond(S.can_settle, rx.link("Change in Settings", href="/settings", size="1")),
                spacing="3",
                wrap="wrap",
                align="center",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="replenishment-status",
    )


# --- /inventory: the stock table -------------------------------------------------------------------------


def _stock_row(r: rx.Var[StockRowView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(r.sku, href="/inventory/products/" + r.id, weight="medium", data_testid="stock-sku"),
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(r.name, size="2"),
                rx.cond(r.inactive, rx.badge("Inactive", color_scheme="gray", variant="outline", size="1")),
                spacing="1",
            )
        ),
        rx.table.cell(stock_bar(r)),
        rx.table.cell(rx.text(r.current, weight="bold", data_testid="stock-current"), text_align="right"),
        rx.table.cell(rx.text(r.minimum, data_testid="stock-minimum"), text_align="right"),
        rx.table.cell(rx.text(r.maximum, data_testid="stock-maximum"), text_align="right"),
        rx.table.cell(r.priority, text_align="right"),
        rx.table.cell(
            rx.cond(
                r.pending > 0,
                rx.badge(rx.icon("printer", size=12), r.pending, color_scheme="blue", variant="soft"),
                rx.text("—", color_scheme="gray"),
            ),
            data_testid="stock-printing",
        ),
        rx.table.cell(stock_badge(r.status, data_testid="stock-status")),
        rx.table.cell(rx.cond(S.can_write, stock_actions_menu(S, r))),
        align="center",
        data_testid="stock-row",
    )


def _stock_table() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    sortable_header(S, "SKU", "sku", width="140px"),
                    sortable_header(S, "Name", "name"),
                    rx.table.column_header_cell("Stock", width="150px"),
                    sortable_header(S, "On the shelf", "current", width="110px", text_align="right"),
                    sortable_header(S, "Minimum", "minimum", width="95px", text_align="right"),
                    rx.table.column_header_cell("Maximum", width="85px", text_align="right"),
                    sortable_header(S, "Priority", "priority", width="85px", text_align="right"),
                    rx.table.column_header_cell("Printing", width="80px"),
                    rx.table.column_header_cell("Status", width="75px"),
                    rx.table.column_header_cell("", width="52px"),
                )
            ),
            rx.table.body(rx.foreach(S.rows, _stock_row)),
            variant="surface",
            width="100%",
            min_width="1000px",
            table_layout="fixed",
            data_testid="stock-table",
        )
    )


def _chip(value: str, label: str, count: rx.Var, current: rx.Var, on_click, prefix: str) -> rx.Component:
    return filter_chip(current, value, label, on_click, count, prefix)


def _stock_view() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.flex(
                _chip("", "All", S.counts.all, S.status, S.set_status, "status"),
                _chip("low", "Low", S.counts.low, S.status, S.set_status, "status"),
                _chip("ok", "OK", S.counts.ok, S.status, S.set_status, "status"),
                _chip("over", "Over", S.counts.over, S.status, S.set_status, "status"),
                spacing="2",
                wrap="wrap",
            ),
            rx.box(
                search_box(S.search, S.set_search, "Search SKU or name", width="100%", data_testid="stock-search"),
                width=rx.breakpoints(initial="100%", sm="280px"),
            ),
            rx.cond(
                S.filtered, rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=S.clear_filters)
            ),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.cond(
            S.rows.length() > 0,
            _stock_table(),
            rx.cond(
                S.filtered,
                empty_state("list-filter", "No products match", "Change or clear the filters."),
                empty_state(
                    "package",
                    "No printed products yet",
                    "Map a SKU to its print files in Printing › Printed products; its shelf shows here.",
                ),
            ),
        ),
        pager(S.page, S.page_count, S.prev_page, S.next_page),
        spacing="3",
        width="100%",
        min_width="0",
    )


def _batches_view() -> rx.Component:
    c = S.batch_counts
    return rx.vstack(
        rx.flex(
            _chip("active", "Active", c.active, S.batches, S.set_batches, "batches"),
            _chip("completed", "Completed", c.completed, S.batches, S.set_batches, "batches"),
            _chip("failed", "Failed", c.failed, S.batches, S.set_batches, "batches"),
            _chip("cancelled", "Cancelled", c.cancelled, S.batches, S.set_batches, "batches"),
            _chip("all", "All", c.all, S.batches, S.set_batches, "batches"),
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            S.batch_rows.length() > 0,
            batch_table(S.batch_rows, S, S.can_write),
            empty_state(
                "layers",
                "No stock batches here",
                "A batch is one unit printed for the shelf: the scheduler plans them, or “Print for stock” on a "
                "product.",
            ),
        ),
        pager(S.page, S.page_count, S.prev_page, S.next_page),
        spacing="3",
        width="100%",
        min_width="0",
    )


@staff_page("/inventory", "Inventory", permission="inventory.read", icon="warehouse", on_load=S.load)
def inventory_page() -> rx.Component:
    return rx.cond(
        S.error != "",
        rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%"),
        rx.vstack(
            rx.flex(
                inventory_tabs(S.view),
                rx.spacer(),
                rx.text(
                    "Live · updated ", S.updated_at, size="1", color_scheme="gray", data_testid="inventory-updated"
                ),
                align="center",
                spacing="3",
                wrap="wrap",
                width="100%",
            ),
            rx.cond(
                S.loaded,
                rx.vstack(
                    rx.cond(~S.enabled, stock_off_callout(S.can_settle)),
                    _replenishment_card(),
                    rx.cond(S.view == "batches", _batches_view(), _stock_view()),
                    spacing="4",
                    width="100%",
                    min_width="0",
                ),
                loading_table(8),
            ),
            stock_dialog(S),
            spacing="4",
            width="100%",
            min_width="0",
        ),
    )


# --- /inventory/products/[mapping_id] ------------------------------------------------------------------


def _figure(label: str, value: Any, testid: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.heading(value, size="6", data_testid=testid),
            spacing="1",
        ),
        min_width="120px",
    )


def _product_actions() -> rx.Component:
    def button(kind: str, label: str, icon: str, **props) -> rx.Component:
        return rx.button(
            rx.icon(icon, size=14),
            label,
            size="2",
            variant="soft",
            on_click=P.open_action(kind, P.product),
            data_testid=f"product-{kind}",
            **props,
        )

    return rx.flex(
        button("configure", "Configure", "sliders-horizontal"),
        button("adjust", "Adjust", "diff"),
        button("print", "Print for stock", "printer"),
        button("scrap", "Scrap", "trash-2", color_scheme="red"),
        spacing="2",
        wrap="wrap",
    )


def _history_chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Stock over time", size="2", weight="medium"),
            rx.cond(
                P.history.length() > 0,
                rx.recharts.area_chart(
                    rx.recharts.area(
                        data_key="stock",
                        name="On the shelf",
                        type_="stepAfter",
                        stroke=rx.color("accent", 9),
                        fill=rx.color("accent", 4),
                        is_animation_active=False,  # a live refresh redraws it
                    ),
                    rx.recharts.x_axis(data_key="at", tick_line=False, font_size=11, min_tick_gap=40),
                    rx.recharts.y_axis(allow_decimals=False, width=32, font_size=11),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.reference_line(
                        y=P.product.minimum,
                        stroke=rx.color("red", 8),
                        stroke_dasharray="4 4",
                        if_overflow="extendDomain",
                    ),
                    data=P.history.to(list[dict]),
                    height=200,
                    width="100%",
                ),
                rx.text("No stock movements yet.", size="2", color_scheme="gray"),
            ),
            rx.text("The dashed line is the minimum.", size="1", color_scheme="gray"),
            spacing="2",
            width="100%",
        ),
        width="100%",
        data_testid="stock-chart",
    )


def _ledger_row(e: rx.Var[LedgerView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(e.at, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(e.kind, size="2"), data_testid="ledger-type"),
        rx.table.cell(
            rx.text(e.change, weight="bold", color_scheme=rx.cond(e.inward, "green", "red")),
            text_align="right",
            data_testid="ledger-change",
        ),
        rx.table.cell(e.after, text_align="right"),
        rx.table.cell(
            rx.cond(
                e.order_id != "",
                rx.link("Order ", e.order_number, href="/orders/" + e.order_id, size="2", data_testid="ledger-order"),
                rx.text(e.reference, size="2"),
            )
        ),
        rx.table.cell(rx.text(e.reason, size="2"), data_testid="ledger-reason"),
        rx.table.cell(rx.text(rx.cond(e.who != "", e.who, "—"), size="2")),
        align="center",
        data_testid="ledger-row",
    )


def _ledger() -> rx.Component:
    heads = (
        ("When", "170px"),
        ("What", "170px"),
        ("Change", "80px"),
        ("After", "70px"),
        ("Reference", "130px"),
        ("Reason", "auto"),
        ("Who", "120px"),
    )
    return rx.vstack(
        rx.heading("Ledger", size="4"),
        rx.cond(
            P.ledger.length() > 0,
            table_card(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(*[rx.table.column_header_cell(h, width=w, text_align=_align(h)) for h, w in heads])
                    ),
                    rx.table.body(rx.foreach(P.ledger, _ledger_row)),
                    variant="surface",
                    width="100%",
                    min_width="900px",
                    table_layout="fixed",
                    data_testid="ledger-table",
                )
            ),
            empty_state("scroll-text", "No stock movements yet", "Every change of the shelf is written here."),
        ),
        pager(P.page, P.page_count, P.prev_page, P.next_page),
        spacing="3",
        width="100%",
        min_width="0",
    )


def _align(head: str) -> str:
    return "right" if head in ("Change", "After") else "left"


def _product_body() -> rx.Component:
    m = P.product
    return rx.vstack(
        rx.flex(
            rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Inventory")), href="/inventory", size="2"),
            rx.heading(m.sku, size="6", data_testid="product-sku"),
            rx.text(m.name, size="3", color_scheme="gray"),
            stock_badge(m.status, data_testid="product-status"),
            rx.cond(m.inactive, rx.badge("Inactive", color_scheme="gray", variant="outline")),
            rx.spacer(),
            rx.link("Print files and parts", href="/printing/products/" + m.id, size="2"),
            align="center",
            gap="8px",
            width="100%",
            wrap="wrap",
        ),
        rx.cond(~P.enabled, stock_off_callout(P.can_settle)),
        rx.flex(
            _figure("On the shelf", m.current, "product-current"),
            _figure("Minimum", m.minimum, "product-minimum"),
            _figure("Maximum", m.maximum, "product-maximum"),
            _figure("Printing", m.pending, "product-printing"),
            _figure("Priority", m.priority, "product-priority"),
            _figure("Units per run", m.batch_size, "product-batch-size"),
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.flex(
            stock_bar(m, width="320px"),
            rx.text(
                m.current,
                " on the shelf · minimum ",
                m.minimum,
                " · maximum ",
                m.maximum,
                size="1",
                color_scheme="gray",
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(P.can_write, _product_actions()),
        _history_chart(),
        _ledger(),
        rx.heading("Stock batches", size="4"),
        rx.cond(
            P.product_batches.length() > 0,
            batch_table(P.product_batches, P, P.can_write, product=False),
            empty_state("layers", "No stock batches", "Batches printed for this product's shelf show here."),
        ),
        stock_dialog(P),
        spacing="4",
        width="100%",
        min_width="0",
    )


@staff_page(
    "/inventory/products/[mapping_id]",
    "Product stock",
    permission="inventory.read",
    icon="warehouse",
    nav=False,
    on_load=P.load,
)
def inventory_product_page() -> rx.Component:
    return detail_page(P.error, P.loaded, "Product not found", _product_body())
