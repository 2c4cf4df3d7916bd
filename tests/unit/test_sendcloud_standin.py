"""The Sendcloud client against the stand-in (real sockets), per /work/shared/contracts/sendcloud.md."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.integrations.sendcloud import (
    SIGNATURE_HEADER,
    Parcel,
    ParcelItem,
    ParcelRequest,
    SendcloudClient,
    SendcloudError,
    parse_webhook,
    verify_webhook,
)
from standins.sendcloud import (
    BAD_CREDENTIALS_MESSAGE,
    CANNOT_CANCEL_MESSAGE,
    INVALID_CURSOR_MESSAGE,
    STATUSES,
    SendcloudStandin,
    sign,
)

SECRET = "sc_webhook_secret_7d1e"
PAGE_SIZE = 2


class Receiver:
    """A webhook endpoint: records every delivery (raw bytes, verified or not) and answers
    with the statuses queued in `answers` (200 once they run out)."""

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.deliveries.append(
                        {
                            "body": body,
                            "headers": dict(self.headers.items()),
                            "verified": verify_webhook(body, self.headers.get(SIGNATURE_HEADER), SECRET),
                            "answered": status,
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/webhooks/sendcloud/acme"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def statuses(self) -> list[tuple[int, int | None]]:
        """(parcel id, status id) of every delivery, in arrival order."""
        with self.lock:
            out = []
            for d in self.deliveries:
                parcel = parse_webhook(d["body"]).parcel
                assert parcel is not None
                out.append((parcel.id, parcel.status_id))
            return out

    def clear(self) -> None:
        with self.lock:
            self.deliveries.clear()
            self.answers.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def server(receiver: Receiver) -> Iterator[SendcloudStandin]:
    with SendcloudStandin(
        webhook_url=receiver.url, webhook_secret=SECRET, page_size=PAGE_SIZE, retry_delays=(0.05, 0.1)
    ) as standin:
        yield standin


@pytest.fixture
def sc(server: SendcloudStandin, receiver: Receiver) -> SendcloudStandin:
    """The shared stand-in, emptied for each test."""
    server.reset()
    receiver.clear()
    return server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sc: SendcloudStandin, sleeps: list[float]) -> Iterator[SendcloudClient]:
    with SendcloudClient(sc.public_key, sc.secret_key, api_base=sc.base_url, timeout=10, sleep=sleeps.append) as c:
        yield c


def ada(**overrides: Any) -> ParcelRequest:
    fields: dict[str, Any] = {
        "name": "Ada Lovelace",
        "address": "Stationsstraat",
        "house_number": "12",
        "address_2": "2nd floor",
        "city": "Utrecht",
        "postal_code": "3511 AB",
        "country": "NL",
        "telephone": "+31612345678",
        "email": "ada@example.com",
        "weight_grams": 420,
        "order_number": "#1042",
        "external_reference": "order-1042",
        "shipping_method_id": 8,
        "sender_address_id": 192,
        "total_order_value": Decimal("39.90"),
        "items": (ParcelItem("Benchy", 2, 210, Decimal("17.48"), sku="BENCHY-PLA-RED"),),
    }
    fields.update(overrides)
    return ParcelRequest(**fields)


def raw(sc: SendcloudStandin, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method,
        f"{sc.base_url}{path}",
        auth=(sc.public_key, sc.secret_key) if auth else None,
        timeout=10,
        **kwargs,
    )


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def pdf_facts(pdf: bytes, folder: Path) -> tuple[tuple[int, int], str]:
    """The first page's size in millimetres and the text on it (poppler-utils, a system
    dependency of the project)."""
    path = folder / "label.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert match, info
    size = (round(float(match.group(1)) / 72 * 25.4), round(float(match.group(2)) / 72 * 25.4))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return size, text


# -- auth and account ------------------------------------------------------------------------------------


def test_wrong_keys_are_refused_with_the_v2_error_and_a_plain_message(sc: SendcloudStandin) -> None:
    with SendcloudClient(sc.public_key, "wrong", api_base=sc.base_url) as bad, pytest.raises(SendcloudError) as err:
        bad.user()
    assert err.value.status_code == 401 and not err.value.transient
    assert err.value.message == "Sendcloud refused our API keys (401): check the public and secret key"
    assert err.value.payload == {"error": {"code": 401, "message": BAD_CREDENTIALS_MESSAGE, "request": "api/v2/user"}}
    # every API route, the service points and the labels included
    for path in (
        "/api/v2/parcels",
        "/api/v2/labels/label_printer/1",
        "/api/v3/shipments/announce",
        "/servicepoints/api/v2/service-points?country=NL",
    ):
        assert raw(sc, "GET", path, auth=False).status_code == 401
    assert sc.unauthorized >= 5


def test_account_sender_addresses_methods_statuses_and_service_points(client: SendcloudClient) -> None:
    assert client.user()["company_name"] == "Shopfloor Print Farm"
    assert [a["id"] for a in client.sender_addresses()] == [192, 193]
    methods = {m["id"]: m for m in client.shipping_methods(sender_address=192)}
    assert methods[8]["name"] == "PostNL Standard 0-23kg" and methods[8]["carrier"] == "postnl"
    assert {m["carrier"] for m in methods.values()} >= {"postnl", "dhl", "dpd"}
    assert any(m["service_point_input"] == "required" for m in methods.values())
    statuses = client.statuses()
    assert statuses == [{"id": i, "message": m} for i, m in STATUSES]
    assert {"id": 11, "message": "Delivered"} in statuses and len(statuses) == 25

    points = client.service_points("NL", postal_code="3511 AB", carrier="postnl")
    assert points and all(p["carrier"] == "postnl" and p["country"] == "NL" for p in points)
    assert points[0]["id"] == 10663437 and points == sorted(points, key=lambda p: p["distance"])
    assert client.service_point(10663437)["name"] == points[0]["name"]
    with pytest.raises(SendcloudError) as err:
        client.service_point(1)
    assert err.value.not_found


# -- creating parcels -------------------------------------------------------------------------------------


def test_create_parcel_with_label(sc: SendcloudStandin, client: SendcloudClient) -> None:
    parcel = client.create_parcel(ada())
    assert parcel.status_id == 1000 and parcel.status_message == "Ready to send"
    assert re.fullmatch(r"3SSTND\d{7}", parcel.tracking_number)
    assert parcel.tracking_url.startswith(f"{sc.base_url}/tracking/forward?carrier=postnl&code=")
    assert parcel.carrier == "postnl"
    assert (parcel.shipping_method_id, parcel.shipping_method_name) == (8, "PostNL Standard 0-23kg")
    assert (parcel.external_reference, parcel.order_number) == ("order-1042", "#1042")
    assert parcel.label_printer_url == f"{sc.base_url}/api/v2/labels/label_printer/{parcel.id}"
    assert parcel.normal_printer_urls[0] == f"{sc.base_url}/api/v2/labels/normal_printer/{parcel.id}?start_from=0"
    assert parcel.raw["documents"][0]["link"] == f"{sc.base_url}/api/v2/parcels/{parcel.id}/documents/label"
    assert parcel.raw["weight"] == "0.420" and parcel.raw["address"] == "Stationsstraat 12"
    assert re.fullmatch(r"\d\d-\d\d-\d{4} \d\d:\d\d:\d\d", parcel.raw["date_created"])

    sent = next(r for r in sc.requests if r["method"] == "POST" and r["path"] == "/api/v2/parcels")
    assert sent["query"] == {"errors": "verbose-carrier"}
    body = sent["body"]["parcel"]
    assert body["weight"] == "0.420" and body["shipment"] == {"id": 8} and body["sender_address"] == 192
    assert body["parcel_items"][0]["weight"] == "0.210" and body["parcel_items"][0]["value"] == 17.48

    assert client.get_parcel(parcel.id) == parcel
    page = httpx.get(parcel.tracking_url, timeout=5)  # the customer's link works offline
    assert page.status_code == 200 and parcel.tracking_number in page.text and "Ready to send" in page.text
    # no webhook for the creation itself
    assert sc.flush_webhooks() and sc.sent_webhooks == []


def test_carrier_follows_the_method_and_service_points_come_back_as_strings(client: SendcloudClient) -> None:
    dpd = client.create_parcel(
        ada(
            address="Meir 78",
            house_number="",
            city="Antwerpen",
            postal_code="2000",
            country="BE",
            shipping_method_id=1325,
            external_reference="order-2",
        )
    )
    assert dpd.carrier == "dpd" and dpd.raw["address_divided"] == {"street": "Meir", "house_number": "78"}
    point = client.create_parcel(ada(shipping_method_id=1343, to_service_point=10663437, external_reference="o-3"))
    assert point.raw["to_service_point"] == "10663437"
    with pytest.raises(SendcloudError, match="needs a service point"):
        client.create_parcel(ada(shipping_method_id=1343, external_reference="o-4"))


def test_without_a_label_the_parcel_is_not_announced(client: SendcloudClient) -> None:
    parcel = client.create_parcel(ada(request_label=False, shipping_method_id=None))
    assert parcel.status_id == 999 and parcel.status_message == "No label"
    assert parcel.tracking_number == "" and parcel.label_printer_url == "" and parcel.raw["label"] == {}
    with pytest.raises(SendcloudError) as err:
        client.label_pdf(parcel.id)
    assert err.value.not_found and "no label yet" in err.value.message


def test_an_unannounced_parcel_gets_its_label_later(sc: SendcloudStandin, client: SendcloudClient) -> None:
    parcel = client.create_parcel(ada(request_label=False, shipping_method_id=None))
    answer = raw(sc, "PUT", "/api/v2/parcels", json={"parcel": {"id": parcel.id, "request_label": True}})
    assert answer.status_code == 200 and answer.json()["parcel"]["status"]["id"] == 1000
    announced = client.get_parcel(parcel.id)
    assert announced.tracking_number and client.label_pdf(parcel.id).startswith(b"%PDF-")
    again = raw(sc, "PUT", "/api/v2/parcels", json={"parcel": {"id": parcel.id, "weight": "2.000"}})
    assert again.status_code == 400 and "already been announced" in again.json()["error"]["message"]


def test_the_same_external_reference_is_refused_and_found(sc: SendcloudStandin, client: SendcloudClient) -> None:
    first = client.create_parcel(ada())
    with pytest.raises(SendcloudError) as err:
        client.create_parcel(ada(name="Someone Else"))
    assert err.value.status_code == 400 and not err.value.transient
    assert err.value.message == (
        "Sendcloud refused the parcel: external_reference: A parcel with this external_reference already exists."
    )
    assert [p["id"] for p in sc.parcels] == [first.id], "nothing was created"
    assert client.find_parcel("order-1042") == first
    assert client.find_parcel("order-9999") is None


def test_a_lost_answer_is_recovered_by_looking_the_parcel_up(sc: SendcloudStandin) -> None:
    sc.stall_next_create(1.5)
    with SendcloudClient(sc.public_key, sc.secret_key, api_base=sc.base_url, timeout=0.3) as impatient:
        with pytest.raises(SendcloudError) as err:
            impatient.create_parcel(ada())
        assert err.value.transient and err.value.message == "Sendcloud did not answer in time (create parcel)"
        found = impatient.find_parcel("order-1042")
    assert found is not None and found.status_id == 1000
    assert len(sc.parcels) == 1


def test_failed_parcels_name_the_fields(sc: SendcloudStandin, client: SendcloudClient) -> None:
    with pytest.raises(SendcloudError) as err:
        client.create_parcel(ada(address="Kerkstraat", house_number=""))
    assert err.value.status_code == 200
    assert err.value.message == "Sendcloud refused the parcel: house_number: This field may not be blank."
    assert err.value.payload["failed_parcels"][0]["errors"] == {"house_number": ["This field may not be blank."]}
    assert sc.parcels == []

    # grams sent as kilograms would be refused as too heavy
    answer = raw(sc, "POST", "/api/v2/parcels", json={"parcel": {**ada().payload()["parcel"], "weight": "420"}})
    assert answer.status_code == 400
    assert "weight: The weight exceeds the maximum" in answer.json()["error"]["message"]

    # without errors=verbose a single parcel's field errors are a v2 400
    answer = raw(sc, "POST", "/api/v2/parcels", json={"parcel": {"name": "", "request_label": True}})
    message = answer.json()["error"]["message"]
    assert answer.status_code == 400
    assert "name: This field may not be blank." in message and "city: This field is required." in message
    assert "shipment: This field is required when request_label is true." in message


def test_error_answers_give_sendclouds_message_never_the_body(sc: SendcloudStandin, client: SendcloudClient) -> None:
    sc.fail_next_create(400)
    with pytest.raises(SendcloudError) as err:
        client.create_parcel(ada())
    assert err.value.message == (
        "Sendcloud refused the parcel: non_field_errors: 'PostNL service error: the address could not be validated'"
    )
    sc.fail_next_create(400, {"errors": [{"status": "400", "code": "invalid", "detail": "Postal code is invalid."}]})
    with pytest.raises(SendcloudError, match=r"^Sendcloud refused the parcel: Postal code is invalid\.$"):
        client.create_parcel(ada())
    sc.fail_next_create(422, {"error": {"code": 422, "message": "Bad\nthing " + "x" * 5000}})
    with pytest.raises(SendcloudError) as err:
        client.create_parcel(ada())
    assert "\n" not in err.value.message and len(err.value.message) < 400
    sc.fail_next_create(500, "<html><body>Traceback (most recent call last): secret</body></html>")
    with pytest.raises(SendcloudError) as err:
        client.create_parcel(ada())
    assert err.value.transient and "Traceback" not in err.value.message and "<html>" not in err.value.message
    assert sc.parcels == [], "a failed create creates nothing"
    assert client.create_parcel(ada()).status_id == 1000


# -- rate limits --------------------------------------------------------------------------------------------


def test_429_waits_retry_after_then_succeeds(
    sc: SendcloudStandin, client: SendcloudClient, sleeps: list[float]
) -> None:
    sc.rate_limit(2, retry_after=1.5)
    assert client.user()["company_name"]
    assert sleeps == [1.5, 1.5] and sc.throttled == 2
    # a create refused with 429 did not happen, so it is sent again
    sc.rate_limit(1, retry_after=1)
    assert client.create_parcel(ada()).status_id == 1000
    assert sleeps[-1] == 1 and len(sc.parcels) == 1


def test_429_longer_than_the_backoff_is_handed_to_the_caller(
    sc: SendcloudStandin, client: SendcloudClient, sleeps: list[float]
) -> None:
    sc.rate_limit(1, retry_after=30)
    with pytest.raises(SendcloudError) as err:
        client.create_parcel(ada())
    assert err.value.rate_limited and err.value.transient and err.value.retry_after == 30
    assert err.value.message == "Sendcloud is limiting how fast we call it (429); try again in 30 s"
    assert sleeps == [] and sc.parcels == []

    sc.rate_limit(10, retry_after=0.25)
    with (
        SendcloudClient(sc.public_key, sc.secret_key, api_base=sc.base_url, retries=2, sleep=sleeps.append) as c,
        pytest.raises(SendcloudError) as err,
    ):
        c.statuses()
    assert err.value.rate_limited and sleeps == [0.25, 0.25]


# -- listing ------------------------------------------------------------------------------------------------


def test_parcel_list_pages_with_a_cursor_and_filters(sc: SendcloudStandin, client: SendcloudClient) -> None:
    created = [client.create_parcel(ada(external_reference=f"order-{n}")) for n in range(5)]
    listed = list(client.parcels())
    assert [p.id for p in listed] == [p.id for p in created]
    list_calls = [r for r in sc.requests if r["method"] == "GET" and r["path"] == "/api/v2/parcels"]
    assert len(list_calls) == 3 and "cursor" not in list_calls[0]["query"] and "cursor" in list_calls[1]["query"]

    wanted = [created[1].id, created[4].id]
    assert [p.id for p in client.parcels(ids=wanted)] == wanted

    time.sleep(0.01)
    since = datetime.now(UTC)
    time.sleep(0.01)
    sc.advance(created[2].id, 22)
    assert [p.id for p in client.parcels(updated_after=since)] == [created[2].id]
    assert list(client.parcels(updated_after=datetime.now(UTC) + timedelta(hours=1))) == []

    page = raw(sc, "GET", "/api/v2/parcels", params={"order_number": "#1042"}).json()
    assert len(page["parcels"]) == PAGE_SIZE and page["next"].startswith(f"{sc.base_url}/api/v2/parcels?")
    assert "order_number=%231042" in page["next"]
    bad = raw(sc, "GET", "/api/v2/parcels", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 404 and bad.json()["error"]["message"] == INVALID_CURSOR_MESSAGE


# -- cancelling ---------------------------------------------------------------------------------------------


def test_cancel_outcomes(sc: SendcloudStandin, client: SendcloudClient, receiver: Receiver) -> None:
    # not announced: deleted, gone afterwards
    unannounced = client.create_parcel(ada(request_label=False, external_reference="o-999"))
    assert client.cancel_parcel(unannounced.id) == "deleted"
    with pytest.raises(SendcloudError) as err:
        client.get_parcel(unannounced.id)
    assert err.value.not_found

    # ready to send: cancelled, still there, announced by webhook
    ready = client.create_parcel(ada(external_reference="o-1000"))
    assert client.cancel_parcel(ready.id) == "cancelled"
    assert client.get_parcel(ready.id).status_id == 2000
    with pytest.raises(SendcloudError) as err:  # a second cancel is refused: it is cancelled
        client.cancel_parcel(ready.id)
    assert err.value.cannot_cancel

    # queued at the carrier: 1999, then 2000 by webhook
    sc.cancel_queued = True
    queued = client.create_parcel(ada(external_reference="o-queued"))
    assert client.cancel_parcel(queued.id) == "queued"
    assert client.get_parcel(queued.id).status_id == 1999
    sc.advance_all()
    assert client.get_parcel(queued.id).status_id == 2000

    # with the carrier: refused with Sendcloud's message
    moving = client.create_parcel(ada(external_reference="o-22"))
    sc.advance(moving.id, 22)
    with pytest.raises(SendcloudError) as err:
        client.cancel_parcel(moving.id)
    assert err.value.cannot_cancel and err.value.status_code == 400 and not err.value.transient
    assert err.value.message == f"Sendcloud cannot cancel parcel {moving.id}: {CANNOT_CANCEL_MESSAGE}"
    assert err.value.payload == {"status": "failed", "message": CANNOT_CANCEL_MESSAGE}

    # announcement failed: 410, deleted
    failed = client.create_parcel(ada(external_reference="o-1002"))
    sc.advance(failed.id, 1002)
    assert client.cancel_parcel(failed.id) == "deleted"
    assert sc.parcel(failed.id) is None

    with pytest.raises(SendcloudError) as err:
        client.cancel_parcel(12345)
    assert err.value.not_found and not err.value.cannot_cancel

    assert sc.flush_webhooks()
    assert (ready.id, 2000) in receiver.statuses()
    assert [s for p, s in receiver.statuses() if p == queued.id] == [1999, 2000]


# -- labels -------------------------------------------------------------------------------------------------


def test_label_pdfs_a6_and_a4(sc: SendcloudStandin, client: SendcloudClient, tmp_path: Path) -> None:
    parcel = client.create_parcel(ada())
    a6 = client.label_pdf(parcel.id)
    a4 = client.label_pdf(parcel.id, label_format="a4")
    assert a6.startswith(b"%PDF-") and a4.startswith(b"%PDF-")
    (a6_size, text), (a4_size, _) = pdf_facts(a6, tmp_path), pdf_facts(a4, tmp_path)
    assert a6_size == (105, 148) and a4_size == (210, 297)
    assert "Ada Lovelace" in text and parcel.tracking_number in text and "3511 AB" in text
    assert "Shopfloor Print Farm" in text and "PostNL" in text
    paths = [r["path"] for r in sc.requests if "labels" in r["path"]]
    assert paths == [f"/api/v2/labels/label_printer/{parcel.id}", f"/api/v2/labels/normal_printer/{parcel.id}"]

    # the document route serves the same label; a repeat comes from the cache, fast
    document = raw(sc, "GET", f"/api/v2/parcels/{parcel.id}/documents/label", headers={"Accept": "application/pdf"})
    assert document.headers["content-type"] == "application/pdf" and document.content == a6
    started = time.monotonic()
    assert client.label_pdf(parcel.id) == a6
    assert time.monotonic() - started < 0.5
    links = raw(sc, "GET", f"/api/v2/labels/{parcel.id}").json()["label"]
    assert links["label_printer"] == parcel.label_printer_url and len(links["normal_printer"]) == 4

    with pytest.raises(ValueError, match="a6 or a4"):
        client.label_pdf(parcel.id, label_format="zpl")
    with pytest.raises(SendcloudError) as err:
        client.label_pdf(999)
    assert err.value.not_found


# -- webhooks -----------------------------------------------------------------------------------------------


def test_status_webhooks_are_signed_and_carry_the_parcel(
    sc: SendcloudStandin, client: SendcloudClient, receiver: Receiver
) -> None:
    parcel = client.create_parcel(ada())
    for status in (1, 22, 3):
        sc.advance(parcel.id, status)
    assert sc.flush_webhooks()
    assert receiver.statuses() == [(parcel.id, 1), (parcel.id, 22), (parcel.id, 3)]
    assert all(d["verified"] for d in receiver.deliveries)
    events = [parse_webhook(d["body"]) for d in receiver.deliveries]
    assert all(e.action == "parcel_status_changed" for e in events)
    carrier_times = [e.carrier_status_at_ms or 0 for e in events]
    assert carrier_times == sorted(carrier_times) and len(set(carrier_times)) == 3
    assert all(abs((e.timestamp_ms or 0) / 1000 - time.time()) < 60 for e in events), "milliseconds"
    last = events[-1].parcel
    assert isinstance(last, Parcel) and last.tracking_number == parcel.tracking_number and last.carrier == "postnl"
    # the signature is over the exact bytes sent
    body = receiver.deliveries[0]["body"]
    assert receiver.deliveries[0]["headers"][SIGNATURE_HEADER] == sign(body, SECRET)
    assert not verify_webhook(body.replace(b'"id": 1,', b'"id": 2,'), sign(body, SECRET), SECRET)


def test_webhooks_are_retried_after_a_500_then_given_up(
    sc: SendcloudStandin, client: SendcloudClient, receiver: Receiver
) -> None:
    parcel = client.create_parcel(ada())
    receiver.answers = [500, 503]
    sc.advance(parcel.id, 1)
    assert sc.flush_webhooks()
    assert [d["answered"] for d in receiver.deliveries] == [500, 503, 200]
    assert len({d["body"] for d in receiver.deliveries}) == 1, "a retry sends the same bytes"
    assert [r["attempt"] for r in sc.sent_webhooks] == [1, 2, 3] and sc.failed_webhooks == []

    receiver.clear()
    receiver.answers = [500] * 10
    sc.advance(parcel.id, 22)
    assert sc.flush_webhooks()
    assert len(receiver.deliveries) == 3  # the first try and one per retry delay
    assert len(sc.failed_webhooks) == 1 and sc.failed_webhooks[0]["status_code"] == 500


def test_duplicates_scrambled_order_and_dropped_webhooks(
    sc: SendcloudStandin, client: SendcloudClient, receiver: Receiver
) -> None:
    parcel = client.create_parcel(ada())
    sc.duplicate_webhooks = True
    sc.advance(parcel.id, 1)
    assert sc.flush_webhooks()
    assert receiver.statuses() == [(parcel.id, 1), (parcel.id, 1)]
    keys = {parse_webhook(d["body"]).dedupe_key for d in receiver.deliveries}
    assert len(keys) == 1, "a duplicate has the same dedupe key"

    receiver.clear()
    sc.duplicate_webhooks = False
    sc.hold_webhooks()
    for status in (22, 3, 91, 92, 11):
        sc.advance(parcel.id, status)
    assert sc.flush_webhooks() and receiver.deliveries == []
    released = sc.release_webhooks("reverse")
    assert [e["parcel"]["status"]["id"] for e in released] == [11, 92, 91, 3, 22]
    assert sc.flush_webhooks()
    arrived = [parse_webhook(d["body"]) for d in receiver.deliveries]
    assert [e.parcel.status_id for e in arrived if e.parcel] == [11, 92, 91, 3, 22]
    newest = max(arrived, key=lambda e: e.carrier_status_at_ms or 0)
    assert newest.parcel is not None and newest.parcel.status_id == 11, "the carrier timestamp orders them"

    receiver.clear()
    sc.hold_webhooks()
    others = [client.create_parcel(ada(external_reference=f"o-{n}")) for n in range(6)]
    with sc.lock:
        for p in others:
            sc.advance(p.id, 1)
    released = sc.release_webhooks("shuffle")
    assert sorted(e["parcel"]["id"] for e in released) == [p.id for p in others]
    assert sc.flush_webhooks() and len(receiver.deliveries) == 6

    receiver.clear()
    sc.drop_webhooks = True
    since = datetime.now(UTC) - timedelta(seconds=1)
    sc.advance(others[0].id, 22)
    assert sc.flush_webhooks() and receiver.deliveries == [] and len(sc.dropped_webhooks) == 1
    # missed webhooks: polling still sees the change
    assert others[0].id in [p.id for p in client.parcels(updated_after=since) if p.status_id == 22]


def test_admin_api_drives_the_stand_in(sc: SendcloudStandin, client: SendcloudClient, receiver: Receiver) -> None:
    parcel = client.create_parcel(ada())
    admin = f"{sc.base_url}/_standin"
    moved = httpx.post(f"{admin}/parcels/{parcel.id}/advance", json={"status_id": 22}, timeout=5).json()
    assert moved["parcel"]["status"] == {"id": 22, "message": "Shipment picked up by driver"}
    assert httpx.post(f"{admin}/advance-all", timeout=5).json()["moved"][0]["status"]["id"] == 3
    assert [p["status"]["id"] for p in httpx.get(f"{admin}/parcels", timeout=5).json()["parcels"]] == [3]

    httpx.post(f"{admin}/settings", json={"duplicate_webhooks": True, "cancel_queued": True}, timeout=5)
    assert sc.duplicate_webhooks and sc.cancel_queued
    assert httpx.post(f"{admin}/settings", json={"nonsense": 1}, timeout=5).status_code == 400
    assert httpx.post(f"{admin}/settings", json={"page_size": "many"}, timeout=5).status_code == 400

    httpx.post(f"{admin}/rate-limit", json={"count": 1, "retry_after": 2}, timeout=5)
    throttled = raw(sc, "GET", "/api/v2/user")
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "2"

    httpx.post(f"{admin}/fail-next-create", json={"status": 503}, timeout=5)
    assert raw(sc, "POST", "/api/v2/parcels", json=ada().payload()).status_code == 503

    assert httpx.post(f"{admin}/webhooks/flush", timeout=10).json() == {"flushed": True}
    webhooks = httpx.get(f"{admin}/webhooks", timeout=5).json()
    assert [w["status_id"] for w in webhooks["sent"]] == [22, 3]
    assert json.loads(webhooks["sent"][0]["body"])["parcel"]["id"] == parcel.id

    assert httpx.post(f"{admin}/reset", timeout=10).json() == {"ok": True}
    assert sc.parcels == [] and not sc.duplicate_webhooks


def test_auto_mode_walks_the_lifecycle(receiver: Receiver) -> None:
    receiver.clear()
    with (
        SendcloudStandin(webhook_url=receiver.url, webhook_secret=SECRET, auto=True, auto_interval=0.05) as sc,
        SendcloudClient(sc.public_key, sc.secret_key, api_base=sc.base_url) as client,
    ):
        parcel = client.create_parcel(ada())
        unannounced = client.create_parcel(ada(request_label=False, external_reference="o-2"))
        wait_until(lambda: client.get_parcel(parcel.id).status_id == 11)
        assert sc.flush_webhooks()
        assert [s for p, s in receiver.statuses() if p == parcel.id] == [1, 22, 3, 91, 92, 11]
        assert client.get_parcel(unannounced.id).status_id == 999, "a parcel without a label does not move"


def test_auto_mode_waits_for_the_driver_to_collect(receiver: Receiver) -> None:
    """make dev's carrier collects a parcel a while after its label, so the packing bench keeps it meanwhile."""
    with (
        SendcloudStandin(webhook_url=receiver.url, auto=True, auto_interval=0.05, pickup_after=0.6) as sc,
        SendcloudClient(sc.public_key, sc.secret_key, api_base=sc.base_url) as client,
    ):
        parcel = client.create_parcel(ada())
        time.sleep(0.3)
        assert client.get_parcel(parcel.id).status_id == 1000, "still waiting for the driver"
        wait_until(lambda: client.get_parcel(parcel.id).status_id == 11)


