"""The SimplyPrint client against the stand-in (real sockets), per /work/shared/contracts/simplyprint.md."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from app.integrations.simplyprint import SimplyPrintClient, SimplyPrintError, verify_webhook, webhook_dedupe_key
from standins.simplyprint import BAD_KEY_MESSAGE, NO_ACCESS_MESSAGE, THROTTLE_MESSAGE, SimplyPrintStandin

SECRET = "sp_whsec_9f2c41"


class Receiver:
    """A tiny webhook endpoint: records every delivery and whether its secret verified."""

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                with receiver.lock:
                    receiver.deliveries.append(
                        {
                            "path": self.path,
                            "headers": headers,
                            "payload": json.loads(body),
                            "verified": verify_webhook(headers, SECRET),
                        }
                    )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/webhooks/simplyprint/acme"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[str]:
        with self.lock:
            return [d["payload"]["event"] for d in self.deliveries]

    def clear(self) -> None:
        with self.lock:
            self.deliveries.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def server(receiver: Receiver) -> Iterator[SimplyPrintStandin]:
    with SimplyPrintStandin(webhook_url=receiver.url, webhook_secret=SECRET) as standin:
        yield standin


@pytest.fixture
def sp(server: SimplyPrintStandin, receiver: Receiver) -> SimplyPrintStandin:
    """The shared stand-in, emptied for each test."""
    server.reset()
    receiver.clear()
    return server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sp: SimplyPrintStandin, sleeps: list[float]) -> Iterator[SimplyPrintClient]:
    with SimplyPrintClient(
        sp.company_id, sp.api_key, api_base=sp.base_url, files_base=sp.files_url, timeout=5, sleep=sleeps.append
    ) as c:
        yield c


def raw(sp: SimplyPrintStandin, method: str, endpoint: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method, f"{sp.base_url}/{sp.company_id}/{endpoint}", headers={"x-api-key": sp.api_key}, timeout=5, **kwargs
    )


def queued(sp: SimplyPrintStandin, client: SimplyPrintClient, name: str = "benchy_red.gcode", **kw: Any) -> int:
    file = client.upload_file(name, b"; FLAVOR:Marlin\nG28\nG1 X10 Y10\n")
    return client.add_to_queue(file["id"], **kw)


# -- auth and envelope -----------------------------------------------------------------------------


def test_key_check_good_bad_and_status_false_with_http_200(sp: SimplyPrintStandin, client: SimplyPrintClient) -> None:
    client.test()
    ok = raw(sp, "GET", "account/Test")
    assert ok.json() == {"status": True, "message": "Your API key is valid!"}

    with SimplyPrintClient(sp.company_id, "wrong", api_base=sp.base_url, sleep=lambda s: None) as bad:  # noqa: SIM117
        with pytest.raises(SimplyPrintError) as err:
            bad.test()
    assert err.value.status_code == 200
    assert err.value.message == BAD_KEY_MESSAGE
    assert err.value.payload == {"status": False, "message": BAD_KEY_MESSAGE}

    with SimplyPrintClient(sp.company_id + 1, sp.api_key, api_base=sp.base_url) as other:  # noqa: SIM117
        with pytest.raises(SimplyPrintError, match=NO_ACCESS_MESSAGE):
            other.test()

    sp.bad_key_status = 401
    with SimplyPrintClient(sp.company_id, "wrong", api_base=sp.base_url, sleep=lambda s: None) as bad:  # noqa: SIM117
        with pytest.raises(SimplyPrintError) as err:
            bad.test()
    assert err.value.status_code == 401
    # the header name is case-insensitive
    assert (
        httpx.get(f"{sp.base_url}/{sp.company_id}/account/Test", headers={"X-API-Key": sp.api_key}).json()["status"]
        is True
    )


# -- files and queue -------------------------------------------------------------------------------


def test_upload_add_item_get_items_get_item(sp: SimplyPrintStandin, client: SimplyPrintClient) -> None:
    file = client.upload_file("benchy_red.gcode", b"G28\n" * 100)
    assert len(file["id"]) == 64 and int(file["id"], 16) >= 0
    assert file["name"] == "benchy_red.gcode" and file["size"] == 400 and file["expires_at"]

    custom = [{"customFieldId": "a1b2c3d4-order-ref", "value": {"string": "#1042"}}]
    first = client.add_to_queue(file["id"], amount=3, custom_fields=custom)
    second = client.add_to_queue(file["id"])
    top = client.add_to_queue(file["id"], position="top")
    add_body = next(r for r in sp.requests if r["endpoint"] == "queue/AddItem")["body"]
    assert add_body == {"fileId": file["id"], "amount": 3, "custom_fields": custom}

    items = client.queue_items()
    assert [i["id"] for i in items] == [top, first, second]
    assert [i["sort_order"] for i in items] == [1, 2, 3] and [i["index"] for i in items] == [1, 2, 3]
    big = items[1]
    assert (big["left"], big["printed"], big["group"], big["filename"]) == (3, 0, 0, "benchy_red.gcode")
    assert big["customFields"] == custom
    assert client.queue_items(group=5) == []

    item = client.queue_item(first)
    assert item is not None and item["id"] == first and item["left"] == 3
    assert raw(sp, "GET", "queue/GetItem", params={"id": first}).json()["item"]["id"] == first
    assert client.queue_item(999_999) is None


def test_upload_and_add_item_failures(sp: SimplyPrintStandin, client: SimplyPrintClient) -> None:
    with pytest.raises(SimplyPrintError, match="Invalid file type"):
        client.upload_file("benchy", b"G28\n")
    with pytest.raises(SimplyPrintError, match="File not found"):
        client.add_to_queue("0" * 64)
    file = client.upload_file("part.3mf", b"PK..")
    sp.expire_file(file["id"])
    with pytest.raises(SimplyPrintError, match="expired"):
        client.add_to_queue(file["id"])
    # the API host refuses uploads from API keys (files host only)
    refused = httpx.post(
        f"{sp.base_url}/{sp.company_id}/files/Upload",
        headers={"X-API-KEY": sp.api_key},
        files={"file": ("a.gcode", b"G28")},
    )
    assert refused.status_code == 200 and refused.json()["status"] is False


def test_chunked_upload(sp: SimplyPrintStandin) -> None:
    url = f"{sp.files_url}/{sp.company_id}/files/Upload"
    headers = {"X-API-KEY": sp.api_key}
    first = httpx.post(url, headers=headers, data={"totalSize": "10"}, files={"file": ("big.gcode", b"G28\n")})
    token = first.json()["continueToken"]
    second = httpx.post(url, headers=headers, data={"continueToken": token}, files={"file": ("big.gcode", b"G1 X1\n")})
    body = second.json()
    assert body["status"] is True and body["file"]["size"] == 10 and body["file"]["name"] == "big.gcode"


def test_set_order_moves_items_and_answers_success(sp: SimplyPrintStandin, client: SimplyPrintClient) -> None:
    a, b, c = (queued(sp, client, f"part_{n}.gcode") for n in "abc")
    client.set_order(c, 1)
    assert [i["id"] for i in client.queue_items()] == [c, a, b]
    call = [r for r in sp.requests if r["endpoint"] == "queue/SetOrder"][-1]
    assert call["query"]["job"] == str(c) and call["query"]["from"] == "3" and call["query"]["to"] == "1"

    client.set_order(c, 3, frm=1)
    assert [i["id"] for i in client.queue_items()] == [a, b, c]
    answer = raw(sp, "GET", "queue/SetOrder", params={"queue_item": b, "to": 1}).json()
    assert answer == {"success": True, "message": None}
    assert [i["id"] for i in sp.queue_snapshot()] == [b, a, c]
    with pytest.raises(SimplyPrintError, match="not found"):
        client.set_order(424242, 1, frm=1)


def test_set_order_stays_inside_the_queue_group() -> None:
    groups = [{"id": 1, "name": "Orders"}, {"id": 2, "name": "Stock"}]
    with (
        SimplyPrintStandin(queue_groups=groups) as sp,
        SimplyPrintClient(sp.company_id, sp.api_key, api_base=sp.base_url, files_base=sp.files_url) as client,
    ):
        file = client.upload_file("x.gcode", b"G28")
        with pytest.raises(SimplyPrintError, match="queue group"):
            client.add_to_queue(file["id"])
        s1 = client.add_to_queue(file["id"], group=2)
        o1 = client.add_to_queue(file["id"], group=1)
        s2 = client.add_to_queue(file["id"], group=2)
        o2 = client.add_to_queue(file["id"], group=1)
        client.set_order(o2, 1)
        assert [i["id"] for i in client.queue_items()] == [s1, o2, s2, o1]
        assert [i["id"] for i in client.queue_items(group=1)] == [o2, o1]
        assert [i["index"] for i in client.queue_items(group=1)] == [1, 2]


def test_delete_item_reads_job_from_the_query_only(sp: SimplyPrintStandin, client: SimplyPrintClient) -> None:
    item = queued(sp, client)
    wrong_scope = raw(sp, "POST", "queue/DeleteItem", json={"job": item})
    assert wrong_scope.json()["status"] is True  # silently ignored, like the real API
    assert client.queue_item(item) is not None

    client.delete_queue_item(item)
    assert client.queue_item(item) is None
    assert client.queue_items() == []
    call = [r for r in sp.requests if r["endpoint"] == "queue/DeleteItem"][-1]
    assert call["query"] == {"job": str(item)} and call["body"] is None
    with pytest.raises(SimplyPrintError, match="not found"):
        client.delete_queue_item(item)


# -- printers ----------------------------------------------------------------------------------------


def test_printers_get_pages_in_the_body(sp: SimplyPrintStandin, client: SimplyPrintClient) -> None:
    ids = [sp.add_printer(f"MK4 #{n}") for n in range(1, 131)]
    sp.set_printer_state(ids[1], "offline")
    printers = client.printers()
    assert [p["id"] for p in printers] == ids
    calls = [r for r in sp.requests if r["endpoint"] == "printers/Get"]
    assert [c["body"] for c in calls] == [
        {"page": 1, "page_size": 100, "search": ""},
        {"page": 2, "page_size": 100, "search": ""},
    ]
    first = printers[0]
    assert first["printer"]["state"] == "operational" and first["printer"]["online"] is True
    assert first["printer"]["model"] == {"id": 91, "name": "MK4", "brand": "Prusa"}
    assert first["job"] is None
    assert printers[1]["printer"]["state"] == "offline" and printers[1]["printer"]["online"] is False
    # GET caps page_size at 25; ?pid= answers one object
    assert len(raw(sp, "GET", "printers/Get", params={"page_size": 100}).json()["data"]) == 25
    assert raw(sp, "POST", "printers/Get", params={"pid": ids[0]}).json()["data"]["id"] == ids[0]


def test_create_job_reads_pid_from_the_body(sp: SimplyPrintStandin, client: SimplyPrintClient) -> None:
    pid = sp.add_printer("MK4 #1")
    item = queued(sp, client)
    ignored = raw(sp, "POST", "printers/actions/CreateJob", params={"pid": pid}, json={"queue_file": item})
    assert ignored.json() == {"status": False, "message": "No printer specified"}
    started = raw(sp, "POST", "printers/actions/CreateJob", json={"pid": str(pid), "queue_file": item}).json()
    assert started["status"] is True and len(started["jobIds"]) == 1
    assert sp.printer(pid)["printer"]["state"] == "printing"
    busy = raw(sp, "POST", "printers/actions/CreateJob", json={"pid": str(pid), "next_queue_item": True}).json()
    assert busy["status"] is False


# -- simulator and webhooks ---------------------------------------------------------------------------


def wait_for(receiver: Receiver, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with receiver.lock:
            if len(receiver.deliveries) >= count:
                return list(receiver.deliveries)
        time.sleep(0.01)
    raise AssertionError(f"expected {count} webhooks, got {receiver.events()}")


def test_simulator_completes_and_fails_jobs_with_webhooks(
    sp: SimplyPrintStandin, client: SimplyPrintClient, receiver: Receiver
) -> None:
    sp.speed = 50
    pid = sp.add_printer("MK4 #1")
    a = queued(sp, client, "a.gcode")
    b = queued(sp, client, "b.gcode", amount=2)

    assert [e["event"] for e in sp.step()] == ["job.started"]
    printer = client.printers()[0]
    assert printer["printer"]["state"] == "printing" and printer["job"]["file"] == "a.gcode"
    uid_a = printer["job"]["uid"]
    sp.fail_current(pid)  # the copy is used up; the app decides to requeue
    assert client.queue_item(a)["left"] == 0 and [i["id"] for i in client.queue_items()] == [b]

    sp.step()  # b copy 1 starts
    assert client.printers()[0]["job"]["percentage"] == 0
    sp.step()  # 50 %
    assert client.printers()[0]["job"]["percentage"] == 50
    events = [e["event"] for e in sp.step()]  # 100 % → done, then copy 2 starts
    assert events == ["job.done", "job.started"]
    item = client.queue_item(b)
    assert (item["printed"], item["left"]) == (1, 1)
    sp.complete_current(pid)
    assert client.queue_items() == []
    done = client.queue_item(b)
    assert (done["printed"], done["left"], done["done"]) == (2, 0, True)

    client.revive_queue_item(a)
    assert [(i["id"], i["left"]) for i in client.queue_items()] == [(a, 1)]
    with pytest.raises(SimplyPrintError, match="not finished"):
        client.revive_queue_item(a)
    sp.step()

    assert sp.flush_webhooks()
    deliveries = wait_for(receiver, 7)
    assert [d["payload"]["event"] for d in deliveries] == [
        "job.started",
        "job.failed",
        "job.started",
        "job.done",
        "job.started",
        "job.done",
        "job.started",
    ]
    assert all(d["verified"] for d in deliveries)
    assert all(d["path"] == "/api/v1/webhooks/simplyprint/acme" for d in deliveries)
    first = deliveries[0]
    assert first["headers"]["X-SP-Secret"] == SECRET and "X-SP-Token" not in first["headers"]
    envelope = first["payload"]
    assert set(envelope) == {"webhook_id", "event", "timestamp", "data"}
    assert envelope["webhook_id"] == 42 and isinstance(envelope["timestamp"], int)
    assert abs(envelope["timestamp"] - time.time()) < 60
    assert set(envelope["data"]) == {"job", "user", "started_by"}
    job = envelope["data"]["job"]
    assert (job["uid"], job["printer_id"], job["state"], job["file"]) == (uid_a, pid, "printing", "a.gcode")
    failed = deliveries[1]["payload"]["data"]
    assert set(failed) == {"job"} and failed["job"]["state"] == "failed" and failed["job"]["uid"] == uid_a
    assert deliveries[3]["payload"]["data"]["job"]["state"] == "completed"
    assert [d["status_code"] for d in sp.sent_webhooks] == [200] * 7


def test_webhook_header_options_duplicates_and_order(
    sp: SimplyPrintStandin, client: SimplyPrintClient, receiver: Receiver
) -> None:
    sp.speed = 100
    sp.add_printer("MK4 #1")
    queued(sp, client)
    sp.secret_header = "X-SP-Token"
    sp.duplicate_webhooks = True
    sp.step()
    sp.flush_webhooks()
    deliveries = wait_for(receiver, 2)
    assert next(d["payload"] for d in deliveries) == deliveries[1]["payload"]  # a duplicate delivery
    assert len({webhook_dedupe_key(d["payload"]) for d in deliveries}) == 1
    assert "X-SP-Secret" not in deliveries[0]["headers"] and deliveries[0]["headers"]["X-SP-Token"] == SECRET
    assert all(d["verified"] for d in deliveries)

    receiver.clear()
    sp.duplicate_webhooks = False
    sp.secret_header = "both"
    sp.hold_webhooks()
    sp.step()  # job.done (then nothing left to start)
    queued(sp, client, "c.gcode")
    sp.step()  # job.started
    assert receiver.events() == []
    released = sp.release_webhooks(order="reverse")
    assert [e["event"] for e in released] == ["job.started", "job.done"]
    sp.flush_webhooks()
    deliveries = wait_for(receiver, 2)
    assert [d["payload"]["event"] for d in deliveries] == ["job.started", "job.done"]
    assert deliveries[0]["headers"]["X-SP-Secret"] == deliveries[0]["headers"]["X-SP-Token"] == SECRET

    receiver.clear()
    sp.webhook_secret = "not-the-secret"
    sp.cancel_current(next(iter(sp.printers)))
    sp.flush_webhooks()
    assert wait_for(receiver, 1)[0]["verified"] is False


def test_queue_webhooks_when_enabled(sp: SimplyPrintStandin, client: SimplyPrintClient, receiver: Receiver) -> None:
    sp.queue_webhooks = True
    item = queued(sp, client)
    client.delete_queue_item(item)
    sp.flush_webhooks()
    deliveries = wait_for(receiver, 2)
    assert [d["payload"]["event"] for d in deliveries] == ["queue.add_item", "queue.delete_item"]
    assert all(d["payload"]["data"]["queue_item"]["id"] == item for d in deliveries)
    assert set(deliveries[0]["payload"]["data"]) == {"queue_item", "user"}


def test_cancel_only_while_printing(sp: SimplyPrintStandin, client: SimplyPrintClient, receiver: Receiver) -> None:
    pid = sp.add_printer("MK4 #1")
    item = queued(sp, client)
    with pytest.raises(SimplyPrintError, match="not printing"):
        client.cancel_print(pid)
    sp.step()
    uid = client.printers()[0]["job"]["uid"]
    client.cancel_print(pid, reason=3, comment="order cancelled")
    call = [r for r in sp.requests if r["endpoint"] == "printers/actions/Cancel"][-1]
    assert call["query"] == {"pid": str(pid)} and call["body"] == {"reason": 3, "comment": "order cancelled"}
    printer = client.printers()[0]
    assert printer["printer"]["state"] == "operational" and printer["job"] is None
    with pytest.raises(SimplyPrintError, match="not printing"):
        client.cancel_print(pid)
    assert client.job(uid)["status"] == "cancelled"
    assert client.queue_item(item)["left"] == 0

    # paused prints can be cancelled too; error/offline printers cannot
    other = queued(sp, client)
    sp.step()
    assert raw(sp, "POST", "printers/actions/Pause", params={"pid": pid}).json()["status"] is True
    client.cancel_print(pid)
    sp.set_printer_state(pid, "error")
    with pytest.raises(SimplyPrintError):
        client.cancel_print(pid)
    assert client.queue_item(other)["left"] == 0

    sp.flush_webhooks()
    events = [d["payload"]["event"] for d in wait_for(receiver, 5)]
    assert events == ["job.started", "job.cancelled", "job.started", "job.paused", "job.cancelled"]
    cancelled = receiver.deliveries[1]["payload"]["data"]
    assert set(cancelled) == {"job", "user"} and cancelled["job"]["uid"] == uid


def test_jobs_history_links_the_queue_item(sp: SimplyPrintStandin, client: SimplyPrintClient) -> None:
    sp.speed = 100
    p1, p2 = sp.add_printer("MK4 #1"), sp.add_printer("X1C #1", model="X1C")
    a = queued(sp, client, "a.gcode", amount=2)
    sp.run_until_idle()
    jobs, pages = client.jobs()
    assert pages == 1 and len(jobs) == 2
    assert {j["queueItem"]["id"] for j in jobs} == {a}
    assert sorted(j["queueItem"]["queueNum"] for j in jobs) == [1, 2]
    assert {j["printer"] for j in jobs} == {p1, p2} and {j["status"] for j in jobs} == {"done"}
    assert all(j["currentPercentage"] == 100 and j["filename"] == "a.gcode" and j["endDate"] for j in jobs)
    only_p2, _ = client.jobs(printer_ids=[p2])
    assert [j["printer"] for j in only_p2] == [p2]
    call = [r for r in sp.requests if r["endpoint"] == "jobs/GetPaginatedPrintJobs"][-1]
    assert call["body"] == {"page": 1, "page_size": 100, "printer_ids": [p2]} and call["query"] == {}
    page, pages = client.jobs(page=2, page_size=1)
    assert pages == 2 and page[0]["id"] == jobs[1]["id"]
    details = client.job(jobs[0]["uid"])
    assert details["uid"] == jobs[0]["uid"] and details["queueItem"]["id"] == a
    with pytest.raises(SimplyPrintError, match="not found"):
        client.job("nope")


def test_for_models_targets_printers(sp: SimplyPrintStandin, client: SimplyPrintClient) -> None:
    mk4, x1c = sp.add_printer("MK4 #1"), sp.add_printer("X1C #1", model="X1C")
    file = client.upload_file("x.gcode", b"G28")
    r = raw(sp, "POST", "queue/AddItem", json={"fileId": file["id"], "for_models": "120"}).json()
    sp.step()
    assert sp.printer(mk4)["job"] is None
    assert sp.printer(x1c)["job"]["file"] == "x.gcode"
    assert sp.find_item(r["created_id"])["for"]["models"] == [120]


def test_auto_mode_runs_the_farm(sp: SimplyPrintStandin, client: SimplyPrintClient, receiver: Receiver) -> None:
    sp.speed = 50
    sp.add_printer("MK4 #1")
    queued(sp, client, amount=2)
    sp.start_auto(interval=0.01)
    deadline = time.monotonic() + 5
    while client.queue_items() and time.monotonic() < deadline:
        time.sleep(0.02)
    sp.stop_auto()
    assert client.queue_items() == []
    sp.flush_webhooks()
    assert wait_for(receiver, 4) and receiver.events()[:4] == ["job.started", "job.done", "job.started", "job.done"]


# -- retries ------------------------------------------------------------------------------------------


def test_429_is_retried_with_backoff(sp: SimplyPrintStandin, client: SimplyPrintClient, sleeps: list[float]) -> None:
    sp.throttle_next = 2
    client.test()
    assert sleeps == [0.5, 1.0] and sp.throttled == 2

    sleeps.clear()
    sp.throttle_next = 1
    sp.retry_after = 2
    file = client.upload_file("a.gcode", b"G28")  # creating calls are retried on 429 too (nothing happened)
    assert sleeps == [2.0] and file["id"]

    sp.throttle_next = 10
    sleeps.clear()
    with pytest.raises(SimplyPrintError) as err:
        client.test()
    assert err.value.status_code == 429 and THROTTLE_MESSAGE in err.value.message
    assert len(sleeps) == client.retries == 3


def mock_client(handler: Any, sleeps: list[float]) -> SimplyPrintClient:
    return SimplyPrintClient(
        1,
        "k",
        api_base="http://sp.test",
        files_base="http://files.test",
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
    )


def test_5xx_and_transport_errors_retry_only_when_safe() -> None:
    calls: list[str] = []
    sleeps: list[float] = []
    outcomes = iter(["connect", 500, 503, "ok"])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        outcome = next(outcomes)
        if outcome == "connect":
            raise httpx.ConnectError("refused", request=request)
        if outcome == "ok":
            return httpx.Response(200, json={"status": True, "message": None, "queue": {"items": [{"id": 1}]}})
        return httpx.Response(outcome, text="oops")

    with mock_client(handler, sleeps) as c:
        assert c.queue_items() == [{"id": 1}]
    assert calls == ["/1/queue/GetItems"] * 4 and sleeps == [0.5, 1.0, 2.0]

    # AddItem is not resent after a 500 or a read timeout: it may have been queued already
    for failure in (500, "timeout"):
        calls.clear()

        def once(request: httpx.Request, failure: Any = failure) -> httpx.Response:
            calls.append(request.url.path)
            if failure == "timeout":
                raise httpx.ReadTimeout("slow", request=request)
            return httpx.Response(failure, json={"status": False, "message": "Internal error"})

        with mock_client(once, []) as c, pytest.raises(SimplyPrintError):
            c.add_to_queue("f" * 64)
        assert calls == ["/1/queue/AddItem"]


def test_set_order_needs_success_and_status_false_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("SetOrder"):
            return httpx.Response(200, json={"success": False, "message": "Invalid position"})
        return httpx.Response(200, json={"status": False, "message": "Printer not found"})

    with mock_client(handler, []) as c:
        with pytest.raises(SimplyPrintError, match="Invalid position"):
            c.set_order(5, 1, frm=2)
        with pytest.raises(SimplyPrintError, match="Printer not found") as err:
            c.printers()
        assert err.value.status_code == 200


# -- webhook verification -----------------------------------------------------------------------------


def test_verify_webhook_accepts_either_header() -> None:
    assert verify_webhook({"X-SP-Secret": SECRET}, SECRET)
    assert verify_webhook({"x-sp-token": SECRET}, SECRET)
    assert verify_webhook(httpx.Headers({"X-Sp-Secret": SECRET}), SECRET)
    assert not verify_webhook({"X-SP-Secret": SECRET + "x"}, SECRET)
    assert not verify_webhook({}, SECRET)
    assert not verify_webhook({"X-SP-Secret": ""}, "")
    payload = {
        "webhook_id": 42,
        "event": "job.done",
        "timestamp": 1746435067,
        "data": {"job": {"id": 549145, "uid": "7df103aa-b12c-4b33-8305-b55f91c11a4d"}},
    }
    assert webhook_dedupe_key(payload) == ("42", "job.done", "7df103aa-b12c-4b33-8305-b55f91c11a4d", "1746435067")


# -- standalone ---------------------------------------------------------------------------------------


def test_runs_as_a_module_for_make_dev(receiver: Receiver) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    receiver.clear()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "standins.simplyprint",
            "--port",
            str(port),
            "--auto",
            "--printers",
            "2",
            "--interval",
            "0.05",
            "--speed",
            "50",
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
        lines = [proc.stdout.readline() for _ in range(6)]  # type: ignore[union-attr]
        info = dict(line.strip().split(":", 1) for line in lines[1:] if ":" in line)
        base, key = info["API base"].strip(), info["API key"].strip()
        company, files = info["Company id"].strip(), info["Files base"].strip()
        assert base == f"http://127.0.0.1:{port}/api" and files == f"http://127.0.0.1:{port}/files"
        with SimplyPrintClient(company, key, api_base=base, files_base=files) as c:
            c.test()
            assert len(c.printers()) == 2
            c.add_to_queue(c.upload_file("a.gcode", b"G28")["id"])
        assert "job.started" in [d["payload"]["event"] for d in wait_for(receiver, 2)]
        assert all(d["verified"] for d in receiver.deliveries)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()  # type: ignore[union-attr]
