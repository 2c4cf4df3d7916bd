"""/printfarm: the print queue (orders before stock), printers, failures and every print job."""

from __future__ import annotations

import reflex as rx

from app.printing import machine
from components.layout import staff_page, stat_card
from components.ui import (
    bulk_bar,
    confirm_button,
    empty_state,
    loading_table,
    pager,
    search_box,
    select,
    select_all_cell,
    select_cell,
    status_badge,
    status_label,
    table_card,
)
from state.printfarm import SORT_CHOICES, Choice, PrinterCard, PrintJobRow
from state.printfarm import PrintFarmState as S


def job_status_badge(status: rx.Var) -> rx.Component:
    return status_badge(status, machine.STATUS, variant="soft", data_testid="job-status", white_space="nowrap")


def purpose_badge(purpose: rx.Var) -> rx.Component:
    return status_badge(purpose, machine.PURPOSE, variant="outline", white_space="nowrap")


def _details(detail: rx.Var, testid: str) -> rx.Component:
    """The technical detail of an error, folded away until asked for."""
    return rx.cond(
        detail != "",
        rx.el.details(
            rx.el.summary(
                rx.text("Show details", as_="span", size="1", color_scheme="gray"),
                cursor="pointer",
            ),
            rx.code(detail, size="1", variant="ghost", color_scheme="gray", white_space="pre-wrap"),
            data_testid=testid,
        ),
    )


# --- one job -----------------------------------------------------------------------------------


