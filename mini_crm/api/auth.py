"""Sign-in routes: the OIDC authorization-code flow (state, nonce, PKCE) via Authlib.

/auth/login sends the browser to the provider; /auth/callback checks state and
the ID token's nonce, admits or refuses the person, rotates a server-side session
and sets it in an HttpOnly cookie; POST /auth/logout revokes it. All three are
full-page navigations, so the app's websocket reconnects with the new cookie.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from html import escape

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mini_crm.core.auth import audit, sessions, users
from mini_crm.db import session_scope
from mini_crm.settings import get_settings

router = APIRouter(prefix="/auth", tags=["auth"])

# Authlib talks to the provider through httpx2 where installed, else httpx.
try:
    import httpx2

    PROVIDER_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError)
except ImportError:  # pragma: no cover - depends on the installed Authlib
    PROVIDER_ERRORS = (httpx.HTTPError,)


@lru_cache
def _oauth(issuer: str, client_id: str, client_secret: str) -> OAuth:
    oauth = OAuth()
    oauth.register(
        "provider", client_id=client_id, client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )
    return oauth


def _client():  # noqa: ANN202 - Authlib's client type is dynamic
    return _oauth(*get_settings().oidc_settings).provider


def _refusal(message: str, status: int) -> HTMLResponse:
    body = (f"<!doctype html><title>Sign-in refused</title><main style='font-family:system-ui;"
            f"max-width:32rem;margin:4rem auto'><h1>Sign-in refused</h1><p>{escape(message)}"
            "</p><p><a href='/login'>Back to sign-in</a></p></main>")
    return HTMLResponse(body, status_code=status)


def _unreachable() -> HTMLResponse:
    issuer = get_settings().oidc_settings[0]
    return _refusal(f"The identity provider at {issuer} does not answer. Please try again in "
                    "a moment; if it persists, check the OIDC settings.", 503)


@router.get("/login", summary="Start sign-in (redirects to the identity provider)")
async def login(request: Request, next: str | None = None) -> Response:  # noqa: A002
    request.session["next"] = sessions.safe_next(next)
    callback = str(request.url_for("auth_callback"))
    try:
        return await _client().authorize_redirect(request, callback)
    except PROVIDER_ERRORS:  # discovery failed: say so instead of a bare 500
        return _unreachable()


@router.get("/callback", name="auth_callback", summary="Identity provider callback")
async def callback(request: Request) -> Response:
    try:
        token = await _client().authorize_access_token(request)
    except OAuthError as exc:  # bad or replayed state, nonce mismatch, provider error
        return _refusal(f"The sign-in response was not valid ({exc.error}). Please try again.",
                        400)
    except PROVIDER_ERRORS:
        return _unreachable()
    claims = token.get("userinfo") or {}
    settings = get_settings()

    def admit() -> str:
        with session_scope() as db:
            user = users.sign_in(db, email=claims.get("email"), subject=str(claims.get("sub")),
                                 name=claims.get("name"), picture=claims.get("picture"),
                                 domains_setting=settings.allowed_email_domains)
            cookie = sessions.create(
                db, user, absolute=_hours(settings.session_absolute_hours),
                user_agent=request.headers.get("user-agent"),
                ip=request.client.host if request.client else None)
            audit.record(db, "signin", actor_user_id=user.id, actor_label=user.email)
            return cookie

    try:
        cookie = await run_in_threadpool(admit)
    except users.AccessDenied as exc:
        await run_in_threadpool(_record_refusal, claims.get("email"), str(exc))
        return _refusal(str(exc), 403)
    old = request.cookies.get(sessions.COOKIE_NAME)
    if old:  # rotation: the previous session ends with the new sign-in
        await run_in_threadpool(_revoke, old)
    target = sessions.safe_next(request.session.pop("next", "/"))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(sessions.COOKIE_NAME, cookie, httponly=True, samesite="lax",
                        secure=settings.is_production,
                        max_age=settings.session_absolute_hours * 3600, path="/")
    return response


@router.post("/logout", summary="Sign out (revokes the session)")
async def logout(request: Request) -> Response:
    token = request.cookies.get(sessions.COOKIE_NAME)
    await run_in_threadpool(_revoke, token, True)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE_NAME, path="/")
    return response


def _hours(n: int):  # noqa: ANN202
    return timedelta(hours=n)


def _revoke(token: str | None, audited: bool = False) -> None:
    settings = get_settings()
    with session_scope() as db:
        user = sessions.lookup(db, token, idle=_hours(settings.session_absolute_hours))
        if sessions.revoke(db, token) and audited and user is not None:
            audit.record(db, "signout", actor_user_id=user.id, actor_label=user.email)


def _record_refusal(email: str | None, reason: str) -> None:
    with session_scope() as db:
        audit.record(db, "signin_refused", actor_label=email, details={"reason": reason})
