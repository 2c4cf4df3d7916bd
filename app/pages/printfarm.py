"""/printfarm: the print queue (orders before stock), printers, failures and every print job."""

from __future__ import annotations

import reflex as rx

from app.printing import machine
from components.layout import staff_page, stat_card
from components.ui import empty_state, loading_table, pager, select, status_badge
from state.printfarm import STATUSES, PrinterCard, PrintJobRow
from state.printfarm import PrintFarmState as S


def job_status_badge(status: rx.Var) -> rx.Component:
    return status_badge(status, machine.STATUS, variant="soft", data_testid="job-status")


def purpose_badge(purpose: rx.Var) -> rx.Component:
    return rx.badge(purpose, color_scheme=rx.cond(purpose == "ORDER", "amber", "cyan"), variant="outline")


# --- one job -----------------------------------------------------------------------------------


def _order_cell(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.cond(
        job.order_id != "",
        rx.link(job.order, href="/orders/" + job.order_id, weight="medium", data_testid="job-order"),
        rx.text("stock", size="2", color_scheme="gray"),
    )


def _what_cell(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.vstack(
        rx.text(job.product, size="2", weight="medium"),
        rx.hstack(
            rx.text(job.part, size="1", color_scheme="gray"),
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
                    "needs review",
                    color_scheme="orange",
                    variant="solid",
                    data_testid="job-needs-review",
                ),
            ),
            rx.cond(job.scrap, rx.badge("scrap", color_scheme="gray", variant="outline")),
            spacing="1",
            wrap="wrap",
        ),
        rx.cond(job.error != "", rx.text(job.error, size="1", color_scheme="red", data_testid="job-error")),
        spacing="1",
    )


def _progress_cell(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.hstack(
        rx.progress(
            value=job.progress,
            max=100,
            width="90px",
            color_scheme=rx.cond(job.status == "FAILED", "red", "blue"),
        ),
        rx.text(job.progress, "%", size="1", color_scheme="gray", min_width="34px"),
        align="center",
        spacing="2",
        data_testid="job-progress",
    )


def _cancel_button(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("ban", size=14),
                "Cancel",
                size="1",
                color_scheme="red",
                variant="soft",
                data_testid="job-cancel",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel this print job?"),
            rx.alert_dialog.description(
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
                )
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Cancel job", color_scheme="red", on_click=S.cancel(job.id), data_testid="job-cancel-confirm"
                    )
                ),
                justify="end",
                spacing="3",
                padding_top="12px",
            ),
        ),
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
            rx.box(rx.text("Set status by hand", size="1", color_scheme="gray"), padding="4px 8px"),
            rx.foreach(
                job.moves,
                lambda target: rx.menu.item(target, on_click=S.move(job.id, target), data_testid="job-move-" + target),
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
        ),
    )


def _queue_row(job: rx.Var[PrintJobRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text("#", job.position, size="2", color_scheme="gray")),
        rx.table.cell(_order_cell(job)),
        rx.table.cell(_what_cell(job)),
        rx.table.cell(job.copy, text_align="center"),
        rx.table.cell(_state_cell(job)),
        rx.table.cell(rx.text(rx.cond(job.printer != "", job.printer, "—"), size="2")),
        rx.table.cell(_progress_cell(job)),
        rx.table.cell(_actions(job)),
        align="center",
        data_testid="queue-row",
    )


