"""The orders domain's door: Shopify, builder and manual orders, their
fulfillment steps, the Shopify connection and webhooks."""

from app.platform.domain import Domain, Resource

DOMAIN = Domain(
    name="orders",
    title="Orders",
    models=("app.orders.models",),
    handlers=("app.orders.events",),
    routers=("app.orders.api:webhooks", "app.orders.api:router"),
    pages=("app.pages.orders",),
    demo="app.orders.demo:load",
    home="app.orders.home:tiles",
    activity="app.orders.home:activity",
    resources=(Resource("orders", "orders and their fulfillment"),),
)
