"""The REST API under /api.

Importing the package first makes Starlette's `{name:path}` parameter match a
percent-encoded line break (%0A) too. Its stock pattern is `.*`, and `.` stops at a
newline, so `/api/v1/customers/a%0Ab` matched no route at any layer, not even the
top-level mount Reflex builds around this app: it got Starlette's plain-text "Not Found"
without X-Request-ID instead of the API's JSON 404. Registered here, before any route is
built (routers are built when their modules are imported, Reflex's mounts when the app
is served), so every path pattern compiles with it.
"""

from starlette.convertors import PathConvertor, register_url_convertor


class _AnyPathConvertor(PathConvertor):
    """Starlette's path convertor, line breaks included."""

    regex = r"[\s\S]*"


register_url_convertor("path", _AnyPathConvertor())
