"""/catalog: parts per slot, the catalog import, price lists and this shop's offers."""

from __future__ import annotations

import reflex as rx

from app.catalog.machine import OFFER_STATUS
from app.catalog.slots import SLOT_TITLES, SLOTS
from app.platform.machine import RUN_STATUS
from components.layout import staff_page
from components.ui import empty_state, field, loading_table, pager, select, sortable_header, status_badge, table_card
from state.catalog import CatalogState as S
from state.catalog import OfferRow, PriceListError

OPENDB_URL = "https://github.com/buildcores/buildcores-open-db"
ODC_BY_URL = "https://opendatacommons.org/licenses/by/1-0/"


def _counts_chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Parts per slot", size="2", weight="medium"),
                rx.spacer(),
                rx.hstack(
                    rx.badge(S.total_parts, " parts", variant="soft", data_testid="catalog-total"),
                    rx.badge(
                        S.total_offers, " offered", variant="soft", color_scheme="green", data_testid="offers-total"
                    ),
                    spacing="2",
                ),
                width="100%",
                align="center",
            ),
            rx.recharts.bar_chart(
                rx.recharts.bar(
                    data_key="parts", name="In the catalog", fill=rx.color("accent", 8), radius=[3, 3, 0, 0]
                ),
                rx.recharts.bar(
                    data_key="offers", name="This shop sells", fill=rx.color("green", 9), radius=[3, 3, 0, 0]
                ),
                rx.recharts.x_axis(data_key="short", tick_line=False, font_size=11, interval=0),
                rx.recharts.y_axis(allow_decimals=False, width=40, font_size=11),
                rx.recharts.graphing_tooltip(),
                rx.recharts.legend(icon_size=10, wrapper_style={"fontSize": "12px"}),
                data=S.counts.to(list[dict]),  # recharts takes plain objects: the fields are its keys
                height=220,
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _import_card() -> rx.Component:
    r = S.run
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("database", size=18),
                rx.heading("Catalog import", size="3"),
                rx.spacer(),
                rx.cond(
                    S.can_import,
                    rx.button(
                        rx.icon("refresh-cw", size=14),
                        "Import catalog",
                        size="2",
                        on_click=S.start_import,
                        disabled=S.running,
                        loading=S.running,
                        data_testid="catalog-import-start",
                    ),
                ),
                align="center",
                width="100%",
            ),
            rx.text(
                "Reads the BuildCores OpenDB files on the server. Parts already here are updated only when "
                "they changed; nothing is duplicated. The catalog is shared by every shop.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                ~S.can_import,
                rx.text(
                    "Only a platform operator can re-import it.",
                    size="1",
                    color_scheme="gray",
                    data_testid="catalog-import-operators-only",
                ),
            ),
            rx.cond(
                r.id != "",
                rx.vstack(
                    rx.flex(
                        status_badge(r.status, RUN_STATUS, data_testid="catalog-import-status"),
                        rx.cond(
                            (r.total == 0) & S.running,
                            rx.text("Reading the data files…", size="2"),
                            rx.text(r.processed, " of ", r.total, " records", size="2"),
                        ),
                        rx.spacer(),
                        rx.text(
                            rx.cond(r.finished != "", r.finished, "running"),
                            " · started by ",
                            r.started_by,
                            size="1",
                            color_scheme="gray",
                        ),
                        align="center",
                        spacing="2",
                        wrap="wrap",
                        width="100%",
                    ),
                    rx.progress(value=S.progress, max=100, width="100%", data_testid="catalog-import-progress"),
                    rx.text(
                        r.created,
                        " new, ",
                        r.updated,
                        " updated, ",
                        r.unchanged,
                        " unchanged, ",
                        r.skipped,
                        " skipped (no id or name)",
                        size="1",
                        color_scheme="gray",
                        data_testid="catalog-import-counts",
                    ),
                    rx.cond(r.error != "", rx.text(r.error, color_scheme="red", size="2")),
                    spacing="2",
                    width="100%",
                ),
                rx.text("No import has run yet.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _error_row(e: rx.Var[PriceListError]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(e.row),
        rx.table.cell(rx.code(e.opendb_id, size="1")),
        rx.table.cell(e.message),
    )


def _upload_card() -> rx.Component:
    res = S.upload_result
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("file-spreadsheet", size=18), rx.heading("Price list", size="3"), align="center"),
            rx.text(
                "A CSV with the columns ",
                rx.code("opendb_id,price,stock"),
                " (optional ",
                rx.code("currency"),
                ", ",
                rx.code("active"),
                "). Comma or semicolon, decimal point or comma. Rows with problems "
                "are listed and skipped; the others are applied.",
                size="2",
                color_scheme="gray",
            ),
            rx.hstack(
                rx.upload.root(
                    rx.button(rx.icon("paperclip", size=14), "Choose CSV", variant="soft", size="2", type="button"),
                    id="price_upload",
                    multiple=False,
                    max_files=1,
                    accept={"text/csv": [".csv"], "text/plain": [".txt"]},
                    data_testid="price-upload",
                ),
                rx.text(
                    rx.selected_files("price_upload").join(", "),
                    size="1",
                    color_scheme="gray",
                    data_testid="price-upload-selected",
                ),
                rx.spacer(),
                rx.button(
                    rx.icon("upload", size=14),
                    "Upload price list",
                    size="2",
                    on_click=S.upload_prices(rx.upload_files(upload_id="price_upload")),
                    data_testid="price-upload-submit",
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                S.upload_error != "",
                rx.callout(
                    S.upload_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    width="100%",
                    data_testid="price-upload-error",
                ),
            ),
            rx.cond(
                res.present,
                rx.text(
                    res.filename,
                    ": ",
                    res.rows,
                    " rows — ",
                    res.created,
                    " new, ",
                    res.updated,
                    " changed, ",
                    res.unchanged,
                    " unchanged, ",
                    res.failed,
                    " with errors.",
                    size="2",
                    data_testid="price-upload-result",
                ),
            ),
            rx.cond(
                S.upload_errors.length() > 0,
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Row"),
                                rx.table.column_header_cell("OpenDB id"),
                                rx.table.column_header_cell("Problem"),
                            )
                        ),
                        rx.table.body(rx.foreach(S.upload_errors, _error_row)),
                        size="1",
                        variant="surface",
                        width="100%",
                        data_testid="price-upload-errors",
                    ),
                    max_height="220px",
                    overflow_y="auto",
                    overflow_x="auto",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _edit_dialog() -> rx.Component:
    e = S.edit
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Sell this part"),
            rx.dialog.description(e.name, size="2", color_scheme="gray"),
            rx.text("OpenDB id for price lists: ", rx.code(e.part_id, size="1"), size="1", color_scheme="gray"),
            rx.form(
                rx.vstack(
                    rx.cond(
                        S.edit_error != "",
                        rx.callout(S.edit_error, icon="triangle-alert", color_scheme="red", width="100%"),
                    ),
                    rx.grid(
                        field(
                            "Price",
                            rx.input(
                                name="price",
                                default_value=e.price,
                                required=True,
                                placeholder="199.90",
                                input_mode="decimal",
                            ),
                        ),
                        field(
                            "In stock",
                            rx.input(name="stock", type="number", min=0, default_value=e.stock, required=True),
                        ),
                        columns="2",
                        spacing="3",
                        width="100%",
                    ),
                    rx.checkbox("For sale in the builder", name="active", default_checked=e.active, size="2"),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save", type="submit", data_testid="offer-save"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=S.save_offer,
                reset_on_submit=False,
            ),
            max_width="440px",
        ),
        open=S.edit_open,
        on_open_change=S.set_edit_open,
    )


