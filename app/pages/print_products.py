"""/printing/products (product mappings) and /printing/products/[id] (one mapping, its parts and files)."""

from __future__ import annotations

import reflex as rx

from app.printing import machine
from app.printing.gcode import EXTENSIONS, MAX_FILE_BYTES
from app.settings import get_settings
from components.layout import staff_page
from components.ui import (
    confirm_button,
    detail_page,
    empty_state,
    field,
    loading_table,
    search_box,
    status_badge,
    table_card,
)
from state.print_products import UPLOAD_ID, MappingRow, MappingView, PartRow, ProfileValues
from state.print_products import PrintProductsState as L
from state.print_products import PrintProductState as D

MATERIALS = ("PLA", "PETG", "ABS", "ASA", "TPU", "PA", "PC")


def _max_mb() -> int:
    """The largest file a browser upload can bring (our request limit, or SimplyPrint's)."""
    return min(get_settings().max_body_bytes, MAX_FILE_BYTES) // (1024 * 1024)


def _profile_fields(
    values: rx.Var[ProfileValues] | rx.Var[PartRow] | None = None, prefix: str = "", inherit: bool = False
) -> rx.Component:
    """Layer height, infill, supports, material, nozzle: the fields of `values` named
    `prefix` + field (a ProfileValues, or a PartRow's p_* overrides). With `inherit`,
    empty means "as the product's default"."""

    def v(name: str) -> rx.Var[str] | str:
        return getattr(values, prefix + name) if values is not None else ""

    hint = "as the product" if inherit else ""
    words = machine.PROFILE_FIELD.label
    supports = [("yes", "Supports"), ("no", "No supports")]
    return rx.grid(
        field(
            f"{words('layer_height')} (mm)",
            rx.input(
                name="layer_height", default_value=v("layer_height"), placeholder=hint or "0.2", input_mode="decimal"
            ),
        ),
        field(
            f"{words('infill')} (%)",
            rx.input(name="infill", type="number", min=0, max=100, default_value=v("infill"), placeholder=hint or "15"),
        ),
        field(
            f"{words('nozzle')} (mm)",
            rx.input(name="nozzle", default_value=v("nozzle"), placeholder=hint or "0.4", input_mode="decimal"),
        ),
        field(
            words("material"),
            rx.input(name="material", default_value=v("material"), placeholder=hint or "PLA", list="materials"),
        ),
        field(
            words("supports"),
            rx.el.select(
                rx.el.option(hint or "Not set", value=""),
                *[rx.el.option(text, value=value) for value, text in supports],
                name="supports",
                default_value=v("supports"),
                style={
                    "height": "32px",
                    "border_radius": "var(--radius-2)",
                    "padding": "0 8px",
                    "border": f"1px solid {rx.color('gray', 7)}",
                    "background": rx.color("gray", 1),
                    "font_size": "var(--font-size-2)",
                },
            ),
        ),
        rx.el.datalist(*[rx.el.option(value=m) for m in MATERIALS], id="materials"),
        columns=rx.breakpoints(initial="1", xs="2", md="3"),
        spacing="3",
        width="100%",
    )


def _whole_input(name: str, value: rx.Var[str] | str, unit: str, label: str, placeholder: str) -> rx.Component:
    return rx.input(
        rx.input.slot(rx.text(unit, size="1", color_scheme="gray"), side="right"),
        name=name,
        default_value=value,
        input_mode="numeric",
        pattern="[0-9]*",
        placeholder=placeholder,
        aria_label=label,
    )


