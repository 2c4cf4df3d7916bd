"""The account behind the Sendcloud stand-in: its sender addresses, shipping methods, status
catalogue and service points, and its parcels, with the validation of ``POST /api/v2/parcels``,
the cancel state machine (contract §4), the JSON views (§3, §5) and the status simulator.

``ParcelStore`` is mixed into ``SendcloudStandin`` (api.py); everything touching state holds
``self.lock``, and every status change goes out through ``self._emit`` (webhooks.py).
"""

from __future__ import annotations

import copy
import itertools
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# GET /api/v2/parcels/statuses, in the order Sendcloud serves them (contract §5).
STATUSES: tuple[tuple[int, str], ...] = (
    (999, "No label"),
    (1000, "Ready to send"),
    (1001, "Being announced"),
    (1002, "Announcement failed"),
    (1, "Announced"),
    (13, "Announced: not collected"),
    (22, "Shipment picked up by driver"),
    (3, "En route to sorting center"),
    (7, "Being sorted"),
    (5, "Sorted"),
    (6, "Not sorted"),
    (91, "Parcel en route"),
    (92, "Driver en route"),
    (4, "Delivery delayed"),
    (8, "Delivery attempt failed"),
    (12, "Awaiting customer pickup"),
    (11, "Delivered"),
    (93, "Shipment collected by customer"),
    (15, "Error collecting"),
    (80, "Unable to deliver"),
    (1337, "Unknown status - check carrier track & trace page for more insights"),
    (1998, "Cancelled upstream"),
    (1999, "Cancellation requested"),
    (2001, "Submitting cancellation request"),
    (2000, "Cancelled"),
)
STATUS_MESSAGES = dict(STATUSES)
NO_LABEL, READY_TO_SEND, ANNOUNCEMENT_FAILED, CANCELLATION_REQUESTED, CANCELLED = 999, 1000, 1002, 1999, 2000
# The happy path the simulator walks: ready to send → announced → picked up → sorting centre
# → en route → driver en route → delivered.
LIFECYCLE = (1000, 1, 22, 3, 91, 92, 11)
# One simulator step from each status that still moves (off-path statuses rejoin the path).
NEXT_STATUS: dict[int, int] = {
    **dict(itertools.pairwise(LIFECYCLE)),
    13: 22,
    7: 91,
    5: 91,
    6: 91,
    4: 91,
    8: 92,
    12: 93,
    1999: 2000,
    2001: 2000,
}
# Announced but not yet with the carrier: the label may still be voided.
CANCELLABLE = frozenset({1000, 1001, 1, 13})
CANCELLING = frozenset({1999, 2001})
CANCEL_WINDOW_DAYS = 42
CANNOT_CANCEL_MESSAGE = "Shipped parcels, or parcels being shipped, can no longer be cancelled."

COUNTRIES: dict[str, tuple[str, str]] = {
    "NL": ("NLD", "Netherlands"),
    "BE": ("BEL", "Belgium"),
    "DE": ("DEU", "Germany"),
    "LU": ("LUX", "Luxembourg"),
    "FR": ("FRA", "France"),
    "AT": ("AUT", "Austria"),
    "DK": ("DNK", "Denmark"),
    "ES": ("ESP", "Spain"),
    "IT": ("ITA", "Italy"),
    "PL": ("POL", "Poland"),
    "SE": ("SWE", "Sweden"),
    "IE": ("IRL", "Ireland"),
    "PT": ("PRT", "Portugal"),
    "FI": ("FIN", "Finland"),
    "CZ": ("CZE", "Czechia"),
    "CH": ("CHE", "Switzerland"),
    "NO": ("NOR", "Norway"),
    "GB": ("GBR", "United Kingdom"),
    "US": ("USA", "United States"),
}
CARRIER_NAMES = {"postnl": "PostNL", "dhl": "DHL", "dpd": "DPD"}

