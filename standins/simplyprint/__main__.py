"""``python -m standins.simplyprint --port 8301 --auto --printers 4 --webhook-url URL
--webhook-secret S``: the stand-in and its simulator on a fixed port (for ``make dev``)."""

from __future__ import annotations

import argparse
import signal
import threading

from standins.simplyprint.api import DEFAULT_API_KEY, DEFAULT_COMPANY_ID, SimplyPrintStandin


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m standins.simplyprint", description="Offline SimplyPrint API stand-in with a printer simulator"
    )
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
        args.company_id,
        args.api_key,
        host=args.host,
        port=args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        auto=args.auto,
        auto_interval=args.interval,
        speed=args.speed,
        printers=args.printers,
        printer_model=args.model,
        secret_header=args.secret_header,
        queue_webhooks=args.queue_webhooks,
        fail_rate=args.fail_rate,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    standin.start()
    try:
        print(
            f"SimplyPrint stand-in with {len(standin.printers)} printers"
            f" (simulator {f'on, every {args.interval:.2f}s' if args.auto else 'off'})",
            flush=True,
        )
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
