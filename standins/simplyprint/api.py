"""The SimplyPrint stand-in's HTTP side, and ``SimplyPrintStandin`` itself: the API host
(``/api/{company_id}/{Endpoint}``) and the files host (``/files/{company_id}/files/Upload``) with
the auth, throttling, envelope and query-vs-body scoping of the contract, over the printer farm
(simulator.py) and its webhook delivery (webhooks.py). The package docstring has the details.
"""

from __future__ import annotations

import copy
import json
import random
import time
import uuid
from collections import deque
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from standins.server import ThreadedServer
from standins.simplyprint.simulator import CANCELLABLE_STATES, PrinterFarm, _iso
from standins.simplyprint.webhooks import DEFAULT_WEBHOOK_ID, WebhookSender

DEFAULT_COMPANY_ID = 4242
DEFAULT_API_KEY = "sp_standin_api_key_0123456789"
BAD_KEY_MESSAGE = "No API key provided, or not logged in"
NO_ACCESS_MESSAGE = "You don't have access to this account"
THROTTLE_MESSAGE = "You're requesting too much – slow down"
FILE_EXTENSIONS = ("gcode", "gco", "g", "bgcode", "3mf", "stl", "obj")


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


class SimplyPrintStandin(PrinterFarm, WebhookSender):
    """In-memory SimplyPrint organisation with a printer simulator (see the package docstring).

    Knobs and records are plain attributes; change them between requests. Everything touching
    state holds ``self.lock``.
    """

    _KNOBS = (
        "webhook_url",
        "webhook_secret",
        "secret_header",
        "duplicate_webhooks",
        "shuffle_webhooks",
        "queue_webhooks",
        "webhook_id",
        "speed",
        "requeue_failed",
        "fail_rate",
        "file_ttl",
        "estimate_seconds",
        "bad_key_status",
        "throttle_status",
        "throttle_next",
        "retry_after",
        "queue_groups",
    )

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
            {
                "id": int(g["id"]),
                "name": g.get("name", f"Group {g['id']}"),
                "virtual": False,
                "extensions": g.get("extensions", ["gcode"]),
                "sort_order": i,
            }
            for i, g in enumerate(queue_groups or [])
        ]
        self._knobs = {name: copy.deepcopy(getattr(self, name)) for name in self._KNOBS}

        # state
        self._init_farm(seed)
        self._uploads: dict[str, dict[str, Any]] = {}  # continueToken -> partial upload
        # records for assertions
        self.requests: deque[dict[str, Any]] = deque(maxlen=2000)
        self.throttled = 0
        self.unauthorized = 0
        self._init_webhooks(senders)
        self._http: ThreadedServer | None = None
        self.root_url: str | None = None

        routes = [
            Route("/_standin/health", self._health, methods=["GET"]),
            Route("/files/{cid}/files/Upload", self._files_upload, methods=["POST"]),
            Route("/api/{cid}/{endpoint:path}", self._api, methods=["GET", "POST"]),
        ]
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
        self._http = ThreadedServer(
            self.app, host=self.host, port=self.port, name="simplyprint-standin", health_path="/_standin/health"
        )
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
            for thread in self._senders:  # noqa: B007
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

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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
                return JSONResponse(
                    {"status": False, "message": THROTTLE_MESSAGE}, status_code=self.throttle_status, headers=headers
                )
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
            self.requests.append(
                {
                    "method": "POST",
                    "endpoint": "files/Upload",
                    "query": dict(request.query_params),
                    "body": {k: v for k, v in form.items() if isinstance(v, str)},
                }
            )
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
            return JSONResponse(
                _ok(file={"id": file_id, "name": f["name"], "size": f["size"], "expires_at": _iso(f["expires"])})
            )

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
        for_ = {
            "printers": _ids(body.get("for_printers")),
            "models": _ids(body.get("for_models")),
            "groups": _ids(body.get("for_groups")),
        }
        custom = body.get("custom_fields") if isinstance(body.get("custom_fields"), list) else []
        item_id = self._add_item(
            filename=filename,
            amount=amount,
            group=group,
            position=position,
            filesystem_id=str(filesystem) if filesystem else None,
            for_=for_,
            custom_fields=custom,
            file_id=str(file_id) if file_id else None,
        )
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
        chunk = items[(page - 1) * size : page * size]
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
        chunk = printers[(page - 1) * size : page * size]
        return JSONResponse(_ok(page_amount=pages, data=[self._printer_view(p) for p in chunk]))

    def _printers_get_query(self, query: dict, body: dict) -> JSONResponse:
        size = min(25, max(1, _int(query.get("page_size"), 25) or 25))
        return self._printers_page(
            max(1, _int(query.get("page"), 1) or 1), size, query.get("search") or "", _int(query.get("pid"))
        )

    def _printers_get_body(self, query: dict, body: dict) -> JSONResponse:
        size = min(100, max(1, _int(body.get("page_size"), 10) or 10))
        return self._printers_page(
            max(1, _int(body.get("page"), 1) or 1), size, str(body.get("search") or ""), _int(query.get("pid"))
        )

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
        chunk = jobs[(page - 1) * size : page * size]
        return JSONResponse(_ok(page_amount=pages, data=[self._job_history_view(j) for j in chunk]))

    def _job_details(self, query: dict, body: dict) -> JSONResponse:
        uid = query.get("id")
        job = next((j for j in self.jobs if j["uid"] == uid or str(j["id"]) == uid), None)
        if job is None:
            return _fail("Job not found")
        view = self._job_event_view(job)
        history = self._job_history_view(job)
        view.update(
            {"status": history["status"], "queueItem": history["queueItem"], "customFields": history["customFields"]}
        )
        return JSONResponse(_ok(job=view))
