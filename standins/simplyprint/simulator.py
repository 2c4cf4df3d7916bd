"""The organisation behind the SimplyPrint stand-in: files, the print queue, printers and their
job history, the JSON views of them (contract §2, §4), and the simulator that prints.

``PrinterFarm`` is mixed into ``SimplyPrintStandin`` (api.py); everything touching state holds
``self.lock``, and every change the contract announces goes out through ``self._emit``
(webhooks.py).
"""

from __future__ import annotations

import copy
import hashlib
import random
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

PRINTER_STATES = (
    "operational",
    "printing",
    "paused",
    "pausing",
    "resuming",
    "cancelling",
    "downloading",
    "error",
    "offline",
    "not_ready",
)
CANCELLABLE_STATES = ("printing", "paused", "pausing")
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


class PrinterFarm:
    """Files, queue, printers and jobs, and the simulator API (thread-safe)."""

    def _init_farm(self, seed: int) -> None:
        self.lock = threading.RLock()
        self._rng = random.Random(seed)
        self._seed = seed
        self.files: dict[str, dict[str, Any]] = {}
        self.items: list[dict[str, Any]] = []  # the queue, in order
        self.done_items: list[dict[str, Any]] = []  # finished, newest last
        self.printers: dict[int, dict[str, Any]] = {}
        self.jobs: list[dict[str, Any]] = []  # history, oldest first
        self._next = {"item": 51290, "printer": 385, "job": 549140, "file": 0}
        self._auto_thread: threading.Thread | None = None
        self._auto_stop = threading.Event()

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
            "id": item["id"],
            "index": index,
            "sort_order": (self.items.index(item) + 1) if not done else None,
            "filename": item["filename"],
            "note": item["note"],
            "model": False,
            "printable": True,
            "left": item["left"],
            "printed": item["printed"],
            "filesystem_id": item["filesystem_id"],
            "group": item["group"],
            "for": copy.deepcopy(item["for"]),
            "analysis": {"estimate": self.estimate_seconds, "filament": [1520]},
            "user": "Farm Bot",
            "user_id": STANDIN_USER["id"],
            "tags": None,
            "added": _iso(item["added"]),
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
            job_view = {
                "id": job["id"],
                "uid": job["uid"],
                "state": job["state"],
                "file": job["filename"],
                "percentage": int(job["percentage"]),
                "time": int(time.time() - job["started"]),
                "canPreview": True,
                "layer": None,
            }
        items = [i for i in self.items if self._may_print(printer, i)]
        return {
            "id": printer["id"],
            "sort_order": printer["sort_order"],
            "printer": {
                "name": printer["name"],
                "state": printer["state"],
                "online": printer["online"],
                "group": printer["group"],
                "model": copy.deepcopy(printer["model"]),
                "hasQueue": {"items": len(items), "fits": bool(items)},
            },
            "filament": None,
            "job": job_view,
            "tags": None,
        }

    def _job_event_view(self, job: dict[str, Any]) -> dict[str, Any]:
        printer = self.printers.get(job["printer"]) or {}
        ended = job["ended"]
        return {
            "id": job["id"],
            "uid": job["uid"],
            "panel_url": f"https://simplyprint.io/panel/{self.company_id}/printers/{job['printer']}",
            "printer_id": job["printer"],
            "state": job["state"],
            "file": job["filename"],
            "percentage": int(job["percentage"]),
            "time_left": None if ended else self.estimate_seconds,
            "current_layer": None,
            "analysis": {"estimate": self.estimate_seconds, "totalLayers": 210},
            "started": int(job["started"]),
            "ended": int(ended) if ended else None,
            "ai": None,
            "autoprint": True,
            "printer": {"id": job["printer"], "name": printer.get("name"), "group": None},
            "cost": None,
            "duration": int((ended or time.time()) - job["started"]),
            "skippedObjects": None,
        }

    def _job_history_view(self, job: dict[str, Any]) -> dict[str, Any]:
        qi = None
        if job["queue_item_id"] is not None:
            qi = {"id": job["queue_item_id"], "user": STANDIN_USER["id"], "queueNum": job["queue_num"]}
        return {
            "id": job["id"],
            "uid": job["uid"],
            "status": job["status"],
            "filename": job["filename"],
            "startDate": _iso(job["started"]),
            "endDate": _iso(job["ended"]),
            "printer": job["printer"],
            "autoprint": job["queue_item_id"] is not None,
            "currentPercentage": int(job["percentage"]),
            "printTime": int((job["ended"] or time.time()) - job["started"]),
            "queueItem": qi,
            "customFields": copy.deepcopy(job["custom_fields"]),
        }

    # =========================================================================================
    # Simulator API (thread-safe)
    # =========================================================================================

    def add_printer(
        self,
        name: str,
        model: str = "MK4",
        *,
        state: str = "operational",
        online: bool = True,
        group: int | None = None,
    ) -> int:
        """Add a printer (model key of ``MODELS`` or any name); returns its id."""
        if state not in PRINTER_STATES:
            raise ValueError(f"unknown printer state {state!r}")
        with self.lock:
            pid = self._next["printer"]
            self._next["printer"] += 1
            self.printers[pid] = {
                "id": pid,
                "sort_order": len(self.printers) + 1,
                "name": name,
                "model": copy.deepcopy(
                    MODELS.get(model) or {"id": 900 + len(MODELS), "name": model, "brand": "Generic"}
                ),
                "group": group,
                "state": state,
                "online": online,
                "job": None,
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
            self.files[file_id] = {"id": file_id, "name": filename, "size": len(data), "expires": now + self.file_ttl}
            return file_id

    def expire_file(self, file_id: str) -> None:
        with self.lock:
            self.files[file_id]["expires"] = time.time() - 1

    def add_item(
        self, filename: str, *, amount: int = 1, group: int = 0, position: str = "bottom", file_id: str | None = None
    ) -> int:
        """Put an item in the queue directly (as if added in the panel); returns its id."""
        with self._batching():
            return self._add_item(
                filename=filename,
                amount=amount,
                group=group,
                position=position,
                filesystem_id=None,
                for_=None,
                custom_fields=[],
                file_id=file_id,
            )

    def _add_item(
        self,
        *,
        filename: str,
        amount: int,
        group: int,
        position: str,
        filesystem_id: str | None,
        for_: dict[str, Any] | None,
        custom_fields: list,
        file_id: str | None,
    ) -> int:
        item_id = self._next["item"]
        self._next["item"] += 1
        item = {
            "id": item_id,
            "filename": filename,
            "note": None,
            "left": amount,
            "printed": 0,
            "amount": amount,
            "failed": 0,
            "ongoing": 0,
            "group": group,
            "file_id": file_id,
            "filesystem_id": filesystem_id,
            "for": for_ or {"printers": None, "models": None, "groups": None},
            "custom_fields": custom_fields,
            "added": time.time(),
        }
        if position == "top":
            self.items.insert(0, item)
        else:
            self.items.append(item)
        if self.queue_webhooks:
            self._emit(
                "queue.add_item", {"queue_item": self._item_view(item, webhook=True), "user": dict(STANDIN_USER)}
            )
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
        job = {
            "id": job_id,
            "uid": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            "printer": printer["id"],
            "filename": item["filename"] if item else filename,
            "state": "printing",
            "status": "ongoing",
            "percentage": 0.0,
            "started": now,
            "ended": None,
            "queue_item_id": item["id"] if item else None,
            "queue_num": (item["printed"] + item["ongoing"] + item["failed"] + 1) if item else None,
            "custom_fields": copy.deepcopy(item["custom_fields"]) if item else [],
        }
        if item is not None:
            item["ongoing"] += 1
        self.jobs.append(job)
        printer["job"] = job
        printer["state"] = "printing"
        self._emit(
            "job.started",
            {
                "job": self._job_event_view(job),
                "user": dict(STANDIN_USER),
                "started_by": "autoprint" if item else "user",
            },
        )
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
                waiting = any(
                    self._next_item(p) is not None
                    for p in self.printers.values()
                    if p["state"] == "operational" and p["online"]
                )
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
            self._auto_thread = threading.Thread(
                target=self._auto_loop, args=(interval,), name="simplyprint-simulator", daemon=True
            )
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
