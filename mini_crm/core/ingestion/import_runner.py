"""Running an import job: claim it, stream the file chunk by chunk, record progress.

`run_import(import_id)` is the job function (an RQ worker, or the in-process executor
in embedded mode). It claims the import with a guarded UPDATE (one runner at a time),
then after every chunk of csv_import.CHUNK rows records the counts, the new row errors
(up to settings.import_max_stored_errors in all) and a heartbeat, all in one
transaction, and only while it still holds the claim. After import_slice_seconds it
releases the claim and queues its own continuation, so no job outlives a queue's
timeout and long imports share the workers.

A stopped worker (killed, machine gone, database down mid-chunk) leaves the import
"running" with an old heartbeat; `sweep` (a periodic task) queues it again and the
next run resumes after the last recorded chunk. Rows of a chunk that was written but
not recorded are written again: upserts are idempotent, so nothing counts twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from mini_crm.core import jobs
from mini_crm.core.ingestion import csv_import
from mini_crm.core.ingestion.csv_reader import Dialect
from mini_crm.db import get_engine
from mini_crm.models import ImportJob, ImportRowError, ImportStatus, utcnow
from mini_crm.settings import get_settings

log = logging.getLogger(__name__)
JOB = ImportJob.__table__
ERRORS = ImportRowError.__table__
SWEEP_SECONDS = 30.0
ABANDONED_AFTER = timedelta(days=1)


def run_import(import_id: str) -> str:
    """Import (or go on importing) one queued CSV import; returns what happened:
    "completed", "failed", "continued" (queued its continuation) or "skipped" (another
    runner holds it, or it is finished). Database outages propagate (the sweeper
    resumes the import later); every other failure is recorded on the import."""
    token = uuid.uuid4().hex
    if not _claim(import_id, token):
        return "skipped"
    with get_engine().connect() as conn:
        job = conn.execute(sa.select(JOB).where(JOB.c.id == import_id)).one()
    started = time.monotonic()
    settings = get_settings()
    budget = settings.import_slice_seconds
    try:
        csv_file = csv_import.open_csv(Path(job.path), Dialect(job.encoding, job.delimiter))
        resume = csv_import.Report(rows=job.row_count, valid=job.valid,
                                   imported=job.imported, error_count=job.error_count,
                                   bytes_read=job.bytes_read)
        steps = csv_import.process_iter(
            csv_file, job.kind, job.mapping.get("fields", {}), write=True, max_errors=0,
            resume=resume, ignore=job.mapping.get("ignore", []),
            chunk=settings.import_chunk_rows,
            blank_cells=job.mapping.get("blank_cells", "keep"))
        for report, errors in steps:
            if not _record(import_id, token, report, errors):
                return "skipped"  # the claim went stale and another runner took over
            if time.monotonic() - started > budget:
                steps.close()
                _release(import_id, token)
                jobs.enqueue(run_import, import_id)
                return "continued"
    except DBAPIError:
        raise
    except FileNotFoundError:
        return _finish(import_id, token, ImportStatus.FAILED,
                       "the uploaded file is no longer in the import directory "
                       "(IMPORT_DIR must be storage every worker can read)")
    except ValueError as exc:  # CsvFileError and mapping problems: the user's words
        return _finish(import_id, token, ImportStatus.FAILED, _after(import_id, str(exc)))
    except Exception as exc:
        log.exception("import %s failed", import_id)
        return _finish(import_id, token, ImportStatus.FAILED, _after(
            import_id, f"the import stopped on an internal error ({type(exc).__name__})"))
    return _finish(import_id, token, ImportStatus.COMPLETED, None)


def _claim(import_id: str, token: str) -> bool:
    now = utcnow()
    stale = now - timedelta(seconds=get_settings().import_stale_seconds)
    with get_engine().begin() as conn:
        claimed = conn.execute(
            sa.update(JOB).where(
                JOB.c.id == import_id, JOB.c.status.in_(ImportStatus.LIVE),
                sa.or_(JOB.c.claim.is_(None), JOB.c.heartbeat_at < stale))
            .values(claim=token, status=ImportStatus.RUNNING, heartbeat_at=now,
                    started_at=sa.func.coalesce(JOB.c.started_at, now)))
    return claimed.rowcount == 1


def _record(import_id: str, token: str, report: csv_import.Report,
            errors: list[dict[str, Any]]) -> bool:
    """Counts, heartbeat and the chunk's errors (within the cap) in one transaction."""
    cap = get_settings().import_max_stored_errors
    # Errors are stored in row order until the cap, so what is stored so far is known.
    stored = min(cap, report.error_count - len(errors))
    with get_engine().begin() as conn:
        updated = conn.execute(
            sa.update(JOB).where(JOB.c.id == import_id, JOB.c.claim == token)
            .values(row_count=report.rows, valid=report.valid, imported=report.imported,
                    error_count=report.error_count, bytes_read=report.bytes_read,
                    heartbeat_at=utcnow()))
        if updated.rowcount != 1:
            return False
        keep = errors[:max(0, cap - stored)]
        if keep:
            conn.execute(ERRORS.insert(), [
                {"import_id": import_id, "row_no": e["row"], "field": e["field"],
                 "message": e["message"][:4000]} for e in keep])
    return True


