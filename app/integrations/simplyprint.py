"""SimplyPrint: the httpx API client and webhook verification.

Follows ../shared/contracts/simplyprint.md:

* §1: `{api_base}/{company_id}/{Endpoint}` with `X-API-KEY`; uploads go to the separate files
  host `{files_base}/{company_id}/files/Upload`. Every answer is `{"status": bool, "message", ...}`
  with the endpoint keys at the top level; `status: false` is an error even with HTTP 200, and
  `queue/SetOrder` answers `success` instead of `status`.
* §2: the backend reads each field from exactly one scope (query string or JSON body) and silently
  ignores it in the other, so every call below puts each field where the contract says.
* §3: webhooks carry the configured secret verbatim in `X-SP-Secret` (older docs: `X-SP-Token`);
  there is no signature over the body.
* §5: back off on 429/503 (and other 5xx / transport errors), bounded.

Every call goes through the outbound guard (app/platform/outbound.py): only SimplyPrint's own
https hosts in production, no redirects. Errors name the failure; of the answer they carry at
most the `message` field of SimplyPrint's JSON envelope, never the raw body.

One client talks to one SimplyPrint organisation; the caller builds it from a tenant's connection.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from app.platform import outbound

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.simplyprint.io"
DEFAULT_FILES_BASE = "https://files.simplyprint.io"
SECRET_HEADERS = ("x-sp-secret", "x-sp-token")
PRINTERS_PAGE_SIZE = 100  # POST printers/Get allows 100 (GET caps at 25)
MAX_PRINTER_PAGES = 100

# Statuses that mean "not accepted, nothing happened": safe to send again for any call.
_REJECTED_STATUSES = frozenset({429, 502, 503, 504})
# Transport errors raised before the request reached the server: safe to send again for any call.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class SimplyPrintError(Exception):
    """A failed SimplyPrint call: HTTP error, unreadable answer, or `status: false`.

    `status_code` is the HTTP status (None when the server was not reached), `payload` the
    decoded JSON answer when there was one.
    """

    def __init__(self, message: str, *, status_code: int | None = None, payload: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.payload = payload

    @property
    def not_found(self) -> bool:
        """The answer says the object does not exist (HTTP 404 or a 'not found' message)."""
        text = (self.message or "").lower()
        return self.status_code == 404 or "not found" in text or "does not exist" in text or "doesn't exist" in text


def verify_webhook(headers: Mapping[str, str], secret: str) -> bool:
    """True when the delivery carries the configured secret in `X-SP-Secret` or `X-SP-Token`.

    Header names are matched case-insensitively whatever the mapping type; compare is
    constant-time. An empty configured secret never verifies.
    """
    if not secret:
        return False
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    expected = secret.encode()
    ok = False
    for name in SECRET_HEADERS:
        got = lowered.get(name)
        if got is not None and hmac.compare_digest(got.encode(), expected):
            ok = True
    return ok


def _mapping(value: object) -> Mapping[str, Any]:
    """`value` when it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def webhook_dedupe_key(payload: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """`(webhook_id, event, job uid, timestamp)` — the contract's §3 dedupe key (strings, '' if absent)."""
    data = _mapping(payload.get("data"))
    job = _mapping(data.get("job"))
    item = _mapping(data.get("queue_item"))
    ref = job.get("uid") or job.get("id") or item.get("id") or ""
    return (
        str(payload.get("webhook_id") or ""),
        str(payload.get("event") or ""),
        str(ref),
        str(payload.get("timestamp") or ""),
    )


class SimplyPrintClient:
    """API client for one SimplyPrint organisation (company).

    `retries` bounds the re-sends after a 429/5xx answer or a transport error, with exponential
    backoff (`backoff * 2**n`, capped at `max_backoff`; a numeric `Retry-After` wins). Calls that
    create something (upload, AddItem, Cancel) are only re-sent when the request certainly did not
    take effect (429/502/503/504, or the connection was never made), so a lost answer cannot
    queue a copy twice. Pass `sleep` to make the waits instant in tests.
    """

    def __init__(
        self,
        company_id: int | str,
        api_key: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        files_base: str = DEFAULT_FILES_BASE,
        timeout: float = 20.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.company_id = str(company_id).strip()
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self.files_base = (files_base or DEFAULT_FILES_BASE).rstrip("/")
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.http = outbound.client(
            outbound.SIMPLYPRINT,
            timeout=timeout,
            transport=transport,
            headers={"X-API-KEY": api_key, "Accept": "application/json"},
        )

    # -- plumbing ------------------------------------------------------------------------------

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SimplyPrintClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def api_url(self, endpoint: str) -> str:
        return f"{self.api_base}/{self.company_id}/{endpoint.lstrip('/')}"

    @property
    def upload_url(self) -> str:
        return f"{self.files_base}/{self.company_id}/files/Upload"

    def _wait(self, attempt: int, response: httpx.Response | None) -> None:
        delay = min(self.max_backoff, self.backoff * 2**attempt)
        if response is not None:
            retry_after = response.headers.get("retry-after")
            if retry_after:
                with contextlib.suppress(ValueError):
                    delay = min(self.max_backoff, max(0.0, float(retry_after)))
        self.sleep(delay)

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: dict | None = None,
        json: Any = None,
        files: dict | None = None,
        idempotent: bool = True,
        ok_key: str = "status",
    ) -> dict:
        what = url.rsplit(f"/{self.company_id}/", 1)[-1]
        attempt = 0
        while True:
            try:
                r = self.http.request(method, url, params=params, json=json, files=files)
            except outbound.OutboundRefused as exc:
                raise SimplyPrintError(exc.message) from None
            except httpx.TransportError as exc:
                if attempt < self.retries and (idempotent or isinstance(exc, _NOT_SENT_ERRORS)):
                    log.info("SimplyPrint %s: %s; retrying", what, exc)
                    self._wait(attempt, None)
                    attempt += 1
                    continue
                raise SimplyPrintError(f"SimplyPrint unreachable ({what}): {exc}") from exc
            retryable = r.status_code in _REJECTED_STATUSES or (idempotent and r.status_code >= 500)
            if retryable and attempt < self.retries:
                log.info("SimplyPrint %s answered %s; retrying", what, r.status_code)
                self._wait(attempt, r)
                attempt += 1
                continue
            if r.is_redirect:
                raise SimplyPrintError(
                    outbound.redirect_refused(outbound.SIMPLYPRINT, r) + f" ({what})", status_code=r.status_code
                )
            try:
                body = r.json()
            except ValueError:
                body = None
            message = outbound.api_message(body.get("message")) if isinstance(body, dict) else ""
            if r.status_code >= 400:
                hint = ": check the API key" if r.status_code in (401, 403) and not message else ""
                raise SimplyPrintError(
                    f"SimplyPrint {what} answered HTTP {r.status_code}" + (f": {message}" if message else hint),
                    status_code=r.status_code,
                    payload=body,
                )
            if not isinstance(body, dict):
                raise SimplyPrintError(
                    f"SimplyPrint {what} answered something that is not JSON", status_code=r.status_code, payload=body
                )
            if body.get(ok_key) is not True:
                raise SimplyPrintError(
                    message or f"SimplyPrint refused {what}", status_code=r.status_code, payload=body
                )
            return body

    # -- account -------------------------------------------------------------------------------

    def test(self) -> None:
        """account/Test; raises SimplyPrintError when the key is wrong or has no access."""
        self._request("GET", self.api_url("account/Test"))

    # -- files ---------------------------------------------------------------------------------

    def upload_file(self, filename: str, data: bytes) -> dict:
        """files/Upload on the files host; multipart part `file` (type from the extension).

        Returns the file object: `{"id": <64 hex>, "name", "size", "expires_at"?}`.
        """
        body = self._request(
            "POST", self.upload_url, files={"file": (filename, data, "application/octet-stream")}, idempotent=False
        )
        file = body.get("file")
        if not isinstance(file, dict) or not file.get("id"):
            raise SimplyPrintError("SimplyPrint upload answered without a file id", payload=body)
        return file

    # -- queue ---------------------------------------------------------------------------------

    def add_to_queue(
        self,
        file_id: str,
        *,
        amount: int = 1,
        group: int | None = None,
        position: str | None = None,
        custom_fields: list | None = None,
    ) -> int:
        """queue/AddItem (all fields in the body) → `created_id`, the stable queue item id."""
        payload: dict[str, Any] = {"fileId": file_id, "amount": int(amount)}
        if group is not None:
            payload["group"] = int(group)
        if position:
            payload["position"] = position
        if custom_fields:
            payload["custom_fields"] = custom_fields
        body = self._request("POST", self.api_url("queue/AddItem"), json=payload, idempotent=False)
        try:
            return int(body["created_id"])
        except (KeyError, TypeError, ValueError):
            raise SimplyPrintError("SimplyPrint AddItem answered without created_id", payload=body) from None

    def queue_items(self, group: int | None = None) -> list[dict]:
        """queue/GetItems → `queue.items` (in queue order), optionally only one queue group."""
        body = self._request("GET", self.api_url("queue/GetItems"))
        queue = body.get("queue")
        items = queue.get("items") if isinstance(queue, dict) else queue
        items = [i for i in items or [] if isinstance(i, dict)]
        if group is not None:
            items = [i for i in items if int(i.get("group") or 0) == int(group)]
        return items

    def queue_item(self, item_id: int) -> dict | None:
        """queue/GetItem?id= → the item, or None when it is no longer in the queue."""
        try:
            body = self._request("GET", self.api_url("queue/GetItem"), params={"id": int(item_id)})
        except SimplyPrintError as exc:
            if exc.not_found:
                return None
            raise
        item = body.get("item")
        if item is None and isinstance(body.get("queue"), dict) and "id" in body["queue"]:
            item = body["queue"]  # the docs' example uses `queue` for the same object
        return item if isinstance(item, dict) else None

    def set_order(self, item_id: int, to: int, frm: int | None = None) -> None:
        """queue/SetOrder (all query): move an item to 1-based position `to`.

        `from` is deprecated but must be positive on the real API; when not given the item's
        current `index` is read first. Answers `success`, not `status`.
        """
        if frm is None:
            item = self.queue_item(item_id)
            if item is None:
                raise SimplyPrintError(f"Queue item {item_id} not found", status_code=404)
            frm = int(item.get("index") or 1)
        params = {"job": int(item_id), "queue_item": int(item_id), "from": max(1, int(frm)), "to": max(1, int(to))}
        self._request("GET", self.api_url("queue/SetOrder"), params=params, ok_key="success")

    def delete_queue_item(self, item_id: int) -> None:
        """queue/DeleteItem?job= (query; a `job` in the body is silently ignored by SimplyPrint)."""
        self._request("POST", self.api_url("queue/DeleteItem"), params={"job": int(item_id)})

    def revive_queue_item(self, item_id: int) -> None:
        """queue/ReviveItem?job=: put a finished item back into the queue."""
        self._request("POST", self.api_url("queue/ReviveItem"), params={"job": int(item_id)})

    # -- printers ------------------------------------------------------------------------------

    def printers(self) -> list[dict]:
        """POST printers/Get (paging in the body), every page."""
        out: list[dict] = []
        page = 1
        while page <= MAX_PRINTER_PAGES:
            body = self._request(
                "POST", self.api_url("printers/Get"), json={"page": page, "page_size": PRINTERS_PAGE_SIZE, "search": ""}
            )
            data = body.get("data")
            if isinstance(data, dict):
                data = [data]
            out.extend(d for d in data or [] if isinstance(d, dict))
            try:
                pages = int(body.get("page_amount") or 1)
            except (TypeError, ValueError):
                pages = 1
            if page >= pages or not data:
                break
            page += 1
        return out

    def cancel_print(self, printer_id: int, *, reason: int | None = None, comment: str = "") -> None:
        """printers/actions/Cancel?pid= (query) with optional `reason`/`comment` in the body.

        Cancels whatever the printer is printing; SimplyPrint refuses unless it is printing,
        paused or pausing.
        """
        payload: dict[str, Any] = {}
        if reason is not None:
            payload["reason"] = int(reason)
        if comment:
            payload["comment"] = comment
        self._request(
            "POST",
            self.api_url("printers/actions/Cancel"),
            params={"pid": str(printer_id)},
            json=payload or None,
            idempotent=False,
        )

    # -- jobs ----------------------------------------------------------------------------------

    def jobs(
        self, *, page: int = 1, page_size: int = 100, printer_ids: list[int] | None = None
    ) -> tuple[list[dict], int]:
        """POST jobs/GetPaginatedPrintJobs (body) → (jobs newest first, page_amount).

        Each job has `id`, `uid`, `status` (ongoing|done|failed|cancelled), `printer` and
        `queueItem.id` linking it to the queue item.
        """
        payload: dict[str, Any] = {"page": max(1, int(page)), "page_size": min(100, max(1, int(page_size)))}
        if printer_ids:
            payload["printer_ids"] = [int(p) for p in printer_ids]
        body = self._request("POST", self.api_url("jobs/GetPaginatedPrintJobs"), json=payload)
        data = [d for d in body.get("data") or [] if isinstance(d, dict)]
        try:
            pages = int(body.get("page_amount") or 1)
        except (TypeError, ValueError):
            pages = 1
        return data, pages

    def job(self, uid: str) -> dict:
        """GET jobs/GetDetails?id={uid} → the job object."""
        body = self._request("GET", self.api_url("jobs/GetDetails"), params={"id": str(uid)})
        job = body.get("job")
        if not isinstance(job, dict):
            raise SimplyPrintError(f"SimplyPrint has no details for job {uid}", payload=body)
        return job
