"""Dates as Indian (and US) users type them: DATE_ORDER (default DMY) reads "29/11/2026"
in CSV imports and in rule values, one parser (brand_time.parse_people_date); an
impossible slashed date is an error saying why; the JSON API stays ISO 8601 only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mini_crm.core import brand_time
from mini_crm.core.ingestion import csv_import
from mini_crm.core.segments import RulesError, parse_rules
from mini_crm.models import Customer, Order
from mini_crm.settings import get_settings


@pytest.fixture
def mdy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATE_ORDER", "MDY")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("DATE_ORDER")
    get_settings.cache_clear()


def test_a_csv_reads_day_month_year_and_says_why_one_is_impossible(
        app_settings: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Order ID,Customer,Total,Order Date\n"
                    "o1,c1,10,29/11/2025\n"
                    "o2,c1,10,05-06-2025 13:30\n"
                    "o3,c1,10,11/29/2025\n"
                    "o4,c1,10,31/02/2025\n"
                    "o5,c1,10,2025-01-02\n")
    report = csv_import.process(path, "orders", {
        "external_id": "Order ID", "customer_external_id": "Customer", "amount": "Total",
        "ordered_at": "Order Date"}, write=True)
    assert report.imported == 3
    assert [(e["row"], e["field"]) for e in report.errors] == [(4, "ordered_at"),
                                                             (5, "ordered_at")]
    assert report.errors[0]["message"] == (
        "Order Date: 11/29/2025 is not a date (there is no month 29 in day/month/year "
        "order, DATE_ORDER=DMY); write day/month/year (e.g. 29/11/2026) or 2026-11-29")
    assert report.errors[1]["message"].endswith(
        "is not a date (February has 28 days in 2025)")
    with Session(app_settings) as s:
        days = {ext: brand_time.local_date(at) for ext, at in
                s.exec(select(Order.external_id, Order.ordered_at)).all()}
        assert days == {"o1": date(2025, 11, 29), "o2": date(2025, 6, 5),
                        "o5": date(2025, 1, 2)}
        at = s.exec(select(Order.ordered_at).where(Order.external_id == "o2")).one()
        assert brand_time.local_time(at).strftime("%H:%M") == "13:30"


def test_month_day_year_when_the_setting_says_so(app_settings: sa.Engine, tmp_path: Path,
                                                 mdy: None) -> None:
    path = tmp_path / "people.csv"
    path.write_text("id,created_at\nc1,11/29/2025\nc2,29/11/2025\n")
    report = csv_import.process(path, "customers", {"external_id": "id",
                                                    "created_at": "created_at"}, write=True)
    assert report.imported == 1
    assert "in month/day/year order, DATE_ORDER=MDY" in report.errors[0]["message"]
    with Session(app_settings) as s:
        at = s.exec(select(Customer.created_at).where(Customer.external_id == "c1")).one()
        assert brand_time.local_date(at) == date(2025, 11, 29)


def test_rule_values_read_the_same_way() -> None:
    def day(value: object) -> object:
        return parse_rules({"combinator": "and", "rules": [
            {"field": "last_order_at", "operator": "=", "value": value}]}).rules[0].value

    assert day("29/11/2026") == day("2026-11-29") == date(2026, 11, 29)
    with pytest.raises(RulesError, match="no month 29"):
        day("11/29/2026")
    between = parse_rules({"combinator": "and", "rules": [
        {"field": "created_at", "operator": "between", "value": ["01/11/2026", "30/11/2026"]}]})
    assert between.rules[0].value == (date(2026, 11, 1), date(2026, 11, 30))
    window = parse_rules({"combinator": "and", "rules": [
        {"field": "window_order_count", "operator": ">", "value": 0,
         "window": {"from": "01/11/2026", "to": "2026-11-30"}}]}).rules[0].window
    assert (window.first, window.last) == (date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(RulesError, match=r"is not a date \(November has 30 days in 2026\)"):
        parse_rules({"combinator": "and", "rules": [
            {"field": "window_order_count", "operator": ">", "value": 0,
             "window": {"from": "01/11/2026", "to": "31/11/2026"}}]})


def test_the_api_stays_iso_8601(api: TestClient, make_key) -> None:
    key = make_key("ingest")
    r = api.post("/api/v1/customers", headers=key, json={
        "external_id": "c9", "created_at": "29/11/2025"})
    assert r.status_code == 202 and r.json()["accepted"] == 0, r.text
    assert "ISO 8601" in r.json()["errors"][0]["message"]
