"""The local development identity provider (oidc-provider-mock), served offline.

Its pages link a stylesheet from a CDN; nothing in Mini CRM may fetch from the
internet at run time, so HTML answers get that link swapped for a small inline
style before they leave.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import werkzeug.serving
from flask import Response
from oidc_provider_mock import app as provider_app

_CDN_LINK = re.compile(rb"<link[^>]+href=\"https?://[^\"]+\"[^>]*>", re.IGNORECASE)
_STYLE = (b"<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;"
          b"padding:0 1rem;color:#1c2024}input,button{font:inherit;padding:.5rem .75rem;"
          b"margin:.25rem 0;width:100%;box-sizing:border-box}button{background:#3e63dd;"
          b"color:#fff;border:0;border-radius:6px;cursor:pointer}</style>")


# The mock names its identity field by the OIDC claim ("sub"); Mini CRM uses the typed
# value as the email, so the person signing in sees it labelled "Email".
_SUBJECT_INPUT = re.compile(rb'<input(\s+)type="text"(\s+)name="sub"(\s+)placeholder="sub"')
_EMAIL_INPUT = (rb'<label for="sub">Email</label><input id="sub"\1type="email"\2name="sub"'
                rb'\3placeholder="you@example.com" autocomplete="email"')


def _offline(response: Response) -> Response:
    if response.mimetype == "text/html" and not response.direct_passthrough:
        html = _CDN_LINK.sub(_STYLE, response.get_data())
        response.set_data(_SUBJECT_INPUT.sub(_EMAIL_INPUT, html))
    return response


def make_app():  # noqa: ANN201 - a Flask app
    app = provider_app(require_nonce=True)
    app.after_request(_offline)
    return app


@contextmanager
def serve(port: int, host: str = "localhost") -> Iterator[werkzeug.serving.BaseWSGIServer]:
    server = werkzeug.serving.make_server(host, port, make_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True,
                              name="dev-oidc")
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
