"""Generate docs/postman_collection.json from the app's OpenAPI spec.

    .venv/bin/python scripts/postman.py

Each operation becomes a request with its example body; `{{baseUrl}}` and
`{{apiKey}}` are collection variables.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mini_crm.api.app import create_api  # noqa: E402


def _example(op: dict[str, Any]) -> str | None:
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "examples" in content:
        first = next(iter(content["examples"].values()))
        return json.dumps(first.get("value"), indent=2)
    schema = content.get("schema", {})
    examples = schema.get("examples") or []
    if examples:
        return json.dumps(examples[0], indent=2)
    return None


def _form(op: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A multipart body (e.g. POST /api/v1/imports) as Postman form fields."""
    content = op.get("requestBody", {}).get("content", {}).get("multipart/form-data")
    if not content:
        return None
    fields = []
    for name, prop in content.get("schema", {}).get("properties", {}).items():
        if prop.get("format") == "binary":
            fields.append({"key": name, "type": "file", "src": "",
                           "description": prop.get("description", "")})
        else:
            fields.append({"key": name, "type": "text",
                           "value": (prop.get("enum") or [""])[0],
                           "description": prop.get("description", "")})
    return fields


def collection(spec: dict[str, Any]) -> dict[str, Any]:
    folders: dict[str, list[dict[str, Any]]] = {}
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            url_path = path.replace("{", ":").replace("}", "")
            request: dict[str, Any] = {
                "method": method.upper(),
                "header": [{"key": "Authorization", "value": "Bearer {{apiKey}}"}],
                "url": {"raw": "{{baseUrl}}" + url_path, "host": ["{{baseUrl}}"],
                        "path": [p for p in url_path.split("/") if p]},
                "description": op.get("description") or op.get("summary", ""),
            }
            body = _example(op)
            form = _form(op)
            if body:
                request["header"].append({"key": "Content-Type", "value": "application/json"})
                request["body"] = {"mode": "raw", "raw": body}
            elif form:
                request["body"] = {"mode": "formdata", "formdata": form}
            tag = (op.get("tags") or ["other"])[0]
            folders.setdefault(tag, []).append({"name": op.get("summary", path),
                                                "request": request})
    return {
        "info": {"name": spec["info"]["title"], "description": spec["info"]["description"],
                 "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "variable": [{"key": "baseUrl", "value": "http://localhost:3000"},
                     {"key": "apiKey", "value": ""}],
        "item": [{"name": tag, "item": items} for tag, items in sorted(folders.items())],
    }


def main() -> None:
    out = ROOT / "docs" / "postman_collection.json"
    out.write_text(json.dumps(collection(create_api().openapi()), indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
