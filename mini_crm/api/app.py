"""The FastAPI app that Reflex mounts itself inside (`api_transformer`).

Routers are listed in ROUTERS; each feature adds its own module there.
"""

from __future__ import annotations

import importlib

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from mini_crm.api.errors import install_api_fallback, install_error_handlers
from mini_crm.api.observability import ObservabilityMiddleware
from mini_crm.settings import get_settings

# "module:attribute" of every APIRouter; a feature adds its line here.
ROUTERS = [
    "mini_crm.api.health:router",
    "mini_crm.api.segments:router",
    "mini_crm.api.ingestion:router",
    "mini_crm.api.auth:router",
    "mini_crm.api.receipts:router",
    "mini_crm.api.ai:router",
    "mini_crm.api.ai:insights_router",
    "mini_crm.api.campaigns:router",
    "mini_crm.api.observability:router",
    "mini_crm.api.consent:router",
    "mini_crm.api.unsubscribe:router",
    "mini_crm.api.campaign_drafts:router",
    "mini_crm.api.imports:router",
]

API_DESCRIPTION = """
Mini CRM's REST API. Authenticate with `Authorization: Bearer <api key>`;
keys carry scopes (`ingest`, `campaigns`, `ai`, `read`). Every error answers
`{"error": {"code", "message", "details"}}`.
"""


def create_api() -> FastAPI:
    api = FastAPI(title="Mini CRM API", version="1.0.0", description=API_DESCRIPTION,
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    install_error_handlers(api)
    settings = get_settings()
    # Holds only the OIDC state/nonce/PKCE verifier between /auth/login and /auth/callback.
    api.add_middleware(SessionMiddleware, secret_key=settings.secret_key,
                       session_cookie="mc_oidc", max_age=600, same_site="lax",
                       https_only=settings.is_production)
    for ref in ROUTERS:
        module, attr = ref.split(":")
        api.include_router(getattr(importlib.import_module(module), attr))
    from mini_crm.core.delivery.vendors import simulator_in_use

    if simulator_in_use(settings):
        from mini_crm.vendor import create_app as create_vendor_app

        # The bundled vendor simulator; its memory is in Redis when several app
        # processes serve it (Reflex runs several backend workers with Redis).
        api.mount("/vendor", create_vendor_app(settings, shared_state=True))
    install_api_fallback(api)  # after every route: Reflex mounts itself after this
    # Outermost, so it times and tags everything, Reflex's own routes included.
    api.add_middleware(ObservabilityMiddleware)
    return api