def _queue_table(title: str, icon: str, hint: str, rows: rx.Var, testid: str, empty: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(icon, size=18),
                rx.heading(title, size="3"),
                rx.badge(rows.length(), variant="soft", color_scheme="gray"),
                rx.text(hint, size="1", color_scheme="gray"),
                align="center",
                spacing="2",
            ),
            rx.cond(
                rows.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h, width=w)
                                for h, w in (
                                    ("#", "40px"),
                                    ("Order", "110px"),
                                    ("Product / part", "auto"),
                                    ("Copy", "50px"),
                                    ("Status", "130px"),
                                    ("Printer", "130px"),
                                    ("Progress", "140px"),
                                    ("", "180px"),
                                )
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(rows, _queue_row)),
                    size="1",
                    variant="ghost",
                    width="100%",
                    table_layout="fixed",
                ),
                rx.text(empty, size="2", color_scheme="gray"),
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
                    "order-queue",
                    "No order parts waiting.",
                ),
                _queue_table(
                    "Stock",
                    "package",
                    "after every order part",
                    S.stock_queue,
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
                    border_radius="50%",
                    background=rx.cond(p.online, rx.color("green", 9), rx.color("gray", 8)),
                ),
                rx.text(p.name, weight="bold", size="2"),
                rx.spacer(),
                status_badge(p.state, machine.PRINTER_STATE, variant="soft", data_testid="printer-state"),
                align="center",
                width="100%",
                spacing="2",
            ),
            rx.text(
                rx.cond(p.model != "", rx.fragment(p.model, " · "), ""),
                rx.cond(p.online, "online", "offline"),
                size="1",
                color_scheme="gray",
            ),
            rx.cond(
                p.file != "",
                rx.vstack(
                    rx.hstack(
                        rx.icon("file-box", size=12),
                        rx.text(
                            p.file,
                            size="1",
                            trim="both",
                            overflow="hidden",
                            white_space="nowrap",
                            text_overflow="ellipsis",
                            max_width="190px",
                        ),
                        align="center",
                        spacing="1",
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
        rx.table.cell(job.copy, text_align="center"),
        rx.table.cell(_state_cell(job)),
        rx.table.cell(rx.text(job.updated, size="1", white_space="nowrap")),
        rx.table.cell(_actions(job)),
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
                ),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h, width=w)
                                for h, w in (
                                    ("Order", "120px"),
                                    ("Product / part", "auto"),
                                    ("Copy", "56px"),
                                    ("Status", "260px"),
                                    ("Updated", "130px"),
                                    ("", "210px"),
                                )
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(S.attention, _attention_row)),
                    size="1",
                    variant="ghost",
                    width="100%",
                    table_layout="fixed",
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
        rx.table.cell(rx.text(job.queued, size="1", white_space="nowrap")),
        rx.table.cell(rx.cond(job.purpose == "ORDER", _order_cell(job), purpose_badge(job.purpose))),
        rx.table.cell(_what_cell(job)),
        rx.table.cell(job.copy, text_align="center"),
        rx.table.cell(_state_cell(job)),
        rx.table.cell(rx.text(rx.cond(job.printer != "", job.printer, "—"), size="2")),
        rx.table.cell(_progress_cell(job)),
        rx.table.cell(_actions(job)),
        align="center",
        data_testid="job-row",
    )


def _jobs() -> rx.Component:
    statuses = [("all", "All statuses")] + [(s, s.title()) for s in STATUSES]
    purposes = [("all", "Orders and stock"), ("ORDER", "Order parts"), ("STOCK", "Stock parts")]
    return rx.vstack(
        rx.heading("All print jobs", size="4"),
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Search order, SKU or part",
                value=S.search,
                on_change=S.set_search.debounce(300),
                width="260px",
                data_testid="job-search",
            ),
            select(S.status, S.set_status, statuses, "Status"),
            select(S.purpose, S.set_purpose, purposes, "Purpose"),
            rx.button(rx.icon("x", size=14), "Clear", variant="ghost", on_click=S.clear_filters),
            rx.spacer(),
            rx.text(S.total, " jobs", size="2", color_scheme="gray", data_testid="job-total"),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.cond(
            S.rows.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h, width=w)
                            for h, w in (
                                ("Queued", "100px"),
                                ("Order", "110px"),
                                ("Product / part", "auto"),
                                ("Copy", "50px"),
                                ("Status", "140px"),
                                ("Printer", "120px"),
                                ("Progress", "140px"),
                                ("", "170px"),
                            )
                        ]
                    )
                ),
                rx.table.body(rx.foreach(S.rows, _job_row)),
                variant="surface",
                width="100%",
                table_layout="fixed",
                data_testid="jobs-table",
            ),
            empty_state(
                "list-filter", "No print jobs match", "Change the filters; orders for mapped products add jobs here."
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
                rx.text("SimplyPrint: ", S.last_error),
                icon="cloud-alert",
                color_scheme="red",
                width="100%",
                data_testid="simplyprint-error",
            ),
        ),
    )


def _stats() -> rx.Component:
    return rx.flex(
        stat_card("Queued", S.stats.queued, "list-ordered", "stat-queued"),
        stat_card("Printing", S.stats.printing, "printer", "stat-printing"),
        stat_card("Completed today", S.stats.done_today, "circle-check", "stat-done-today"),
        stat_card("Failed", S.stats.failed, "circle-x", "stat-failed"),
        rx.spacer(),
        rx.vstack(
            rx.cond(
                S.connected,
                rx.badge(rx.icon("plug", size=12), "SimplyPrint", color_scheme="green", variant="soft"),
                rx.badge(rx.icon("hand", size=12), "manual mode", color_scheme="amber", variant="soft"),
            ),
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
            align="end",
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
            ),
            loading_table(10),
        ),
    )
