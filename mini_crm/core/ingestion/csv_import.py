"""CSV import: read the header, map columns to fields, validate and import in chunks.

The file is streamed row by row (never loaded whole); every chunk goes through the
same validation and upserts as the REST API.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from mini_crm.core.consent import Change
from mini_crm.core.ingestion.schemas import CustomerIn, OrderIn, validate_items
from mini_crm.core.ingestion.upsert import ingest_customers, ingest_orders

CHUNK = 1000
KINDS: dict[str, tuple[type, Callable[..., int]]] = {
    # Consent columns change consent as an import (audited with source "import").
    "customers": (CustomerIn, partial(ingest_customers, change=Change(source="import"))),
    "orders": (OrderIn, ingest_orders)}
TARGETS = {
    "customers": ["external_id", "name", "email", "phone", "city", "created_at",
                  "unsubscribed", "consent_sms", "consent_email", "consent_whatsapp"],
    "orders": ["external_id", "customer_external_id", "amount", "currency", "status",
               "ordered_at"],
}
ATTRIBUTE_KEY = re.compile(r"[^A-Za-z0-9_]+")


def read_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), [])
    if not header:
        raise ValueError("the file is empty or has no header row")
    return [h.strip() for h in header]


def guess_mapping(kind: str, header: list[str]) -> dict[str, str]:
    """Target field -> CSV column, matched by normalised name (e.g. 'Customer ID')."""
    def norm(s: str) -> str:
        return re.sub(r"[^a-z]", "", s.lower())

    aliases = {"externalid": ["id", "customerid", "orderid"], "customerexternalid":
               ["customerid", "customer"], "orderedat": ["date", "orderdate"],
               "createdat": ["signupdate", "joined"], "amount": ["total", "value"]}
    mapping = {}
    for target in TARGETS[kind]:
        wanted = [norm(target), *aliases.get(norm(target), [])]
        for column in header:
            if norm(column) in wanted and column not in mapping.values():
                mapping[target] = column
                break
    return mapping


def _attribute_key(column: str) -> str:
    key = ATTRIBUTE_KEY.sub("_", column.strip()).strip("_").lower() or "column"
    return key if key[0].isalpha() or key[0] == "_" else f"c_{key}"


def _item(row: dict[str, str], kind: str, mapping: dict[str, str],
          extra_as_attributes: bool) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for target, column in mapping.items():
        value = (row.get(column) or "").strip()
        if value:
            item[target] = value
    if kind == "customers" and extra_as_attributes:
        used = set(mapping.values())
        attrs = {_attribute_key(c): v.strip() for c, v in row.items()
                 if c and c not in used and v and v.strip()}
        if attrs:
            item["attributes"] = attrs
    return item


def chunks(path: Path, kind: str, mapping: dict[str, str], extra_as_attributes: bool = True
           ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """(row number of the chunk's first data row, items) — row 2 is the first after the header."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        reader.fieldnames = [h.strip() for h in reader.fieldnames or []]
        batch: list[dict[str, Any]] = []
        start = 2
        for row in reader:
            batch.append(_item(row, kind, mapping, extra_as_attributes))
            if len(batch) == CHUNK:
                yield start, batch
                start += len(batch)
                batch = []
        if batch:
            yield start, batch


@dataclass
class Report:
    rows: int = 0
    valid: int = 0
    imported: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0


def _check_mapping(kind: str, mapping: dict[str, str]) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    required = ["external_id"] + (["customer_external_id", "amount", "ordered_at"]
                                  if kind == "orders" else [])
    missing = [t for t in required if not mapping.get(t)]
    if missing:
        raise ValueError(f"map a column to: {', '.join(missing)}")


def process_iter(path: Path, kind: str, mapping: dict[str, str], *, write: bool,
                 extra_as_attributes: bool = True, max_errors: int = 50) -> Iterator[Report]:
    """Validate (and with write=True import) chunk by chunk, yielding the running report."""
    _check_mapping(kind, mapping)
    model, ingest = KINDS[kind]
    report = Report()
    for start, items in chunks(path, kind, mapping, extra_as_attributes):
        checked = validate_items(items, model)
        report.rows += len(items)
        report.valid += len(checked.items)
        report.error_count += len(checked.errors)
        for e in checked.errors:
            if len(report.errors) < max_errors:
                report.errors.append({**e, "row": start + e["index"]})
        if write and checked.items:
            report.imported += ingest(checked.items)
        yield report


def process(path: Path, kind: str, mapping: dict[str, str], *, write: bool,
            extra_as_attributes: bool = True, max_errors: int = 50,
            progress: Callable[[Report], None] | None = None) -> Report:
    report = Report()
    for report in process_iter(path, kind, mapping, write=write,
                               extra_as_attributes=extra_as_attributes, max_errors=max_errors):
        if progress:
            progress(report)
    return report


def count_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return max(0, sum(1 for _ in csv.reader(f)) - 1)
