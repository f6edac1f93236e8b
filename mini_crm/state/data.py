"""Data page state: CSV upload, column mapping, validation report, import progress.

The import itself is core.ingestion.imports (the same use case as POST
/api/v1/imports): this state saves the upload where imports keep them, checks it, and
after "Import" follows the import job's progress from the database.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from mini_crm.core.ingestion import csv_import, imports, stream
from mini_crm.core.ingestion.csv_reader import ENCODING_CHOICES, ENCODING_LABELS, Dialect
from mini_crm.core.redis_conn import get_redis
from mini_crm.db import session_scope
from mini_crm.models import ImportStatus
from mini_crm.state.base import AppState

NOT_MAPPED = "(not mapped)"
AUTO = "auto"
# The encoding select: (value, label); "auto" detects with charset-normalizer.
ENCODING_OPTIONS = [(AUTO, "Detect automatically"),
                    *[(c, ENCODING_LABELS[c]) for c in ENCODING_CHOICES]]
BLANK_OPTIONS = [("keep", "Blank cells keep stored values"),
                 ("clear", "Blank cells clear stored values")]
POLL_SECONDS = 1.0
SHOWN_ERRORS = 50


def _import_view(import_id: str) -> dict[str, Any] | None:
    with session_scope() as session:
        return imports.import_status(session, import_id, errors_limit=SHOWN_ERRORS)


class DataState(AppState):
    kind: str = "customers"
    file_name: str = ""
    dialect: str = ""  # "Windows-1252, semicolon-separated"
    encoding_choice: str = AUTO  # AUTO or a codec name from ENCODING_CHOICES
    encoding_note: str = ""  # why the detected encoding is a guess, what to check
    blank_cells: str = "keep"
    preview: list[str] = []  # the first data rows as read, to check names look right
    _import_id: str = ""
    _encoding: str = ""  # the upload's detected dialect, so validating does not detect again
    _delimiter: str = ""
    columns: list[str] = []
    mapping: dict[str, str] = {}
    total_rows: int = 0
    report: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    busy: bool = False
    progress: int = 0
    message: str = ""
    error: str = ""
    errors_url: str = ""
    dead: list[dict[str, str]] = []

    @rx.var
    def targets(self) -> list[str]:
        return csv_import.TARGETS[self.kind]

    @rx.var
    def target_labels(self) -> dict[str, str]:
        """Each field's name in the marketer's words ("Order ID", "SMS opt-in")."""
        return csv_import.FIELD_LABELS[self.kind]

    @rx.event
    def set_kind(self, kind: str) -> None:
        self.kind = kind if kind in csv_import.TARGETS else "customers"
        self._guess()

    def _guess(self) -> None:
        if self.columns:
            guessed = csv_import.guess_mapping(self.kind, self.columns)
            self.mapping = {t: guessed.get(t, NOT_MAPPED) for t in csv_import.TARGETS[self.kind]}
        self.report, self.errors, self.errors_url = {}, [], ""

    @rx.event
    def set_column(self, target: str, column: str) -> None:
        self.mapping = {**self.mapping, target: column}
        self.report, self.errors, self.errors_url = {}, [], ""

    @rx.event
    def set_blank_cells(self, value: str) -> None:
        self.blank_cells = value if value in csv_import.BLANK_CELLS else "keep"

    @rx.event
    async def set_encoding(self, value: str):
        """Choose the file's encoding (or auto): an uploaded file is read again with it."""
        if not self.ensure_signed_in():
            return
        self.encoding_choice = value if value in dict(ENCODING_OPTIONS) else AUTO
        if self._import_id:
            await self._read(self._import_id, self.file_name)

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        if not self.ensure_signed_in() or not files:
            return
        import_id = imports.new_import_id()
        path = imports.upload_path(import_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:  # streamed to disk in chunks, never held whole
            while chunk := await files[0].read(imports.COPY_CHUNK):
                out.write(chunk)
        await self._read(import_id, files[0].name or "upload.csv")

    async def _read(self, import_id: str, name: str) -> None:
        path = imports.upload_path(import_id)
        encoding = None if self.encoding_choice == AUTO else self.encoding_choice

        def read() -> tuple[csv_import.CsvFile, int, list[str]]:
            csv_file = csv_import.open_csv(path, encoding=encoding)
            return csv_file, csv_import.count_rows(csv_file), csv_import.first_rows(csv_file)

        try:
            csv_file, rows, preview = await rx.run_in_thread(read)
        except ValueError as exc:  # CsvFileError: names the encoding/delimiter and line
            self.error = f"Could not read that file as CSV: {exc}"
            self.columns, self.file_name, self._import_id = [], "", ""
            self.preview, self.encoding_note = [], ""
            path.unlink(missing_ok=True)
            return
        self._import_id, self.file_name = import_id, name
        self.columns, self.total_rows, self.preview = csv_file.header, rows, preview
        self.dialect = csv_file.dialect.describe()
        self.encoding_note = csv_file.dialect.note or ""
        self._encoding, self._delimiter = csv_file.dialect.encoding, csv_file.dialect.delimiter
        self.error = self.message = ""
        self.progress = 0
        self._guess()

    def _mapping(self) -> dict[str, str]:
        return {t: c for t, c in self.mapping.items() if c and c != NOT_MAPPED}

    @rx.event(background=True)
    async def run(self, write: bool) -> None:
        async with self:
            if not self.ensure_signed_in() or not self._import_id or self.busy:
                return
            user = self._current_user()
            self.busy, self.progress, self.error, self.message = True, 0, "", ""
            self.errors, self.report, self.errors_url = [], {}, ""
            import_id, kind, mapping = self._import_id, self.kind, self._mapping()
            name, total = self.file_name, self.total_rows
            dialect = Dialect(self._encoding, self._delimiter)
            blank_cells = self.blank_cells
            encoding = None if self.encoding_choice == AUTO else self._encoding
        if write:
            await self._import(import_id, kind, mapping, name, user, encoding, blank_cells)
        else:
            await self._validate(import_id, dialect, kind, mapping, total, blank_cells)

    async def _validate(self, import_id: str, dialect: Dialect, kind: str,
                        mapping: dict[str, str], total: int, blank_cells: str) -> None:
        try:
            csv_file = await rx.run_in_thread(
                lambda: csv_import.open_csv(imports.upload_path(import_id), dialect))
            steps = csv_import.process_iter(csv_file, kind, mapping, write=False,
                                            max_errors=SHOWN_ERRORS, blank_cells=blank_cells)
            report = csv_import.Report()
            while (step := await rx.run_in_thread(lambda: next(steps, None))) is not None:
                report = step[0]
                async with self:
                    self.progress = int(100 * report.rows / max(total, 1))
        except (ValueError, OSError) as exc:
            async with self:
                self.error, self.busy = str(exc), False
            return
        async with self:
            self.busy, self.progress = False, 100
            # Rows, not errors: one row with a bad amount and a bad date is one invalid row.
            self.report = {"rows": report.rows, "valid": report.valid, "imported": 0,
                           "invalid": report.rows - report.valid}
            self.errors = [{"row": str(e["row"]), "field": e["field"] or "—",
                            "message": e["message"]} for e in report.errors]
            self.message = f"{report.valid:,} of {report.rows:,} rows are valid."

    async def _import(self, import_id: str, kind: str, mapping: dict[str, str], name: str,
                      user: dict[str, Any] | None, encoding: str | None,
                      blank_cells: str) -> None:
        try:
            view = await rx.run_in_thread(lambda: imports.create_import(
                import_id, kind=kind, file_name=name, fields=mapping, source="ui",
                created_by=user["id"] if user else None, encoding=encoding,
                blank_cells=blank_cells))
        except ValueError as exc:  # ImportRefused: the message says what to fix
            async with self:
                self.error, self.busy = str(exc), False
            return
        async with self:
            self._import_id = ""  # the job owns the file now; a new import needs a new file
        while view is not None:
            async with self:
                self._show(view)
                watching = self.router.page.path == "/data" and self.client_connected()
            if view["status"] not in ImportStatus.LIVE or not watching:
                break
            await asyncio.sleep(POLL_SECONDS)
            view = await rx.run_in_thread(lambda: _import_view(import_id))
        async with self:
            self.busy = False

    def _show(self, view: dict[str, Any]) -> None:
        self.progress = int(view["progress"]["percent"])
        self.report = {"rows": view["rows"], "valid": view["valid"],
                       "imported": view["imported"], "invalid": view["rows"] - view["valid"]}
        self.errors = [{"row": str(e["row"]), "field": e["field"] or "—",
                        "message": e["message"]} for e in view["errors"]]
        if view["error_count"]:
            self.errors_url = f"/api/v1/imports/{view['id']}/errors.csv"
        kind = view["kind"]
        if view["status"] == ImportStatus.COMPLETED:
            noun = kind.removesuffix("s") if view["imported"] == 1 else kind
            self.message = f"Imported {view['imported']:,} {noun}."
        elif view["status"] == ImportStatus.FAILED:
            self.error = f"The import stopped: {view['message']}"
            self.message = ""
        else:
            self.message = (f"Importing… {view['rows']:,} rows read, {view['imported']:,} "
                            f"{kind} imported.")

    @rx.event(background=True)
    async def load_dead_letters(self) -> None:
        async with self:
            if not self.ensure_signed_in():
                return
        client = get_redis()
        rows = stream.dead_letters(client) if client else []
        async with self:
            self.dead = [{"id": d["id"], "kind": d["kind"], "items": str(d["items"] or "?"),
                          "error": d["error"]} for d in rows]

    @rx.event
    def replay(self, dead_id: str):
        if not self.ensure_signed_in():
            return
        client = get_redis()
        if client is not None:
            stream.replay(client, dead_id)
            self.message = f"Entry {dead_id} is back on the queue."
        return DataState.load_dead_letters
