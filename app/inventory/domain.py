"""The inventory domain's door: stock of printed products and its immutable
ledger, replenishment batches printed in quiet hours, orders served from the
shelf before anything is printed, and PC parts reserved for builds."""

from app.platform.domain import Domain, Periodic, Resource

DOMAIN = Domain(
    name="inventory",
    title="Inventory",
    models=("app.inventory.models",),
    handlers=("app.inventory.events", "app.inventory.service"),
    routers=("app.inventory.api:router", "app.inventory.spare_parts_api:router"),
    pages=("app.pages.inventory", "app.pages.inventory_parts", "app.pages.inventory_spare_parts"),
    demo="app.inventory.demo:load",
    periodic=(Periodic("jobs.inventory.replenish_if_due", every=60, queue="default"),),
    checks=("app.inventory.consistency:ledger",),
    home="app.inventory.home:tiles",
    activity="app.inventory.home:activity",
    resources=(Resource("inventory", "stock, replenishment and parts for builds"),),
    depends_on=("orders", "builds", "catalog", "printing"),
)
