"""Offline stand-in for the SimplyPrint API plus a printer-farm simulator.

Follows /work/shared/contracts/simplyprint.md (§6 checklist):

* One server, two "hosts" by prefix: the API at ``{base_url}/{company_id}/{Endpoint}``
  (``base_url`` = ``http://127.0.0.1:<port>/api``) and the files host at
  ``{files_url}/{company_id}/files/Upload`` (``files_url`` = ``http://127.0.0.1:<port>/files``).
  ``files/Upload`` on the API host answers ``status: false`` like the real one does for API keys.
* Auth: ``X-API-KEY`` (any case). A wrong/missing key gets ``{"status": false, "message": "No API key
  provided, or not logged in"}`` with HTTP ``bad_key_status`` (200 by default, 401 allowed); a wrong
  company id gets ``"You don't have access to this account"``. Envelope ``{"status", "message", ...}``
  with endpoint keys at the top level; logical failures are HTTP 200 + ``status: false``;
  ``queue/SetOrder`` answers ``success``.
* Query-vs-body scoping (§2): each field is read from one scope only, a wrong-scope field is
  silently ignored. ``queue/DeleteItem`` with ``job`` only in the body answers ``status: true`` and
  deletes nothing; ``printers/Get`` / ``jobs/GetPaginatedPrintJobs`` paging is read from the body
  (POST); ``printers/actions/CreateJob`` reads ``pid`` from the body, ``printers/actions/Cancel``
  (and Pause/Resume/ClearBed) from the query.
* Files: multipart part ``file``; the type comes from the extension; the id is 64 hex; uploads
  expire after ``file_ttl`` seconds. Chunked uploads (``totalSize`` → ``continueToken``) work.
  AddItem with an unknown or expired ``fileId`` → ``status: false``.
* Queue: items in one ordered list; ``sort_order`` is the position in the whole queue, ``index`` the
  1-based position inside the item's queue group. AddItem takes ``fileId``/``filesystem``,
  ``amount`` (copies, kept in ``left``), ``group`` (required when ``queue_groups`` are configured),
  ``position: "top"|"bottom"``, ``for_printers``/``for_models``/``for_groups`` (arrays or CSV
  strings), ``custom_fields``. ``SetOrder`` (``job`` or ``queue_item``; ``from`` optional; ``to``
  1-based) moves an item inside its group. GetItem answers ``item`` (finished items too, with
  ``done: true``); an unknown id is ``"Queue item not found"``. ReviveItem puts a finished item
  back at the bottom with ``left`` = copies not printed successfully (at least 1).
* Printers: states from §4 (``operational``, ``printing``, ``paused``, ``pausing``, ``resuming``,
  ``cancelling``, ``downloading``, ``error``, ``offline``, ``not_ready``) and a separate ``online``.
  Cancel is only valid while ``printing``/``paused``/``pausing``.
* Jobs: history newest first with ``status`` ``ongoing|done|failed|cancelled`` and
  ``queueItem: {"id", "user", "queueNum"}``; ``jobs/GetDetails?id={uid}``.
* Simulator (thread-safe, deterministic): ``step()`` first advances every printing job by
  ``speed`` percent (a job reaching 100 is done: ``job.done``, the item's ``printed += 1``,
  ``left -= 1``, finished items leave the queue), then every idle (operational + online) printer
  takes the first item (lowest ``sort_order``) with a copy not already being printed that it may
  print (``job.started``). A failed or cancelled copy is used up too (``left -= 1``) unless
  ``requeue_failed`` is set; ``ReviveItem`` (or a new AddItem) prints it again.
  ``fail_rate`` (seeded) makes ``step()`` fail some prints at random, for demos.
* Webhooks (§3): ``{"webhook_id", "event", "timestamp" (unix s), "data"}`` POSTed as JSON to
  ``webhook_url`` from a sender thread, with the secret verbatim in ``X-SP-Secret``
  (``secret_header="X-SP-Token"`` or ``"both"`` to change that). Events: ``job.started``,
  ``job.done``, ``job.failed``, ``job.cancelled``, ``job.paused``, ``job.resumed`` and, with
  ``queue_webhooks=True``, ``queue.add_item`` / ``queue.delete_item``. ``duplicate_webhooks``
  sends every delivery twice; ``shuffle_webhooks`` shuffles each batch (one step or one API call);
  ``hold_webhooks()`` / ``release_webhooks(order=...)`` reorder deliveries across steps.
* Throttling: while ``throttle_next > 0`` each request gets HTTP ``throttle_status`` (429) with
  ``{"status": false, "message": "You're requesting too much – slow down"}``.

Not implemented: OAuth2, webhook management endpoints, printer-side file library.

Standalone (for ``make dev``):
``python -m tests.standins.simplyprint --port 8301 --auto --printers 4 --webhook-url URL --webhook-secret S``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import queue
import random
import signal
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.standins.server import ThreadedServer

__all__ = [
    "BAD_KEY_MESSAGE",
    "DEFAULT_API_KEY",
    "DEFAULT_COMPANY_ID",
    "NO_ACCESS_MESSAGE",
    "PRINTER_STATES",
    "THROTTLE_MESSAGE",
    "SimplyPrintStandin",
]

DEFAULT_COMPANY_ID = 4242
DEFAULT_API_KEY = "sp_standin_api_key_0123456789"
DEFAULT_WEBHOOK_ID = 42
BAD_KEY_MESSAGE = "No API key provided, or not logged in"
NO_ACCESS_MESSAGE = "You don't have access to this account"
THROTTLE_MESSAGE = "You're requesting too much – slow down"
PRINTER_STATES = ("operational", "printing", "paused", "pausing", "resuming", "cancelling", "downloading",
                  "error", "offline", "not_ready")
CANCELLABLE_STATES = ("printing", "paused", "pausing")
FILE_EXTENSIONS = ("gcode", "gco", "g", "bgcode", "3mf", "stl", "obj")
MODELS: dict[str, dict[str, Any]] = {
    "MK4": {"id": 91, "name": "MK4", "brand": "Prusa"},
    "MK4S": {"id": 92, "name": "MK4S", "brand": "Prusa"},
    "MINI+": {"id": 57, "name": "MINI+", "brand": "Prusa"},
    "X1C": {"id": 120, "name": "X1 Carbon", "brand": "Bambu Lab"},
    "P1S": {"id": 124, "name": "P1S", "brand": "Bambu Lab"},
}
STANDIN_USER = {"id": 7, "sso": False, "first_name": "Farm", "last_name": "Bot", "avatar": None}


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _ids(value: Any) -> list[int] | None:
    """An id list from an array or a CSV string (the contract says both occur); None if empty."""
    if value is None or value == "":
        return None
    parts = value if isinstance(value, list) else str(value).split(",")
    out = []
    for part in parts:
        try:
            out.append(int(str(part).strip()))
        except ValueError:
            continue
    return out or None


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _ok(**objects: Any) -> dict[str, Any]:
    return {"status": True, "message": None, **objects}


def _fail(message: str, status_code: int = 200) -> JSONResponse:
    return JSONResponse({"status": False, "message": message}, status_code=status_code)


class SimplyPrintStandin:
    """In-memory SimplyPrint organisation with a printer simulator (see the module docstring).

    Knobs and records are plain attributes; change them between requests. Everything touching
    state holds ``self.lock``.
    """

    _KNOBS = ("webhook_url", "webhook_secret", "secret_header", "duplicate_webhooks", "shuffle_webhooks",
              "queue_webhooks", "webhook_id", "speed", "requeue_failed", "fail_rate", "file_ttl",
              "estimate_seconds", "bad_key_status", "throttle_status", "throttle_next", "retry_after",
              "queue_groups")

    def __init__(
        self,
        company_id: int = DEFAULT_COMPANY_ID,
        api_key: str = DEFAULT_API_KEY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        auto: bool = False,
        auto_interval: float = 0.2,
        speed: float = 25.0,
        printers: int = 0,
        printer_model: str = "MK4",
        secret_header: str = "X-SP-Secret",
        duplicate_webhooks: bool = False,
        shuffle_webhooks: bool = False,
        queue_webhooks: bool = False,
        webhook_id: int = DEFAULT_WEBHOOK_ID,
        bad_key_status: int = 200,
        throttle_status: int = 429,
        retry_after: float | None = None,
        queue_groups: list[dict[str, Any]] | None = None,
        requeue_failed: bool = False,
        fail_rate: float = 0.0,
        file_ttl: float = 24 * 3600,
        estimate_seconds: int = 2700,
        seed: int = 0,
        senders: int = 1,
    ) -> None:
        self.company_id = int(company_id)
        self.api_key = api_key
        self.host = host
        self.port = port
        # webhooks
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.secret_header = secret_header
        self.duplicate_webhooks = duplicate_webhooks
        self.shuffle_webhooks = shuffle_webhooks
        self.queue_webhooks = queue_webhooks
        self.webhook_id = webhook_id
        # simulation knobs
        self.auto = auto
        self.auto_interval = auto_interval
        self.speed = float(speed)
        self.requeue_failed = requeue_failed
        self.fail_rate = fail_rate
        self.file_ttl = file_ttl
        self.estimate_seconds = estimate_seconds
        # HTTP knobs
        self.bad_key_status = bad_key_status
        self.throttle_status = throttle_status
        self.throttle_next = 0
        self.retry_after = retry_after
        self.queue_groups: list[dict[str, Any]] = [
            {"id": int(g["id"]), "name": g.get("name", f"Group {g['id']}"), "virtual": False,
             "extensions": g.get("extensions", ["gcode"]), "sort_order": i}
            for i, g in enumerate(queue_groups or [])]
        self._knobs = {name: copy.deepcopy(getattr(self, name)) for name in self._KNOBS}

        # state
        self.lock = threading.RLock()
        self._rng = random.Random(seed)
        self._seed = seed
        self.files: dict[str, dict[str, Any]] = {}
        self.items: list[dict[str, Any]] = []  # the queue, in order
        self.done_items: list[dict[str, Any]] = []  # finished, newest last
        self.printers: dict[int, dict[str, Any]] = {}
        self.jobs: list[dict[str, Any]] = []  # history, oldest first
        self._uploads: dict[str, dict[str, Any]] = {}  # continueToken -> partial upload
        self._next = {"item": 51290, "printer": 385, "job": 549140, "file": 0}
        # records for assertions
        self.requests: deque[dict[str, Any]] = deque(maxlen=2000)
        self.throttled = 0
        self.unauthorized = 0
        self.events: list[dict[str, Any]] = []  # every envelope emitted, in emission order
        self.sent_webhooks: list[dict[str, Any]] = []  # every delivery attempt: payload, headers, status
        self._batch: list[dict[str, Any]] | None = None
        self._held: list[dict[str, Any]] | None = None

        # threads
        self._outbox: queue.Queue[list[dict[str, Any]] | None] = queue.Queue()
        self._sender: threading.Thread | None = None
        self._senders: list[threading.Thread] = []
        self.senders = max(1, int(senders))  # webhook sender threads; > 1 delivers batches concurrently
        self._pending = 0
        self._idle = threading.Condition(self.lock)
        self._auto_thread: threading.Thread | None = None
        self._auto_stop = threading.Event()
        self._http: ThreadedServer | None = None
        self.root_url: str | None = None

        routes = [Route("/_standin/health", self._health, methods=["GET"]),
                  Route("/files/{cid}/files/Upload", self._files_upload, methods=["POST"]),
                  Route("/api/{cid}/{endpoint:path}", self._api, methods=["GET", "POST"])]
        self.app = Starlette(routes=routes)
        for n in range(1, printers + 1):
            self.add_printer(f"{printer_model} #{n}", model=printer_model)

    # =========================================================================================
    # URLs and lifecycle
    # =========================================================================================

    @property
    def base_url(self) -> str:
        """The API base (pass as ``api_base``): ``{base_url}/{company_id}/{Endpoint}``."""
        if self.root_url is None:
            raise RuntimeError("stand-in not started")
        return f"{self.root_url}/api"

    @property
    def files_url(self) -> str:
        """The files base (pass as ``files_base``): ``{files_url}/{company_id}/files/Upload``."""
        if self.root_url is None:
            raise RuntimeError("stand-in not started")
        return f"{self.root_url}/files"

    def start(self) -> str:
        """Serve on ``host:port`` (port 0 = free port) in a background thread; returns ``base_url``."""
        if self.root_url is not None:
            return self.base_url
        self._http = ThreadedServer(self.app, host=self.host, port=self.port, name="simplyprint-standin",
                                    health_path="/_standin/health")
        self._start_sender()
        root = self._http.url
        self.root_url = root
        if self.auto:
            self.start_auto(self.auto_interval)
        return self.base_url

    def stop(self) -> None:
        """Stop the simulator, deliver what is queued (bounded), stop the sender and the server."""
        self.stop_auto()
        if self._sender is not None:
            self.flush_webhooks(timeout=3)
            for thread in self._senders:
                self._outbox.put(None)
            for thread in self._senders:
                thread.join(timeout=5)
            self._sender, self._senders = None, []
        if self._http is not None:
            self._http.stop()
            self._http = None
        self.root_url = None

    def __enter__(self) -> SimplyPrintStandin:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def reset(self) -> None:
        """Empty every file, queue item, printer, job and record and restore the default knobs
        (for a module-scoped server shared by tests). Waits for queued webhooks first."""
        self.stop_auto()
        self.flush_webhooks(timeout=3)
        with self.lock:
            self.files.clear()
            self.items.clear()
            self.done_items.clear()
            self.printers.clear()
            self.jobs.clear()
            self._uploads.clear()
            self.requests.clear()
            self.events.clear()
            self.sent_webhooks.clear()
            self._held = None
            self._rng = random.Random(self._seed)
            self.throttled = self.unauthorized = 0
            for name, value in self._knobs.items():
                setattr(self, name, copy.deepcopy(value))

    # =========================================================================================
    # Webhook delivery
    # =========================================================================================

    def _start_sender(self) -> None:
        if self._sender is None:
            self._senders = [threading.Thread(target=self._send_loop, name=f"simplyprint-webhooks-{i}", daemon=True)
                             for i in range(self.senders)]
            for thread in self._senders:
                thread.start()
            self._sender = self._senders[0]

    def _send_loop(self) -> None:
        with httpx.Client(timeout=5.0) as http:
            while True:
                batch = self._outbox.get()
                if batch is None:
                    return
                for envelope in batch:
                    self._deliver(http, envelope)
                with self.lock:
                    self._pending -= 1
                    self._idle.notify_all()

    def webhook_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "SimplyPrint-Webhooks (stand-in)"}
        if self.webhook_secret:
            mode = (self.secret_header or "X-SP-Secret").lower()
            if mode in ("x-sp-secret", "both"):
                headers["X-SP-Secret"] = self.webhook_secret
            if mode in ("x-sp-token", "both"):
                headers["X-SP-Token"] = self.webhook_secret
        return headers

    def _deliver(self, http: httpx.Client, envelope: dict[str, Any]) -> None:
        url = self.webhook_url
        if not url:
            return
        body = json.dumps(envelope, separators=(",", ":")).encode()
        headers = self.webhook_headers()
        record: dict[str, Any] = {"event": envelope["event"], "payload": envelope, "headers": headers,
                                  "url": url, "status_code": None, "error": None}
        try:
            record["status_code"] = http.post(url, content=body, headers=headers).status_code
        except httpx.HTTPError as exc:
            record["error"] = str(exc)
        with self.lock:
            self.sent_webhooks.append(record)

    def _emit(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        envelope = {"webhook_id": self.webhook_id, "event": event, "timestamp": int(time.time()), "data": data}
        with self.lock:
            self.events.append(envelope)
            copies = [envelope, envelope] if self.duplicate_webhooks else [envelope]
            if self._batch is not None:
                self._batch.extend(copies)
            else:
                self._enqueue(copies)
        return envelope

    def _enqueue(self, envelopes: list[dict[str, Any]]) -> None:
        """Hand envelopes to the sender (or the hold list); caller holds the lock."""
        if not envelopes:
            return
        if self._held is not None:
            self._held.extend(envelopes)
            return
        if self.shuffle_webhooks:
            envelopes = list(envelopes)
            self._rng.shuffle(envelopes)
        if self.webhook_url:
            self._pending += 1
            self._outbox.put(list(envelopes))

    class _Batch:
        def __init__(self, standin: SimplyPrintStandin) -> None:
            self.standin = standin

        def __enter__(self) -> None:
            self.standin.lock.acquire()
            self.outer = self.standin._batch
            if self.outer is None:
                self.standin._batch = []

        def __exit__(self, *exc: object) -> None:
            s = self.standin
            try:
                if self.outer is None:
                    batch, s._batch = s._batch or [], None
                    s._enqueue(batch)
            finally:
                s.lock.release()

    def _batching(self) -> SimplyPrintStandin._Batch:
        return SimplyPrintStandin._Batch(self)

    def flush_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait until every queued delivery was attempted; False on timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0 or self._sender is None:
                    return False
                self._idle.wait(left)
        return True

    def hold_webhooks(self) -> None:
        """Collect deliveries instead of sending them, until ``release_webhooks``."""
        with self.lock:
            if self._held is None:
                self._held = []

    def release_webhooks(self, order: str = "normal") -> list[dict[str, Any]]:
        """Send the held deliveries as one batch: ``"normal"``, ``"reverse"`` or ``"shuffle"``."""
        with self.lock:
            held, self._held = self._held or [], None
            if order == "reverse":
                held.reverse()
            elif order == "shuffle":
                self._rng.shuffle(held)
            shuffle, self.shuffle_webhooks = self.shuffle_webhooks, False
            try:
                self._enqueue(held)
            finally:
                self.shuffle_webhooks = shuffle
            return held

    def resend(self, envelope: dict[str, Any]) -> None:
        """Deliver an already emitted envelope again (a retry, same body)."""
        with self.lock:
            self._enqueue([envelope])

    # =========================================================================================
    # Views (the JSON shapes of the contract)
    # =========================================================================================

    def _group_items(self, group: int) -> list[dict[str, Any]]:
        return [i for i in self.items if i["group"] == group]

    def _item_view(self, item: dict[str, Any], *, webhook: bool = False) -> dict[str, Any]:
        done = item in self.done_items
        index = None
        if not done:
            index = self._group_items(item["group"]).index(item) + 1
        view = {
            "id": item["id"], "index": index,
            "sort_order": (self.items.index(item) + 1) if not done else None,
            "filename": item["filename"], "note": item["note"], "model": False, "printable": True,
            "left": item["left"], "printed": item["printed"], "filesystem_id": item["filesystem_id"],
            "group": item["group"], "for": copy.deepcopy(item["for"]),
            "analysis": {"estimate": self.estimate_seconds, "filament": [1520]},
            "user": "Farm Bot", "user_id": STANDIN_USER["id"], "tags": None, "added": _iso(item["added"]),
        }
        if webhook:
            view["custom_fields"] = copy.deepcopy(item["custom_fields"])
        else:
            view["customFields"] = copy.deepcopy(item["custom_fields"])
        if done:
            view.update({"done": True, "ongoing": item["ongoing"] > 0, "expires": None})
        return view

    def _printer_view(self, printer: dict[str, Any]) -> dict[str, Any]:
        job = printer["job"]
        job_view = None
        if job is not None:
            job_view = {"id": job["id"], "uid": job["uid"], "state": job["state"], "file": job["filename"],
                        "percentage": int(job["percentage"]), "time": int(time.time() - job["started"]),
                        "canPreview": True, "layer": None}
        items = [i for i in self.items if self._may_print(printer, i)]
        return {"id": printer["id"], "sort_order": printer["sort_order"],
                "printer": {"name": printer["name"], "state": printer["state"], "online": printer["online"],
                            "group": printer["group"], "model": copy.deepcopy(printer["model"]),
                            "hasQueue": {"items": len(items), "fits": bool(items)}},
                "filament": None, "job": job_view, "tags": None}

    def _job_event_view(self, job: dict[str, Any]) -> dict[str, Any]:
        printer = self.printers.get(job["printer"]) or {}
        ended = job["ended"]
        return {"id": job["id"], "uid": job["uid"],
                "panel_url": f"https://simplyprint.io/panel/{self.company_id}/printers/{job['printer']}",
                "printer_id": job["printer"], "state": job["state"], "file": job["filename"],
                "percentage": int(job["percentage"]), "time_left": None if ended else self.estimate_seconds,
                "current_layer": None, "analysis": {"estimate": self.estimate_seconds, "totalLayers": 210},
                "started": int(job["started"]), "ended": int(ended) if ended else None, "ai": None,
                "autoprint": True,
                "printer": {"id": job["printer"], "name": printer.get("name"), "group": None},
                "cost": None, "duration": int((ended or time.time()) - job["started"]), "skippedObjects": None}

    def _job_history_view(self, job: dict[str, Any]) -> dict[str, Any]:
        qi = None
        if job["queue_item_id"] is not None:
            qi = {"id": job["queue_item_id"], "user": STANDIN_USER["id"], "queueNum": job["queue_num"]}
        return {"id": job["id"], "uid": job["uid"], "status": job["status"], "filename": job["filename"],
                "startDate": _iso(job["started"]), "endDate": _iso(job["ended"]), "printer": job["printer"],
                "autoprint": job["queue_item_id"] is not None, "currentPercentage": int(job["percentage"]),
                "printTime": int((job["ended"] or time.time()) - job["started"]),
                "queueItem": qi, "customFields": copy.deepcopy(job["custom_fields"])}

    # =========================================================================================
    # Simulator API (thread-safe)
    # =========================================================================================

    def add_printer(self, name: str, model: str = "MK4", *, state: str = "operational", online: bool = True,
                    group: int | None = None) -> int:
        """Add a printer (model key of ``MODELS`` or any name); returns its id."""
        if state not in PRINTER_STATES:
            raise ValueError(f"unknown printer state {state!r}")
        with self.lock:
            pid = self._next["printer"]
            self._next["printer"] += 1
            self.printers[pid] = {
                "id": pid, "sort_order": len(self.printers) + 1, "name": name,
                "model": copy.deepcopy(MODELS.get(model) or {"id": 900 + len(MODELS), "name": model,
                                                             "brand": "Generic"}),
                "group": group, "state": state, "online": online, "job": None,
            }
            return pid

    def set_printer_state(self, printer_id: int, state: str, *, online: bool | None = None) -> None:
        """Force a printer state (e.g. ``offline``, ``error``); leaves its current job alone."""
        if state not in PRINTER_STATES:
            raise ValueError(f"unknown printer state {state!r}")
        with self.lock:
            printer = self.printers[printer_id]
            printer["state"] = state
            if online is not None:
                printer["online"] = online
            elif state == "offline":
                printer["online"] = False

    def printer(self, printer_id: int) -> dict[str, Any]:
        """The ``printers/Get`` entry of one printer (a copy)."""
        with self.lock:
            return self._printer_view(self.printers[printer_id])

    def queue_snapshot(self) -> list[dict[str, Any]]:
        """The queue as ``queue/GetItems`` lists it (copies, in order)."""
        with self.lock:
            return [self._item_view(i) for i in self.items]

    def jobs_snapshot(self) -> list[dict[str, Any]]:
        """The job history as ``jobs/GetPaginatedPrintJobs`` shows it, newest first."""
        with self.lock:
            return [self._job_history_view(j) for j in reversed(self.jobs)]

    def find_item(self, item_id: int) -> dict[str, Any] | None:
        with self.lock:
            return next((i for i in self.items + self.done_items if i["id"] == item_id), None)

    def add_file(self, filename: str, data: bytes = b"; stand-in gcode\n") -> str:
        """Register an uploaded file directly; returns its 64-hex id."""
        with self.lock:
            self._next["file"] += 1
            digest = hashlib.sha256(f"{self.company_id}:{self._next['file']}:{filename}:".encode() + data)
            file_id = digest.hexdigest()
            now = time.time()
            self.files[file_id] = {"id": file_id, "name": filename, "size": len(data),
                                   "expires": now + self.file_ttl}
            return file_id

    def expire_file(self, file_id: str) -> None:
        with self.lock:
            self.files[file_id]["expires"] = time.time() - 1

    def add_item(self, filename: str, *, amount: int = 1, group: int = 0, position: str = "bottom",
                 file_id: str | None = None) -> int:
        """Put an item in the queue directly (as if added in the panel); returns its id."""
        with self._batching():
            return self._add_item(filename=filename, amount=amount, group=group, position=position,
                                  filesystem_id=None, for_=None, custom_fields=[], file_id=file_id)

    def _add_item(self, *, filename: str, amount: int, group: int, position: str, filesystem_id: str | None,
                  for_: dict[str, Any] | None, custom_fields: list, file_id: str | None) -> int:
        item_id = self._next["item"]
        self._next["item"] += 1
        item = {"id": item_id, "filename": filename, "note": None, "left": amount, "printed": 0, "amount": amount,
                "failed": 0, "ongoing": 0, "group": group, "file_id": file_id, "filesystem_id": filesystem_id,
                "for": for_ or {"printers": None, "models": None, "groups": None},
                "custom_fields": custom_fields, "added": time.time()}
        if position == "top":
            self.items.insert(0, item)
        else:
            self.items.append(item)
        if self.queue_webhooks:
            self._emit("queue.add_item", {"queue_item": self._item_view(item, webhook=True),
                                          "user": dict(STANDIN_USER)})
        return item_id

    def _remove_item(self, item: dict[str, Any]) -> None:
        view = self._item_view(item, webhook=True)
        self.items.remove(item)
        if self.queue_webhooks:
            self._emit("queue.delete_item", {"queue_item": view, "user": dict(STANDIN_USER)})

    def _may_print(self, printer: dict[str, Any], item: dict[str, Any]) -> bool:
        target = item["for"]
        if target.get("printers") and printer["id"] not in target["printers"]:
            return False
        if target.get("models") and printer["model"]["id"] not in target["models"]:
            return False
        return not (target.get("groups") and printer["group"] not in target["groups"])

    def _start(self, printer: dict[str, Any], item: dict[str, Any] | None, filename: str | None = None) -> dict:
        now = time.time()
        job_id = self._next["job"]
        self._next["job"] += 1
        job = {"id": job_id, "uid": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
               "printer": printer["id"], "filename": item["filename"] if item else filename,
               "state": "printing", "status": "ongoing", "percentage": 0.0, "started": now, "ended": None,
               "queue_item_id": item["id"] if item else None,
               "queue_num": (item["printed"] + item["ongoing"] + item["failed"] + 1) if item else None,
               "custom_fields": copy.deepcopy(item["custom_fields"]) if item else []}
        if item is not None:
            item["ongoing"] += 1
        self.jobs.append(job)
        printer["job"] = job
        printer["state"] = "printing"
        self._emit("job.started", {"job": self._job_event_view(job), "user": dict(STANDIN_USER),
                                   "started_by": "autoprint" if item else "user"})
        return job

    def _finish(self, printer: dict[str, Any], outcome: str) -> dict[str, Any]:
        """End the printer's job: ``done``, ``failed`` or ``cancelled``."""
        job = printer["job"]
        job["ended"] = time.time()
        job["status"] = outcome
        job["state"] = {"done": "completed", "failed": "failed", "cancelled": "cancelled"}[outcome]
        if outcome == "done":
            job["percentage"] = 100.0
        printer["job"] = None
        printer["state"] = "operational"
        item = self.find_item(job["queue_item_id"]) if job["queue_item_id"] is not None else None
        if item is not None:
            item["ongoing"] = max(0, item["ongoing"] - 1)
            if outcome == "done":
                item["printed"] += 1
                item["left"] = max(0, item["left"] - 1)
            elif not self.requeue_failed:
                item["failed"] += 1
                item["left"] = max(0, item["left"] - 1)
            if item["left"] == 0 and item in self.items:
                self.items.remove(item)
                self.done_items.append(item)
        event = {"done": "job.done", "failed": "job.failed", "cancelled": "job.cancelled"}[outcome]
        data: dict[str, Any] = {"job": self._job_event_view(job)}
        if outcome == "cancelled":
            data["user"] = dict(STANDIN_USER)
        self._emit(event, data)
        return self._job_history_view(job)

    def _printing(self, printer_id: int) -> dict[str, Any]:
        printer = self.printers[printer_id]
        if printer["job"] is None:
            raise ValueError(f"printer {printer_id} is not printing")
        return printer

    def _next_item(self, printer: dict[str, Any]) -> dict[str, Any] | None:
        for item in self.items:
            if item["left"] - item["ongoing"] > 0 and self._may_print(printer, item):
                return item
        return None

    def step(self) -> list[dict[str, Any]]:
        """One tick: advance printing jobs by ``speed`` % (finishing those at 100), then let idle
        printers take the next queue item. Returns the envelopes emitted by this tick."""
        with self._batching():
            first = len(self.events)
            for printer in sorted(self.printers.values(), key=lambda p: p["sort_order"]):
                job = printer["job"]
                if job is None or printer["state"] != "printing" or not printer["online"]:
                    continue
                job["percentage"] = min(100.0, job["percentage"] + self.speed)
                if self.fail_rate and self._rng.random() < self.fail_rate:
                    self._finish(printer, "failed")
                elif job["percentage"] >= 100:
                    self._finish(printer, "done")
            for printer in sorted(self.printers.values(), key=lambda p: p["sort_order"]):
                if printer["job"] is None and printer["state"] == "operational" and printer["online"]:
                    item = self._next_item(printer)
                    if item is not None:
                        self._start(printer, item)
            return list(self.events[first:])

    def run_until_idle(self, max_steps: int = 1000) -> int:
        """``step()`` until nothing prints and nothing printable is queued; returns the steps taken."""
        for n in range(1, max_steps + 1):
            self.step()
            with self.lock:
                busy = any(p["job"] is not None for p in self.printers.values())
                waiting = any(self._next_item(p) is not None for p in self.printers.values()
                              if p["state"] == "operational" and p["online"])
            if not busy and not waiting:
                return n
        raise RuntimeError("simulation did not settle")

    def complete_current(self, printer_id: int) -> dict[str, Any]:
        """Finish the printer's job now (``job.done``); returns the history entry."""
        with self._batching():
            return self._finish(self._printing(printer_id), "done")

    def fail_current(self, printer_id: int) -> dict[str, Any]:
        """Fail the printer's job now (``job.failed``); returns the history entry."""
        with self._batching():
            return self._finish(self._printing(printer_id), "failed")

    def cancel_current(self, printer_id: int) -> dict[str, Any]:
        """Cancel the printer's job now (``job.cancelled``), as the panel would."""
        with self._batching():
            return self._finish(self._printing(printer_id), "cancelled")

    def start_auto(self, interval: float = 0.2) -> None:
        """Call ``step()`` every ``interval`` seconds in a background thread."""
        with self.lock:
            if self._auto_thread is not None and self._auto_thread.is_alive():
                return
            self._auto_stop.clear()
            self._auto_thread = threading.Thread(target=self._auto_loop, args=(interval,),
                                                 name="simplyprint-simulator", daemon=True)
            self._auto_thread.start()

    def _auto_loop(self, interval: float) -> None:
        while not self._auto_stop.wait(interval):
            self.step()

    def stop_auto(self) -> None:
        thread = self._auto_thread
        if thread is not None:
            self._auto_stop.set()
            thread.join(timeout=5)
            self._auto_thread = None

    # =========================================================================================
    # HTTP
    # =========================================================================================

    async def _health(self, request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def _read(self, request: Request) -> tuple[dict[str, str], Any]:
        query = dict(request.query_params)
        body: Any = None
        raw = await request.body()
        if raw and "json" in request.headers.get("content-type", ""):
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        return query, body

    def _gate(self, request: Request, cid: str) -> JSONResponse | None:
        """Throttle, company and key checks shared by both hosts."""
        with self.lock:
            if self.throttle_next > 0:
                self.throttle_next -= 1
                self.throttled += 1
                headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
                return JSONResponse({"status": False, "message": THROTTLE_MESSAGE},
                                    status_code=self.throttle_status, headers=headers)
            if request.headers.get("x-api-key") != self.api_key:
                self.unauthorized += 1
                return _fail(BAD_KEY_MESSAGE, self.bad_key_status)
            if cid != str(self.company_id):
                return _fail(NO_ACCESS_MESSAGE)
        return None

    async def _files_upload(self, request: Request) -> JSONResponse:
        denied = self._gate(request, request.path_params["cid"])
        if denied is not None:
            return denied
        form = await request.form()
        with self.lock:
            self.requests.append({"method": "POST", "endpoint": "files/Upload", "query": dict(request.query_params),
                                  "body": {k: v for k, v in form.items() if isinstance(v, str)}})
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return _fail("No file provided")
        filename = upload.filename or ""
        data = await upload.read()
        token = form.get("continueToken")
        total = _int(form.get("totalSize"))
        with self.lock:
            if isinstance(token, str) and token:
                partial = self._uploads.get(token)
                if partial is None:
                    return _fail("Invalid continueToken")
                partial["data"] += data
                if len(partial["data"]) < partial["total"]:
                    return JSONResponse(_ok(continueToken=token))
                del self._uploads[token]
                filename, data = partial["name"], partial["data"]
            elif total is not None and total > len(data):
                token = "standin." + uuid.UUID(int=self._rng.getrandbits(128), version=4).hex
                self._uploads[token] = {"name": filename, "data": data, "total": total}
                return JSONResponse(_ok(continueToken=token))
            ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
            if ext not in FILE_EXTENSIONS:
                return _fail("Invalid file type")
            file_id = self.add_file(filename, data)
            f = self.files[file_id]
            return JSONResponse(_ok(file={"id": file_id, "name": f["name"], "size": f["size"],
                                          "expires_at": _iso(f["expires"])}))

    async def _api(self, request: Request) -> JSONResponse:
        cid = request.path_params["cid"]
        endpoint = request.path_params["endpoint"].strip("/")
        denied = self._gate(request, cid)
        if denied is not None:
            return denied
        if endpoint == "files/Upload":
            return _fail("This endpoint can't be used with API keys; upload to files.simplyprint.io")
        query, body = await self._read(request)
        with self.lock:
            self.requests.append({"method": request.method, "endpoint": endpoint, "query": query, "body": body})
        handler = self._routes().get((request.method, endpoint))
        if handler is None:
            if any(ep == endpoint for _, ep in self._routes()):
                return _fail("Method not allowed", 405)
            return _fail("Endpoint not found", 404)
        body = body if isinstance(body, dict) else {}
        with self._batching():
            return handler(query, body)

    def _routes(self) -> dict[tuple[str, str], Any]:
        return {
            ("GET", "account/Test"): self._account_test,
            ("POST", "account/Test"): self._account_test,
            ("POST", "queue/AddItem"): self._queue_add,
            ("GET", "queue/GetItems"): self._queue_items,
            ("POST", "queue/GetItems"): self._queue_items_filter,
            ("GET", "queue/GetItem"): self._queue_item,
            ("GET", "queue/SetOrder"): self._queue_set_order,
            ("POST", "queue/SetOrder"): self._queue_set_order,
            ("POST", "queue/UpdateItem"): self._queue_update,
            ("POST", "queue/DeleteItem"): self._queue_delete,
            ("POST", "queue/MoveItem"): self._queue_move,
            ("POST", "queue/ReviveItem"): self._queue_revive,
            ("POST", "queue/EmptyQueue"): self._queue_empty,
            ("GET", "queue/groups/Get"): self._queue_groups,
            ("GET", "printers/Get"): self._printers_get_query,
            ("POST", "printers/Get"): self._printers_get_body,
            ("POST", "printers/actions/CreateJob"): self._create_job,
            ("POST", "printers/actions/Cancel"): self._cancel,
            ("POST", "printers/actions/Pause"): self._pause,
            ("POST", "printers/actions/Resume"): self._resume,
            ("POST", "printers/actions/ClearBed"): self._clear_bed,
            ("POST", "jobs/GetPaginatedPrintJobs"): self._jobs_page,
            ("GET", "jobs/GetDetails"): self._job_details,
        }

    # -- account / queue ------------------------------------------------------------------------

    def _account_test(self, query: dict, body: dict) -> JSONResponse:
        return JSONResponse({"status": True, "message": "Your API key is valid!"})

    def _queue_add(self, query: dict, body: dict) -> JSONResponse:
        file_id, filesystem = body.get("fileId"), body.get("filesystem")
        if file_id:
            f = self.files.get(str(file_id))
            if f is None or f["expires"] < time.time():
                return _fail("File not found or expired")
            filename = f["name"]
        elif filesystem:
            filename, file_id = f"{filesystem}.gcode", None
        else:
            return _fail("No file specified")
        amount = _int(body.get("amount"), 1)
        if amount is None or amount < 1:
            return _fail("amount must be at least 1")
        group = _int(body.get("group"), 0) or 0
        if self.queue_groups:
            if group not in {g["id"] for g in self.queue_groups}:
                return _fail("group: Please select a queue group")
        elif group != 0:
            return _fail("Queue group not found")
        position = body.get("position") or "bottom"
        if position not in ("top", "bottom"):
            return _fail("position: must be top or bottom")
        for_ = {"printers": _ids(body.get("for_printers")), "models": _ids(body.get("for_models")),
                "groups": _ids(body.get("for_groups"))}
        custom = body.get("custom_fields") if isinstance(body.get("custom_fields"), list) else []
        item_id = self._add_item(filename=filename, amount=amount, group=group, position=position,
                                 filesystem_id=str(filesystem) if filesystem else None, for_=for_,
                                 custom_fields=custom, file_id=str(file_id) if file_id else None)
        return JSONResponse(_ok(created_id=item_id))

    def _queue_items(self, query: dict, body: dict) -> JSONResponse:
        items = self.items
        pid = _int(query.get("p"))
        if pid is not None and pid in self.printers:
            items = [i for i in items if self._may_print(self.printers[pid], i)]
        out: dict[str, Any] = {"queue": {"fits": bool(items), "items": [self._item_view(i) for i in items]}}
        if "groups" in query:
            out["groups"] = copy.deepcopy(self.queue_groups)
        if "done_items" in query:
            out["done_items"] = [self._item_view(i) for i in self.done_items]
        return JSONResponse(_ok(**out))

    def _queue_items_filter(self, query: dict, body: dict) -> JSONResponse:
        items = self.items
        gid = _int(body.get("gid"))
        if gid is not None:
            items = [i for i in items if i["group"] == gid]
        page = max(1, _int(body.get("page"), 1) or 1)
        size = min(100, max(1, _int(body.get("page_size"), 50) or 50))
        chunk = items[(page - 1) * size:page * size]
        return JSONResponse(_ok(queue=[self._item_view(i) for i in chunk], total=len(items), page=page))

    def _queue_item(self, query: dict, body: dict) -> JSONResponse:
        item_id = _int(query.get("id"))
        item = self.find_item(item_id) if item_id is not None else None
        if item is None:
            return _fail("Queue item not found")
        return JSONResponse(_ok(item=self._item_view(item)))

    def _queue_set_order(self, query: dict, body: dict) -> JSONResponse:
        item_id = _int(query.get("job")) or _int(query.get("queue_item"))
        to = _int(query.get("to"))
        item = next((i for i in self.items if i["id"] == item_id), None)
        if item is None:
            return JSONResponse({"success": False, "message": "Queue item not found"})
        if to is None or to < 1:
            return JSONResponse({"success": False, "message": "Invalid position"})
        frm = _int(query.get("from"))
        if frm is not None and frm < 1:
            return JSONResponse({"success": False, "message": "Invalid position"})
        group = self._group_items(item["group"])
        slots = [self.items.index(i) for i in group]
        group.remove(item)
        group.insert(min(to, len(group) + 1) - 1, item)
        for slot, moved in zip(slots, group, strict=True):
            self.items[slot] = moved
        return JSONResponse({"success": True, "message": None})

    def _queue_update(self, query: dict, body: dict) -> JSONResponse:
        item_id = _int(query.get("job"))
        if item_id is None:
            return JSONResponse(_ok())  # no `job` in the query: nothing to update
        item = next((i for i in self.items if i["id"] == item_id), None)
        if item is None:
            return _fail("Queue item not found")
        amount = _int(body.get("amount"))
        if amount is not None:
            if amount < 1:
                return _fail("amount must be at least 1")
            item["left"] = amount
        if "note" in body:
            item["note"] = body["note"]
        for key in ("printers", "models", "groups"):
            if f"for_{key}" in body:
                item["for"][key] = _ids(body[f"for_{key}"])
        return JSONResponse(_ok())

    def _queue_delete(self, query: dict, body: dict) -> JSONResponse:
        ids = _ids(query.get("jobs")) or []
        single = _int(query.get("job"))
        if single is not None:
            ids.append(single)
        if not ids:
            return JSONResponse(_ok())  # `job` only in the body: silently ignored
        items = [i for i in self.items + self.done_items if i["id"] in ids]
        if not items:
            return _fail("Queue item not found")
        for item in items:
            if item in self.items:
                self._remove_item(item)
            else:
                self.done_items.remove(item)
        return JSONResponse(_ok())

    def _queue_move(self, query: dict, body: dict) -> JSONResponse:
        ids = _ids(query.get("jobs")) or []
        target = _int(query.get("moveTo"))
        if target is None or (target != 0 and target not in {g["id"] for g in self.queue_groups}):
            return _fail("Queue group not found")
        for item in self.items:
            if item["id"] in ids:
                item["group"] = target
        return JSONResponse(_ok())

    def _queue_revive(self, query: dict, body: dict) -> JSONResponse:
        item_id = _int(query.get("job"))
        item = next((i for i in self.done_items if i["id"] == item_id), None)
        if item is None:
            if any(i["id"] == item_id for i in self.items):
                return _fail("Queue item is not finished")
            return _fail("Queue item not found")
        self.done_items.remove(item)
        item["left"] = max(1, item["amount"] - item["printed"])
        item["failed"] = 0
        self.items.append(item)
        return JSONResponse(_ok())

    def _queue_empty(self, query: dict, body: dict) -> JSONResponse:
        group = _int(body.get("group"))
        for item in list(self.items):
            if group is None or item["group"] == group:
                self.items.remove(item)
        if body.get("done_items"):
            self.done_items[:] = [i for i in self.done_items if group is not None and i["group"] != group]
        return JSONResponse(_ok())

    def _queue_groups(self, query: dict, body: dict) -> JSONResponse:
        return JSONResponse(_ok(list=copy.deepcopy(self.queue_groups)))

    # -- printers --------------------------------------------------------------------------------

    def _printers_page(self, page: int, size: int, search: str, pid: int | None) -> JSONResponse:
        printers = sorted(self.printers.values(), key=lambda p: p["sort_order"])
        if pid is not None:
            printer = self.printers.get(pid)
            if printer is None:
                return _fail("Printer not found")
            return JSONResponse(_ok(page_amount=1, data=self._printer_view(printer)))
        if search:
            printers = [p for p in printers if search.lower() in p["name"].lower()]
        pages = max(1, -(-len(printers) // size))
        chunk = printers[(page - 1) * size:page * size]
        return JSONResponse(_ok(page_amount=pages, data=[self._printer_view(p) for p in chunk]))

    def _printers_get_query(self, query: dict, body: dict) -> JSONResponse:
        size = min(25, max(1, _int(query.get("page_size"), 25) or 25))
        return self._printers_page(max(1, _int(query.get("page"), 1) or 1), size, query.get("search") or "",
                                   _int(query.get("pid")))

    def _printers_get_body(self, query: dict, body: dict) -> JSONResponse:
        size = min(100, max(1, _int(body.get("page_size"), 10) or 10))
        return self._printers_page(max(1, _int(body.get("page"), 1) or 1), size, str(body.get("search") or ""),
                                   _int(query.get("pid")))

    def _create_job(self, query: dict, body: dict) -> JSONResponse:
        pids = _ids(body.get("pid"))
        if not pids:
            return _fail("No printer specified")
        printers = []
        for pid in pids:
            printer = self.printers.get(pid)
            if printer is None:
                return _fail("Printer not found")
            if printer["state"] != "operational" or not printer["online"] or printer["job"] is not None:
                return _fail(f"Printer {printer['name']} is not operational")
            printers.append(printer)
        job_ids = []
        for printer in printers:
            if body.get("file_id"):
                f = self.files.get(str(body["file_id"]))
                if f is None or f["expires"] < time.time():
                    return _fail("File not found or expired")
                job = self._start(printer, None, filename=f["name"])
            elif body.get("queue_file") is not None:
                item = next((i for i in self.items if i["id"] == _int(body.get("queue_file"))), None)
                if item is None or item["left"] - item["ongoing"] <= 0:
                    return _fail("Queue item not found")
                job = self._start(printer, item)
            elif body.get("next_queue_item"):
                item = self._next_item(printer)
                if item is None:
                    return _fail("No queue item fits this printer")
                job = self._start(printer, item)
            else:
                return _fail("No file specified")
            job_ids.append(job["id"])
        return JSONResponse(_ok(files=[], jobIds=job_ids))

    def _query_printers(self, query: dict) -> list[dict[str, Any]] | JSONResponse:
        pids = _ids(query.get("pid"))
        if not pids:
            return _fail("No printer specified")
        printers = [self.printers.get(pid) for pid in pids]
        if any(p is None for p in printers):
            return _fail("Printer not found")
        return printers  # type: ignore[return-value]

    def _cancel(self, query: dict, body: dict) -> JSONResponse:
        printers = self._query_printers(query)
        if isinstance(printers, JSONResponse):
            return printers
        for printer in printers:
            if printer["state"] not in CANCELLABLE_STATES or printer["job"] is None:
                return _fail(f"Printer {printer['name']} is not printing")
        for printer in printers:
            printer["job"]["cancel_reason"] = body.get("reason")
            printer["job"]["cancel_comment"] = body.get("comment")
            self._finish(printer, "cancelled")
        return JSONResponse(_ok())

    def _pause(self, query: dict, body: dict) -> JSONResponse:
        printers = self._query_printers(query)
        if isinstance(printers, JSONResponse):
            return printers
        for printer in printers:
            if printer["state"] != "printing":
                return _fail(f"Printer {printer['name']} is not printing")
        for printer in printers:
            printer["state"] = "paused"
            printer["job"]["state"] = "paused"
            self._emit("job.paused", {"job": self._job_event_view(printer["job"])})
        return JSONResponse(_ok())

    def _resume(self, query: dict, body: dict) -> JSONResponse:
        printers = self._query_printers(query)
        if isinstance(printers, JSONResponse):
            return printers
        for printer in printers:
            if printer["state"] != "paused":
                return _fail(f"Printer {printer['name']} is not paused")
        for printer in printers:
            printer["state"] = "printing"
            printer["job"]["state"] = "printing"
            self._emit("job.resumed", {"job": self._job_event_view(printer["job"])})
        return JSONResponse(_ok())

    def _clear_bed(self, query: dict, body: dict) -> JSONResponse:
        printers = self._query_printers(query)
        if isinstance(printers, JSONResponse):
            return printers
        for printer in printers:
            if printer["job"] is not None:
                return _fail(f"Printer {printer['name']} is printing")
        return JSONResponse(_ok())

    # -- jobs ------------------------------------------------------------------------------------

    def _jobs_page(self, query: dict, body: dict) -> JSONResponse:
        page = _int(body.get("page"), 1) or 1
        size = _int(body.get("page_size"), 50) or 50
        if page < 1 or not 1 <= size <= 100:
            return _fail("page_size must be between 1 and 100")
        jobs = list(reversed(self.jobs))
        printer_ids = _ids(body.get("printer_ids"))
        if printer_ids:
            jobs = [j for j in jobs if j["printer"] in printer_ids]
        status = body.get("status")
        if status:
            wanted = {"finished": "done"}.get(str(status), str(status))
            jobs = [j for j in jobs if j["status"] == wanted]
        pages = max(1, -(-len(jobs) // size))
        chunk = jobs[(page - 1) * size:page * size]
        return JSONResponse(_ok(page_amount=pages, data=[self._job_history_view(j) for j in chunk]))

    def _job_details(self, query: dict, body: dict) -> JSONResponse:
        uid = query.get("id")
        job = next((j for j in self.jobs if j["uid"] == uid or str(j["id"]) == uid), None)
        if job is None:
            return _fail("Job not found")
        view = self._job_event_view(job)
        history = self._job_history_view(job)
        view.update({"status": history["status"], "queueItem": history["queueItem"],
                     "customFields": history["customFields"]})
        return JSONResponse(_ok(job=view))


# ---------------------------------------------------------------------------------------------
# Standalone
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Offline SimplyPrint API stand-in with a printer simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8301)
    parser.add_argument("--company-id", type=int, default=DEFAULT_COMPANY_ID)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--printers", type=int, default=4, help="printers to create")
    parser.add_argument("--model", default="MK4")
    parser.add_argument("--auto", action="store_true", help="run the simulator (step() every --interval s)")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--speed", type=float, default=5.0, help="percent per step")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="chance per step that a print fails")
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--webhook-secret", default=None)
    parser.add_argument("--secret-header", default="X-SP-Secret", choices=["X-SP-Secret", "X-SP-Token", "both"])
    parser.add_argument("--queue-webhooks", action="store_true", help="also send queue.add_item/delete_item")
    args = parser.parse_args(argv)

    standin = SimplyPrintStandin(
        args.company_id, args.api_key, host=args.host, port=args.port, webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret, auto=args.auto, auto_interval=args.interval, speed=args.speed,
        printers=args.printers, printer_model=args.model, secret_header=args.secret_header,
        queue_webhooks=args.queue_webhooks, fail_rate=args.fail_rate)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    standin.start()
    try:
        print(f"SimplyPrint stand-in with {len(standin.printers)} printers"
              f" (simulator {'on, every %.2fs' % args.interval if args.auto else 'off'})", flush=True)
        print(f"  API base:    {standin.base_url}", flush=True)
        print(f"  Files base:  {standin.files_url}", flush=True)
        print(f"  Company id:  {standin.company_id}", flush=True)
        print(f"  API key:     {standin.api_key}", flush=True)
        print(f"  Webhooks:    {args.webhook_url or '(none)'}", flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        standin.stop()
        print("SimplyPrint stand-in stopped", flush=True)


if __name__ == "__main__":
    main()
