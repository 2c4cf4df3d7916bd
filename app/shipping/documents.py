"""The packing bench's paper: packing slips and the batch PDF that puts each
order's carrier label in front of its slip, in pack order (issue 14).

Pure rendering: the shipping service gathers the orders, labels and photos
and calls in here; nothing here reads the database or storage, so a batch is
rendered the same way in a web request, a job or a benchmark.

How a batch is made, and why:
- Every slip (and every placeholder for a missing label) is laid out in ONE
  WeasyPrint document: fonts, CSS and layout machinery are set up once, and
  the fonts are embedded once. Measured on the 2-core bench machine, 30 slips
  take 3.5 s this way against 5.3 s as one document per slip merged with
  pypdf. Each section starts on a new page and carries an id, so the page
  anchors tell which pages belong to which order.
- The carrier labels stay exactly the PDFs Sendcloud made (a carrier label
  must print at its own scale): pypdf copies their pages in front of each
  order's slip pages.
- A label that is missing or unreadable gets a clearly marked placeholder page
  with the reason in its place, so label and slip stay paired on the printer
  and the pages of the next orders never shift.

Like the booklets, the renderer may fetch nothing but data: URIs (photos are
inlined), and every value is escaped by Jinja2, so a customer name can never
become markup.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache

import jinja2
import segno
from PIL import Image, UnidentifiedImageError
from pypdf import PageObject, PdfReader, PdfWriter
from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.urls import URLFetcher

from app.settings import ROOT

TEMPLATES = ROOT / "assets" / "shipping"
PAGE_SIZES = ("a6", "a4")  # a6: label printer (105 × 148 mm); a4: a sheet printer
MAX_PHOTOS = 4
# Thumbnails are printed at most ~40 mm wide (A4): 400 px is ~250 dpi there,
# sharp enough, and keeps a 100-order batch's HTML and memory small.
PHOTO_MAX_PX = 400
NO_LABEL = "No carrier label for this order"
UNREADABLE_LABEL = "The carrier label could not be read (damaged PDF): reprint it from the order page"
_BETWEEN_TAGS = re.compile(r">\s+<")

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class SlipLine:
    """One line item as the packer picks it."""

    title: str
    variant: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class PackingSlip:
    """What a slip shows; every value comes formatted in the shop's locale."""

    order_number: str  # "#1042" / "M-00012": printed large, and as a QR code
    placed_on: str
    shop_name: str
    customer_name: str
    ship_to: tuple[str, ...]  # address lines, already composed
    service_point: str  # "" or "PostNL point: Primera Utrecht, Stationsplein 5" (ships to the point)
    shipping_method: str  # "PostNL Standard 0-23kg" or ""
    carrier: str
    tracking_number: str
    weight: str  # formatted, e.g. "1.24 kg"
    lines: tuple[SlipLine, ...]
    photos: tuple[bytes, ...] = ()  # JPEG thumbnails of a PC build (up to 4 shown), empty for print orders
    note: str = ""  # the order's note to the packer, if any
    label_missing: str = ""  # "" or why no carrier label is in the batch (manual mode, failed label)


@dataclass(frozen=True)
class PackItem:
    """One order of a batch: its slip and its carrier label as Sendcloud made it."""

    slip: PackingSlip
    label_pdf: bytes | None  # the carrier label (A6 or A4), or None
    label_format: str = "a6"  # "a6" | "a4": also the size of the placeholder page when the label is missing
    # The slip already rendered (when its label was made) from exactly `slip`
    # (`slip_fingerprint` matched): its pages are used as they are.
    slip_pdf: bytes | None = None


@cache
def layout_version() -> str:
    """A digest of the slip's template and CSS: a slip rendered with another
    layout is rendered again."""
    digest = hashlib.sha256()
    for name in ("packing_slip.html", "shipping.css"):
        digest.update((TEMPLATES / name).read_bytes())
    return digest.hexdigest()[:16]


def slip_fingerprint(slip: PackingSlip, page_size: str, photo_ids: Sequence[str] = ()) -> str:
    """What a rendered slip was made from: its values (the photos by their
    stored ids), its paper size and the layout. Equal fingerprints, equal
    slips: a stored rendering may be reused."""
    values = {
        **{k: v for k, v in asdict(slip).items() if k != "photos"},
        "photos": list(photo_ids) if photo_ids else [hashlib.sha256(p).hexdigest() for p in slip.photos],
        "size": page_size,
        "layout": layout_version(),
    }
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def fetcher() -> URLFetcher:
    """Only data: URIs (the inlined photos); everything else is refused."""
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=5)


def packing_slip_pdf(slip: PackingSlip, *, page_size: str = "a6") -> bytes:
    """One order's packing slip (a reprint, or the scan field's answer)."""
    return slips_pdf([slip], page_size=page_size)


def slips_pdf(slips: Sequence[PackingSlip], *, page_size: str = "a6") -> bytes:
    """Packing slips only, each starting on a new page, in the given order
    (a pick run before the labels, or a reprint of several slips)."""
    _check_size(page_size)
    if not slips:
        raise ValueError("Select at least one order to print")
    return _write(_render([_slip_section(i, slip) for i, slip in enumerate(slips)], page_size))


