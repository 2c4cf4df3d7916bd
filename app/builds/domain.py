"""The builds domain's door: one build per order on the workbench, photos,
QA, test runs, the timeline; it supplies the orders domain's fulfillment gate
and stops a cancelled order's build."""

from app.platform.domain import Domain, Resource

DOMAIN = Domain(
    name="builds",
    title="Builds",
    models=("app.builds.models",),
    # the service registers the fulfillment gate and the cancel hook with orders
    handlers=("app.builds.service", "app.builds.events"),
    routers=("app.builds.api:router",),
    pages=("app.pages.builds", "app.pages.floor"),
    demo="app.builds.demo:load",
    checks=("app.builds.consistency:builds",),
    home="app.builds.home:tiles",
    activity="app.builds.home:activity",
    resources=(Resource("builds", "PC builds on the workbench"),),
    depends_on=("orders",),
)
