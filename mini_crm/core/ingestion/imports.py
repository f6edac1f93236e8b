"""CSV imports as jobs: one use case behind POST /api/v1/imports and the Data page.

A door saves the upload under settings.import_path (`save_upload`, streamed in
chunks), then `create_import` reads its header (encoding and delimiter detected),
settles the column mapping, records an `import_job` row (status "queued") and
enqueues `import_runner.run_import`, which RQ or the in-process executor runs.
`import_status` and `error_rows` are the read model both doors show.

A refusal that the user can fix (not CSV, no header, a missing required column, too
big) is an `ImportRefused` with the message to show; nothing is queued then.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlmodel import Session

from mini_crm.core import brand_time, jobs
from mini_crm.core.ingestion import csv_import
from mini_crm.core.ingestion.csv_reader import DELIMITERS, ENCODING_LABELS
from mini_crm.core.ingestion.import_runner import run_import
from mini_crm.db import session_scope
from mini_crm.models import ImportJob, ImportRowError, ImportStatus
from mini_crm.settings import get_settings

COPY_CHUNK = 1 << 20
_ID = re.compile(r"^[0-9a-f]{32}$")
ERRORS = ImportRowError.__table__


class ImportRefused(ValueError):
    """The upload cannot be imported as given; `str()` is the message for the user."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status a door answers with


def new_import_id() -> str:
    return uuid.uuid4().hex


def upload_path(import_id: str) -> Path:
    """Where an import's uploaded file lives. Raises ValueError for a malformed id."""
    if not _ID.match(import_id):
        raise ValueError("an import id is 32 hexadecimal characters")
    return get_settings().import_path / f"{import_id}.csv"


