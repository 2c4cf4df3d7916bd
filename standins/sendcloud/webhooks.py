"""Webhook delivery of the Sendcloud stand-in (contract §6).

Each status change becomes a ``parcel_status_changed`` envelope ``{"action", "timestamp" (ms),
"carrier_status_change_timestamp" (ms), "parcel"}``, serialised once; those exact bytes are
POSTed to ``webhook_url`` with ``Sendcloud-Signature`` = hex HMAC-SHA256 of them keyed with the
webhook secret, from sender threads. A non-2xx answer or a failed call is tried again after each
of ``retry_delays`` (Sendcloud waits 5 minutes to an hour; ours is short), with the same bytes,
then given up and kept in ``failed_webhooks``.

Test switches: ``duplicate_webhooks`` (every delivery twice), ``scramble`` (each batch, one API
call or one simulator step, in shuffled order), ``hold_webhooks`` / ``release_webhooks`` (reorder
across steps), ``drop_webhooks`` (emit nothing: missed webhooks, for reconciliation tests).

``WebhookSender`` is mixed into ``SendcloudStandin`` (api.py), after ``ParcelStore`` has made
``self.lock``.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Sendcloud-Signature"
USER_AGENT = "Sendcloud-Webhooks (stand-in)"


def sign(body: bytes, secret: str) -> str:
    """``hex(HMAC-SHA256(key=secret, msg=body))`` — the ``Sendcloud-Signature`` value."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """Queues the deliveries the stand-in emits and sends them from sender threads, retrying."""

    lock: threading.RLock
    webhook_url: str | None
    webhook_secret: str
    retry_delays: tuple[float, ...]
    duplicate_webhooks: bool
    scramble: bool
    drop_webhooks: bool
    webhook_timeout: float
    parcel_view: Callable[[dict[str, Any]], dict[str, Any]]

    def _init_webhooks(self, senders: int, seed: int) -> None:
        self.events: list[dict[str, Any]] = []  # every envelope emitted, in emission order
        self.sent_webhooks: list[dict[str, Any]] = []  # every delivery attempt, with its answer
        self.failed_webhooks: list[dict[str, Any]] = []  # deliveries given up after the last retry
        self.dropped_webhooks: list[dict[str, Any]] = []  # envelopes not sent (drop_webhooks)
        self.senders = max(1, int(senders))
        self._rng = random.Random(seed)
        self._seed = seed
        self._batch: list[dict[str, Any]] | None = None
        self._held: list[dict[str, Any]] | None = None
        self._due: list[tuple[float, int, dict[str, Any]]] = []  # (when, sequence, delivery) heap
        self._sequence = itertools.count()
        self._pending = 0  # deliveries queued, waiting for a retry, or in flight
        self._wake = threading.Condition(self.lock)
        self._sender_threads: list[threading.Thread] = []
        self._closing = False

    def _clear_webhooks(self) -> None:
        with self.lock:
            self.events.clear()
            self.sent_webhooks.clear()
            self.failed_webhooks.clear()
            self.dropped_webhooks.clear()
            self._held = None
            self._rng = random.Random(self._seed)

    # -- sender threads ------------------------------------------------------------------------

    def _start_senders(self) -> None:
        if self._sender_threads:
            return
        self._closing = False
        self._sender_threads = [
            threading.Thread(target=self._send_loop, name=f"sendcloud-webhooks-{n}", daemon=True)
            for n in range(self.senders)
        ]
        for thread in self._sender_threads:
            thread.start()

    def _stop_senders(self) -> None:
        """Stop the sender threads; deliveries still waiting (retries) are abandoned."""
        with self.lock:
            self._closing = True
            self._due.clear()
            self._pending = 0
            self._wake.notify_all()
        for thread in self._sender_threads:
            thread.join(timeout=5)
        self._sender_threads = []

    def _next_delivery(self) -> dict[str, Any] | None:
        """Block until a delivery is due (None: stopping)."""
        with self.lock:
            while True:
                if self._closing:
                    return None
                if self._due:
                    when = self._due[0][0]
                    now = time.monotonic()
                    if when <= now:
                        return heapq.heappop(self._due)[2]
                    self._wake.wait(when - now)
                else:
                    self._wake.wait()

    def _send_loop(self) -> None:
        with httpx.Client(timeout=self.webhook_timeout, trust_env=False) as http:
            while True:
                delivery = self._next_delivery()
                if delivery is None:
                    return
                self._deliver(http, delivery)

    def _schedule(self, delivery: dict[str, Any], delay: float = 0.0) -> None:
        """Queue a delivery (caller holds the lock)."""
        heapq.heappush(self._due, (time.monotonic() + delay, next(self._sequence), delivery))
        self._wake.notify()

    def _deliver(self, http: httpx.Client, delivery: dict[str, Any]) -> None:
        delivery["attempt"] += 1
        record: dict[str, Any] = {
            "action": delivery["envelope"]["action"],
            "parcel_id": delivery["envelope"]["parcel"]["id"],
            "status_id": delivery["envelope"]["parcel"]["status"]["id"],
            "payload": delivery["envelope"],
            "body": delivery["body"],
            "headers": delivery["headers"],
            "url": delivery["url"],
            "attempt": delivery["attempt"],
            "status_code": None,
            "error": None,
            "at": time.time(),
        }
        try:
            response = http.post(delivery["url"], content=delivery["body"], headers=delivery["headers"])
            record["status_code"] = response.status_code
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        delivered = record["status_code"] is not None and 200 <= record["status_code"] < 300
        with self.lock:
            if self._closing:
                return
            self.sent_webhooks.append(record)
            retries_done = delivery["attempt"] - 1
            if not delivered and retries_done < len(self.retry_delays):
                self._schedule(delivery, self.retry_delays[retries_done])
                return
            if not delivered:
                self.failed_webhooks.append(record)
                log.warning(
                    "Sendcloud stand-in: gave up on the webhook for parcel %s (status %s) after %d attempts: %s",
                    record["parcel_id"],
                    record["status_id"],
                    delivery["attempt"],
                    record["error"] or f"HTTP {record['status_code']}",
                )
            self._pending -= 1
            self._wake.notify_all()

    # -- emitting --------------------------------------------------------------------------------

    def webhook_headers(self, body: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(body, self.webhook_secret),
        }

    def envelope(self, record: dict[str, Any]) -> dict[str, Any]:
        """The ``parcel_status_changed`` body for the parcel as it is now."""
        return {
            "action": "parcel_status_changed",
            "timestamp": int(time.time() * 1000),
            "carrier_status_change_timestamp": record["carrier_ms"],
            "parcel": self.parcel_view(record),
        }

    def _emit(self, record: dict[str, Any]) -> None:
        """Announce a parcel's new status (caller holds the lock)."""
        envelope = self.envelope(record)
        self.events.append(envelope)
        if not self.webhook_url:
            return
        if self.drop_webhooks:
            self.dropped_webhooks.append(envelope)
            return
        body = json.dumps(envelope).encode("utf-8")
        delivery = {"envelope": envelope, "body": body, "headers": self.webhook_headers(body), "url": self.webhook_url}
        copies = [delivery, dict(delivery)] if self.duplicate_webhooks else [delivery]
        if self._batch is not None:
            self._batch.extend(copies)
        else:
            self._enqueue(copies)

    def _enqueue(self, deliveries: list[dict[str, Any]], *, scramble: bool | None = None) -> None:
        """Hand deliveries to the senders (or to the hold list); caller holds the lock."""
        if not deliveries:
            return
        if self._held is not None:
            self._held.extend(deliveries)
            return
        if self.scramble if scramble is None else scramble:
            deliveries = list(deliveries)
            self._rng.shuffle(deliveries)
        for delivery in deliveries:
            self._pending += 1
            self._schedule({**delivery, "attempt": 0})

    def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Deliver an envelope as given (a replay of an old one, or one a test composed):
        serialised, signed and retried like any other."""
        body = json.dumps(envelope).encode("utf-8")
        with self.lock:
            if self.webhook_url:
                delivery = {"envelope": envelope, "body": body, "headers": self.webhook_headers(body)}
                self._enqueue([{**delivery, "url": self.webhook_url}], scramble=False)

    class _Batch:
        """Collects what one API call or simulator step emits, so it is sent as one batch."""

        def __init__(self, sender: WebhookSender) -> None:
            self.sender = sender
            self.outer: list[dict[str, Any]] | None = None

        def __enter__(self) -> None:
            self.sender.lock.acquire()
            self.outer = self.sender._batch
            if self.outer is None:
                self.sender._batch = []

        def __exit__(self, *exc: object) -> None:
            s = self.sender
            try:
                if self.outer is None:
                    batch, s._batch = s._batch or [], None
                    s._enqueue(batch)
            finally:
                s.lock.release()

    def _batching(self) -> WebhookSender._Batch:
        return WebhookSender._Batch(self)

    # -- switches --------------------------------------------------------------------------------

    def flush_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait until every queued delivery was delivered or given up (retries included);
        False on timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0 or not self._sender_threads:
                    return False
                self._wake.wait(left)
        return True

    def hold_webhooks(self) -> None:
        """Collect deliveries instead of sending them, until ``release_webhooks``."""
        with self.lock:
            if self._held is None:
                self._held = []

    def release_webhooks(self, order: str = "shuffle") -> list[dict[str, Any]]:
        """Send the held deliveries as one batch, in ``"normal"``, ``"reverse"`` or
        ``"shuffle"`` order; returns their envelopes in the order they go out."""
        if order not in ("normal", "reverse", "shuffle"):
            raise ValueError("order must be normal, reverse or shuffle")
        with self.lock:
            held, self._held = self._held or [], None
            if order == "reverse":
                held.reverse()
            elif order == "shuffle":
                self._rng.shuffle(held)
            self._enqueue(held, scramble=False)
            return [d["envelope"] for d in held]
