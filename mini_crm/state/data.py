"""Data page state: CSV upload, column mapping, validation report, import progress."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import reflex as rx

from mini_crm.core.ingestion import csv_import, stream
from mini_crm.core.redis_conn import get_redis
from mini_crm.settings import DATA_DIR
from mini_crm.state.base import AppState

UPLOADS = DATA_DIR / "uploads"
NOT_MAPPED = "(not mapped)"


class DataState(AppState):
    kind: str = "customers"
    file_name: str = ""
    _path: str = ""
    columns: list[str] = []
    mapping: dict[str, str] = {}
    total_rows: int = 0
    report: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    busy: bool = False
    progress: int = 0
    message: str = ""
    error: str = ""
    dead: list[dict[str, str]] = []

    @rx.var
    def targets(self) -> list[str]:
        return csv_import.TARGETS[self.kind]

    @rx.event
    def set_kind(self, kind: str) -> None:
        self.kind = kind if kind in csv_import.TARGETS else "customers"
        self._guess()

    def _guess(self) -> None:
        if self.columns:
            guessed = csv_import.guess_mapping(self.kind, self.columns)
            self.mapping = {t: guessed.get(t, NOT_MAPPED) for t in csv_import.TARGETS[self.kind]}
        self.report, self.errors = {}, []

    @rx.event
    def set_column(self, target: str, column: str) -> None:
        self.mapping = {**self.mapping, target: column}
        self.report, self.errors = {}, []

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        if not self.ensure_signed_in() or not files:
            return
        UPLOADS.mkdir(parents=True, exist_ok=True)
        target = UPLOADS / f"{uuid.uuid4().hex}.csv"
        with target.open("wb") as out:  # streamed to disk in chunks, never held whole
            while chunk := await files[0].read(1 << 20):
                out.write(chunk)
        try:
            self.columns = csv_import.read_header(target)
            self.total_rows = csv_import.count_rows(target)
        except (ValueError, UnicodeDecodeError) as exc:
            self.error = f"Could not read that file as CSV: {exc}"
            target.unlink(missing_ok=True)
            return
        self._path, self.file_name = str(target), files[0].name or "upload.csv"
        self.error = self.message = ""
        self._guess()

    def _mapping(self) -> dict[str, str]:
        return {t: c for t, c in self.mapping.items() if c and c != NOT_MAPPED}

    @rx.event(background=True)
    async def run(self, write: bool) -> None:
        async with self:
            if not self.ensure_signed_in() or not self._path or self.busy:
                return
            self.busy, self.progress, self.error, self.message = True, 0, "", ""
            path, kind, mapping, total = Path(self._path), self.kind, self._mapping(), \
                self.total_rows

        try:
            steps = csv_import.process_iter(path, kind, mapping, write=write)
            report = csv_import.Report()
            while (step := await rx.run_in_thread(lambda: next(steps, None))) is not None:
                report = step
                async with self:
                    self.progress = int(100 * report.rows / max(total, 1))
        except ValueError as exc:
            async with self:
                self.error, self.busy = str(exc), False
            return
        async with self:
            self.busy, self.progress = False, 100
            self.report = {"rows": report.rows, "valid": report.valid,
                           "imported": report.imported, "invalid": report.error_count}
            self.errors = [{"row": str(e["row"]), "field": e["field"] or "—",
                            "message": e["message"]} for e in report.errors]
            self.message = (f"Imported {report.imported:,} {kind}." if write else
                            f"{report.valid:,} of {report.rows:,} rows are valid.")

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