def save_upload(source: BinaryIO, import_id: str | None = None) -> tuple[str, Path]:
    """Copy a binary stream to the import directory, COPY_CHUNK bytes at a time.

    Returns (import id, path). Raises ImportRefused (413) past settings.import_max_bytes,
    leaving no partial file behind.
    """
    import_id = import_id or new_import_id()
    path = upload_path(import_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    limit = get_settings().import_max_bytes
    written = 0
    try:
        with path.open("wb") as out:
            while chunk := source.read(COPY_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise ImportRefused(f"the file is larger than the limit of {limit:,} bytes",
                                        status=413)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return import_id, path


def mapping_from_columns(kind: str, columns: Any) -> tuple[dict[str, str], list[str]]:
    """The API's mapping, `{column: field or null}`, as (field -> column, ignored columns).

    A column mapped to null (or "") is skipped: for customers it is then not kept as a
    custom attribute either. Raises ImportRefused for a malformed mapping.
    """
    if not isinstance(columns, dict) or not all(isinstance(k, str) for k in columns):
        raise ImportRefused('mapping must be a JSON object of column -> field, e.g. '
                            '{"Customer ID": "external_id", "Notes": null}')
    fields: dict[str, str] = {}
    ignore: list[str] = []
    for column, target in columns.items():
        if target in (None, ""):
            ignore.append(column)
        elif not isinstance(target, str):
            raise ImportRefused(f"mapping[{column!r}] must be a field name or null")
        elif target in fields:
            raise ImportRefused(f"columns {fields[target]!r} and {column!r} are both mapped "
                                f"to {target!r}; map one column to each field")
        else:
            fields[target] = column
    if kind in csv_import.TARGETS:
        unknown = sorted(set(fields) - set(csv_import.TARGETS[kind]))
        if unknown:
            raise ImportRefused(f"unknown field(s) for {kind}: {', '.join(unknown)}; map "
                                f"columns to {', '.join(csv_import.TARGETS[kind])} (or null)")
    return fields, ignore


def create_import(import_id: str, *, kind: str, file_name: str,
                  fields: dict[str, str] | None = None, ignore: list[str] | None = None,
                  source: str = "api", created_by: int | None = None,
                  enqueue: bool = True, encoding: str | None = None,
                  blank_cells: str = "keep") -> dict[str, Any]:
    """Record and queue the import of the file saved for `import_id`.

    `fields` maps target field -> column (guessed from the header when None).
    `encoding`: None (or "", "auto") detects it, else a name such as "windows-1251".
    `blank_cells`: "keep" (a blank cell leaves the stored value) or "clear" (it clears
    it, as the API's null does; see csv_import.BLANK_CELLS). Returns import_status().
    Raises ImportRefused (the file is then deleted) when the file is not readable CSV,
    the encoding name is unknown, blank_cells is neither value, or the mapping lacks a
    required field or names a missing column.
    """
    path = upload_path(import_id)
    if encoding is not None and encoding.strip().lower() in ("", "auto"):
        encoding = None
    try:
        if blank_cells not in csv_import.BLANK_CELLS:
            raise ValueError(f"blank_cells must be {' or '.join(csv_import.BLANK_CELLS)}, "
                             f"not {blank_cells!r}")
        csv_file = csv_import.open_csv(path, encoding=encoding)
        fields = fields if fields is not None else \
            csv_import.guess_mapping(kind, csv_file.header)
        csv_import.check_mapping(kind, fields, csv_file.header)
        absent = sorted(set(ignore or []) - set(csv_file.header))
        if absent:
            raise ValueError(f"the file has no column named {', '.join(map(repr, absent))}")
    except ValueError as exc:
        path.unlink(missing_ok=True)
        raise ImportRefused(str(exc)) from None
    job = ImportJob(id=import_id, kind=kind, file_name=(file_name or "upload.csv")[:255],
                    path=str(path), encoding=csv_file.dialect.encoding,
                    delimiter=csv_file.dialect.delimiter,
                    mapping={"fields": fields, "ignore": list(ignore or []),
                             "blank_cells": blank_cells,
                             "encoding_chosen": encoding is not None,
                             "encoding_note": csv_file.dialect.note},
                    bytes_total=path.stat().st_size, source=source, created_by=created_by)
    with session_scope() as session:
        session.add(job)
    if enqueue:
        jobs.enqueue(run_import, import_id)
    with session_scope() as session:
        return import_status(session, import_id)  # type: ignore[return-value]


def import_status(session: Session, import_id: str, errors_limit: int = 100
                  ) -> dict[str, Any] | None:
    """The import's public view (None when unknown):

    `{"id", "kind", "status", "file_name", "encoding", "encoding_source" ("detected" |
    "chosen"), "encoding_note" (set when detection was unsure: what to check),
    "delimiter", "blank_cells", "mapping" (column -> field), "rows", "valid",
    "imported", "error_count", "errors": [{"row", "field", "message"}] (the first
    `errors_limit`, by row), "errors_stored", "progress":
    {"bytes_read", "bytes_total", "percent"}, "message", "created_at", "started_at",
    "finished_at"}` — timestamps ISO 8601 in UTC.
    """
    if not _ID.match(import_id):
        return None
    job = session.get(ImportJob, import_id)
    if job is None:
        return None
    errors = session.execute(
        sa.select(ERRORS.c.row_no, ERRORS.c.field, ERRORS.c.message)
        .where(ERRORS.c.import_id == import_id)
        .order_by(ERRORS.c.row_no, ERRORS.c.id).limit(errors_limit)).all()
    stored = session.execute(sa.select(sa.func.count()).select_from(ERRORS)
                             .where(ERRORS.c.import_id == import_id)).scalar_one()
    done = job.status == ImportStatus.COMPLETED
    read = job.bytes_total if done else min(job.bytes_read, job.bytes_total)
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "file_name": job.file_name,
        "encoding": ENCODING_LABELS.get(job.encoding, job.encoding),
        "encoding_source": "chosen" if job.mapping.get("encoding_chosen") else "detected",
        "encoding_note": job.mapping.get("encoding_note"),
        "delimiter": DELIMITERS.get(job.delimiter, job.delimiter),
        "blank_cells": job.mapping.get("blank_cells", "keep"),
        "mapping": {**{c: t for t, c in job.mapping.get("fields", {}).items()},
                    **{c: None for c in job.mapping.get("ignore", [])}},
        "rows": job.row_count, "valid": job.valid, "imported": job.imported,
        "error_count": job.error_count,
        "errors": [{"row": r, "field": f, "message": m} for r, f, m in errors],
        "errors_stored": stored,
        "progress": {"bytes_read": read, "bytes_total": job.bytes_total,
                     "percent": round(100 * read / job.bytes_total, 1)
                     if job.bytes_total else 100.0},
        "message": job.message,
        "created_at": _iso(job.created_at), "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }


def _iso(value: Any) -> str | None:
    return brand_time.utc_text(value)


def error_rows(import_id: str, page: int = 1000) -> Iterator[tuple[int, str | None, str]]:
    """Every stored row error (row, field, message) by row, read a page at a time."""
    after: tuple[int, int] = (0, 0)
    while True:
        with session_scope() as session:
            rows = session.execute(
                sa.select(ERRORS.c.row_no, ERRORS.c.id, ERRORS.c.field, ERRORS.c.message)
                .where(ERRORS.c.import_id == import_id,
                       sa.tuple_(ERRORS.c.row_no, ERRORS.c.id) > sa.tuple_(*after))
                .order_by(ERRORS.c.row_no, ERRORS.c.id).limit(page)).all()
        for row_no, _, field, message in rows:
            yield row_no, field, message
        if len(rows) < page:
            return
        after = (rows[-1][0], rows[-1][1])


def iter_errors_csv(import_id: str) -> Iterator[str]:
    """The stored row errors as CSV text (header row, field, message), a page per chunk.

    Cells that a spreadsheet would run as a formula get a leading apostrophe.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "field", "message"])
    for count, (row_no, field, message) in enumerate(error_rows(import_id), start=1):
        writer.writerow([row_no, _cell(field), _cell(message)])
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value: str | None) -> str:
    if value and value[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value or ""
