"""Names that look the same are the same name: full-width letters, a zero-width space,
a doubled space do not make a second "Big spenders" (segment.name_key is NFKC,
casefold, invisible characters removed, spaces collapsed; migration 0014 re-keys old
rows), and invisible format characters are refused in every stored name."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from mini_crm import migrations
from mini_crm.core import apikeys, text_checks
from mini_crm.core.campaigns import service as campaigns
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.core.segments import service
from mini_crm.db import create_db_engine
from mini_crm.models import segment_name_key
from tests.databases import DIALECTS, fresh_database

WHEN = datetime(2025, 1, 1, 10, 0)
RULES = {"combinator": "and", "rules": [
    {"field": "total_spend", "operator": ">", "value": 5000}]}


@pytest.mark.parametrize("lookalike", ["Ｂｉｇ spenders", "big  SPENDERS", "Big\u200d spenders",
                                       "Big\u00a0spenders", "ＢＩＧ　ＳＰＥＮＤＥＲＳ"])
def test_a_lookalike_name_is_taken(session: Session, lookalike: str) -> None:
    first = service.save_segment(session, name="Big spenders", rules=RULES)
    session.commit()
    with pytest.raises(service.NameTaken) as caught:
        service.save_segment(session, name=lookalike, rules=RULES)
    assert (caught.value.segment_id, caught.value.name) == (first.id, "Big spenders")


def test_the_key_folds_width_case_spaces_and_invisibles() -> None:
    assert text_checks.name_key_text(" Ｂｉｇ\u200b  Spenders\u00ad ") == "big spenders"
    assert segment_name_key("Big spenders") == segment_name_key("ＢＩＧ\tspenders")
    assert segment_name_key("Café") == segment_name_key("Cafe\u0301")  # NFC vs NFD
    assert segment_name_key("Café") != segment_name_key("Cafe")  # accents still count


def test_invisible_characters_are_refused_in_names(api: TestClient, make_key,
                                                   session: Session) -> None:
    h = make_key("read", "campaigns")
    r = api.post("/api/v1/segments", json={"name": "Big\u200b spenders", "rules": RULES},
                 headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"] == (
        "a segment name contains the invisible character U+200B (zero width space); "
        "remove it")
    assert r.json()["error"]["details"] == {"field": "name"}
    with pytest.raises(CampaignError) as caught:
        campaigns.check_campaign(session, name="\u202eDiwali", channel="sms",
                                 message_template="hi", objective=None, rules=RULES,
                                 segment_id=None)
    assert caught.value.field == "name"
    assert "U+202E" in str(caught.value)
    with pytest.raises(ValueError, match=r"an API key name contains the invisible "
                                         r"character U\+FEFF"):
        apikeys.create_key(session, "\ufeffzapier", ["read"])
    # ZWJ / ZWNJ shape Indic scripts and emoji: a name keeps them.
    seg = service.save_segment(session, name="क्\u200dष fans 👩\u200d💻", rules=RULES)
    assert seg.name == "क्\u200dष fans 👩\u200d💻"


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_the_migration_rekeys_and_renames_lookalikes(dialect_name: str,
                                                     tmp_path: Path) -> None:
    with fresh_database(dialect_name, tmp_path) as url:
        migrations.upgrade(url, "0013_email_key")
        engine = create_db_engine(url)
        old = {"Big spenders": 1, "Ｂｉｇ spenders": 2, "Big\u200b spenders": 3,
               "Big spenders (2)": 4, "Pune": 5, "\ufeffLapsed": 6}
        segment = sa.table("segment", sa.column("id"), sa.column("name"),
                           sa.column("name_key"), sa.column("rules", sa.JSON),
                           sa.column("created_at"), sa.column("updated_at"))
        with engine.begin() as conn:
            conn.execute(segment.insert(), [
                {"id": i, "name": n, "rules": RULES, "created_at": WHEN, "updated_at": WHEN,
                 "name_key": hashlib.sha256(n.strip().casefold().encode()).hexdigest()}
                for n, i in old.items()])
        migrations.upgrade(url)
        with engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT id, name FROM segment")).all())
            keys = dict(conn.execute(sa.text("SELECT id, name_key FROM segment")).all())
        # The oldest keeps its name; the look-alikes are numbered, skipping "(2)";
        # the invisible characters are gone from the stored names.
        assert rows == {1: "Big spenders", 2: "Ｂｉｇ spenders (3)", 3: "Big spenders (4)",
                        4: "Big spenders (2)", 5: "Pune", 6: "Lapsed"}
        assert keys == {i: segment_name_key(n) for i, n in rows.items()}
        migrations.downgrade(url, "0013_email_key")
        with engine.connect() as conn:
            keys = dict(conn.execute(sa.text("SELECT id, name_key FROM segment")).all())
        assert keys[2] == hashlib.sha256("ｂｉｇ spenders (3)".encode()).hexdigest()
        engine.dispose()
