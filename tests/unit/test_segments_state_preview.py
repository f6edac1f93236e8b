"""The rule builder's preview names a rule error (no database is asked for it)."""

from __future__ import annotations

from mini_crm.state.segment_answers import preview as _preview


def test_the_builder_preview_names_an_out_of_range_number() -> None:
    # Shown inline on the rule, never "An error occurred": the range check runs before
    # any statement reaches a driver.
    answer = _preview({"combinator": "and", "rules": [
        {"field": "total_spend", "operator": ">", "value": "99999999999999999999999"}]})
    assert answer["error_path"] == "rules[0]"
    assert "too large" in answer["error"] and "999,999,999,999.99" in answer["error"]


def test_the_builder_preview_shows_how_to_write_an_ambiguous_number() -> None:
    answer = _preview({"combinator": "and", "rules": [
        {"field": "total_spend", "operator": ">", "value": "5.000,00"}]})
    assert "write 5000.00" in answer["error"]