def _order_cell(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.cond(
        job.order_id != "",
        rx.link(job.order, href="/orders/" + job.order_id, weight="medium", data_testid="job-order"),
        purpose_badge(job.purpose),
    )


def _what_cell(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.vstack(
        rx.text(job.product, size="2", weight="medium"),
        rx.hstack(
            rx.text(job.part, " · copy ", job.copy, size="1", color_scheme="gray"),
            rx.code(job.sku, size="1", variant="ghost", color_scheme="gray", white_space="nowrap"),
            spacing="2",
            wrap="wrap",
            row_gap="0",
        ),
        spacing="0",
    )


def _state_cell(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            job_status_badge(job.status),
            rx.cond(
                job.needs_review,
                rx.badge(
                    rx.icon("eye", size=12),
                    "Needs review",
                    color_scheme="orange",
                    variant="solid",
                    white_space="nowrap",
                    data_testid="job-needs-review",
                ),
            ),
            rx.cond(job.scrap, rx.badge("Scrap", color_scheme="gray", variant="outline")),
            spacing="1",
            wrap="wrap",
        ),
        rx.cond(
            job.error != "",
            rx.vstack(
                rx.text(job.error, size="1", color_scheme="red", data_testid="job-error"),
                _details(job.error_detail, "job-error-details"),
                spacing="0",
            ),
        ),
        spacing="1",
    )


def _printer_cell(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.cond(
        job.printer != "",
        rx.hstack(
            rx.icon("printer", size=14, color=rx.color("gray", 10)),
            rx.text(job.printer, size="2"),
            align="center",
            spacing="1",
            data_testid="job-printer",
        ),
        rx.text(
            rx.cond(job.status == "QUEUED", "Not assigned", "—"),
            size="2",
            color_scheme="gray",
            data_testid="job-printer",
        ),
    )


def _progress_cell(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.cond(
        job.printing,
        rx.vstack(
            rx.hstack(
                rx.progress(value=job.progress, max=100, width="90px", color_scheme="blue"),
                rx.text(job.progress, "%", size="1", min_width="34px"),
                align="center",
                spacing="2",
            ),
            rx.cond(
                job.elapsed != "",
                rx.text(
                    job.elapsed,
                    " printed",
                    rx.cond(job.remaining != "", rx.fragment(" · about ", job.remaining, " left"), ""),
                    size="1",
                    color_scheme="gray",
                    data_testid="job-time",
                ),
            ),
            spacing="1",
            data_testid="job-progress",
        ),
        rx.text(
            rx.cond(job.status == "COMPLETED", "Done", "—"),
            size="2",
            color_scheme="gray",
            data_testid="job-progress",
        ),
    )


def _cancel_button(job: rx.Var[PrintJobRow]) -> rx.Component:
    return confirm_button(
        "Cancel",
        "Cancel this print job?",
        rx.text(
            job.product,
            " · ",
            job.part,
            " (copy ",
            job.copy,
            ")",
            rx.cond(job.order != "", rx.fragment(" for order ", job.order), ""),
            ". ",
            rx.cond(
                job.status == "PRINTING",
                "It is printing right now: the print is stopped on the printer.",
                "It is taken off the SimplyPrint queue.",
            ),
            " You can queue it again later.",
        ),
        S.cancel(job.id),
        icon="ban",
        keep="Keep it",
        confirm="Cancel job",
        testid="job-cancel",
        confirm_testid="job-cancel-confirm",
    )


def _move_menu(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("arrow-right-left", size=14),
                "Move",
                size="1",
                variant="soft",
                color_scheme="gray",
                data_testid="job-move",
            )
        ),
        rx.menu.content(
            rx.box(rx.text("Set the status by hand", size="1", color_scheme="gray"), padding="4px 8px"),
            rx.foreach(
                job.moves,
                lambda target: rx.menu.item(
                    status_label(target, machine.STATUS),
                    on_click=S.move(job.id, target),
                    data_testid="job-move-" + target,
                ),
            ),
        ),
    )


def _actions(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.cond(
        S.can_write,
        rx.hstack(
            rx.cond(
                job.can_requeue,
                rx.button(
                    rx.icon("rotate-ccw", size=14),
                    "Requeue",
                    size="1",
                    variant="soft",
                    on_click=S.requeue(job.id),
                    data_testid="job-requeue",
                ),
            ),
            rx.cond(
                job.needs_review,
                rx.button(
                    rx.icon("check", size=14),
                    "Reviewed",
                    size="1",
                    variant="soft",
                    color_scheme="orange",
                    on_click=S.reviewed(job.id),
                    data_testid="job-reviewed",
                ),
            ),
            rx.cond(job.moves.length() > 0, _move_menu(job)),
            rx.cond(job.can_cancel, _cancel_button(job)),
            spacing="1",
            justify="end",
            wrap="wrap",
        ),
    )


def _header(columns: tuple[tuple[str, str], ...], *, writer: bool = True, select_all: bool = False) -> rx.Component:
    """A table's header row; the actions column only for people who can act."""
    cells = [rx.table.column_header_cell(h, width=w) for h, w in columns]
    if select_all:
        cells.insert(0, rx.cond(S.can_write, select_all_cell(S)))
    if writer:
        cells.append(rx.cond(S.can_write, rx.table.column_header_cell("", width="150px")))
    return rx.table.header(rx.table.row(*cells))


def _actions_cell(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.cond(S.can_write, rx.table.cell(_actions(job)))


# --- the queue ---------------------------------------------------------------------------------


def _queue_row(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text("#", job.position, size="2", color_scheme="gray")),
        rx.table.cell(_order_cell(job)),
        rx.table.cell(_what_cell(job)),
        rx.table.cell(_state_cell(job)),
        rx.table.cell(_printer_cell(job)),
        rx.table.cell(_progress_cell(job)),
        _actions_cell(job),
        align="center",
        data_testid="queue-row",
    )


QUEUE_COLUMNS = (
    ("#", "44px"),
    ("Order", "100px"),
    ("Product / part", "auto"),
    ("Status", "150px"),
    ("Printer", "140px"),
    ("Progress", "160px"),
)


def _queue_table(
    title: str, icon: str, hint: str, rows: rx.Var, waiting: rx.Var, purpose: str, testid: str, empty: str
) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(icon, size=18),
                rx.heading(title, size="3"),
                rx.badge(waiting, variant="soft", color_scheme="gray", data_testid=f"{testid}-count"),
                rx.text(hint, size="1", color_scheme="gray"),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.cond(
                rows.length() > 0,
                rx.box(
                    rx.table.root(
                        _header(QUEUE_COLUMNS),
                        rx.table.body(rx.foreach(rows, _queue_row)),
                        size="1",
                        variant="ghost",
                        width="100%",
                        min_width="820px",
                        table_layout="fixed",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.text(empty, size="2", color_scheme="gray"),
            ),
            rx.cond(
                waiting > rows.length(),
                rx.hstack(
                    rx.text("Showing the first ", rows.length(), " of ", waiting, ".", size="2", color_scheme="gray"),
                    rx.button(
                        "See them all in the job list",
                        rx.icon("arrow-down", size=14),
                        size="1",
                        variant="ghost",
                        on_click=S.show_queue(purpose),
                        data_testid=f"{testid}-all",
                    ),
                    align="center",
                    spacing="2",
                    wrap="wrap",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid=testid,
    )


def _queue() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Queue", size="4"),
            rx.text("in the order printers take it", size="2", color_scheme="gray"),
            align="baseline",
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            S.queue_empty,
            empty_state(
                "printer",
                "Nothing to print",
                "New orders for mapped products add their parts here; failed jobs can be requeued.",
            ),
            rx.vstack(
                _queue_table(
                    "Orders",
                    "shopping-cart",
                    "first, oldest first",
                    S.order_queue,
                    S.order_waiting,
                    "ORDER",
                    "order-queue",
                    "No order parts waiting.",
                ),
                _queue_table(
                    "Stock",
                    "package",
                    "after every order part",
                    S.stock_queue,
                    S.stock_waiting,
                    "STOCK",
                    "stock-queue",
                    "No stock parts waiting.",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )


# --- printers ---------------------------------------------------------------------------------


def _printer(p: rx.Var[PrinterCard]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.box(
                    width="9px",
                    height="9px",
                    min_width="9px",
                    border_radius="50%",
                    background=rx.cond(p.online, rx.color("green", 9), rx.color("gray", 8)),
                ),
                rx.text(p.name, weight="bold", size="2"),
                rx.spacer(),
                status_badge(
                    p.state, machine.PRINTER_STATE, variant="soft", white_space="nowrap", data_testid="printer-state"
                ),
                align="center",
                width="100%",
                spacing="2",
                wrap="wrap",
            ),
            rx.text(
                rx.cond(p.model != "", rx.fragment(p.model, " · "), ""),
                rx.cond(p.online, "Online", "Offline"),
                " · seen ",
                p.updated,
                size="1",
                color_scheme="gray",
            ),
            rx.cond(
                p.file != "",
                rx.vstack(
                    rx.hstack(
                        rx.icon("file-box", size=12, min_width="12px"),
                        rx.text(
                            p.file,
                            size="1",
                            trim="both",
                            overflow="hidden",
                            white_space="nowrap",
                            text_overflow="ellipsis",
                            max_width="100%",
                        ),
                        align="center",
                        spacing="1",
                        width="100%",
                        overflow="hidden",
                    ),
                    rx.hstack(
                        rx.progress(value=p.progress, max=100, width="100%"),
                        rx.text(p.progress, "%", size="1", min_width="34px"),
                        align="center",
                        width="100%",
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.text("Idle", size="1", color_scheme="gray"),
            ),
            spacing="2",
            width="100%",
        ),
        min_width="0",
        data_testid="printer-card",
    )


def _printers() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Printers", size="4"),
            rx.badge(S.printers.length(), variant="soft", color_scheme="gray"),
            rx.cond(
                S.manual & (S.printers.length() > 0),
                rx.text("as last seen on SimplyPrint", size="1", color_scheme="gray"),
            ),
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            S.printers.length() > 0,
            rx.grid(
                rx.foreach(S.printers, _printer),
                columns=rx.breakpoints(initial="1", sm="2", md="3", lg="4"),
                spacing="3",
                width="100%",
                data_testid="printers",
            ),
            rx.text(
                rx.cond(
                    S.connected,
                    "SimplyPrint reports no printers yet; they appear after the next poll.",
                    "No printers: they come from SimplyPrint once it is connected.",
                ),
                size="2",
                color_scheme="gray",
            ),
        ),
        spacing="2",
        width="100%",
    )


# --- failures and review ------------------------------------------------------------------------


def _attention_row(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(_order_cell(job)),
        rx.table.cell(_what_cell(job)),
        rx.table.cell(_state_cell(job)),
        rx.table.cell(_printer_cell(job)),
        rx.table.cell(rx.text(job.updated, size="1")),
        _actions_cell(job),
        align="center",
        data_testid="attention-row",
    )


def _attention() -> rx.Component:
    return rx.cond(
        S.attention.length() > 0,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("triangle-alert", size=18, color=rx.color("red", 9)),
                    rx.heading("Needs attention", size="3"),
                    rx.text("failed prints and prints to check after a cancelled order", size="1", color_scheme="gray"),
                    align="center",
                    spacing="2",
                    wrap="wrap",
                ),
                rx.box(
                    rx.table.root(
                        _header(
                            (
                                ("Order", "110px"),
                                ("Product / part", "auto"),
                                ("Status", "260px"),
                                ("Printer", "140px"),
                                ("Updated", "120px"),
                            )
                        ),
                        rx.table.body(rx.foreach(S.attention, _attention_row)),
                        size="1",
                        variant="ghost",
                        width="100%",
                        min_width="820px",
                        table_layout="fixed",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            data_testid="attention",
        ),
    )


# --- every job ---------------------------------------------------------------------------------


def _job_row(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.table.row(
        rx.cond(S.can_write, select_cell(S, job.id)),
        rx.table.cell(rx.text(job.queued, size="1")),
        rx.table.cell(_order_cell(job)),
        rx.table.cell(_what_cell(job)),
        rx.table.cell(_state_cell(job)),
        rx.table.cell(_printer_cell(job)),
        rx.table.cell(_progress_cell(job)),
        _actions_cell(job),
        align="center",
        data_testid="job-row",
    )


def _choices(value: rx.Var, on_change, options: rx.Var[list[Choice]], label: str) -> rx.Component:
    """A filter drop-down whose options come from the state (the printers)."""
    return rx.select.root(
        rx.select.trigger(aria_label=label, data_testid="filter-printer"),
        rx.select.content(rx.foreach(options, lambda c: rx.select.item(c.label, value=c.value))),
        value=value,
        on_change=on_change,
    )


def _bulk_actions() -> rx.Component:
    return bulk_bar(
        S,
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.icon("arrow-right-left", size=14), "Move to…", size="1", variant="soft", data_testid="bulk-move"
                )
            ),
            rx.menu.content(
                rx.box(rx.text("Jobs that cannot go there stay", size="1", color_scheme="gray"), padding="4px 8px"),
                *[
                    rx.menu.item(st.label, on_click=S.bulk_move(st.value), data_testid=f"bulk-move-{st.value}")
                    for st in machine.STATUS
                    if st.value != "CANCELLED"
                ],
            ),
        ),
        rx.button(
            rx.icon("rotate-ccw", size=14),
            "Requeue",
            size="1",
            variant="soft",
            on_click=S.bulk_requeue,
            data_testid="bulk-requeue",
        ),
        confirm_button(
            "Cancel jobs",
            "Cancel the ticked print jobs?",
            "Waiting jobs leave the SimplyPrint queue and printing ones are stopped on their printer. "
            "Jobs that are already finished stay as they are. You can queue them again later.",
            S.bulk_cancel,
            icon="ban",
        ),
    )


def _filters() -> rx.Component:
    statuses = [("all", "All statuses")] + [(s.value, s.label) for s in machine.STATUS]
    purposes = [("all", "Orders and stock")] + [(p.value, p.label) for p in machine.PURPOSE]
    return rx.flex(
        rx.box(
            search_box(
                S.search, S.set_search, "Search order number or product", width="100%", data_testid="job-search"
            ),
            width=rx.breakpoints(initial="100%", sm="280px"),
        ),
        select(S.status, S.set_status, statuses, "Status"),
        select(S.purpose, S.set_purpose, purposes, "Orders or stock"),
        _choices(S.printer, S.set_printer, S.printer_choices, "Printer"),
        rx.hstack(
            select(S.sort, S.set_sort, SORT_CHOICES, "Sort by"),
            rx.icon_button(
                rx.cond(
                    S.descending, rx.icon("arrow-down-wide-narrow", size=14), rx.icon("arrow-up-narrow-wide", size=14)
                ),
                variant="soft",
                color_scheme="gray",
                on_click=S.flip_order,
                aria_label=rx.cond(S.descending, "Newest first; show oldest first", "Oldest first; show newest first"),
                data_testid="sort-direction",
            ),
            spacing="1",
            align="center",
        ),
        rx.cond(
            S.filtered,
            rx.button(rx.icon("x", size=14), "Clear filters", variant="ghost", on_click=S.clear_filters),
        ),
        rx.spacer(),
        rx.text(
            S.total, rx.cond(S.total == 1, " job", " jobs"), size="2", color_scheme="gray", data_testid="job-total"
        ),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
    )


def _jobs() -> rx.Component:
    return rx.vstack(
        rx.heading("All print jobs", size="4", id="jobs"),
        _filters(),
        rx.cond(S.can_write, _bulk_actions()),
        rx.cond(
            S.rows.length() > 0,
            table_card(
                rx.table.root(
                    _header(
                        (
                            ("Queued", "100px"),
                            ("Order", "100px"),
                            ("Product / part", "auto"),
                            ("Status", "150px"),
                            ("Printer", "130px"),
                            ("Progress", "160px"),
                        ),
                        select_all=True,
                    ),
                    rx.table.body(rx.foreach(S.rows, _job_row)),
                    variant="surface",
                    width="100%",
                    min_width="1000px",
                    table_layout="fixed",
                    data_testid="jobs-table",
                ),
            ),
            empty_state(
                "list-filter",
                rx.cond(S.filtered, "No print jobs match", "No print jobs yet"),
                rx.cond(
                    S.filtered,
                    "Change or clear the filters.",
                    "Orders for mapped products add jobs here.",
                ),
            ),
        ),
        pager(S.page, S.page_count, S.prev_page, S.next_page),
        spacing="3",
        width="100%",
    )


# --- the page ----------------------------------------------------------------------------------


def _connection_banner() -> rx.Component:
    return rx.cond(
        S.manual,
        rx.callout(
            rx.text(
                "Manual mode: SimplyPrint is not connected, so nothing is sent to printers. Move jobs "
                "through their statuses by hand, or ",
                rx.link("connect SimplyPrint", href="/settings/integrations"),
                ".",
            ),
            icon="hand",
            color_scheme="amber",
            width="100%",
            data_testid="manual-mode",
        ),
        rx.cond(
            S.last_error != "",
            rx.callout(
                rx.vstack(
                    rx.text(S.last_error),
                    _details(S.last_error_detail, "simplyprint-error-details"),
                    spacing="1",
                ),
                icon="cloud-alert",
                color_scheme="red",
                width="100%",
                data_testid="simplyprint-error",
            ),
        ),
    )


def _stats() -> rx.Component:
    cards = [
        stat_card("Queued", S.stats.queued, "list-ordered", "stat-queued"),
        stat_card("Printing", S.stats.printing, "printer", "stat-printing"),
        stat_card("Completed today", S.stats.done_today, "circle-check", "stat-done-today"),
        stat_card("Failed", S.stats.failed, "circle-x", "stat-failed"),
    ]
    for card in cards:  # two a row on a phone, four on a wider screen
        card.style["min_width"] = "0"
    return rx.flex(
        rx.grid(
            *cards,
            columns=rx.breakpoints(initial="2", md="4"),
            spacing="3",
            flex_grow="1",
            min_width="0",
            max_width="820px",
        ),
        rx.spacer(),
        rx.vstack(
            status_badge(S.sync, machine.SYNC, variant="soft", data_testid="farm-sync-state"),
            rx.cond(
                S.connected & S.can_write,
                rx.button(
                    rx.icon("refresh-cw", size=12),
                    "Sync with SimplyPrint",
                    size="1",
                    variant="ghost",
                    on_click=S.sync_now,
                    data_testid="farm-sync",
                ),
            ),
            rx.text("Live · updated ", S.updated_at, size="1", color_scheme="gray", data_testid="farm-updated"),
            rx.cond(S.last_poll != "", rx.text("Last poll ", S.last_poll, size="1", color_scheme="gray")),
            align="start",
            spacing="1",
        ),
        spacing="3",
        wrap="wrap",
        width="100%",
        align="center",
    )


@staff_page("/printfarm", "Print farm", permission="printJobs.read", icon="printer", on_load=S.load)
def printfarm_page() -> rx.Component:
    return rx.cond(
        S.error != "",
        rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%"),
        rx.cond(
            S.loaded,
            rx.vstack(
                _connection_banner(),
                _stats(),
                _attention(),
                _queue(),
                _printers(),
                rx.separator(),
                _jobs(),
                spacing="5",
                width="100%",
                min_width="0",
            ),
            loading_table(10),
        ),
    )