def _status(row: rx.Var[OfferRow]) -> rx.Component:
    return rx.flex(
        status_badge(
            row.status,
            OFFER_STATUS,
            variant=rx.cond(row.sold, "soft", "outline"),
            white_space="nowrap",
            data_testid="offer-status",
        ),
        rx.cond(row.demo, rx.badge("Demo price", color_scheme="amber", variant="soft", white_space="nowrap")),
        spacing="1",
        wrap="wrap",
    )


def _offer_row(row: rx.Var[OfferRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(row.name, size="2", weight="medium"),
                rx.text(row.manufacturer, size="1", color_scheme="gray"),
                spacing="0",
                min_width="220px",
            )
        ),
        rx.table.cell(rx.badge(row.slot_title, variant="surface", color_scheme="gray", white_space="nowrap")),
        rx.table.cell(row.price, text_align="right", white_space="nowrap", data_testid="offer-price"),
        rx.table.cell(rx.cond(row.sold, row.stock, "—"), text_align="right"),
        rx.table.cell(_status(row)),
        rx.table.cell(row.updated, white_space="nowrap", data_testid="offer-updated"),
        rx.cond(
            S.can_write,
            rx.table.cell(
                rx.hstack(
                    rx.icon_button(
                        rx.icon("pencil", size=14),
                        size="1",
                        variant="soft",
                        on_click=S.open_edit(row),
                        aria_label="Edit offer",
                    ),
                    rx.cond(
                        row.active,
                        rx.icon_button(
                            rx.icon("ban", size=14),
                            size="1",
                            variant="soft",
                            color_scheme="gray",
                            on_click=S.deactivate(row.part_id),
                            aria_label="Stop selling",
                        ),
                    ),
                    spacing="1",
                )
            ),
        ),
        align="center",
        data_testid="offer-row",
    )


