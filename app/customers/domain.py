"""The customers domain's door: storefront customer accounts (not staff),
their orders and the page that follows their PC's build (the booklet's QR
code leads there)."""

from app.platform.domain import Domain

DOMAIN = Domain(
    name="customers",
    title="Customers",
    models=("app.customers.models",),
    routers=("app.customers.api:router",),
    pages=("app.pages.customer_build",),
    depends_on=("orders", "builds"),
)
