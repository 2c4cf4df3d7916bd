"""The builds domain's door: one build per order on the workbench, photos,
QA, test runs; it supplies the orders domain's packaging gate."""

from app.platform.domain import Domain, Resource

DOMAIN = Domain(
    name="builds",
    title="Builds",
    models=("app.builds.models",),
    handlers=("app.builds.service",),  # registers the packaging gate with orders
    routers=("app.builds.api:router",),
    pages=("app.pages.builds", "app.pages.floor"),
    demo="app.builds.demo:load",
    resources=(Resource("builds", "PC builds on the workbench"),),
    depends_on=("orders",),
)
