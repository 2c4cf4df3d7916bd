"""The shipping domain's door: the Sendcloud connection, one shipment per
order with its label and tracking, the packing bench, and what tracking
means for an order's fulfillment."""

from app.platform.domain import Domain, Periodic, Resource

DOMAIN = Domain(
    name="shipping",
    title="Shipping",
    models=("app.shipping.models",),
    handlers=("app.shipping.events",),
    routers=("app.shipping.api:webhooks", "app.shipping.api:router"),
    pages=("app.pages.shipping",),
    demo="app.shipping.demo:load",
    periodic=(Periodic("jobs.shipping.reconcile_if_due", every=60, queue="integrations"),),
    checks=("app.shipping.consistency:shipments",),
    home="app.shipping.home:tiles",
    activity="app.shipping.home:activity",
    resources=(Resource("shipping", "shipments, labels and tracking"),),
    depends_on=("orders", "builds", "printing"),
)
