"""POST /api/v1/imports → GET /api/v1/imports/{id} → errors.csv, in embedded mode (the
in-process executor runs run_import), on every database."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core import jobs
from mini_crm.core.ingestion import import_runner, imports
from mini_crm.models import Customer, ImportJob, ImportStatus, Order
from mini_crm.settings import get_settings
from tests.integration.campaign_helpers import wait_for


@pytest.fixture
def ingest(make_key) -> dict[str, str]:
    return make_key("ingest", "read")


@pytest.fixture(autouse=True)
def import_dir(tmp_path, monkeypatch: pytest.MonkeyPatch, app_settings):
    monkeypatch.setenv("IMPORT_DIR", str(tmp_path / "imports"))
    get_settings.cache_clear()
    yield tmp_path / "imports"
    jobs.shutdown_local(wait=True)


def _post(api: TestClient, headers: dict, data: bytes, kind: str = "customers",
          mapping: dict | None = None, name: str = "file.csv"):
    form = {"kind": kind}
    if mapping is not None:
        form["mapping"] = json.dumps(mapping)
    return api.post("/api/v1/imports", headers=headers, data=form,
                    files={"file": (name, data, "text/csv")})


def _wait(api: TestClient, headers: dict, import_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/api/v1/imports/{import_id}", headers=headers).json()
        if body["status"] in (ImportStatus.COMPLETED, ImportStatus.FAILED):
            return body
        time.sleep(0.05)
    raise AssertionError(f"import {import_id} still {body['status']} after {timeout}s")


def test_customers_file_end_to_end(api: TestClient, ingest, app_settings, import_dir) -> None:
    lines = ["Customer ID;Name;E-mail;City;Tier;Notes"]
    lines += [f"c{i};Zoë {i};z{i}@example.in;Köln;gold;skip me" for i in range(2500)]
    lines += ["c-bad;Bad;not-an-email;Pune;silver;", ";No id;x@y.in;Pune;;"]
    data = ("\r\n".join(lines) + "\r\n").encode("cp1252")
    mapping = {"Customer ID": "external_id", "Name": "name", "E-mail": "email",
               "City": "city", "Notes": None}
    r = _post(api, ingest, data, mapping=mapping, name="kunden.csv")
    assert r.status_code == 202, r.text
    import_id = r.json()["id"]
    assert r.headers["location"] == f"/api/v1/imports/{import_id}"
    done = _wait(api, ingest, import_id)
    assert done["status"] == "completed", done
    assert (done["rows"], done["valid"], done["imported"], done["error_count"]) == \
        (2502, 2500, 2500, 2)
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(2502, "email"),
                                                                (2503, "external_id")]
    assert (done["encoding"], done["delimiter"], done["file_name"]) == \
        ("Windows-1252", "semicolon", "kunden.csv")
    assert done["mapping"] == mapping
    assert done["progress"] == {"bytes_read": len(data), "bytes_total": len(data),
                                "percent": 100.0}
    with Session(app_settings) as s:
        c = s.exec(select(Customer).where(Customer.external_id == "c7")).one()
    assert (c.name, c.city, c.attributes) == ("Zoë 7", "Köln", {"tier": "gold"})
    # The upload is gone once imported: removed just after the "completed" commit (never
    # before the rows' result is durable), so a poll can see "completed" a moment earlier.
    wait_for(lambda: list(import_dir.iterdir()) == [], 10)

    got = api.get(done["errors_url"], headers=ingest)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0] == ["row", "field", "message"]
    assert [r[:2] for r in rows[1:]] == [["2502", "email"], ["2503", "external_id"]]


def test_orders_amounts_and_offsetless_timestamps(api: TestClient, ingest,
                                                 app_settings) -> None:
    data = ("order_id,customer_id,total,date\n"
            'o1,c1,"1,499.00",2026-11-29 01:30\n'
            "o2,c1,₹2500,2026-11-29T05:29:59\n"
            'o3,c1,"1,49,999",2026-11-29T05:30:00+05:30\n'
            "o4,c1,1.234,2026-11-29\n").encode("utf-8-sig")
    done = _wait(api, ingest, _post(api, ingest, data, kind="orders").json()["id"])
    assert (done["imported"], done["error_count"]) == (3, 1)
    assert done["encoding"] == "UTF-8 with a byte-order mark"
    assert done["errors"][0]["row"] == 5 and "ambiguous" in done["errors"][0]["message"]
    with Session(app_settings) as s:
        got = {o.external_id: (o.amount, o.ordered_at) for o in s.exec(select(Order))}
    assert got == {"o1": (Decimal("1499.00"), datetime(2026, 11, 28, 20, 0)),
                   "o2": (Decimal("2500.00"), datetime(2026, 11, 28, 23, 59, 59)),
                   "o3": (Decimal("149999.00"), datetime(2026, 11, 29, 0, 0))}


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"kind": "customers", "data": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"}, 422,
     "old Excel .xls workbook"),
    ({"kind": "customers", "data": b""}, 422, "the file is empty"),
    ({"kind": "orders", "data": b"id,amount\n1,2\n"}, 422,
     "map a column to: Customer ID (customer_external_id), Order date (ordered_at)"),
    ({"kind": "shoes", "data": b"id\n1\n"}, 422, "kind must be one of customers, orders"),
    ({"kind": "customers", "data": b"id\n1\n", "mapping": "{nope"}, 422,
     "mapping is not valid JSON"),
    ({"kind": "customers", "data": b"id\n1\n", "mapping": '{"id": "shoe_size"}'}, 422,
     "unknown field(s) for customers: shoe_size"),
    ({"kind": "customers", "data": b"id\n1\n", "mapping": '{"ID": "external_id"}'}, 422,
     "the file has no column named 'ID'; its columns are 'id'"),
    ({"kind": "customers", "data": b"a,b\n1,2\n",
      "mapping": '{"a": "external_id", "b": "external_id"}'}, 422,
     "columns 'a' and 'b' are both mapped to 'external_id'"),
])
def test_refusals_name_the_cause_and_queue_nothing(api: TestClient, ingest, app_settings,
                                                   import_dir, form, status,
                                                   message) -> None:
    fields = {"kind": form["kind"]}
    if "mapping" in form:
        fields["mapping"] = form["mapping"]
    r = api.post("/api/v1/imports", headers=ingest, data=fields,
                 files={"file": ("x.csv", form["data"], "text/csv")})
    assert r.status_code == status, r.text
    assert message in r.json()["error"]["message"]
    assert list(import_dir.glob("*")) == []
    with Session(app_settings) as s:
        assert s.exec(select(ImportJob)).all() == []


def test_envelope_and_auth_errors(api: TestClient, ingest, make_key, monkeypatch) -> None:
    no_file = api.post("/api/v1/imports", headers=ingest, data={"kind": "customers"},
                       files={"other": ("x.txt", b"x")})
    assert no_file.status_code == 422 and "no file" in no_file.json()["error"]["message"]
    as_json = api.post("/api/v1/imports", headers=ingest, json={"kind": "customers"})
    assert as_json.status_code == 415
    assert api.post("/api/v1/imports", data={"kind": "customers"},
                    files={"file": ("x.csv", b"id\n1\n")}).status_code == 401
    reader = make_key("read")
    assert _post(api, reader, b"id\n1\n").status_code == 403
    assert api.get("/api/v1/imports/" + "0" * 32, headers=reader).status_code == 403
    missing = api.get("/api/v1/imports/" + "0" * 32, headers=ingest)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.get("/api/v1/imports/nope/errors.csv", headers=ingest).status_code == 422
    monkeypatch.setenv("IMPORT_MAX_BYTES", "100")
    get_settings.cache_clear()
    big = _post(api, ingest, b"external_id\n" + b"c\n" * 40_000)
    assert big.status_code == 413 and "the limit is 100 bytes" in big.json()["error"]["message"]
    small_envelope = _post(api, ingest, b"external_id\n" + b"c\n" * 60)
    assert small_envelope.status_code == 413  # past the limit while copying
    assert "larger than the limit of 100 bytes" in small_envelope.json()["error"]["message"]


def test_stored_errors_are_capped_but_all_counted(api: TestClient, ingest, monkeypatch
                                                  ) -> None:
    monkeypatch.setenv("IMPORT_MAX_STORED_ERRORS", "5")
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "7")
    get_settings.cache_clear()
    data = b"external_id,email\n" + b"".join(
        b"c%d,%s\n" % (i, b"bad" if i % 2 else b"ok%d@x.in" % i) for i in range(40))
    done = _wait(api, ingest, _post(api, ingest, data).json()["id"])
    assert (done["rows"], done["imported"], done["error_count"], done["errors_stored"]) == \
        (40, 20, 20, 5)
    assert [e["row"] for e in done["errors"]] == [3, 5, 7, 9, 11]
    assert len(api.get(done["errors_url"], headers=ingest).text.splitlines()) == 6


def test_slices_hand_on_and_finish_exactly(api: TestClient, ingest, app_settings,
                                           monkeypatch) -> None:
    """A job works one slice then queues its continuation, which resumes after the last
    recorded chunk: every row once, counts exact."""
    monkeypatch.setenv("IMPORT_SLICE_SECONDS", "0.000001")
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "10")
    get_settings.cache_clear()
    calls: list[str] = []
    real = import_runner.run_import

    def counting(import_id: str) -> str:
        calls.append(result := real(import_id))
        return result

    monkeypatch.setattr(import_runner, "run_import", counting)
    monkeypatch.setattr(imports, "run_import", counting)  # the first enqueue
    data = b"external_id,email\n" + b"".join(
        b"c%d,%s\n" % (i, b"bad" if i == 55 else b"e%d@x.in" % i) for i in range(95))
    done = _wait(api, ingest, _post(api, ingest, data).json()["id"])
    assert (done["status"], done["rows"], done["imported"], done["error_count"]) == \
        ("completed", 95, 94, 1)
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(57, "email")]
    assert "'bad' is not a valid email address" in done["errors"][0]["message"]
    # ten chunks, each in its own slice; the last slice finds nothing left and completes
    assert calls == ["continued"] * 10 + ["completed"]
    with Session(app_settings) as s:
        assert s.exec(select(sa.func.count()).select_from(Customer)).one() == 94


def test_a_stopped_runner_is_resumed_by_the_sweeper(api: TestClient, ingest, app_settings,
                                                    monkeypatch) -> None:
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "10")
    get_settings.cache_clear()
    data = b"external_id,email\n" + b"".join(
        b"c%d,%s\n" % (i, b"bad" if i % 10 == 0 else b"e%d@x.in" % i) for i in range(50))
    import_id, _ = imports.save_upload(io.BytesIO(data))
    imports.create_import(import_id, kind="customers", file_name="x.csv", enqueue=False)
    real_record = import_runner._record
    recorded: list[int] = []

    def dies_after_two(*args, **kwargs) -> bool:
        if len(recorded) == 2:
            raise KeyboardInterrupt  # the worker is killed between two chunks
        recorded.append(1)
        return real_record(*args, **kwargs)

    monkeypatch.setattr(import_runner, "_record", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        import_runner.run_import(import_id)
    monkeypatch.setattr(import_runner, "_record", real_record)
    with Session(app_settings) as s:
        job = s.get(ImportJob, import_id)
        assert (job.status, job.row_count, job.error_count) == ("running", 20, 2)
    assert import_runner.run_import(import_id) == "skipped"  # its claim is still fresh
    assert import_runner.sweep() == 0
    with Session(app_settings) as s:  # ... until its heartbeat is old
        s.get(ImportJob, import_id).heartbeat_at = datetime(2020, 1, 1)
        s.commit()
    assert import_runner.sweep() == 1
    done = _wait(api, ingest, import_id)
    assert (done["status"], done["rows"], done["imported"], done["error_count"]) == \
        ("completed", 50, 45, 5)
    assert [e["row"] for e in done["errors"]] == [2, 12, 22, 32, 42]  # none twice
    with Session(app_settings) as s:
        assert s.exec(select(sa.func.count()).select_from(Customer)).one() == 45


def test_a_file_gone_from_disk_fails_with_the_reason(api: TestClient, ingest) -> None:
    import_id, path = imports.save_upload(io.BytesIO(b"external_id\nc1\n"))
    imports.create_import(import_id, kind="customers", file_name="x.csv", enqueue=False)
    path.unlink()
    assert import_runner.run_import(import_id) == "failed"
    body = api.get(f"/api/v1/imports/{import_id}", headers=ingest).json()
    assert body["status"] == "failed" and "no longer in the import directory" in body["message"]


def test_abandoned_uploads_are_removed_after_a_day(app_settings, import_dir) -> None:
    _, orphan = imports.save_upload(io.BytesIO(b"external_id\nc1\n"))
    live_id, live = imports.save_upload(io.BytesIO(b"external_id\nc1\n"))
    imports.create_import(live_id, kind="customers", file_name="x.csv", enqueue=False)
    _, fresh = imports.save_upload(io.BytesIO(b"external_id\nc1\n"))
    two_days_ago = time.time() - 2 * 24 * 3600
    for path in (orphan, live):
        os.utime(path, (two_days_ago, two_days_ago))
    assert import_runner.remove_abandoned_uploads() == 1
    assert (orphan.exists(), live.exists(), fresh.exists()) == (False, True, True)
