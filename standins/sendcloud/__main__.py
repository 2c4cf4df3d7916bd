"""``python -m standins.sendcloud --port 8302 --webhook-url URL [--auto] [--interval S]
[--public-key K --secret-key S]``: the stand-in on a fixed port (for ``make dev``)."""

from __future__ import annotations

import argparse
import signal
import threading

from standins.sendcloud.api import DEFAULT_PUBLIC_KEY, DEFAULT_SECRET_KEY, SendcloudStandin


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m standins.sendcloud", description="Offline Sendcloud API stand-in with a parcel simulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8302)
    parser.add_argument("--public-key", default=DEFAULT_PUBLIC_KEY)
    parser.add_argument("--secret-key", default=DEFAULT_SECRET_KEY)
    parser.add_argument("--webhook-url", default=None, help="where parcel_status_changed webhooks go")
    parser.add_argument("--webhook-secret", default=None, help="signs the webhooks (default: the secret key)")
    parser.add_argument("--auto", action="store_true", help="move every parcel one status step every --interval s")
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument(
        "--pickup-share", type=float, default=1.0, help="with --auto: the share of parcels the driver collects (0..1)"
    )
    parser.add_argument(
        "--pickup-after",
        type=float,
        default=0.0,
        help="with --auto: the driver collects a parcel this many s after its label",
    )
    parser.add_argument("--cancel-queued", action="store_true", help="answer cancels with 202 queued")
    parser.add_argument(
        "--retry-delays", default="0.5,1,2", help="seconds between webhook retries, comma-separated (default 0.5,1,2)"
    )
    args = parser.parse_args(argv)
    try:
        retry_delays = tuple(float(d) for d in args.retry_delays.split(",") if d.strip())
    except ValueError:
        parser.error("--retry-delays takes numbers separated by commas, e.g. 0.5,1,2")

    standin = SendcloudStandin(
        args.public_key,
        args.secret_key,
        host=args.host,
        port=args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        auto=args.auto,
        auto_interval=args.interval,
        pickup_after=args.pickup_after,
        pickup_share=args.pickup_share,
        cancel_queued=args.cancel_queued,
        retry_delays=retry_delays,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    standin.start()
    try:
        print(f"Sendcloud stand-in (simulator {f'on, every {args.interval:.2f}s' if args.auto else 'off'})", flush=True)
        print(f"  API base:       {standin.base_url}", flush=True)
        print(f"  Service points: {standin.servicepoints_url}", flush=True)
        print(f"  Public key:     {standin.public_key}", flush=True)
        print(f"  Secret key:     {standin.secret_key}", flush=True)
        print(f"  Webhooks:       {args.webhook_url or '(none)'}", flush=True)
        print(f"  Webhook secret: {standin.webhook_secret}", flush=True)
        print(f"  Admin:          {standin.base_url}/_standin/settings", flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        standin.stop()
        print("Sendcloud stand-in stopped", flush=True)


if __name__ == "__main__":
    main()
