"""Webhook delivery of the SimplyPrint stand-in (contract §3): envelopes ``{"webhook_id", "event",
"timestamp", "data"}`` POSTed as JSON to ``webhook_url`` from sender threads, the secret verbatim
in ``X-SP-Secret`` (or ``X-SP-Token``, or both); one batch per simulator step or API call, with
duplicates, shuffling and hold/release to test the receiver.

``WebhookSender`` is mixed into ``SimplyPrintStandin`` (api.py), after ``PrinterFarm`` has made
``self.lock``.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import httpx

DEFAULT_WEBHOOK_ID = 42


class WebhookSender:
    """Queues the envelopes the stand-in emits and delivers them from sender threads."""

    def _init_webhooks(self, senders: int) -> None:
        self.events: list[dict[str, Any]] = []  # every envelope emitted, in emission order
        self.sent_webhooks: list[dict[str, Any]] = []  # every delivery attempt: payload, headers, status
        self._batch: list[dict[str, Any]] | None = None
        self._held: list[dict[str, Any]] | None = None
        self._outbox: queue.Queue[list[dict[str, Any]] | None] = queue.Queue()
        self._sender: threading.Thread | None = None
        self._senders: list[threading.Thread] = []
        self.senders = max(1, int(senders))  # webhook sender threads; > 1 delivers batches concurrently
        self._pending = 0
        self._idle = threading.Condition(self.lock)

    def _start_sender(self) -> None:
        if self._sender is None:
            self._senders = [
                threading.Thread(target=self._send_loop, name=f"simplyprint-webhooks-{i}", daemon=True)
                for i in range(self.senders)
            ]
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
        record: dict[str, Any] = {
            "event": envelope["event"],
            "payload": envelope,
            "headers": headers,
            "url": url,
            "status_code": None,
            "error": None,
        }
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
        def __init__(self, standin: WebhookSender) -> None:
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

    def _batching(self) -> WebhookSender._Batch:
        return WebhookSender._Batch(self)

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
