"""The packing bench's batch PDF: each order's carrier label followed by its
packing slip, in pack order, rendered with the real WeasyPrint and read back
with pypdf, pdftotext and pdftoppm (no database needed)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
import segno
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import Destination
from weasyprint import HTML

from app.shipping.documents import (
    NO_LABEL,
    UNREADABLE_LABEL,
    PackingSlip,
    PackItem,
    SlipLine,
    batch_pdf,
    packing_slip_pdf,
)

A6 = (297.6, 419.5)  # points
A4 = (595.3, 841.9)


def _label(order_number: str, size: str = "a6") -> bytes:
    """A small carrier label PDF, as Sendcloud's label_printer (A6) or
    normal_printer (A4) would send it."""
    pdf = HTML(
        string=f"<style>@page {{ size: {size.upper()}; margin: 5mm }}</style>"
        f"<h1>CARRIER LABEL {order_number}</h1><p>PostNL 3SABC1234567</p>"
    ).write_pdf()
    assert pdf is not None
    return pdf


def _slip(order_number: str = "#1042", **changes) -> PackingSlip:
    values = {
        "order_number": order_number,
        "placed_on": "29 Nov 2026",
        "shop_name": "Pixel & Bolt PCs",
        "customer_name": "Ada Lovelace",
        "ship_to": ("Stationsstraat 12", "3511 AB Utrecht", "Netherlands"),
        "service_point": "",
        "shipping_method": "PostNL Standard 0-23kg",
        "carrier": "PostNL",
        "tracking_number": "3SABC1234567",
        "weight": "1.24 kg",
        "lines": (
            SlipLine(title="Benchy", variant="PLA · Galaxy Black", sku="BENCHY-PLA-BLK", quantity=1),
            SlipLine(title="Headphone stand", variant="PLA · Matte Red", sku="STAND-HP-PLA-RED", quantity=3),
        ),
    }
    values.update(changes)
    return PackingSlip(**values)


def _pages_text(pdf: bytes, *, layout: bool = False) -> list[str]:
    """Each page's text, whitespace runs made single spaces (a value may wrap);
    `layout` keeps the lines as printed (a table row stays one line)."""
    args = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
    text = subprocess.run(args, input=pdf, capture_output=True, check=True).stdout.decode()
    pages = text.split("\f")[:-1]  # every page ends with a form feed
    return pages if layout else [" ".join(page.split()) for page in pages]


def _sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1))
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]


def _png(pdf: bytes, page: int, dpi: int, folder: Path) -> Image.Image:
    """One page as the printer would see it, in grey levels."""
    (folder / "batch.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", "batch.pdf", "page"],
        cwd=folder,
        check=True,
    )
    return Image.open(folder / "page.png").convert("L")


def _photo(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG")
    return out.getvalue()


def test_each_label_is_followed_by_its_slip_in_pack_order():
    pack_order = ["#1003", "#1001", "#1002"]  # the packer's order, not the numbers'
    pdf = batch_pdf([PackItem(_slip(n), _label(n)) for n in pack_order])

    pages = _pages_text(pdf)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == len(pages) == 6
    for i, number in enumerate(pack_order):
        label, slip = pages[2 * i], pages[2 * i + 1]
        assert f"CARRIER LABEL {number}" in label
        assert "Packing slip" in slip and number in slip and "CARRIER LABEL" not in slip
    assert _sizes(pdf) == [A6] * 6
    outline = [item.title for item in PdfReader(io.BytesIO(pdf)).outline if isinstance(item, Destination)]
    assert outline == [f"{n} · Ada Lovelace" for n in pack_order]  # a viewer's sidebar finds an order


def test_slip_shows_the_order_where_it_goes_and_what_to_pack():
    pdf = packing_slip_pdf(_slip(note="Gift: no invoice in the box."))
    (text,) = _pages_text(pdf)

    for expected in (
        "PIXEL & BOLT PCS",
        "#1042",
        "Placed 29 Nov 2026",
        "SHIP TO",
        "Ada Lovelace",
        "Stationsstraat 12",
        "3511 AB Utrecht",
        "PostNL Standard 0-23kg",
        "3SABC1234567",
        "1.24 kg",
        "Gift: no invoice in the box.",
        "End of packing slip #1042 · 2 lines, 4 pieces",
    ):
        assert expected in text, expected
    (printed,) = _pages_text(pdf, layout=True)
    rows = [" ".join(line.split()) for line in printed.splitlines()]
    assert "1 Benchy BENCHY-PLA-BLK" in rows  # quantity, title and SKU on one row
    assert "3 Headphone stand STAND-HP-PLA-RED" in rows
    assert "PLA · Matte Red" in text


def test_service_point_orders_say_so():
    slip = _slip(service_point="PostNL point: Primera Utrecht, Stationsplein 5")
    (text,) = _pages_text(packing_slip_pdf(slip))
    assert "SHIP TO SERVICE POINT PostNL point: Primera Utrecht, Stationsplein 5 Collected by Ada Lovelace" in text


def test_a_missing_or_unreadable_label_gets_a_placeholder_and_nothing_shifts():
    items = [
        PackItem(_slip("#2001"), _label("#2001")),
        PackItem(_slip("#2002", label_missing="Manual mode: no Sendcloud connection"), None),
        PackItem(_slip("#2003"), _label("#2003")[:1500]),  # cut off mid-file
        PackItem(_slip("#2004"), None),
        PackItem(_slip("#2005"), _label("#2005")),
    ]
    pages = _pages_text(batch_pdf(items))

    assert len(pages) == 10
    assert "CARRIER LABEL #2001" in pages[0] and "#2001" in pages[1]
    for page, number, reason in (
        (pages[2], "#2002", "Manual mode: no Sendcloud connection"),
        (pages[4], "#2003", UNREADABLE_LABEL),
        (pages[6], "#2004", NO_LABEL),
    ):
        assert f"NO CARRIER LABEL {number} Ada Lovelace {reason}" in page
        assert "Packing slip" not in page
    assert "No carrier label in this batch: Manual mode: no Sendcloud connection" in pages[3]
    assert "Packing slip" in pages[3] and "#2002" in pages[3]
    assert "CARRIER LABEL #2005" in pages[8] and "#2005" in pages[9]


def test_a4_sheets_and_a6_labels_keep_their_paper():
    a4 = batch_pdf(
        [PackItem(_slip("#3001"), _label("#3001", "a4"), "a4"), PackItem(_slip("#3002"), None, "a4")], slip_size="a4"
    )
    assert _sizes(a4) == [A4] * 4  # label, slip, placeholder (the label's size), slip

    a6 = batch_pdf([PackItem(_slip("#3003"), _label("#3003"))])
    assert _sizes(a6) == [A6, A6]
    assert _sizes(packing_slip_pdf(_slip(), page_size="a4")) == [A4]
    assert _sizes(packing_slip_pdf(_slip())) == [A6]

    with pytest.raises(ValueError, match="Unknown paper size 'letter'"):
        packing_slip_pdf(_slip(), page_size="letter")
    with pytest.raises(ValueError, match="at least one order"):
        batch_pdf([])


def test_customer_text_prints_literally_never_as_markup():
    slip = _slip(
        customer_name="<script>x</script> & Co",
        note='</div><img src="file:///etc/passwd">',
        lines=(SlipLine(title="<b>Bold</b> claim", variant="", sku="X<1>", quantity=1),),
    )
    (text,) = _pages_text(packing_slip_pdf(slip))
    assert "<script>x</script> & Co" in text
    assert '</div><img src="file:///etc/passwd">' in text
    assert "<b>Bold</b> claim" in text and "X<1>" in text


def test_a_long_order_flows_onto_a_second_slip_page():
    lines = tuple(
        SlipLine(title=f"Cable comb {i}", variant="PETG · White", sku=f"COMB-{i:03d}", quantity=1 + i % 2)
        for i in range(40)
    )
    items = [PackItem(_slip("#4001", lines=lines), _label("#4001")), PackItem(_slip("#4002"), _label("#4002"))]
    pages = _pages_text(batch_pdf(items))

    assert "CARRIER LABEL #4001" in pages[0]
    next_label = next(i for i, page in enumerate(pages) if "CARRIER LABEL #4002" in page)
    slip_pages = pages[1:next_label]
    assert len(slip_pages) >= 2
    for page in slip_pages[1:]:
        assert "#4001 · continued" in page and "SKU" in page  # the column heads repeat
    assert "page 2" in slip_pages[1]
    everything = "".join(slip_pages)
    assert all(f"COMB-{i:03d}" in everything for i in range(40))
    assert "End of packing slip #4001 · 40 lines, 60 pieces" in slip_pages[-1]
    assert "#4002" in pages[next_label + 1] and "continued" not in pages[next_label + 1]


def test_pc_orders_show_their_build_photos():
    photos = (_photo((200, 30, 30)), _photo((30, 160, 60)), _photo((40, 60, 200)), _photo((90, 90, 90)))
    slip = _slip(photos=(*photos, _photo((0, 0, 0))))  # a fifth is not shown
    (page,) = PdfReader(io.BytesIO(packing_slip_pdf(slip))).pages
    assert len(page.images) == 4

    damaged = _slip(photos=(b"not a jpeg", photos[0]))  # one bad photo must not stop the labels
    (page,) = PdfReader(io.BytesIO(packing_slip_pdf(damaged))).pages
    assert len(page.images) == 1


def test_the_printed_page_is_not_blank(tmp_path):
    pdf = batch_pdf([PackItem(_slip(), _label("#1042"))])
    image = _png(pdf, 2, 60, tmp_path)
    assert image.size == (249, 350)  # A6 at 60 dpi
    dark = sum(image.histogram()[:128])
    assert 0.02 < dark / (image.width * image.height) < 0.5


def test_the_qr_code_reads_as_the_order_number(tmp_path):
    """Sample the printed code module by module and compare it with the QR
    code of the order number: the bench's scan field reads exactly this."""
    number = "M-00012"
    image = _png(packing_slip_pdf(_slip(number)), 1, 300, tmp_path)
    # The code sits top right of the slip: the box around the dark pixels
    # there is the symbol itself (finder patterns at three corners).
    dark_as_white = [255 if level < 128 else 0 for level in range(256)]
    top_right = image.crop((image.width // 2, 0, image.width, int(image.height * 0.21))).point(dark_as_white)
    left, top, right, bottom = top_right.getbbox() or (0, 0, 0, 0)
    matrix = segno.make(number, error="m", micro=False).matrix
    size = len(matrix)
    module = (right - left) / size
    assert module > 4 and abs((bottom - top) - (right - left)) <= 2
    for row in range(size):
        for col in range(size):
            x = image.width // 2 + left + (col + 0.5) * module
            y = top + (row + 0.5) * module
            level = image.getpixel((int(x), int(y)))
            assert isinstance(level, int)
            assert (level < 128) == bool(matrix[row][col]), (row, col)
