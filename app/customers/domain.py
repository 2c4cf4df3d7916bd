"""The customers domain's door: storefront customer accounts (not staff)."""

from app.platform.domain import Domain

DOMAIN = Domain(
    name="customers",
    title="Customers",
    models=("app.customers.models",),
)
