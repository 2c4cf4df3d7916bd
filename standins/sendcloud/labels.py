"""Shipping labels of the Sendcloud stand-in: real PDFs that look like a carrier label
(sender, recipient, routing code, the tracking number as a QR code and in print), rendered with
WeasyPrint. ``a6`` is a label-printer page (105 × 148 mm); ``a4`` puts the same label in one
quarter (``start_from`` 0–3: top left, top right, bottom left, bottom right) of an A4 sheet, as
Sendcloud's ``normal_printer`` URLs do.

Every label says it comes from the stand-in and is not valid for shipping. The renderer fetches
nothing: the only resource is the inlined QR code (a ``data:`` URI).
"""

from __future__ import annotations

import threading
from typing import Any

import jinja2
import segno
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from standins.sendcloud.store import CARRIER_NAMES, COUNTRIES

PAPERS = ("a6", "a4")
A4_QUARTERS = 4

# WeasyPrint (Pango, fontconfig) is not documented as thread-safe: one render at a time.
_render_lock = threading.Lock()

_TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    """<!doctype html>
<html><head><meta charset="utf-8"><style>
@page { size: {{ "A4" if paper == "a4" else "105mm 148mm" }}; margin: 0; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "DejaVu Sans", sans-serif; color: #000; }
.sheet { position: absolute; left: {{ left }}mm; top: {{ top }}mm; width: 105mm; height: 148mm;
         padding: 4mm; {% if paper == "a4" %}border: 0.2mm dashed #999;{% endif %} }
.label { border: 0.6mm solid #000; height: 140mm; overflow: hidden; }
.head { background: #000; color: #fff; height: 11mm; padding: 2mm 3mm; position: relative; }
.carrier { font-size: 17pt; font-weight: bold; letter-spacing: 0.3mm; }
.method { font-size: 7pt; position: absolute; right: 3mm; top: 4mm; }
.standin { font-size: 6pt; text-align: center; height: 4mm; padding-top: 0.8mm; border-bottom: 0.4mm solid #000;
           letter-spacing: 0.4mm; }
.from { font-size: 6.5pt; height: 11mm; padding: 1.5mm 3mm; border-bottom: 0.4mm solid #000; line-height: 1.3; }
.to { height: 57mm; overflow: hidden; padding: 2mm 3mm; border-bottom: 0.6mm solid #000; }
.caption { font-size: 6pt; text-transform: uppercase; color: #333; margin-bottom: 0.8mm; }
.to .name { font-size: 12pt; font-weight: bold; }
.to .line { font-size: 10pt; line-height: 1.35; }
.to .city { font-size: 11pt; font-weight: bold; }
.to .point { margin-top: 1.5mm; font-size: 8pt; border: 0.3mm solid #000; padding: 0.8mm 1.5mm;
             display: inline-block; }
.mid { height: 40mm; border-bottom: 0.6mm solid #000; }
.qr { float: left; width: 38mm; height: 39.4mm; padding: 2mm; border-right: 0.6mm solid #000; }
.qr img { width: 34mm; height: 34mm; }
.facts { margin-left: 38mm; padding: 2mm 3mm; }
.route { font-size: 22pt; font-weight: bold; line-height: 1; }
.fact { font-size: 8pt; margin-top: 1.2mm; }
.foot { padding: 1.5mm 3mm; }
.tracking { font-family: "DejaVu Sans Mono", monospace; font-size: 15pt; font-weight: bold;
            letter-spacing: 0.5mm; }
.small { font-size: 6.5pt; color: #333; }
</style></head><body>
<div class="sheet"><div class="label">
  <div class="head">
    <div class="carrier">{{ carrier }}</div>
    <div class="method">{{ method }}</div>
  </div>
  <div class="standin">SENDCLOUD STAND-IN · NOT VALID FOR SHIPPING</div>
  <div class="from">
    <div class="caption">From</div>
    {{ sender.company_name }}{% if sender.contact_name %} · {{ sender.contact_name }}{% endif %}<br>
    {{ sender.street }} {{ sender.house_number }}, {{ sender.postal_code }} {{ sender.city }}, {{ sender.country }}
  </div>
  <div class="to">
    <div class="caption">To</div>
    <div class="name">{{ parcel.name }}</div>
    {% if parcel.company_name %}<div class="line">{{ parcel.company_name }}</div>{% endif %}
    <div class="line">{{ parcel.address }}</div>
    {% if parcel.address_2 %}<div class="line">{{ parcel.address_2 }}</div>{% endif %}
    <div class="city">{{ parcel.postal_code }}  {{ parcel.city | upper }}</div>
    <div class="line">{{ country | upper }}</div>
    {% if parcel.to_service_point %}
    <div class="point">Deliver to service point {{ parcel.to_service_point }}</div>
    {% endif %}
  </div>
  <div class="mid">
    <div class="qr"><img src="{{ qr }}" alt=""></div>
    <div class="facts">
      <div class="route">{{ iso2 }} {{ route }}</div>
      <div class="fact">Weight {{ parcel.weight }} kg</div>
      {% if dimensions %}<div class="fact">{{ dimensions }} cm</div>{% endif %}
      {% if parcel.order_number %}<div class="fact">Order {{ parcel.order_number }}</div>{% endif %}
      <div class="fact">{{ parcel.date_announced or parcel.date_created }}</div>
    </div>
  </div>
  <div class="foot">
    <div class="caption">Track &amp; trace</div>
    <div class="tracking">{{ parcel.tracking_number }}</div>
    <div class="small">Parcel {{ parcel.id }}
      {%- if parcel.external_reference %} · {{ parcel.external_reference }}{% endif %}</div>
  </div>
</div></div>
</body></html>"""
)


def _fetcher() -> URLFetcher:
    """Only ``data:`` URIs (the inlined QR code); anything else is refused."""
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=5)


def render_label(parcel: dict[str, Any], sender: dict[str, Any], *, paper: str = "a6", quarter: int = 0) -> bytes:
    """The label of ``parcel`` (its API view) sent from ``sender`` as PDF bytes."""
    if paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}")
    quarter = min(max(int(quarter), 0), A4_QUARTERS - 1) if paper == "a4" else 0
    country = parcel.get("country") or {}
    iso2 = str(country.get("iso_2") or "")
    carrier_code = str((parcel.get("carrier") or {}).get("code") or "")
    length, width, height = parcel.get("length"), parcel.get("width"), parcel.get("height")
    html = _TEMPLATE.render(
        paper=paper,
        left=105 * (quarter % 2),
        top=148.5 * (quarter // 2),
        parcel=parcel,
        sender=sender,
        carrier=CARRIER_NAMES.get(carrier_code, carrier_code.upper() or "Sendcloud"),
        method=(parcel.get("shipment") or {}).get("name") or "",
        country=country.get("name") or COUNTRIES.get(iso2, ("", iso2))[1],
        iso2=iso2,
        route=str(parcel.get("postal_code") or "").replace(" ", "")[:4],
        dimensions=f"{length} × {width} × {height}" if length and width and height else "",
        qr=segno.make(str(parcel.get("tracking_number") or parcel["id"]), error="m").svg_data_uri(border=0),
    )
    with _render_lock:
        data = HTML(string=html, url_fetcher=_fetcher()).write_pdf()
    if not isinstance(data, bytes):
        raise RuntimeError("WeasyPrint wrote no PDF")
    return data