def _release(import_id: str, token: str) -> None:
    with get_engine().begin() as conn:
        conn.execute(sa.update(JOB).where(JOB.c.id == import_id, JOB.c.claim == token)
                     .values(claim=None, heartbeat_at=utcnow()))


def _finish(import_id: str, token: str, status: str, message: str | None) -> str:
    now = utcnow()
    with get_engine().begin() as conn:
        done = conn.execute(
            sa.update(JOB).where(JOB.c.id == import_id, JOB.c.claim == token)
            .values(status=status, message=message, claim=None, heartbeat_at=now,
                    finished_at=now)).rowcount == 1
        path = conn.execute(sa.select(JOB.c.path).where(JOB.c.id == import_id)).scalar_one()
    if done:
        Path(path).unlink(missing_ok=True)  # the rows are in the database now
    return status if done else "skipped"


def _after(import_id: str, reason: str) -> str:
    with get_engine().connect() as conn:
        rows = conn.execute(sa.select(JOB.c.row_count).where(JOB.c.id == import_id)
                            ).scalar_one()
    kept = f"; the {rows:,} rows before it were processed and their valid rows kept" \
        if rows else ""
    return (reason + kept)[:1000]


def sweep() -> int:
    """Queue every live import nobody is running: never started (a lost in-process job
    after a restart) or whose runner stopped sending heartbeats. Returns how many.
    Also deletes abandoned uploads (see remove_abandoned_uploads)."""
    remove_abandoned_uploads()
    now = utcnow()
    stale = now - timedelta(seconds=get_settings().import_stale_seconds)
    with get_engine().begin() as conn:
        ids = list(conn.execute(sa.select(JOB.c.id).where(
            JOB.c.status.in_(ImportStatus.LIVE),
            sa.func.coalesce(JOB.c.heartbeat_at, JOB.c.created_at) < stale)).scalars())
        if ids:
            # Space out re-queues of imports still waiting in a busy queue.
            conn.execute(sa.update(JOB).where(JOB.c.id.in_(ids), JOB.c.claim.is_(None))
                         .values(heartbeat_at=now))
    for import_id in ids:
        jobs.enqueue(run_import, import_id)
    return len(ids)


def remove_abandoned_uploads(now: float | None = None) -> int:
    """Delete uploads older than ABANDONED_AFTER that no live import uses: files the
    Data page saved for a file the user never imported. Returns how many."""
    folder = get_settings().import_path
    if not folder.is_dir():
        return 0
    cutoff = (now if now is not None else time.time()) - ABANDONED_AFTER.total_seconds()
    old = {p.stem: p for p in folder.glob("*.csv") if p.stat().st_mtime < cutoff}
    if not old:
        return 0
    with get_engine().connect() as conn:
        live = set(conn.execute(sa.select(JOB.c.id).where(
            JOB.c.id.in_(list(old)), JOB.c.status.in_(ImportStatus.LIVE))).scalars())
    for stem, path in old.items():
        if stem not in live:
            path.unlink(missing_ok=True)
    return len(old) - len(live)
