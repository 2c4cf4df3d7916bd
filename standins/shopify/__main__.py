"""``python -m standins.shopify --port 8300 --orders 40``: the stand-in on a fixed port."""

from __future__ import annotations

import argparse

import uvicorn

from app.orders.samples import DEFAULT_TOKEN
from standins.shopify.api import seeded_standin


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m standins.shopify", description="Offline Shopify Admin API stand-in"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--orders", type=int, default=40, help="orders spread over the last 30 days")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)

    standin = seeded_standin(args.orders, access_token=args.token)
    base = f"http://{args.host}:{args.port}"
    fulfilled = sum(o.get("fulfillment_status") == "fulfilled" for o in standin.orders)
    partly = sum(o.get("fulfillment_status") == "partial" for o in standin.orders)
    print(
        f"Shopify stand-in with {len(standin.orders)} orders ({fulfilled} fulfilled, {partly} partly fulfilled)",
        flush=True,
    )
    print(f"  URL:          {base}", flush=True)
    print(f"  GraphQL:      {base}/admin/api/{standin.api_version}/graphql.json", flush=True)
    print(f"  Access token: {standin.access_token}", flush=True)
    uvicorn.run(standin.app, host=args.host, port=args.port, log_level="info", lifespan="off")


if __name__ == "__main__":
    main()