def _packing_fields(values: rx.Var[MappingView] | None = None) -> rx.Component:
    """One packed unit's weight and box, for its shipping label. Empty: the label
    weighs the printed parts' filament and takes the shop's default box."""

    def v(name: str) -> rx.Var[str] | str:
        return getattr(values, name) if values is not None else ""

    return rx.vstack(
        rx.text("Packing, for the shipping label", size="2", weight="bold"),
        rx.text(
            "Leave the weight empty to use the printed parts' filament; the size is used when an order holds "
            "just this one product.",
            size="1",
            color_scheme="gray",
        ),
        rx.grid(
            field(
                "Packed weight (g)",
                _whole_input("weight_grams", v("weight_grams"), "g", "Packed weight in grams", "from the parts"),
            ),
            field(
                "Packed size (cm) L × W × H",
                rx.grid(
                    _whole_input("length_cm", v("length_cm"), "cm", "Packed length in cm", "length"),
                    _whole_input("width_cm", v("width_cm"), "cm", "Packed width in cm", "width"),
                    _whole_input("height_cm", v("height_cm"), "cm", "Packed height in cm", "height"),
                    columns="3",
                    spacing="2",
                ),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


# --- the list ----------------------------------------------------------------------------------


def _new_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "New product mapping", data_testid="new-mapping")),
        rx.dialog.content(
            rx.dialog.title("New product mapping"),
            rx.dialog.description(
                "Orders for this SKU get one print job per part and copy.", size="2", color_scheme="gray"
            ),
            rx.form(
                rx.vstack(
                    rx.cond(
                        L.create_error != "",
                        rx.callout(
                            L.create_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            data_testid="mapping-error",
                        ),
                    ),
                    rx.grid(
                        field("SKU", rx.input(name="sku", required=True, placeholder="SHOP-VASE-01")),
                        field("Variant", rx.input(name="variant_title", placeholder="optional, e.g. Red / Large")),
                        columns=rx.breakpoints(initial="1", xs="2"),
                        spacing="3",
                        width="100%",
                    ),
                    field("Name", rx.input(name="name", required=True, placeholder="Spiral vase")),
                    field("Description", rx.text_area(name="description", rows="2")),
                    rx.text("Default print profile", size="2", weight="bold"),
                    _profile_fields(),
                    _packing_fields(),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Create mapping", type="submit", data_testid="mapping-create"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=L.create,
                reset_on_submit=False,
            ),
            max_width="620px",
        ),
        open=L.create_open,
        on_open_change=L.set_create_open,
    )


def mapping_badge(state: rx.Var, **props) -> rx.Component:
    return status_badge(state, machine.MAPPING_STATE, white_space="nowrap", **props)


def _mapping_row(m: rx.Var[MappingRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(rx.code(m.sku), href="/printing/products/" + m.id, data_testid="mapping-link")),
        rx.table.cell(
            rx.vstack(
                rx.text(m.name, size="2", weight="medium"),
                rx.text(m.variant, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(m.parts, text_align="right"),
        rx.table.cell(rx.text(m.profile, size="1", color_scheme="gray")),
        rx.table.cell(mapping_badge(m.state, variant="soft", data_testid="mapping-state")),
        rx.table.cell(rx.text(m.updated, size="1")),
        align="center",
        data_testid="mapping-row",
    )


@staff_page("/printing/products", "Printed products", permission="printJobs.read", icon="boxes", on_load=L.load)
def print_products_page() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.box(
                search_box(L.search, L.set_search, "Search SKU or name", width="100%", data_testid="mapping-search"),
                width=rx.breakpoints(initial="100%", sm="300px"),
            ),
            rx.text(L.rows.length(), " mappings", size="2", color_scheme="gray", data_testid="mapping-total"),
            rx.spacer(),
            rx.cond(L.can_write, _new_dialog()),
            align="center",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.text(
            "A product mapping says which shop SKU is printed, from which parts. Line items whose SKU has "
            "no mapping are flagged on their order.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            L.loaded,
            rx.cond(
                L.rows.length() > 0,
                table_card(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(h)
                                    for h in ("SKU", "Product", "Parts", "Default profile", "Status", "Updated")
                                ]
                            )
                        ),
                        rx.table.body(rx.foreach(L.rows, _mapping_row)),
                        variant="surface",
                        width="100%",
                        min_width="760px",
                        data_testid="mappings-table",
                    )
                ),
                empty_state(
                    "boxes",
                    rx.cond(L.search != "", "No mapping matches", "No printed products yet"),
                    "Create a product mapping for each SKU the farm prints.",
                ),
            ),
            loading_table(6),
        ),
        spacing="4",
        width="100%",
    )


