"""The PC builder's door: the public storefront where customers configure,
save, share and order builds."""

from app.platform.domain import Domain

DOMAIN = Domain(
    name="builder",
    title="PC builder",
    models=("app.builder.models",),
    routers=("app.builder.api:router",),
    pages=("app.pages.builder", "app.pages.account"),
    demo="app.builder.demo:load",
    depends_on=("catalog", "customers", "orders", "builds"),
)