SENDER_ADDRESSES: tuple[dict[str, Any], ...] = (
    {
        "id": 192,
        "company_name": "Shopfloor Print Farm",
        "contact_name": "Packing Bench",
        "email": "shipping@shopfloor.example",
        "telephone": "+31302345678",
        "street": "Europalaan",
        "house_number": "100",
        "postal_box": "",
        "postal_code": "3526 KS",
        "city": "Utrecht",
        "country": "NL",
        "country_state": "",
        "vat_number": "NL001234567B01",
        "coc_number": "87654321",
        "bank_account_number": "NL91ABNA0417164300",
        "label": "Workshop",
        "brand_id": None,
        "signature_full_name": "",
        "signature_initials": "",
    },
    {
        "id": 193,
        "company_name": "Shopfloor Warehouse",
        "contact_name": "Dispatch",
        "email": "warehouse@shopfloor.example",
        "telephone": "+31402345678",
        "street": "Kanaaldijk-Noord",
        "house_number": "61",
        "postal_box": "",
        "postal_code": "5613 DH",
        "city": "Eindhoven",
        "country": "NL",
        "country_state": "",
        "vat_number": "NL001234567B01",
        "coc_number": "87654321",
        "bank_account_number": "NL91ABNA0417164300",
        "label": "Warehouse",
        "brand_id": None,
        "signature_full_name": "",
        "signature_initials": "",
    },
)


def _country_prices(prices: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "id": n,
            "iso_2": iso,
            "iso_3": COUNTRIES[iso][0],
            "name": COUNTRIES[iso][1],
            "price": float(price),
            "lead_time_hours": 24 if iso == "NL" else 48,
        }
        for n, (iso, price) in enumerate(prices.items(), start=1)
    ]


SHIPPING_METHODS: tuple[dict[str, Any], ...] = (
    {
        "id": 8,
        "name": "PostNL Standard 0-23kg",
        "carrier": "postnl",
        "min_weight": "0.001",
        "max_weight": "23.001",
        "service_point_input": "none",
        "price": 0,
        "countries": _country_prices({"NL": "6.95", "BE": "9.95", "DE": "11.50", "LU": "11.50", "FR": "13.95"}),
    },
    {
        "id": 1343,
        "name": "PostNL Service Point 0-23kg",
        "carrier": "postnl",
        "min_weight": "0.001",
        "max_weight": "23.001",
        "service_point_input": "required",
        "price": 0,
        "countries": _country_prices({"NL": "5.95", "BE": "7.95"}),
    },
    {
        "id": 1315,
        "name": "DHL For You Home 0-20kg",
        "carrier": "dhl",
        "min_weight": "0.001",
        "max_weight": "20.001",
        "service_point_input": "none",
        "price": 0,
        "countries": _country_prices({"NL": "6.45", "BE": "8.95", "DE": "9.95", "LU": "9.95"}),
    },
    {
        "id": 1325,
        "name": "DPD Home 0-31.5kg",
        "carrier": "dpd",
        "min_weight": "0.001",
        "max_weight": "31.501",
        "service_point_input": "none",
        "price": 0,
        "countries": _country_prices(
            {"NL": "7.25", "BE": "8.25", "DE": "8.95", "LU": "9.50", "FR": "11.95", "AT": "12.50", "PL": "12.95"}
        ),
    },
)
DEFAULT_SHIPPING_METHOD = 8


def _opening_times(weekdays: str, saturday: str) -> dict[str, list[str]]:
    return {str(d): [weekdays] for d in range(5)} | {"5": [saturday], "6": []}


SERVICE_POINTS: tuple[dict[str, Any], ...] = (
    {
        "id": 10663437,
        "code": "217165",
        "name": "Primera Utrecht Centraal",
        "street": "Stationshal",
        "house_number": "12",
        "postal_code": "3511 CE",
        "city": "Utrecht",
        "latitude": "52.089437",
        "longitude": "5.110540",
        "carrier": "postnl",
        "country": "NL",
        "shop_type": "servicepoint",
        "formatted_opening_times": _opening_times("08:00 - 20:00", "09:00 - 17:00"),
    },
    {
        "id": 10663512,
        "code": "240871",
        "name": "Bruna Oudegracht",
        "street": "Oudegracht",
        "house_number": "158",
        "postal_code": "3511 AZ",
        "city": "Utrecht",
        "latitude": "52.089101",
        "longitude": "5.120712",
        "carrier": "postnl",
        "country": "NL",
        "shop_type": "servicepoint",
        "formatted_opening_times": _opening_times("09:00 - 18:00", "09:00 - 17:00"),
    },
    {
        "id": 10664021,
        "code": "176440",
        "name": "AKO Amsterdam Centraal",
        "street": "Stationsplein",
        "house_number": "15",
        "postal_code": "1012 AB",
        "city": "Amsterdam",
        "latitude": "52.378901",
        "longitude": "4.900272",
        "carrier": "postnl",
        "country": "NL",
        "shop_type": "servicepoint",
        "formatted_opening_times": _opening_times("07:00 - 21:00", "08:00 - 20:00"),
    },
    {
        "id": 20115589,
        "code": "NL-352101",
        "name": "DHL ServicePoint Albert Heijn Lombok",
        "street": "Kanaalstraat",
        "house_number": "200",
        "postal_code": "3531 CK",
        "city": "Utrecht",
        "latitude": "52.093188",
        "longitude": "5.099361",
        "carrier": "dhl",
        "country": "NL",
        "shop_type": "servicepoint",
        "formatted_opening_times": _opening_times("08:00 - 22:00", "08:00 - 22:00"),
    },
    {
        "id": 30277120,
        "code": "BE-2000-11",
        "name": "bpost Antwerpen Meir",
        "street": "Meir",
        "house_number": "78",
        "postal_code": "2000",
        "city": "Antwerpen",
        "latitude": "51.218460",
        "longitude": "4.409770",
        "carrier": "postnl",
        "country": "BE",
        "shop_type": "servicepoint",
        "formatted_opening_times": _opening_times("09:00 - 18:00", "10:00 - 16:00"),
    },
)