def _offers_table() -> rx.Component:
    slots = [("all", "All slots")] + [(s, SLOT_TITLES[s]) for s in SLOTS]
    statuses = [("all", "Any status"), *((st.value, st.label) for st in OFFER_STATUS), ("demo", "Demo prices")]
    return rx.vstack(
        rx.flex(
            rx.heading("Offers", size="4"),
            rx.cond(
                S.demo_offers > 0,
                rx.tooltip(
                    rx.badge(
                        rx.icon("flask-conical", size=12),
                        "Demo prices",
                        color_scheme="amber",
                        variant="solid",
                        data_testid="demo-prices-badge",
                    ),
                    content="Made-up prices for trying the shop out; upload a price list to replace them.",
                ),
            ),
            rx.spacer(),
            rx.segmented_control.root(
                rx.segmented_control.item("Offers", value="offers"),
                rx.segmented_control.item("Whole catalog", value="catalog"),
                value=S.view,
                on_change=S.set_view,
                size="1",
            ),
            rx.cond(
                S.can_write & (S.total_offers == 0),
                rx.button(
                    rx.icon("flask-conical", size=14),
                    "Load demo prices",
                    size="1",
                    variant="soft",
                    on_click=S.load_demo_prices,
                ),
            ),
            align="center",
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Search name, maker or OpenDB id",
                value=S.search,
                on_change=S.set_search.debounce(300),
                width=["100%", "300px"],
                data_testid="offer-search",
            ),
            select(S.slot, S.set_slot, slots, "Slot"),
            select(S.status, S.set_status, statuses, "Status"),
            rx.button(rx.icon("x", size=14), "Clear", variant="ghost", on_click=S.clear_filters),
            rx.spacer(),
            rx.text(
                S.total,
                rx.cond(
                    S.view == "offers",
                    rx.cond(S.total == 1, " offer", " offers"),
                    rx.cond(S.total == 1, " part", " parts"),
                ),
                size="2",
                color_scheme="gray",
                data_testid="offer-total",
            ),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.cond(
            S.loaded,
            rx.cond(
                S.rows.length() > 0,
                table_card(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                sortable_header(S, "Part", "name"),
                                sortable_header(S, "Slot", "slot"),
                                sortable_header(S, "Price", "price", text_align="right"),
                                sortable_header(S, "Stock", "stock", text_align="right"),
                                rx.table.column_header_cell("Status"),
                                sortable_header(S, "Updated", "updated"),
                                rx.cond(S.can_write, rx.table.column_header_cell("")),
                            )
                        ),
                        rx.table.body(rx.foreach(S.rows, _offer_row)),
                        variant="ghost",
                        width="100%",
                        data_testid="offers-table",
                    ),
                    data_testid="offers-card",
                ),
                empty_state(
                    "package-search",
                    "Nothing matches",
                    "Change the filters, upload a price list, or look through the whole catalog.",
                ),
            ),
            loading_table(8),
        ),
        pager(S.page, S.page_count, S.prev_page, S.next_page),
        spacing="3",
        width="100%",
    )


def _credit() -> rx.Component:
    return rx.text(
        "Parts data: ",
        rx.link("BuildCores OpenDB", href=OPENDB_URL, is_external=True),
        " (",
        rx.link("ODC-By 1.0", href=ODC_BY_URL, is_external=True),
        "). It has no prices: each shop sets its own.",
        size="1",
        color_scheme="gray",
        data_testid="opendb-credit",
    )


@staff_page("/catalog", "Parts catalog", permission="catalog.read", icon="cpu", on_load=S.load)
def catalog_page() -> rx.Component:
    return rx.vstack(
        rx.grid(
            _counts_chart(),
            rx.vstack(_import_card(), spacing="4", width="100%"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.cond(S.can_write, _upload_card()),
        _offers_table(),
        _edit_dialog(),
        _credit(),
        spacing="4",
        width="100%",
    )
