"""Offline stand-in for the SimplyPrint API plus a printer-farm simulator.

Follows /work/shared/contracts/simplyprint.md (§6 checklist). The HTTP side is in ``api.py``, the
printer farm and its simulator in ``simulator.py``, webhook delivery in ``webhooks.py``:

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
``python -m standins.simplyprint --port 8301 --auto --printers 4 --webhook-url URL --webhook-secret S``.
"""

from standins.simplyprint.api import (
    BAD_KEY_MESSAGE,
    DEFAULT_API_KEY,
    DEFAULT_COMPANY_ID,
    NO_ACCESS_MESSAGE,
    THROTTLE_MESSAGE,
    SimplyPrintStandin,
)
from standins.simplyprint.simulator import PRINTER_STATES

__all__ = [
    "BAD_KEY_MESSAGE",
    "DEFAULT_API_KEY",
    "DEFAULT_COMPANY_ID",
    "NO_ACCESS_MESSAGE",
    "PRINTER_STATES",
    "THROTTLE_MESSAGE",
    "SimplyPrintStandin",
]
