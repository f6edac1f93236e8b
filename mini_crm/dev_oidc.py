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


def _offline(response: Response) -> Response:
    if response.mimetype == "text/html" and not response.direct_passthrough:
        response.set_data(_CDN_LINK.sub(_STYLE, response.get_data()))
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
