"""Readiness checks for the database and Redis."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from mini_crm.core.redis_conn import get_redis
from mini_crm.db import get_engine


def _timed(check: Any) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        detail = check()
        return {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 1), **detail}
    except Exception as exc:  # readiness reports every failure, it never raises
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _database() -> dict[str, Any]:
    with get_engine().connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    return {"dialect": get_engine().dialect.name}


def readiness() -> dict[str, dict[str, Any]]:
    checks = {"database": _timed(_database)}
    redis = get_redis()
    if redis is not None:
        checks["redis"] = _timed(lambda: {"ping": bool(redis.ping())})
    return checks