_NUMBER_LAST = re.compile(r"^(?P<street>.*?\D)[\s,]+(?P<number>\d+(?:\s*[-/]?\s*[A-Za-z0-9]{1,4})?)$")
_NUMBER_FIRST = re.compile(r"^(?P<number>\d+[A-Za-z]?)[\s,]+(?P<street>\D.*)$")
REQUIRED = ("name", "address", "city", "postal_code", "country")


def split_address(address: str) -> tuple[str, str]:
    """``("Stationsstraat", "12A")`` from "Stationsstraat 12A" (or "12 Rue de la Loi");
    ``(address, "")`` when no house number can be found."""
    text = " ".join(address.split())
    match = _NUMBER_LAST.match(text) or _NUMBER_FIRST.match(text)
    if match is None:
        return text, ""
    return match.group("street").strip(" ,"), match.group("number").replace(" ", "")


def sendcloud_date(ts: float | None) -> str | None:
    """A v2 date: ``"dd-mm-YYYY HH:MM:SS"`` (UTC here), not ISO (contract §3)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%d-%m-%Y %H:%M:%S")


def parse_datetime(value: str) -> float | None:
    """An ISO 8601 date-time (``Z`` allowed; naive = UTC) as a timestamp, or None."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class ParcelStore:
    """Sender addresses, shipping methods, service points, parcels, and the simulator (thread-safe).

    ``root_url`` (set by the server) is where label and tracking links point.
    """

    root_url: str | None
    cancel_queued: bool
    webhook_on_create: bool
    # provided by the other halves of SendcloudStandin: webhook delivery and the label cache
    _emit: Callable[[dict[str, Any]], None]
    _forget_labels: Callable[[int], None]

    def _init_store(self) -> None:
        self.lock = threading.RLock()
        self.sender_addresses: list[dict[str, Any]] = copy.deepcopy(list(SENDER_ADDRESSES))
        self.shipping_methods: list[dict[str, Any]] = copy.deepcopy(list(SHIPPING_METHODS))
        self.service_points: list[dict[str, Any]] = copy.deepcopy(list(SERVICE_POINTS))
        self._parcels: dict[int, dict[str, Any]] = {}  # id -> internal record
        self._next_id = 383707309
        self._auto_thread: threading.Thread | None = None
        self._ready_since: dict[int, float] = {}  # parcel id → when the simulator first saw it ready
        self._auto_stop = threading.Event()

    def _clear_store(self) -> None:
        with self.lock:
            self._parcels.clear()
            self._ready_since.clear()
            self._next_id = 383707309

    # =========================================================================================
    # Look-ups
    # =========================================================================================

    def method(self, method_id: Any) -> dict[str, Any] | None:
        try:
            wanted = int(method_id)
        except (TypeError, ValueError):
            return None
        return next((m for m in self.shipping_methods if m["id"] == wanted), None)

    def sender(self, sender_id: Any) -> dict[str, Any] | None:
        """The sender address with this id; the first one (the default) for None."""
        if sender_id is None:
            return self.sender_addresses[0]
        try:
            wanted = int(sender_id)
        except (TypeError, ValueError):
            return None
        return next((s for s in self.sender_addresses if s["id"] == wanted), None)

    def record(self, parcel_id: int) -> dict[str, Any] | None:
        """The internal record of a parcel (hold the lock while using it)."""
        return self._parcels.get(int(parcel_id))

    def parcel(self, parcel_id: int) -> dict[str, Any] | None:
        """A parcel as ``GET /api/v2/parcels/{id}`` shows it, or None."""
        with self.lock:
            record = self._parcels.get(int(parcel_id))
            return self.parcel_view(record) if record is not None else None

    @property
    def parcels(self) -> list[dict[str, Any]]:
        """Every parcel (API view), oldest first."""
        with self.lock:
            return [self.parcel_view(p) for p in sorted(self._parcels.values(), key=lambda p: p["id"])]

    # =========================================================================================
    # Views
    # =========================================================================================

    def _root(self) -> str:
        return self.root_url or "http://127.0.0.1"

    def label_urls(self, parcel_id: int) -> dict[str, Any]:
        base = f"{self._root()}/api/v2/labels"
        return {
            "label_printer": f"{base}/label_printer/{parcel_id}",
            "normal_printer": [f"{base}/normal_printer/{parcel_id}?start_from={n}" for n in range(4)],
        }

    def tracking_url(self, p: dict[str, Any]) -> str:
        verification = p["postal_code"].replace(" ", "")
        return (
            f"{self._root()}/tracking/forward?carrier={p['method']['carrier']}&code={p['tracking_number']}"
            f"&destination={p['country']}&lang=en-us&source={p['sender']['country']}&type=parcel"
            f"&verification={verification}"
        )

    def has_label(self, p: dict[str, Any]) -> bool:
        return bool(p["tracking_number"])

    def parcel_view(self, p: dict[str, Any]) -> dict[str, Any]:
        """The v2 parcel object (contract §3 response)."""
        iso3, country_name = COUNTRIES.get(p["country"], (p["country"], p["country"]))
        labelled = self.has_label(p)
        documents = (
            [{"type": "label", "size": "a6", "link": f"{self._root()}/api/v2/parcels/{p['id']}/documents/label"}]
            if labelled
            else []
        )
        return {
            "id": p["id"],
            "name": p["name"],
            "company_name": p["company_name"],
            "address": f"{p['street']} {p['house_number']}".strip(),
            "address_2": p["address_2"],
            "address_divided": {"street": p["street"], "house_number": p["house_number"]},
            "city": p["city"],
            "postal_code": p["postal_code"],
            "country": {"iso_2": p["country"], "iso_3": iso3, "name": country_name},
            "country_state": p["country_state"] or None,
            "telephone": p["telephone"],
            "email": p["email"],
            "date_created": sendcloud_date(p["created"]),
            "date_updated": sendcloud_date(p["updated"]),
            "date_announced": sendcloud_date(p["announced"]),
            "tracking_number": p["tracking_number"],
            "tracking_url": self.tracking_url(p) if labelled else "",
            "weight": p["weight"],
            "length": p["length"],
            "width": p["width"],
            "height": p["height"],
            "label": self.label_urls(p["id"]) if labelled else {},
            "documents": documents,
            "status": {"id": p["status_id"], "message": STATUS_MESSAGES.get(p["status_id"], "Unknown status")},
            "shipment": {"id": p["method"]["id"], "name": p["method"]["name"]},
            "carrier": {"code": p["method"]["carrier"]},
            "sender_address": p["sender"]["id"],
            "order_number": p["order_number"],
            "external_reference": p["external_reference"],
            "reference": p["reference"],
            "to_service_point": p["to_service_point"],
            "is_return": False,
            "total_order_value": p["total_order_value"],
            "total_order_value_currency": p["currency"],
            "parcel_items": copy.deepcopy(p["items"]),
            "colli_uuid": p["colli_uuid"],
            "collo_nr": 0,
            "collo_count": 1,
            "shipment_uuid": p["shipment_uuid"],
            "external_order_id": str(p["id"]),
            "external_shipment_id": "",
            "type": "parcel",
            "customs_declaration": {},
            "data": {},
        }

    # =========================================================================================
    # Creating and updating
    # =========================================================================================

    def validate(self, data: Any, *, existing: dict[str, Any] | None = None) -> tuple[dict[str, list[str]], dict]:
        """Check one parcel of ``POST /api/v2/parcels`` (or the merged fields of a ``PUT``):
        ``(field errors, cleaned fields)``. Errors read like Sendcloud's serializer errors."""
        errors: dict[str, list[str]] = {}

        def err(name: str, text: str) -> None:
            errors.setdefault(name, []).append(text)

        if not isinstance(data, dict):
            return {"non_field_errors": ["Invalid data. Expected a dictionary."]}, {}
        for name in REQUIRED:
            if name not in data or data[name] is None:
                err(name, "This field is required.")
            elif _blank(data[name]):
                err(name, "This field may not be blank.")
        clean: dict[str, Any] = {
            name: str(data.get(name) or "").strip()
            for name in (
                "name",
                "company_name",
                "address",
                "house_number",
                "address_2",
                "city",
                "postal_code",
                "country_state",
                "telephone",
                "email",
                "order_number",
                "external_reference",
                "reference",
            )
        }
        country = str(data.get("country") or "").strip().upper()
        if country and country not in COUNTRIES:
            err("country", f'"{country}" is not a valid choice.')
        clean["country"] = country

        street, number = clean["address"], clean["house_number"]
        if not number and street:
            street, number = split_address(street)
        if not number and "address" not in errors:
            err("house_number", "This field may not be blank.")
        clean["street"], clean["house_number"] = street, number

        request_label = bool(data.get("request_label", False))
        clean["request_label"] = request_label
        shipment = data.get("shipment")
        method_id = shipment.get("id") if isinstance(shipment, dict) else None
        method = None
        if method_id is None:
            if request_label:
                err("shipment", "This field is required when request_label is true.")
        else:
            method = self.method(method_id)
            if method is None:
                err("shipment", f"Invalid shipping method {method_id}.")
            elif country in COUNTRIES and country not in {c["iso_2"] for c in method["countries"]}:
                err("shipment", f"{method['name']} does not ship to {COUNTRIES[country][1]}.")
        clean["method"] = method or self.method(DEFAULT_SHIPPING_METHOD)

        sender = self.sender(data.get("sender_address"))
        if sender is None:
            err("sender_address", f"Invalid sender address {data.get('sender_address')}.")
        clean["sender"] = sender or self.sender_addresses[0]

        weight_in = data.get("weight")
        if weight_in is None or weight_in == "":
            clean["weight"] = "1.000"  # the account's default weight
        else:
            weight = _decimal(weight_in)
            if weight is None:
                err("weight", "A valid number is required.")
            elif weight < Decimal("0.001"):
                err("weight", "Ensure this value is greater than or equal to 0.001.")
            elif method is not None and weight > Decimal(method["max_weight"]):
                err("weight", f"The weight exceeds the maximum of {method['max_weight']} kg for {method['name']}.")
            else:
                clean["weight"] = str(weight.quantize(Decimal("0.001")))

        dimensions = [data.get(d) for d in ("length", "width", "height")]
        given = [d for d in dimensions if d not in (None, "")]
        if given and len(given) != 3:
            err("length", "Length, width and height must be given together.")
        clean["length"] = clean["width"] = clean["height"] = None
        if len(given) == 3:
            numbers = [_decimal(d) for d in dimensions]
            if any(n is None or n <= 0 for n in numbers):
                err("length", "Length, width and height must be positive numbers (cm).")
            else:
                clean["length"], clean["width"], clean["height"] = (str(n) for n in numbers)

        point = data.get("to_service_point")
        clean["to_service_point"] = None
        if point not in (None, ""):
            try:
                clean["to_service_point"] = str(int(point))
            except (TypeError, ValueError):
                err("to_service_point", "A valid integer is required.")
            if method is not None and method["service_point_input"] == "none":
                err("to_service_point", f"{method['name']} does not deliver to service points.")
        elif method is not None and method["service_point_input"] == "required":
            err("to_service_point", f"{method['name']} needs a service point.")

        value = data.get("total_order_value")
        clean["total_order_value"] = None
        if value not in (None, ""):
            amount = _decimal(value)
            if amount is None:
                err("total_order_value", "A valid number is required.")
            else:
                clean["total_order_value"] = str(amount.quantize(Decimal("0.01")))
        clean["currency"] = str(data.get("total_order_value_currency") or "EUR")

        items = data.get("parcel_items") or []
        if not isinstance(items, list):
            err("parcel_items", "Expected a list of items.")
            items = []
        clean["items"] = []
        for n, item in enumerate(items):
            if not isinstance(item, dict) or _blank(item.get("description")):
                err("parcel_items", f"Item {n + 1}: description may not be blank.")
                continue
            quantity = _decimal(item.get("quantity"))
            if quantity is None or quantity < 1 or quantity != quantity.to_integral_value():
                err("parcel_items", f"Item {n + 1}: quantity must be a whole number of at least 1.")
                continue
            clean["items"].append(
                {
                    "description": str(item["description"]),
                    "quantity": int(quantity),
                    "weight": str(item.get("weight") or ""),
                    "value": str(item.get("value") or ""),
                    "sku": str(item.get("sku") or ""),
                    "hs_code": str(item.get("hs_code") or ""),
                    "origin_country": str(item.get("origin_country") or ""),
                    "product_id": str(item.get("product_id") or ""),
                }
            )

        reference = clean["external_reference"]
        if reference and any(
            p["external_reference"] == reference and p is not existing for p in self._parcels.values()
        ):
            err("external_reference", "A parcel with this external_reference already exists.")
        if existing is not None and existing["status_id"] != NO_LABEL:
            err("non_field_errors", "This parcel has already been announced and can no longer be changed.")
        return errors, clean

    def create(self, clean: dict[str, Any]) -> dict[str, Any]:
        """Store a validated parcel; announce it when a label was asked for. Returns the record."""
        now = time.time()
        with self.lock:
            parcel_id = self._next_id
            self._next_id += 1
            record = {
                **{k: v for k, v in clean.items() if k not in ("address", "request_label")},
                "id": parcel_id,
                "status_id": NO_LABEL,
                "tracking_number": "",
                "created": now,
                "updated": now,
                "announced": None,
                "carrier_ms": None,
                "colli_uuid": str(uuid.uuid4()),
                "shipment_uuid": str(uuid.uuid4()),
                "history": [(NO_LABEL, int(now * 1000))],
            }
            self._parcels[parcel_id] = record
            if clean["request_label"]:
                self._announce(record, emit=self.webhook_on_create)
            return record

    def update(self, record: dict[str, Any], clean: dict[str, Any]) -> None:
        """Apply a validated ``PUT /api/v2/parcels`` to an unannounced parcel."""
        with self.lock:
            record.update({k: v for k, v in clean.items() if k not in ("address", "request_label")})
            record["updated"] = time.time()
            self._forget_labels(record["id"])
            if clean["request_label"]:
                self._announce(record, emit=self.webhook_on_create)

    def _announce(self, record: dict[str, Any], *, emit: bool) -> None:
        """Give the parcel its tracking number and label: status 1000 "Ready to send"."""
        record["tracking_number"] = f"3SSTND{record['id'] % 10_000_000:07d}"
        record["announced"] = time.time()
        self._set_status(record, READY_TO_SEND, emit=emit)

    def _set_status(self, record: dict[str, Any], status_id: int, *, emit: bool = True) -> None:
        """Move to ``status_id``: the carrier's timestamp moves forward (strictly), the step is
        kept in the history and, with ``emit``, announced by webhook."""
        now_ms = int(time.time() * 1000)
        previous = record["carrier_ms"] or 0
        record["status_id"] = int(status_id)
        record["carrier_ms"] = max(now_ms, previous + 1)
        record["updated"] = time.time()
        record["history"].append((int(status_id), record["carrier_ms"]))
        if emit:
            self._emit(record)

    # =========================================================================================
    # Listing
    # =========================================================================================

    def matching(self, query: dict[str, str]) -> list[dict[str, Any]] | str:
        """The records a ``GET /api/v2/parcels`` filter selects, oldest first; a message when a
        filter value is unusable."""
        records = sorted(self._parcels.values(), key=lambda p: p["id"])
        for name in ("order_number", "external_reference", "tracking_number"):
            if query.get(name):
                records = [p for p in records if p[name] == query[name]]
        if query.get("ids"):
            try:
                ids = {int(i) for i in query["ids"].split(",") if i.strip()}
            except ValueError:
                return "ids: Enter a comma-separated list of whole numbers."
            records = [p for p in records if p["id"] in ids]
        if query.get("parcel_status"):
            try:
                wanted = int(query["parcel_status"])
            except ValueError:
                return "parcel_status: A valid integer is required."
            records = [p for p in records if p["status_id"] == wanted]
        for name, key in (("updated_after", "updated"), ("announced_after", "announced")):
            if query.get(name):
                since = parse_datetime(query[name])
                if since is None:
                    return f"{name}: Enter a valid date/time."
                records = [p for p in records if p[key] is not None and p[key] > since]
        return records

    # =========================================================================================
    # Cancelling (contract §4)
    # =========================================================================================

    def cancel(self, parcel_id: int) -> tuple[int, dict[str, Any]]:
        """``POST /api/v2/parcels/{id}/cancel``: ``(HTTP status, body)``, the error shapes
        included."""
        with self.lock:
            record = self._parcels.get(int(parcel_id))
            if record is None:
                return 404, {"status": "failed", "message": "Parcel not found"}
            status = record["status_id"]
            if status == NO_LABEL:
                del self._parcels[record["id"]]
                return 200, {"status": "deleted", "message": "Parcel has been deleted"}
            if status == ANNOUNCEMENT_FAILED:
                del self._parcels[record["id"]]
                self._forget_labels(record["id"])
                return 410, {"status": "deleted", "message": "The announcement of this parcel failed; it was deleted"}
            if status in CANCELLING:
                return 202, {"status": "queued", "message": "Parcel cancellation has been queued"}
            announced = record["announced"] or record["created"]
            if status in CANCELLABLE and time.time() - announced <= CANCEL_WINDOW_DAYS * 86400:
                if self.cancel_queued:
                    self._set_status(record, CANCELLATION_REQUESTED)
                    return 202, {"status": "queued", "message": "Parcel cancellation has been queued"}
                self._set_status(record, CANCELLED)
                return 200, {"status": "cancelled", "message": "Parcel has been cancelled"}
            return 400, {"status": "failed", "message": CANNOT_CANCEL_MESSAGE}

    # =========================================================================================
    # Simulator
    # =========================================================================================

    def advance(self, parcel_id: int, status_id: int) -> dict[str, Any]:
        """Set a parcel's status as the carrier reported it now, and send the webhook.
        A parcel without a label gets one first when it moves to any status but a cancel."""
        with self.lock:
            record = self._parcels.get(int(parcel_id))
            if record is None:
                raise KeyError(f"no parcel {parcel_id}")
            if not record["tracking_number"] and int(status_id) not in (NO_LABEL, CANCELLED, 1998, *CANCELLING):
                self._announce(record, emit=False)
            self._set_status(record, int(status_id))
            return self.parcel_view(record)

    def advance_all(self) -> list[dict[str, Any]]:
        """One simulator step: every parcel with a label that is still moving takes its next
        status (1000 → 1 → 22 → 3 → 91 → 92 → 11; a requested cancellation completes).
        Returns the moved parcels."""
        moved = []
        with self.lock:
            for record in sorted(self._parcels.values(), key=lambda p: p["id"]):
                nxt = NEXT_STATUS.get(record["status_id"])
                if nxt is not None and self.has_label(record) and self._collected(record):
                    self._set_status(record, nxt)
                    moved.append(self.parcel_view(record))
        return moved

    def _collected(self, record: dict[str, Any]) -> bool:
        """A parcel ready to send waits for the driver (``pickup_after`` seconds after the
        simulator first sees it), who collects only ``pickup_share`` of the parcels; one
        already moving always takes its next step."""
        if record["status_id"] != LIFECYCLE[0]:
            return True
        share = getattr(self, "pickup_share", 1.0)
        if share < 1.0 and (record["id"] * 2654435761 % 2**32) / 2**32 >= share:
            return False  # the driver leaves this one (deterministically, by its id)
        if getattr(self, "pickup_after", 0.0) <= 0:
            return True
        ready_since = self._ready_since.setdefault(record["id"], time.monotonic())
        return time.monotonic() - ready_since >= self.pickup_after

    def start_auto(self, interval: float) -> None:
        """Run ``advance_all`` every ``interval`` seconds in a background thread."""
        if self._auto_thread is not None:
            return
        self._auto_stop.clear()

        def loop() -> None:
            while not self._auto_stop.wait(interval):
                self.advance_all()

        self._auto_thread = threading.Thread(target=loop, name="sendcloud-standin-auto", daemon=True)
        self._auto_thread.start()

    def stop_auto(self) -> None:
        if self._auto_thread is not None:
            self._auto_stop.set()
            self._auto_thread.join(timeout=5)
            self._auto_thread = None
