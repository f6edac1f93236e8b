"""Every error code the API can answer is in docs/api.md's "Error codes" table, and the
table lists no code the API never answers.

The codes are read from the source, not from a hand-kept list, so a new
`ApiError(..., code="x")` without a row fails here: the status map (errors._CODES), every
`code=` argument and `code` parameter default (SignatureError's code is answered as is),
and every `error_body(...)` first argument, in mini_crm/api and the core modules whose
codes the API forwards.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mini_crm.api import errors

ROOT = Path(__file__).parents[2]
SOURCES = sorted((ROOT / "mini_crm" / "api").glob("*.py")) + [
    ROOT / "mini_crm" / "core" / "delivery" / "signing.py",  # deps.py answers exc.code
]


def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and re.fullmatch(r"[a-z_]+", n.value)}


def _callee(call: ast.Call) -> str:
    return getattr(call.func, "id", getattr(call.func, "attr", ""))


def codes_in_source() -> tuple[set[str], set[tuple[int, str]]]:
    """(every code, the (status, code) pairs fixed by constants at the call)."""
    codes = set(errors._CODES.values())
    pairs = {(status, code) for status, code in errors._CODES.items()}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "code":
                        codes |= _strings(kw.value)
                if _callee(node) == "error_body" and node.args:
                    codes |= _strings(node.args[0])
                code = next((kw.value for kw in node.keywords if kw.arg == "code"), None)
                if (_callee(node) == "ApiError" and node.args and code is not None
                        and isinstance(node.args[0], ast.Constant)
                        and isinstance(code, ast.Constant)):
                    pairs.add((node.args[0].value, code.value))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args.args + node.args.kwonlyargs
                defaults = ([None] * (len(node.args.args) - len(node.args.defaults))
                            + list(node.args.defaults) + list(node.args.kw_defaults))
                for arg, default in zip(args, defaults, strict=True):
                    if arg.arg == "code" and default is not None:
                        codes |= _strings(default)
    return codes, pairs


def documented() -> tuple[set[str], set[tuple[int, str]]]:
    """The codes in the first column of docs/api.md's Error-codes table, and the
    "status `code`" pairs written there."""
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("### Error codes", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert len(rows) > 10 and rows[0].startswith("| status, code |"), "table not found"
    first = [row.split("|")[1] for row in rows[2:]]
    codes = {c for cell in first for c in re.findall(r"`([a-z_]+)`", cell)}
    pairs = {(int(s), c) for cell in first for s, c in re.findall(r"(\d{3}) `([a-z_]+)`", cell)}
    return codes, pairs


def test_every_code_the_api_answers_is_documented_and_no_other() -> None:
    emitted, emitted_pairs = codes_in_source()
    listed, listed_pairs = documented()
    # Sanity: the scan sees codes from each kind of site.
    assert {"bad_request", "invalid_rules", "stale_timestamp", "bad_signature",
            "not_understood", "ab_test_closed", "error"} <= emitted
    assert emitted - listed == set(), "add these to docs/api.md's Error codes table"
    assert listed - emitted == set(), "docs/api.md lists codes the API never answers"
    assert emitted_pairs - listed_pairs == set(), "the table gives these another status"
