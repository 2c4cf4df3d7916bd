"""The Reflex app: our FastAPI routes first (api_transformer), Reflex inside,
the body-size limit around everything (including Reflex's /_upload).

Every page comes from the domain list: each domain's door names its page
modules, and each page registered itself where it is defined
(`components.layout.staff_page` / `public_page`)."""

import reflex as rx
from reflex import constants
from reflex.utils import prerequisites
from starlette.types import ASGIApp

from app import domains, routes
from app.api import create_api
from app.builder.web import shared_build_gone_middleware
from app.platform import logs
from app.platform.web import PageAddresses, upload_limit
from app.settings import get_settings

get_settings().check_production()
logs.setup()
domains.load()
domains.load_pages()


def page_addresses(asgi: ASGIApp) -> ASGIApp:
    """Pages at their own addresses in the production build (see PageAddresses)."""
    pages = prerequisites.get_web_dir() / constants.Dirs.STATIC / rx.config.get_config().frontend_path.strip("/")
    return PageAddresses(asgi, pages)


app = rx.App(
    api_transformer=[create_api(), shared_build_gone_middleware, upload_limit, page_addresses],
    head_components=[rx.el.meta(name="robots", content="noindex")],
)

for page in routes.PAGES:
    on_load = list(page.on_load) or None
    if page.meta:
        app.add_page(
            page.component, route=page.path, title=page.title, on_load=on_load, meta=[dict(m) for m in page.meta]
        )
    else:  # Reflex's default meta
        app.add_page(page.component, route=page.path, title=page.title, on_load=on_load)