# --- one mapping --------------------------------------------------------------------------------


def _mapping_form() -> rx.Component:
    m = D.mapping
    return rx.card(
        rx.form(
            rx.vstack(
                rx.hstack(
                    rx.heading("Product", size="3"),
                    rx.spacer(),
                    rx.cond(
                        D.can_write,
                        rx.button(
                            rx.icon("save", size=14), "Save", size="2", type="submit", data_testid="mapping-save"
                        ),
                    ),
                    align="center",
                    width="100%",
                ),
                rx.cond(
                    D.edit_error != "",
                    rx.callout(
                        D.edit_error, icon="triangle-alert", color_scheme="red", width="100%", data_testid="edit-error"
                    ),
                ),
                rx.grid(
                    field("SKU", rx.input(name="sku", default_value=m.sku, required=True)),
                    field("Variant", rx.input(name="variant_title", default_value=m.variant)),
                    field("Name", rx.input(name="name", default_value=m.name, required=True)),
                    columns=rx.breakpoints(initial="1", sm="3"),
                    spacing="3",
                    width="100%",
                ),
                field("Description", rx.text_area(name="description", default_value=m.description, rows="2")),
                rx.checkbox(
                    "Active: new orders for this SKU get print jobs",
                    name="active",
                    default_checked=m.active,
                ),
                rx.text("Default print profile", size="2", weight="bold"),
                _profile_fields(D.profile),
                _packing_fields(m),
                spacing="3",
                width="100%",
            ),
            on_submit=D.save,
            reset_on_submit=False,
            key=m.version,
        ),
        width="100%",
    )


def _fact(label: str, value: rx.Component | rx.Var | str) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label, min_width="120px"),
        rx.data_list.value(value),
    )


