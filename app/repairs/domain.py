"""The repairs domain's door: client batches received and triaged, beyond-
economic-repair reviews, diagnostic-log codes and their mappings, worksheets
with spare parts from inventory, dispatches, invoices with gapless numbers,
the owner dashboard and bulk uploads."""

from app.platform.domain import Domain, Periodic, Resource

DOMAIN = Domain(
    name="repairs",
    title="Repairs",
    models=("app.repairs.models",),
    handlers=("app.repairs.events",),
    routers=(
        "app.repairs.api_master:router",
        "app.repairs.api_receiving:router",
        "app.repairs.api_qc:router",
        "app.repairs.api_diagnostics:router",
        "app.repairs.api_worksheets:router",
        "app.repairs.api_billing:router",
        "app.repairs.api_reports:router",
        "app.repairs.api_imports:router",
    ),
    pages=(
        "app.pages.repairs_dashboard",
        "app.pages.repairs_master",
        "app.pages.repairs_receiving",
        "app.pages.repairs_qc",
        "app.pages.repairs_diagnostics",
        "app.pages.repairs_worksheets",
        "app.pages.repairs_billing",
        "app.pages.repairs_imports",
    ),
    demo="app.repairs.demo:load",
    periodic=(
        Periodic("jobs.repairs_reports.snapshot", every=3600, queue="default"),
        Periodic("jobs.repairs_logs.sweep", every=300, queue="default"),
        Periodic("jobs.repairs_invoices.sweep", every=300, queue="default"),
        Periodic("jobs.repairs_imports.sweep", every=300, queue="default"),
    ),
    checks=("app.repairs.consistency:repairs",),
    home="app.repairs.home:tiles",
    activity="app.repairs.home:activity",
    resources=(Resource("repairs", "repair intake and invoicing"),),
    depends_on=("inventory",),
)
