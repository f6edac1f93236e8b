"""The FastAPI app that Reflex mounts itself inside (`api_transformer`).

Routers are listed in ROUTERS with plain imports (readers and tools can follow them);
a feature adds its module's router there.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from mini_crm.api import (
    ai,
    auth,
    campaign_drafts,
    campaigns,
    consent,
    health,
    imports,
    ingestion,
    observability,
    receipts,
    segments,
    unsubscribe,
)
from mini_crm.api.acting import ActingAsMiddleware
from mini_crm.api.errors import install_api_fallback, install_error_handlers
from mini_crm.api.head import HeadAsGetMiddleware
from mini_crm.api.observability import ObservabilityMiddleware
from mini_crm.core.delivery.vendors import simulator_in_use
from mini_crm.settings import get_settings
from mini_crm.simulator import create_app as create_vendor_app

ROUTERS = [
    health.router, segments.router, ingestion.router, auth.router, receipts.router,
    ai.router, ai.insights_router, campaigns.router, observability.router, consent.router,
    unsubscribe.router, campaign_drafts.router, imports.router,
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
    for router in ROUTERS:
        api.include_router(router)
    if simulator_in_use(settings):
        # The bundled vendor simulator; its memory is in Redis when several app
        # processes serve it (Reflex runs several backend workers with Redis).
        api.mount("/vendor", create_vendor_app(settings, shared_state=True))
    install_api_fallback(api)  # after every route: Reflex mounts itself after this
    api.add_middleware(HeadAsGetMiddleware, routes_app=api)  # HEAD wherever GET answers
    api.add_middleware(ActingAsMiddleware)  # audit entries name the API key that acted
    # Outermost, so it times and tags everything, Reflex's own routes included.
    api.add_middleware(ObservabilityMiddleware)
    return api