def _mapping_facts() -> rx.Component:
    """The product as someone who may not change it sees it: words, no form fields."""
    m = D.mapping
    return rx.card(
        rx.vstack(
            rx.heading("Product", size="3"),
            rx.data_list.root(
                _fact("SKU", rx.code(m.sku)),
                _fact("Variant", rx.cond(m.variant != "", m.variant, "—")),
                _fact("Name", m.name),
                _fact("Description", rx.cond(m.description != "", m.description, "—")),
                _fact("Status", mapping_badge(m.state, variant="soft")),
                _fact("Default print profile", rx.cond(m.profile != "", m.profile, "Not set")),
                _fact(
                    "Packed weight",
                    rx.cond(m.weight != "", m.weight, "— uses the printed parts' weight"),
                ),
                _fact("Packed size", rx.cond(m.size != "", m.size, "— the shop's default parcel size")),
                _fact("Last changed", m.updated),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
                size="2",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="mapping-facts",
    )


def _part_dialog() -> rx.Component:
    pt = D.part
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(pt.id != "", "Edit part", "Add a part")),
            rx.form(
                rx.vstack(
                    rx.cond(
                        D.part_error != "",
                        rx.callout(
                            D.part_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            data_testid="part-error",
                        ),
                    ),
                    rx.grid(
                        field(
                            "Part name",
                            rx.input(name="part_name", default_value=pt.name, required=True, placeholder="Body"),
                        ),
                        field(
                            "Part number",
                            rx.input(name="part_number", default_value=pt.number, placeholder="optional"),
                        ),
                        field(
                            "Quantity per product",
                            rx.input(
                                name="quantity_per_product",
                                type="number",
                                min=1,
                                default_value=pt.quantity.to(str),
                                required=True,
                            ),
                        ),
                        field(
                            "Estimated print time (min)",
                            rx.input(
                                name="estimated_minutes",
                                type="number",
                                min=0,
                                step="any",
                                default_value=pt.minutes_value,
                                placeholder="read from the gcode",
                            ),
                        ),
                        field(
                            "Estimated filament (g)",
                            rx.input(
                                name="estimated_filament_g",
                                type="number",
                                min=0,
                                step="any",
                                default_value=pt.filament_value,
                                placeholder="read from the gcode",
                            ),
                        ),
                        columns=rx.breakpoints(initial="1", xs="2"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.text("Print profile overrides", size="2", weight="bold"),
                    rx.text("Leave a field empty to use the product's default.", size="1", color_scheme="gray"),
                    _profile_fields(pt, prefix="p_", inherit=True),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(
                            rx.cond(pt.id != "", "Save part", "Add part"), type="submit", data_testid="part-save"
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=D.save_part,
                reset_on_submit=False,
                key=pt.id,
            ),
            max_width="640px",
        ),
        open=D.part_open,
        on_open_change=D.set_part_open,
    )


def _upload_dialog() -> rx.Component:
    up = D.upload_part
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Print file for ", up.name),
            rx.dialog.description(
                rx.cond(
                    D.connected,
                    "The file is uploaded to SimplyPrint; its file id is kept with the part and used for "
                    "every print job. Estimated time and filament are read from a gcode header.",
                    "SimplyPrint is not connected: the file is kept here and sent once it is.",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                rx.cond(up.filename != "", rx.text("Current file: ", rx.code(up.filename), size="2")),
                rx.upload.root(
                    rx.vstack(
                        rx.icon("file-up", size=26, color=rx.color("gray", 9)),
                        rx.text("Drop a .gcode, .stl or .3mf file here, or click to choose", size="2"),
                        rx.text(f"{', '.join(EXTENSIONS)}; up to {_max_mb()} MB", size="1", color_scheme="gray"),
                        align="center",
                        spacing="1",
                    ),
                    id=UPLOAD_ID,
                    multiple=False,
                    max_files=1,
                    accept={"application/octet-stream": list(EXTENSIONS)},
                    border=f"1px dashed {rx.color('gray', 7)}",
                    border_radius="8px",
                    padding="20px",
                    width="100%",
                    cursor="pointer",
                    data_testid="part-upload",
                ),
                rx.text(rx.selected_files(UPLOAD_ID).join(", "), size="2", data_testid="part-upload-selected"),
                rx.cond(
                    D.upload_error != "",
                    rx.callout(
                        D.upload_error,
                        icon="triangle-alert",
                        color_scheme="red",
                        width="100%",
                        data_testid="part-upload-error",
                    ),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                    rx.button(
                        rx.icon("upload", size=14),
                        "Upload",
                        loading=D.uploading,
                        on_click=D.upload_file(rx.upload_files(upload_id=UPLOAD_ID)),
                        data_testid="part-upload-submit",
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                padding_top="8px",
            ),
            max_width="520px",
        ),
        open=D.upload_open,
        on_open_change=D.set_upload_open,
    )


def _file_cell(pt: rx.Var[PartRow]) -> rx.Component:
    return rx.cond(
        pt.filename != "",
        rx.vstack(
            rx.hstack(
                rx.icon("file-box", size=14),
                rx.text(pt.filename, size="2"),
                align="center",
                spacing="1",
                data_testid="part-filename",
            ),
            rx.cond(
                pt.file_id != "",
                rx.text(
                    "SimplyPrint file ",
                    rx.code(pt.file_id_short, size="1", title=pt.file_id),
                    size="1",
                    color_scheme="gray",
                    data_testid="part-file-id",
                ),
                rx.badge("Not on SimplyPrint yet", color_scheme="amber", variant="soft"),
            ),
            spacing="1",
        ),
        rx.badge("No file", color_scheme="red", variant="soft"),
    )


def _part_row(pt: rx.Var[PartRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(pt.name, size="2", weight="medium"),
                rx.text(pt.number, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(pt.quantity, text_align="right"),
        rx.table.cell(rx.text(pt.minutes, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(pt.filament, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.text(rx.cond(pt.overrides != "", pt.overrides, "as the product"), size="1", color_scheme="gray")
        ),
        rx.table.cell(_file_cell(pt)),
        rx.cond(
            D.can_write,
            rx.table.cell(
                rx.hstack(
                    rx.button(
                        rx.icon("upload", size=14),
                        "File",
                        size="1",
                        variant="soft",
                        on_click=D.open_upload(pt),
                        data_testid="part-upload-open",
                    ),
                    rx.icon_button(
                        rx.icon("pencil", size=14),
                        size="1",
                        variant="soft",
                        on_click=D.edit_part(pt),
                        aria_label="Edit part",
                    ),
                    confirm_button(
                        "Delete",
                        "Delete this part?",
                        "New orders no longer print it. Print jobs already created stay.",
                        D.delete_part(pt.id),
                    ),
                    spacing="1",
                    justify="end",
                )
            ),
        ),
        align="center",
        data_testid="part-row",
    )


def _stock_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                name="stock_quantity",
                type="number",
                min=1,
                max=500,
                default_value="1",
                width="72px",
                aria_label="Products to print for stock",
            ),
            rx.button(
                rx.icon("package-plus", size=14),
                "Print for stock",
                size="2",
                variant="soft",
                type="submit",
                data_testid="print-stock",
            ),
            align="center",
            spacing="2",
        ),
        on_submit=D.print_stock,
        reset_on_submit=False,
    )


def _parts() -> rx.Component:
    t = D.totals
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Assembly parts", size="3", white_space="nowrap"),
                rx.spacer(),
                rx.cond(D.can_write & (D.parts.length() > 0), _stock_form()),
                rx.cond(
                    D.can_write,
                    rx.button(
                        rx.icon("plus", size=14), "Add part", size="2", on_click=D.new_part, data_testid="part-add"
                    ),
                ),
                align="center",
                width="100%",
                spacing="3",
                wrap="wrap",
            ),
            rx.cond(
                D.parts.length() > 0,
                rx.vstack(
                    table_card(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    *[
                                        rx.table.column_header_cell(h)
                                        for h in ("Part", "Per product", "Print time", "Filament", "Profile", "File")
                                    ],
                                    rx.cond(D.can_write, rx.table.column_header_cell("")),
                                )
                            ),
                            rx.table.body(rx.foreach(D.parts, _part_row)),
                            variant="surface",
                            width="100%",
                            min_width="820px",
                            data_testid="parts-table",
                        )
                    ),
                    rx.text(
                        "One product: ",
                        t.parts,
                        " print(s)",
                        rx.cond(t.minutes != "—", rx.fragment(", about ", t.minutes), ""),
                        rx.cond(t.filament != "—", rx.fragment(" and ", t.filament, " of filament"), ""),
                        ".",
                        size="2",
                        color_scheme="gray",
                        data_testid="part-totals",
                    ),
                    rx.cond(
                        t.missing != "0",
                        rx.callout(
                            rx.text(
                                t.missing,
                                " part(s) have no print file yet: orders for this "
                                "SKU get jobs that cannot be sent to SimplyPrint.",
                            ),
                            icon="triangle-alert",
                            color_scheme="amber",
                            width="100%",
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                empty_state(
                    "puzzle",
                    "No parts yet",
                    "Add each printed part (with how many a product needs) and upload its file.",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@staff_page(
    "/printing/products/[id]", "Printed product", permission="printJobs.read", icon="boxes", nav=False, on_load=D.load
)
def print_product_page() -> rx.Component:
    m = D.mapping
    return detail_page(
        D.error,
        D.loaded,
        "Product mapping not found",
        rx.vstack(
            rx.hstack(
                rx.link(
                    rx.hstack(rx.icon("arrow-left", size=14), rx.text("Printed products")),
                    href="/printing/products",
                    size="2",
                ),
                rx.heading(m.name, size="6", data_testid="mapping-name"),
                rx.code(m.sku, size="3"),
                mapping_badge(m.state, data_testid="mapping-state"),
                rx.spacer(),
                rx.cond(
                    D.can_write,
                    confirm_button(
                        "Delete mapping",
                        "Delete this product mapping?",
                        "Its parts go too. New orders for this SKU are flagged as unmapped; print jobs already "
                        "created stay.",
                        D.delete,
                    ),
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(D.can_write, _mapping_form(), _mapping_facts()),
            _parts(),
            _part_dialog(),
            _upload_dialog(),
            spacing="4",
            width="100%",
        ),
        rows=8,
    )
