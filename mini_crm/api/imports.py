"""CSV imports over HTTP: upload a file, follow its progress, download its row errors.

The door onto core.ingestion.imports (the same use case as the Data page): the
multipart upload is spooled by Starlette and copied to the import directory in
chunks, never held in memory; the import runs as a background job.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mini_crm.api.deps import db_session, require_scope, require_user_or_scope
from mini_crm.api.errors import ERROR_SCHEMA, ApiError
from mini_crm.core.ingestion import csv_import, imports
from mini_crm.settings import get_settings

router = APIRouter(prefix="/api/v1/imports", tags=["imports"],
                   responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA})
ImportId = Path(description="The id POST /api/v1/imports answered with",
                pattern="^[0-9a-f]{32}$")
# Room for the multipart envelope and the other fields around the file itself.
ENVELOPE_BYTES = 64 * 1024

UPLOAD_DOC = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file", "kind"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "The CSV file. Encoding (UTF-8 with or without BOM, UTF-16 "
                                "with BOM, Windows-1252, ...) and delimiter (comma, "
                                "semicolon, tab, pipe) are detected."},
        "kind": {"type": "string", "enum": list(csv_import.TARGETS)},
        "mapping": {"type": "string", "description":
                    "Optional JSON object of column -> field, e.g. "
                    '{"Customer ID": "external_id", "Notes": null}. A column mapped to '
                    "null is skipped. Without it, columns are matched by name. For "
                    "customers, columns not mapped are kept as custom attributes."},
        "encoding": {"type": "string", "default": "auto", "description":
                     "auto (detect, the default) or the file's encoding when detection "
                     "gets it wrong: utf-8, utf-8-sig, utf-16, windows-1252, latin-1, "
                     "windows-1250, windows-1251, or any name Python knows (koi8-r, ...). "
                     "When auto-detection is unsure the answer's encoding_note says so."},
        "blank_cells": {"type": "string", "enum": ["keep", "clear"], "default": "keep",
                        "description": "What a blank cell does to a stored customer or "
                        "order: keep (leave the stored value) or clear (set it to null, as "
                        "the JSON API's null does). Required fields, created_at and consent "
                        "columns are never cleared by a blank."}}}}}}}


@router.post("", status_code=202, openapi_extra=UPLOAD_DOC,
             responses={202: {"content": {"application/json": {"example": {
                 "id": "5f0c...", "status": "queued",
                 "url": "/api/v1/imports/5f0c...", "encoding": "Windows-1251",
                 "encoding_note": None}}}},
                 411: ERROR_SCHEMA, 413: ERROR_SCHEMA, 415: ERROR_SCHEMA,
                 422: ERROR_SCHEMA},
             summary="Import a CSV file of customers or orders (runs in the background)")
async def post_import(request: Request,
                      _key: Any = Depends(require_scope("ingest"))) -> JSONResponse:
    """Answers 202 `{"id", "status", "url", "encoding", "encoding_note"}` once the file is
    stored and its header and mapping check out (`encoding_note`: null, or why the
    detected encoding is a guess and what to check); follow it at
    GET /api/v1/imports/{id}. Refused before anything is queued: no Content-Length
    (411), over IMPORT_MAX_BYTES (413), not multipart (415), and a missing file or
    kind, an unreadable file (not text, no header), an unknown encoding or blank_cells
    value, or a mapping without the required fields (422), each with a message naming
    the cause."""
    limit = get_settings().import_max_bytes
    declared = request.headers.get("content-length")
    if not declared or not declared.isdigit():
        raise ApiError(411, "send the upload with a Content-Length header")
    if int(declared) > limit + ENVELOPE_BYTES:
        raise ApiError(413, f"the upload is {int(declared):,} bytes; the limit is {limit:,} bytes")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "send multipart/form-data with fields file, kind and "
                       "optionally mapping")
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload, kind, fields, ignore = _fields(form)
        encoding, blank_cells = _options(form)
        import_id, _ = await run_in_threadpool(imports.save_upload, upload.file)
        status = await run_in_threadpool(
            imports.create_import, import_id, kind=kind,
            file_name=upload.filename or "upload.csv", fields=fields, ignore=ignore,
            encoding=encoding, blank_cells=blank_cells)
    except imports.ImportRefused as exc:
        raise ApiError(exc.status, str(exc)) from None
    finally:
        await form.close()
    url = f"/api/v1/imports/{import_id}"
    return JSONResponse({"id": import_id, "status": status["status"], "url": url,
                         "encoding": status["encoding"],
                         "encoding_note": status["encoding_note"]},
                        status_code=202, headers={"Location": url})


def _options(form: Any) -> tuple[str | None, str]:
    """(encoding or None for auto-detect, blank_cells) from the form; checked by
    create_import, which names what is wrong."""
    encoding = form.get("encoding")
    blank_cells = form.get("blank_cells")
    if encoding is not None and not isinstance(encoding, str):
        raise imports.ImportRefused("encoding must be text, e.g. windows-1251 or auto")
    if blank_cells is not None and not isinstance(blank_cells, str):
        raise imports.ImportRefused("blank_cells must be keep or clear")
    return encoding, (blank_cells or "keep").strip().lower()


def _fields(form: Any) -> tuple[UploadFile, str, dict[str, str] | None, list[str]]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise imports.ImportRefused("the form has no file: send the CSV as the 'file' field")
    kind = form.get("kind")
    if kind not in csv_import.TARGETS:
        raise imports.ImportRefused(f"kind must be one of {', '.join(csv_import.TARGETS)}, "
                                    f"got {kind!r}")
    raw = form.get("mapping")
    if raw in (None, ""):
        return upload, kind, None, []
    try:
        columns = json.loads(raw) if isinstance(raw, str) else None
    except ValueError as exc:
        raise imports.ImportRefused(f"mapping is not valid JSON: {exc}") from None
    fields, ignore = imports.mapping_from_columns(kind, columns)
    return upload, kind, fields, ignore


@router.get("/{import_id}", responses={404: ERROR_SCHEMA},
            summary="An import's status, progress, counts and first row errors")
def get_import(import_id: str = ImportId, _key: Any = Depends(require_scope("ingest")),
               session: Session = Depends(db_session)) -> dict[str, Any]:
    """`{"id", "status": "queued|running|completed|failed", "rows", "valid",
    "imported", "error_count", "errors": [{"row", "field", "message"}] (the first 100 by
    row; all stored ones at errors_url), "progress": {"bytes_read", "bytes_total",
    "percent"}, "message" (why it failed), "encoding", "delimiter", "mapping", ...}`.
    Rows are numbered as a spreadsheet shows them (the header is row 1)."""
    status = imports.import_status(session, import_id)
    if status is None:
        raise ApiError(404, f"no import with id {import_id!r}")
    return {**status, "errors_url": f"/api/v1/imports/{import_id}/errors.csv"}


@router.get("/{import_id}/errors.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}, 404: ERROR_SCHEMA},
            summary="An import's row errors as CSV (row, field, message)")
def get_import_errors(import_id: str = ImportId,
                      _who: Any = Depends(require_user_or_scope("ingest")),
                      session: Session = Depends(db_session)) -> StreamingResponse:
    """Every stored row error (up to IMPORT_MAX_STORED_ERRORS; error_count counts all).
    Signed-in browsers (session cookie) or API keys with the `ingest` scope."""
    if imports.import_status(session, import_id, errors_limit=0) is None:
        raise ApiError(404, f"no import with id {import_id!r}")
    return StreamingResponse(
        imports.iter_errors_csv(import_id), media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"'})
