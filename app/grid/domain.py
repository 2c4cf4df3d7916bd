"""The grid domain's door (seed 003: GridFlock): Gridfinity baseplates for
a drawer, generated in Python, split to the printer bed, sliced, uploaded
and mapped so an order line prints with no human step; presets, pricing,
the staff generator and the storefront page; hourly cleanup of generated
jobs nobody used."""

from app.platform.domain import Domain, Periodic, Resource

DOMAIN = Domain(
    name="grid",
    title="Gridfinity",
    models=("app.grid.models",),
    handlers=("app.grid.events", "app.grid.service"),
    routers=("app.grid.api:router", "app.grid.preview_api:router"),
    pages=("app.pages.grid", "app.pages.grid_store"),
    demo="app.grid.demo:load",
    periodic=(Periodic("jobs.grid.expire", every=3600, queue="default"),),
    home="app.grid.home:tiles",
    resources=(Resource("grid", "Gridfinity grid generation"),),
    depends_on=("orders", "customers", "builder", "printing"),
)
