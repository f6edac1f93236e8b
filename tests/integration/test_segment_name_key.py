"""Segment names are unique in the database itself (segment.name_key, a UNIQUE index):
two saves of one name at the same instant, which both pass the service's check, end
with one segment and a 409 for the other, never a 500; and the migration that adds the
index renames the duplicates an old database holds instead of failing."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from mini_crm import migrations
from mini_crm.core.segments import service
from mini_crm.db import create_db_engine
from mini_crm.models import Campaign, Segment, segment_name_key
from tests.databases import DIALECTS, fresh_database

WHEN = datetime(2025, 1, 1, 10, 0)
RULES = {"combinator": "and", "rules": [
    {"field": "total_spend", "operator": ">", "value": 5000}]}


def test_the_index_refuses_a_name_that_differs_only_by_case(session: Session) -> None:
    session.add(Segment(name="Über fans", rules=RULES))
    session.commit()
    session.add(Segment(name="  über FANS ", rules=RULES))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    # Accents are not case: MariaDB's collation would call these equal, the key does not.
    session.add(Segment(name="Uber fans", rules=RULES))
    session.commit()


def test_a_save_that_lost_the_race_answers_409(api: TestClient, make_key, session: Session,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's check ran before the other save committed (find_by_name saw
    nothing): the index refuses the insert and the route answers the usual conflict."""
    h = make_key("read", "campaigns")
    first = api.post("/api/v1/segments", json={"name": "Lapsed", "rules": RULES}, headers=h)
    assert first.status_code == 201
    real = service.find_by_name
    calls: list[str] = []

    def late_check(s: Session, name: str, except_id: int | None = None):
        calls.append(name)
        return None if len(calls) == 1 else real(s, name, except_id)

    monkeypatch.setattr(service, "find_by_name", late_check)
    r = api.post("/api/v1/segments", json={"name": " LAPSED", "rules": RULES}, headers=h)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == {
        "code": "conflict", "message": "a segment named “Lapsed” already exists; pick "
        "another name", "details": {"field": "name", "segment_id": first.json()["id"],
                                    "name": "Lapsed"}}
    assert len(calls) == 2
    names = session.exec(sa.select(Segment.name)).all()
    assert [n for (n,) in names] == ["Lapsed"]


@pytest.mark.parametrize("dialect_name", ["postgresql", "mariadb", "sqlite"])
def test_two_sessions_saving_one_name(dialect_name: str, tmp_path: Path) -> None:
    """Session A saves "Diwali" and holds its transaction open; session B saves "diwali"
    meanwhile (its check cannot see A's row) and waits on the index; A commits; B gets
    NameTaken naming A's segment, and one segment is left."""
    with fresh_database(dialect_name, tmp_path) as url:
        migrations.upgrade(url)
        engine = create_db_engine(url)
        try:
            with Session(engine) as a:
                mine = service.save_segment(a, name="Diwali", rules=RULES)
                outcome: dict[str, object] = {}
                checked = threading.Event()
                real = service.find_by_name

                def check(s: Session, name: str, except_id: int | None = None):
                    found = real(s, name, except_id)
                    checked.set()
                    return found

                def save_b() -> None:
                    with Session(engine) as b:
                        try:
                            service.save_segment(b, name=" diwali", rules=RULES)
                            b.commit()
                            outcome["saved"] = True
                        except service.NameTaken as exc:
                            outcome["taken"] = exc

                service.find_by_name = check  # type: ignore[assignment]
                try:
                    thread = threading.Thread(target=save_b)
                    thread.start()
                    assert checked.wait(30)  # B's check has run, before A commits
                    a.commit()
                    thread.join(60)
                finally:
                    service.find_by_name = real  # type: ignore[assignment]
                assert not thread.is_alive()
                taken = outcome.get("taken")
                assert isinstance(taken, service.NameTaken), outcome
                assert (taken.segment_id, taken.name) == (mine.id, "Diwali")
            with engine.connect() as conn:
                assert conn.execute(sa.select(sa.func.count()).select_from(
                    Segment.__table__)).scalar_one() == 1
        finally:
            engine.dispose()


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_the_migration_renames_duplicates(dialect_name: str, tmp_path: Path) -> None:
    with fresh_database(dialect_name, tmp_path) as url:
        migrations.upgrade(url, "0011_more_uncounted_statuses")
        engine = create_db_engine(url)
        segment = sa.table("segment", sa.column("id"), sa.column("name"),
                           sa.column("rules", sa.JSON), sa.column("created_at"),
                           sa.column("updated_at"))
        names = ["Lapsed", "lapsed ", "VIP", " LAPSED", "Lapsed (2)", "vip", "Pune",
                 "x" * 200, "X" * 200]
        with engine.begin() as conn:
            conn.execute(segment.insert(), [
                {"id": i, "name": n, "rules": RULES, "created_at": WHEN,
                 "updated_at": WHEN} for i, n in enumerate(names, start=1)])
        with Session(engine) as s:  # a campaign pointing at a segment that is renamed
            s.add(Campaign(id=1, name="c", rules=RULES, segment_id=4,
                           message_template="hi", status="completed"))
            s.commit()
        migrations.upgrade(url)
        with engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT id, name FROM segment")).all())
            keys = dict(conn.execute(sa.text("SELECT id, name_key FROM segment")).all())
            assert conn.execute(sa.text("SELECT segment_id FROM campaign")).scalar_one() == 4
        # The oldest of each group keeps its name; the others are numbered in id order,
        # skipping "Lapsed (2)", which another segment already had.
        assert rows == {1: "Lapsed", 2: "lapsed (3)", 3: "VIP", 4: "LAPSED (4)",
                        5: "Lapsed (2)", 6: "vip (2)", 7: "Pune", 8: "x" * 200,
                        9: "X" * 196 + " (2)"}
        assert keys == {i: segment_name_key(n) for i, n in rows.items()}
        with Session(engine) as s, pytest.raises(service.NameTaken):
            service.save_segment(s, name="LAPSED (3)", rules=RULES)
        migrations.downgrade(url, "0011_more_uncounted_statuses")
        with engine.connect() as conn:
            assert "name_key" not in {c["name"] for c in sa.inspect(conn).get_columns(
                "segment")}
        migrations.upgrade(url)  # and again: nothing left to rename
        engine.dispose()
