"""The Sendcloud client on its own (no stand-in): webhook signatures and parsing per
/work/shared/contracts/sendcloud.md §6, the request it composes, and when it retries (§7)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.integrations.sendcloud import (
    ParcelItem,
    ParcelRequest,
    SendcloudClient,
    SendcloudError,
    error_message,
    parse_webhook,
    verify_webhook,
)

PROJECT_BODY = (
    b'{"action":"parcel_status_changed","timestamp":1700000000000,"parcel":{"id":123,'
    b'"tracking_number":"3SABC123","status":{"id":11,"message":"Delivered"}}}'
)
PROJECT_SIGNATURE = "f62764a842ce7d062bf3c4ff30717c87895ae885a3b3d4a552943c5c2b9f8deb"


# -- webhook signature and parsing ------------------------------------------------------------------


def test_signature_vectors_from_the_contract() -> None:
    # Sendcloud's documented vector: the exact bytes matter (with and without the space)
    assert verify_webhook(
        b'{"key": "value"}', "1eed4b3d41f4653ac64fd56f1bf1cbfd349e4482cbc11dff7134bd93e5da4b0a", "secretkey"
    )
    assert verify_webhook(
        b'{"key":"value"}', "87fed1f0acad9b36aaee8a70e98293aef8db35458b261903ef60a3ad488aaaf2", "secretkey"
    )
    assert not verify_webhook(
        b'{"key":"value"}', "1eed4b3d41f4653ac64fd56f1bf1cbfd349e4482cbc11dff7134bd93e5da4b0a", "secretkey"
    )
    # the project's vector; upper case and surrounding space in the header are tolerated
    assert verify_webhook(PROJECT_BODY, PROJECT_SIGNATURE, "sc_webhook_secret")
    assert verify_webhook(PROJECT_BODY, f" {PROJECT_SIGNATURE.upper()} ", "sc_webhook_secret")


def test_a_changed_byte_a_wrong_secret_or_no_header_fails() -> None:
    changed = PROJECT_BODY.replace(b'"id":11', b'"id":12')
    assert not verify_webhook(changed, PROJECT_SIGNATURE, "sc_webhook_secret")
    assert not verify_webhook(PROJECT_BODY, PROJECT_SIGNATURE, "another_secret")
    assert not verify_webhook(PROJECT_BODY, PROJECT_SIGNATURE[:-1] + "0", "sc_webhook_secret")
    assert not verify_webhook(PROJECT_BODY, None, "sc_webhook_secret")
    assert not verify_webhook(PROJECT_BODY, "", "sc_webhook_secret")
    assert not verify_webhook(PROJECT_BODY, PROJECT_SIGNATURE, "")
    assert not verify_webhook(PROJECT_BODY, "ünïcode", "sc_webhook_secret")


def test_parse_webhook_reads_the_envelope() -> None:
    event = parse_webhook(PROJECT_BODY)
    assert event.action == "parcel_status_changed"
    assert event.timestamp_ms == 1700000000000 and event.carrier_status_at_ms is None
    assert event.parcel is not None
    assert (event.parcel.id, event.parcel.status_id, event.parcel.status_message) == (123, 11, "Delivered")
    assert event.parcel.tracking_number == "3SABC123"
    assert event.dedupe_key == (123, 11, 1700000000000)

    integration = parse_webhook(
        json.dumps({"action": "integration_updated", "timestamp": 1, "integration": {"id": 7}}).encode()
    )
    assert integration.parcel is None and integration.dedupe_key is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"timestamp": 1}', "has no action"),
        (b'{"action": "parcel_status_changed", "timestamp": 1}', "has no parcel"),
        (
            b'{"action": "parcel_status_changed", "parcel": {"status": {"id": 11}}}',
            "parcel is not usable: the parcel has no id",
        ),
    ],
)
def test_parse_webhook_says_what_is_wrong(body: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_webhook(body)


# -- the request ------------------------------------------------------------------------------------------


def test_parcel_request_payload_uses_sendclouds_units() -> None:
    request = ParcelRequest(
        name="Ada Lovelace",
        address="Stationsstraat",
        house_number="12",
        city="Utrecht",
        postal_code="3511 AB",
        country="nl",
        weight_grams=420,
        length_cm=30,
        width_cm=20,
        height_cm=10,
        shipping_method_id=8,
        sender_address_id=192,
        to_service_point=10663437,
        total_order_value=Decimal("39.9"),
        items=(ParcelItem("Benchy", 2, 210, Decimal("17.475"), sku="BENCHY-PLA-RED"),),
    )
    parcel = request.payload()["parcel"]
    assert parcel["country"] == "NL"
    assert parcel["weight"] == "0.420"
    assert (parcel["length"], parcel["width"], parcel["height"]) == ("30", "20", "10")
    assert parcel["shipment"] == {"id": 8} and parcel["sender_address"] == 192
    assert parcel["to_service_point"] == 10663437
    assert parcel["total_order_value"] == "39.90" and parcel["total_order_value_currency"] == "EUR"
    assert parcel["parcel_items"] == [
        {"description": "Benchy", "quantity": 2, "weight": "0.210", "value": 17.48, "sku": "BENCHY-PLA-RED"}
    ]
    assert parcel["request_label"] is True
    # no weight: Sendcloud uses the account's default; no external reference: none is sent
    bare = ParcelRequest(name="A", address="B 1", city="C", postal_code="1", country="NL").payload()["parcel"]
    assert "weight" not in bare and "external_reference" not in bare and "length" not in bare


def test_dimensions_go_together() -> None:
    with pytest.raises(ValueError, match="all three"):
        ParcelRequest(name="A", address="B 1", city="C", postal_code="1", country="NL", length_cm=10)


# -- retries ------------------------------------------------------------------------------------------------


def mock_client(handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float], **kw: Any) -> SendcloudClient:
    return SendcloudClient(
        "pub", "sec", api_base="http://sc.test", transport=httpx.MockTransport(handler), sleep=sleeps.append, **kw
    )


def test_gets_retry_5xx_and_transport_errors_with_backoff() -> None:
    calls: list[str] = []
    sleeps: list[float] = []
    outcomes = iter(["connect", 500, "read-timeout", "ok"])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        assert request.headers["authorization"].startswith("Basic ")
        outcome = next(outcomes)
        if outcome == "connect":
            raise httpx.ConnectError("refused", request=request)
        if outcome == "read-timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if outcome == "ok":
            return httpx.Response(200, json={"user": {"username": "shop"}})
        return httpx.Response(int(outcome), text="<html>Internal stack trace</html>")

    with mock_client(handler, sleeps) as c:
        assert c.user() == {"username": "shop"}
    assert calls == ["/api/v2/user"] * 4 and sleeps == [0.5, 1.0, 2.0]


def test_a_create_is_not_resent_after_a_500_or_a_timeout() -> None:
    for failure in (500, "timeout"):
        calls: list[str] = []

        def once(request: httpx.Request, failure: Any = failure, calls: list[str] = calls) -> httpx.Response:
            calls.append(request.url.path)
            if failure == "timeout":
                raise httpx.ReadTimeout("slow", request=request)
            return httpx.Response(failure, text="<html>Internal stack trace</html>")

        request = ParcelRequest(name="A", address="B 1", city="C", postal_code="1", country="NL")
        with mock_client(once, []) as c, pytest.raises(SendcloudError) as err:
            c.create_parcel(request)
        assert calls == ["/api/v2/parcels"], "sent once: it may have been created"
        assert err.value.transient
        assert "stack trace" not in err.value.message and "<html>" not in err.value.message
        if failure == "timeout":
            assert err.value.message == "Sendcloud did not answer in time (create parcel)"
            assert err.value.status_code is None
        else:
            assert err.value.message == "Sendcloud had a problem on its side (HTTP 500); try again later"


def test_a_create_is_resent_when_it_certainly_did_not_happen() -> None:
    calls: list[str] = []
    sleeps: list[float] = []
    outcomes = iter(["connect", 503, 429, "ok"])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        outcome = next(outcomes)
        if outcome == "connect":
            raise httpx.ConnectError("refused", request=request)
        if outcome == "ok":
            return httpx.Response(200, json={"parcel": {"id": 5, "status": {"id": 1000, "message": "Ready to send"}}})
        return httpx.Response(int(outcome), json={"error": {"code": outcome, "message": "busy"}})

    request = ParcelRequest(name="A", address="B 1", city="C", postal_code="1", country="NL")
    with mock_client(handler, sleeps) as c:
        assert c.create_parcel(request).id == 5
    assert len(calls) == 4 and sleeps == [0.5, 1.0, 2.0]


def test_unreachable_and_redirects() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    with mock_client(refuse, [], retries=1) as c, pytest.raises(SendcloudError) as err:
        c.statuses()
    assert err.value.message == "Sendcloud could not be reached (parcel statuses)"
    assert err.value.transient and err.value.status_code is None

    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/"})

    with mock_client(redirect, []) as c, pytest.raises(SendcloudError, match="redirect") as err:
        c.user()
    assert not err.value.transient


def test_the_outbound_guard_refuses_other_hosts_without_retrying(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import get_settings

    monkeypatch.setattr(get_settings(), "outbound_allow_private", False)
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, json={})

    with (
        SendcloudClient("p", "s", api_base="https://evil.example", transport=httpx.MockTransport(handler)) as c,
        pytest.raises(SendcloudError, match="not one of Sendcloud's servers") as err,
    ):
        c.user()
    assert calls == [] and not err.value.transient
    with SendcloudClient("p", "s", transport=httpx.MockTransport(handler)) as c:
        assert c.api_url("user") == "https://panel.sendcloud.sc/api/v2/user"
        assert c.servicepoints_base == "https://servicepoints.sendcloud.sc"


def test_cancel_answers_map_to_outcomes() -> None:
    answers: dict[int, httpx.Response] = {
        1: httpx.Response(200, json={"status": "cancelled", "message": "Parcel has been cancelled"}),
        2: httpx.Response(200, json={"status": "deleted", "message": "Parcel has been deleted"}),
        3: httpx.Response(202, json={"status": "queued", "message": "Parcel cancellation has been queued"}),
        4: httpx.Response(410, json={"error": {"code": 410, "message": "Gone"}}),
        5: httpx.Response(
            409,
            json={
                "errors": [{"status": "409", "code": "invalid", "detail": "This shipment is already being cancelled."}]
            },
        ),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return answers[int(request.url.path.split("/")[-2])]

    with mock_client(handler, []) as c:
        assert [c.cancel_parcel(n) for n in (1, 2, 3, 4)] == ["cancelled", "deleted", "queued", "deleted"]
        with pytest.raises(SendcloudError) as err:
            c.cancel_parcel(5)
    assert err.value.cannot_cancel
    assert err.value.message == "Sendcloud cannot cancel parcel 5: This shipment is already being cancelled."


def test_error_message_reads_every_sendcloud_error_shape() -> None:
    assert error_message({"error": {"code": 400, "message": "Invalid country", "request": "api/v2/parcels"}}) == (
        "Invalid country"
    )
    assert error_message({"errors": [{"detail": "Not found"}, {"detail": "Try later"}]}) == "Not found; Try later"
    assert error_message({"errors": {"shipment": {"id": ["Invalid pk"]}, "weight": ["Too heavy."]}}) == (
        "shipment.id: Invalid pk; weight: Too heavy."
    )
    assert error_message({"status": "failed", "message": "Shipped parcels can no longer be cancelled."}) == (
        "Shipped parcels can no longer be cancelled."
    )
    failed = {"failed_parcels": [{"parcel": {}, "errors": {"house_number": ["This field may not be blank."]}}]}
    assert error_message(failed) == "house_number: This field may not be blank."
    assert error_message("<html>boom</html>") == "" and error_message({"detail": 5}) == ""
