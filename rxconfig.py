"""Reflex configuration. Values come from app/settings.py (the environment).

No database URL here: Shopfloor owns its SQLAlchemy engine (app/platform/db.py).
"""

import sys

import reflex as rx

from app.settings import get_settings

_s = get_settings()

config = rx.Config(
    app_name="app",
    # Reflex refuses a frontend port for `reflex run --backend-only` (e.g. a scaled-out backend).
    frontend_port=None if "--backend-only" in sys.argv else _s.frontend_port,
    backend_port=_s.backend_port,
    api_url=_s.api_url,
    deploy_url=_s.app_url,
    backend_host="127.0.0.1" if not _s.is_production else "0.0.0.0",
    cors_allowed_origins=_s.cors_origin_list,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    redis_url=_s.redis_url if _s.reflex_state_in_redis else None,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium", scaling="100%"),
        ),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
