"""A customer's signup (`created_at`) in the future is refused as orders dated in the
future are (ORDER_FUTURE_TOLERANCE_HOURS): a per-item error on every way in (API stored
and queued, the queue's consumer, CSV import and its check), the valid items kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core.ingestion import csv_import, stream
from mini_crm.models import Customer
from tests.integration.test_ingest_stream import queued  # noqa: F401 - a fixture

SOON = (datetime.now(UTC) + timedelta(hours=20)).isoformat()  # within the 24 h tolerance
LATER = (datetime.now(UTC) + timedelta(hours=30)).isoformat()
PREFIX = "created_at 1 May 2199 is in the future; a customer's signup date can be at " \
         "most 24 hours ahead of now (ORDER_FUTURE_TOLERANCE_HOURS)"
BATCH = [{"external_id": "past", "created_at": "2025-01-02"},
         {"external_id": "soon", "created_at": SOON},
         {"external_id": "later", "created_at": LATER},
         {"external_id": "next-year", "created_at": "2199-05-01T10:00:00+05:30"},
         {"external_id": "unknown"}]


def _stored(engine: sa.Engine) -> list[str]:
    with Session(engine) as s:
        return sorted(s.exec(select(Customer.external_id)).all())


def _check(errors: list[dict], index_key: str, first: int = 0, named: str = "created_at"
           ) -> None:
    by_index = {e[index_key]: e for e in errors}
    assert set(by_index) == {first + 2, first + 3}, errors
    assert {e["field"] for e in errors} == {"created_at"}
    assert by_index[first + 3]["message"] == PREFIX.replace("created_at", named, 1)
    assert " is in the future; a customer's signup date" in by_index[first + 2]["message"]


def test_the_api_refuses_a_future_signup(api: TestClient, make_key, app_settings) -> None:
    r = api.post("/api/v1/customers", json={"items": BATCH}, headers=make_key("ingest"))
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"], body["mode"]) == (3, 2, "stored")
    _check(body["errors"], "index")
    assert _stored(app_settings) == ["past", "soon", "unknown"]


def test_queued_ingestion_refuses_it_too(api: TestClient, make_key, queued,  # noqa: F811
                                         app_settings) -> None:
    r = api.post("/api/v1/customers", json={"items": BATCH}, headers=make_key("ingest"))
    body = r.json()
    assert (body["accepted"], body["mode"]) == (3, "queued")
    _check(body["errors"], "index")
    # An entry queued past the API's check (an older version, a replayed dead letter):
    # the consumer checks again and writes the rest.
    queued.xadd(stream.Names.from_settings().stream, {"kind": "customers", "v": "2",
                "items": json.dumps([{"external_id": "late", "created_at": LATER},
                                     {"external_id": "fine"}])})
    while stream.consume_once(queued, "t1", block_ms=100):
        pass
    assert _stored(app_settings) == ["fine", "past", "soon", "unknown"]


@pytest.mark.parametrize("write", [False, True])
def test_a_csv_row_with_a_future_signup(app_settings: sa.Engine, tmp_path: Path,
                                        write: bool) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Customer ID,Signed up\n" + "".join(
        f"{item['external_id']},{item.get('created_at', '')}\n" for item in BATCH))
    report = csv_import.process(path, "customers", {"external_id": "Customer ID",
                                                    "created_at": "Signed up"}, write=write)
    # Row 1 is the header; a CSV error names the file's column ("Signed up").
    _check(report.errors, "row", first=2, named="Signed up")
    assert _stored(app_settings) == (["past", "soon", "unknown"] if write else [])
