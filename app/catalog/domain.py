"""The catalog domain's door: the global parts catalog and each shop's offers."""

from app.platform.domain import Domain, Resource

DOMAIN = Domain(
    name="catalog",
    title="Parts catalog",
    models=("app.catalog.models",),
    routers=("app.catalog.api:router",),
    pages=("app.pages.catalog",),
    demo="app.catalog.demo:load",
    resources=(Resource("catalog", "parts catalog and price lists", operate=False),),
)
