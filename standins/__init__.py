"""Offline stand-ins of third-party SaaS (Shopify, SimplyPrint, Sendcloud) that
follow the contracts in shared/contracts/: used by `make dev`, the demo, the
benches and the tests. App code never imports them; they may import app code
(app.orders.samples)."""
