"""The print farm's door: product mappings, print jobs on SimplyPrint, its
webhooks and reconciliation, and what print-job events mean for orders."""

from app.platform.domain import Domain, Periodic, Resource

DOMAIN = Domain(
    name="printing",
    title="Print farm",
    models=("app.printing.models",),
    handlers=("app.printing.events", "app.printing.orchestration", "app.printing.service"),
    routers=("app.printing.api:webhooks", "app.printing.api:router"),
    pages=("app.pages.printfarm", "app.pages.print_products"),
    demo="app.printing.demo:load",
    periodic=(Periodic("jobs.printing.reconcile_if_due", every=60, queue="integrations"),),
    checks=("app.printing.consistency:print_orders",),
    home="app.printing.home:tiles",
    activity="app.printing.home:activity",
    resources=(Resource("printJobs", "print jobs and the print farm"),),
    depends_on=("orders",),
)