def batch_pdf(items: Sequence[PackItem], *, slip_size: str = "a6") -> bytes:
    """One PDF for the printer: for each item, in the given order, its label
    pages then its slip page(s). A missing or unreadable label gets a marked
    placeholder page with the reason instead. `slip_size` follows the labels:
    "a6" when the shop prints A6 labels, "a4" for a sheet printer."""
    _check_size(slip_size)
    if not items:
        raise ValueError("Select at least one order to print")
    for item in items:
        _check_size(item.label_format)
    labels = [_read_label(item.label_pdf) for item in items]
    ready = [_read_label(item.slip_pdf) for item in items]  # slips rendered before (None: render now)
    sections: list[dict] = []
    for i, (item, label) in enumerate(zip(items, labels, strict=True)):
        if label is None:
            reason = item.slip.label_missing or (UNREADABLE_LABEL if item.label_pdf else NO_LABEL)
            sections.append(_placeholder_section(i, item, reason))
        if ready[i] is None:
            sections.append(_slip_section(i, item.slip))
    pages: dict[str, list[int]] = {}
    rendered: PdfReader | None = None
    if sections:
        document = _render(sections, slip_size)
        pages = _pages_by_section(document, [s["id"] for s in sections])
        rendered = PdfReader(io.BytesIO(_write(document)))
    out = PdfWriter()
    for i, (item, label) in enumerate(zip(items, labels, strict=True)):
        first = len(out.pages)
        for page in label or _pages_of(rendered, pages.get(f"label-{i}", ())):
            out.add_page(page)
        for page in ready[i] or _pages_of(rendered, pages.get(f"slip-{i}", ())):
            out.add_page(page)
        out.add_outline_item(title=_outline_title(item.slip), page_number=first)  # a viewer's sidebar lists the orders
    out.add_metadata({"/Title": f"Labels and packing slips ({len(items)} orders)"})
    buffer = io.BytesIO()
    out.write(buffer)
    return buffer.getvalue()


def _pages_of(reader: PdfReader | None, indexes: Sequence[int]) -> list[PageObject]:
    return [reader.pages[i] for i in indexes] if reader is not None else []


def _check_size(size: str) -> None:
    if size not in PAGE_SIZES:
        raise ValueError(f"Unknown paper size {size!r}: use one of {', '.join(PAGE_SIZES)}")


def _read_label(data: bytes | None) -> list[PageObject] | None:
    """The label's pages, or None when there is no label or it cannot be read
    (then the batch carries a placeholder instead of failing every order).

    pypdf reads lazily: a damaged object would otherwise only fail while the
    whole batch is written. Copying the pages into a writer of their own
    reads every object they use, so the damage shows here."""
    if not data:
        return None
    try:
        copy = PdfWriter()
        for page in PdfReader(io.BytesIO(data)).pages:
            copy.add_page(page)
    except Exception:  # on a damaged file pypdf raises PdfReadError, AttributeError, AssertionError…
        return None
    return list(copy.pages) or None


def _slip_section(index: int, slip: PackingSlip) -> dict:
    return {
        "kind": "slip",
        "id": f"slip-{index}",
        "slip": slip,
        "qr": _qr_svg(slip.order_number),
        "photos": [uri for uri in map(_thumbnail_uri, slip.photos[:MAX_PHOTOS]) if uri],
        "pieces": sum(line.quantity for line in slip.lines),
    }


def _placeholder_section(index: int, item: PackItem, reason: str) -> dict:
    return {
        "kind": "placeholder",
        "id": f"label-{index}",
        "slip": item.slip,
        "size": item.label_format,
        "reason": reason,
    }


def _qr_svg(text: str) -> str:
    """The order number as a QR code, for the bench's scan field. Always a full
    QR code: for text this short segno would pick a Micro QR, which most
    phone and handheld scanners cannot read. Sized by the CSS (no fixed size)."""
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="svg", border=2, omitsize=True, xmldecl=False, svgns=True)
    return out.getvalue().decode()


def _thumbnail_uri(data: bytes) -> str | None:
    """A small JPEG data URI of a build photo, or None when the bytes are not
    an image (a photo only helps the packer recognise the PC: one unreadable
    photo must not stop a batch of labels)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (PHOTO_MAX_PX, PHOTO_MAX_PX))  # JPEG: decode at a reduced scale
            thumb = img.convert("RGB")
            thumb.thumbnail((PHOTO_MAX_PX, PHOTO_MAX_PX))
            out = io.BytesIO()
            thumb.save(out, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


@cache
def _stylesheet() -> CSS:
    """The slips' CSS, parsed once per process (a plain file: no values in it).
    Given to WeasyPrint as a stylesheet, not pasted into the HTML, where
    autoescaping would mangle its quotes."""
    return CSS(filename=str(TEMPLATES / "shipping.css"), url_fetcher=fetcher())


def _render(sections: list[dict], slip_size: str) -> Document:
    html = _compact(_env.get_template("packing_slip.html").render(sections=sections, size=slip_size))
    return HTML(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher()).render(stylesheets=[_stylesheet()])


def _compact(html: str) -> str:
    """The HTML without the template's indentation between tags: each of those
    runs becomes a box WeasyPrint builds and lays out (a sixth of a batch's
    time). Values are escaped, so no `<` or `>` of theirs is touched."""
    return _BETWEEN_TAGS.sub("><", html)


def _write(document: Document) -> bytes:
    pdf = document.write_pdf()
    assert pdf is not None  # no target given: write_pdf returns the document's bytes
    return pdf


def _pages_by_section(document: Document, section_ids: list[str]) -> dict[str, list[int]]:
    """Which page indexes each section occupies. Every section starts on a new
    page and carries its id; a page belongs to the last section started on or
    before it (a section flowing onto more pages)."""
    wanted = set(section_ids)
    pages: dict[str, list[int]] = {}
    current = section_ids[0]
    for index, page in enumerate(document.pages):
        started = [anchor for anchor in page.anchors if anchor in wanted and anchor not in pages]
        if started:
            current = started[0]
        pages.setdefault(current, []).append(index)
    return pages


def _outline_title(slip: PackingSlip) -> str:
    return f"{slip.order_number} · {slip.customer_name}" if slip.customer_name else slip.order_number
