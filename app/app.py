"""The Reflex app: our FastAPI routes first (api_transformer), Reflex inside,
the body-size limit around everything (including Reflex's /_upload)."""

import reflex as rx

import app.handlers  # noqa: F401  handlers registered in this process too
from app.pages.account import account_builds_page, customer_login_page, customer_signup_page
from app.pages.admin import api_keys_page, audit_page, queues_page, users_page
from app.pages.builder import builder_page, shared_build_page
from app.pages.builds import build_page, builds_page
from app.pages.catalog import catalog_page
from app.pages.floor import floor_page
from app.pages.home import home_page
from app.pages.login import login_page
from app.pages.orders import order_page, orders_page
from app.pages.print_products import print_product_page, print_products_page
from app.pages.printfarm import printfarm_page
from app.pages.settings import integrations_page
from app.builder.web import shared_build_gone_middleware
from app.platform.web import create_api, upload_limit
from app.routes import route_for
from app.settings import get_settings
from state.admin import ApiKeysState, AuditState, QueuesState, UsersState
from state.account import AccountBuildsState, CustomerAuthState
from state.auth import LoginState
from state.base import AppState
from state.builder import BuilderState, SharedBuildState
from state.builds import BuildsState, BuildState
from state.catalog import CatalogState
from state.floor import FloorState
from state.home import HomeState
from state.orders import OrderDetailState, OrdersState
from state.print_products import PrintProductState, PrintProductsState
from state.printfarm import PrintFarmState
from state.settings import IntegrationsState
from state.simplyprint_settings import SimplyPrintSettingsState

get_settings().check_production()

app = rx.App(
    api_transformer=[create_api(), shared_build_gone_middleware, upload_limit],
    head_components=[rx.el.meta(name="robots", content="noindex")],
)


def _title(path: str) -> str:
    r = route_for(path)
    return f"{r.title} · Shopfloor" if r else "Shopfloor"


app.add_page(login_page, route="/login", title="Sign in · Shopfloor", on_load=LoginState.on_open)
app.add_page(home_page, route="/", title=_title("/"), on_load=[AppState.guard_page, HomeState.load])
app.add_page(users_page, route="/admin/users", title=_title("/admin/users"),
             on_load=[AppState.guard_page, UsersState.load])
app.add_page(api_keys_page, route="/admin/api-keys", title=_title("/admin/api-keys"),
             on_load=[AppState.guard_page, ApiKeysState.load])
app.add_page(audit_page, route="/admin/audit", title=_title("/admin/audit"),
             on_load=[AppState.guard_page, AuditState.load])
app.add_page(queues_page, route="/admin/queues", title=_title("/admin/queues"),
             on_load=[AppState.guard_page, QueuesState.load])
app.add_page(orders_page, route="/orders", title=_title("/orders"), on_load=[AppState.guard_page, OrdersState.load])
app.add_page(order_page, route="/orders/[id]", title="Order · Shopfloor",
             on_load=[AppState.guard_page, OrderDetailState.load])
app.add_page(integrations_page, route="/settings/integrations", title=_title("/settings/integrations"),
             on_load=[AppState.guard_page, IntegrationsState.load, SimplyPrintSettingsState.load])
app.add_page(builds_page, route="/builds", title=_title("/builds"), on_load=[AppState.guard_page, BuildsState.load])
app.add_page(build_page, route="/builds/[id]", title="Workbench · Shopfloor",
             on_load=[AppState.guard_page, BuildState.load])
app.add_page(catalog_page, route="/catalog", title=_title("/catalog"),
             on_load=[AppState.guard_page, CatalogState.load])
app.add_page(printfarm_page, route="/printfarm", title=_title("/printfarm"),
             on_load=[AppState.guard_page, PrintFarmState.load])
app.add_page(print_products_page, route="/printing/products", title=_title("/printing/products"),
             on_load=[AppState.guard_page, PrintProductsState.load])
app.add_page(print_product_page, route="/printing/products/[id]", title="Printed product · Shopfloor",
             on_load=[AppState.guard_page, PrintProductState.load])
app.add_page(floor_page, route="/floor/builds/[id]/photos", title="Build photos · Shopfloor",
             on_load=[AppState.guard_page, FloorState.load],
             meta=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}])

# --- the public storefront (customers, not staff) ---------------------------------------------
_PHONE = [{"name": "viewport", "content": "width=device-width, initial-scale=1"}]
app.add_page(builder_page, route="/build", title="Build your PC", on_load=BuilderState.load, meta=_PHONE)
app.add_page(shared_build_page, route="/b/[slug]", title="Shared build", on_load=SharedBuildState.load, meta=_PHONE)
app.add_page(customer_login_page, route="/account/login", title="Sign in", on_load=CustomerAuthState.on_open,
             meta=_PHONE)
app.add_page(customer_signup_page, route="/account/signup", title="Create an account",
             on_load=CustomerAuthState.on_open, meta=_PHONE)
app.add_page(account_builds_page, route="/account/builds", title="My builds", on_load=AccountBuildsState.load,
             meta=_PHONE)
