"""CSV import options over POST /api/v1/imports, on every database: the encoding
override (a short Windows-1251 file auto-detection cannot be sure of), the note that
says detection was unsure, and what a blank cell means (`blank_cells`: keep | clear)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core import jobs
from mini_crm.core.ingestion import csv_import
from mini_crm.core.ingestion.csv_reader import detect
from mini_crm.models import Customer, ImportStatus
from mini_crm.settings import get_settings

SHORT_1251 = "external_id,name,city\nr1,Иван Петров,Москва\n".encode("cp1251")


@pytest.fixture
def ingest(make_key) -> dict[str, str]:
    return make_key("ingest", "read")


@pytest.fixture(autouse=True)
def import_dir(tmp_path, monkeypatch: pytest.MonkeyPatch, app_settings):
    monkeypatch.setenv("IMPORT_DIR", str(tmp_path / "imports"))
    get_settings.cache_clear()
    yield tmp_path / "imports"
    jobs.shutdown_local(wait=True)


def _post(api: TestClient, headers: dict, data: bytes, **form: str):
    return api.post("/api/v1/imports", headers=headers, data={"kind": "customers", **form},
                    files={"file": ("file.csv", data, "text/csv")})


def _done(api: TestClient, headers: dict, answer) -> dict:
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = api.get(answer.json()["url"], headers=headers).json()
        if body["status"] in (ImportStatus.COMPLETED, ImportStatus.FAILED):
            assert body["status"] == "completed", body
            return body
        time.sleep(0.05)
    raise AssertionError("import did not finish")


def _customer(engine: sa.Engine, external_id: str) -> Customer:
    with Session(engine) as s:
        return s.exec(select(Customer).where(Customer.external_id == external_id)).one()


def test_a_short_windows_1251_file_reads_right_and_the_override_is_kept(
        api: TestClient, ingest, app_settings: sa.Engine) -> None:
    # Auto-detect: read as Cyrillic (it used to read "Èâàí Ïåòðîâ"), but on 16 letters
    # it is a guess, and the answer says so.
    auto = _post(api, ingest, SHORT_1251)
    assert auto.json()["encoding"] == "Windows-1251"
    assert "guessed as Windows-1251 from only 16 non-ASCII characters" in \
        auto.json()["encoding_note"]
    body = _done(api, ingest, auto)
    assert (body["encoding_source"], body["encoding"]) == ("detected", "Windows-1251")
    assert _customer(app_settings, "r1").name == "Иван Петров"
    # The marketer says which: no guess, no note.
    data = "external_id,name,city\nr2,Ольга,Казань\n".encode("cp1251")
    chosen = _post(api, ingest, data, encoding="windows-1251")
    assert chosen.json()["encoding_note"] is None
    body = _done(api, ingest, chosen)
    assert (body["encoding_source"], body["encoding"]) == ("chosen", "Windows-1251")
    assert _customer(app_settings, "r2").city == "Казань"
    # A wrong choice is the marketer's: Windows-1252 reads the same bytes as Latin.
    wrong = _done(api, ingest, _post(api, ingest, data.replace(b"r2", b"r3"),
                                     encoding="cp1252"))
    assert wrong["encoding"] == "Windows-1252"
    assert _customer(app_settings, "r3").city == "Êàçàíü"
    # "auto" is the default, spelled out.
    assert _post(api, ingest, SHORT_1251, encoding="auto").json()["encoding"] == \
        "Windows-1251"


def test_unknown_encoding_and_blank_cells_values_are_refused(api: TestClient,
                                                             ingest) -> None:
    bad = _post(api, ingest, SHORT_1251, encoding="klingon")
    assert bad.status_code == 422
    assert "'klingon' is not an encoding" in bad.json()["error"]["message"]
    bad = _post(api, ingest, SHORT_1251, blank_cells="wipe")
    assert bad.status_code == 422
    assert "blank_cells must be keep or clear" in bad.json()["error"]["message"]


def test_a_blank_cell_keeps_the_stored_value_unless_blank_cells_is_clear(
        api: TestClient, ingest, app_settings: sa.Engine) -> None:
    first = (b"external_id,name,phone,city,Tier,Colour\n"
             b"b1,Asha,+919876543210,Pune,gold,red\n")
    _done(api, ingest, _post(api, ingest, first))
    # Blank phone, city and Tier; Colour changes.
    later = b"external_id,name,phone,city,Tier,Colour\nb1,Asha Rao,,,,blue\n"
    body = _done(api, ingest, _post(api, ingest, later))
    assert body["blank_cells"] == "keep"
    kept = _customer(app_settings, "b1")
    assert (kept.name, kept.phone, kept.city) == ("Asha Rao", "+919876543210", "Pune")
    # Attribute columns are one key each: a blank one keeps its key, the others update.
    assert kept.attributes == {"tier": "gold", "colour": "blue"}
    body = _done(api, ingest, _post(api, ingest, later, blank_cells="clear"))
    assert body["blank_cells"] == "clear"
    cleared = _customer(app_settings, "b1")
    assert (cleared.name, cleared.phone, cleared.city) == ("Asha Rao", None, None)
    assert cleared.attributes == {"colour": "blue"}


def test_attribute_keys_not_in_the_file_stay(api: TestClient, ingest,
                                             app_settings: sa.Engine) -> None:
    _done(api, ingest, _post(api, ingest, b"external_id,Tier\nk1,gold\n"))
    _done(api, ingest, _post(api, ingest, b"external_id,Colour\nk1,red\n",
                             blank_cells="clear"))
    assert _customer(app_settings, "k1").attributes == {"tier": "gold", "colour": "red"}


def test_the_first_rows_show_how_the_file_reads(tmp_path) -> None:
    path = tmp_path / "short.csv"
    path.write_bytes(SHORT_1251 + b"\n\nr9,,\n")
    csv_file = csv_import.open_csv(path)
    assert csv_import.first_rows(csv_file) == ["r1 · Иван Петров · Москва", "r9 ·  · "]
    assert csv_import.first_rows(csv_import.open_csv(path, encoding="cp1252"), n=1) == \
        ["r1 · Èâàí Ïåòðîâ · Ìîñêâà"]
    assert detect(path, "Windows-1251").note is None