def test_auto_mode_collects_only_its_share_of_the_parcels(receiver: Receiver) -> None:
    with (
        SendcloudStandin(webhook_url=receiver.url, auto=True, auto_interval=0.05, pickup_share=0.5) as sc,
        SendcloudClient(sc.public_key, sc.secret_key, api_base=sc.base_url) as client,
    ):
        parcels = [client.create_parcel(ada(external_reference=f"share-{i}")) for i in range(8)]
        time.sleep(1.0)
        moved = [p for p in parcels if client.get_parcel(p.id).status_id != 1000]
        assert 0 < len(moved) < len(parcels), "some collected, some left on the bench"


# -- standalone ---------------------------------------------------------------------------------------------


def test_runs_as_a_module_for_make_dev(receiver: Receiver) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    receiver.clear()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "standins.sendcloud",
            "--port",
            str(port),
            "--auto",
            "--interval",
            "0.05",
            "--webhook-url",
            receiver.url,
            "--webhook-secret",
            SECRET,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = [proc.stdout.readline() for _ in range(8)]  # type: ignore[union-attr]
        info = dict(line.strip().split(":", 1) for line in lines[1:] if ":" in line)
        base = info["API base"].strip()
        assert base == f"http://127.0.0.1:{port}"
        with SendcloudClient(info["Public key"].strip(), info["Secret key"].strip(), api_base=base) as c:
            parcel = c.create_parcel(ada())
        wait_until(lambda: (parcel.id, 11) in receiver.statuses())
        assert all(d["verified"] for d in receiver.deliveries)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()  # type: ignore[union-attr]
