"""Offline message suggestions use the objective's own words, one feeling per message,
and a note in the marketer's words (a tester's winter sale was never mentioned)."""

import itertools
import re

import pytest

from mini_crm.core.ai import messages as m

PUNE_LAPSED = m.AudienceFacts(size=120, avg_spend=15000, avg_orders=3, lapsed_share=0.8,
                              top_city="Pune", top_city_share=1.0)
NEW = m.AudienceFacts(size=40, never_share=0.9, recent_share=0.0)


@pytest.mark.parametrize(("objective", "words"), [
    ("Bring Pune shoppers back for the winter sale", ["winter sale"]),
    ("Monsoon sale on raincoats, 20% off", ["Monsoon sale"]),
    ("Clearance: everything must go", ["Clearance"]),
    ("Diwali sale: flat ₹500 off on silk sarees till Sunday, code DIWALI500",
     ["Diwali sale"]),
    ("Winter sale this Diwali, 20% off", ["Winter sale", "Diwali"]),
    ("Win back lapsed big spenders with 20% off", ["20% off"]),
    ("Wish everyone a happy Holi", ["Holi"]),
])
@pytest.mark.parametrize("tone", m.TONES)
def test_every_variant_uses_the_objectives_own_words(objective: str, words: list[str],
                                                     tone: str) -> None:
    obj = m.read_objective(objective)
    for facts in (PUNE_LAPSED, NEW):
        variants = m.offline_messages(obj, tone, facts, "sms", 3)
        assert len(variants) == 3
        for v in variants:
            assert any(w.lower() in v.text.lower() for w in words), (objective, v.text)
            # The note: the kind of message and what of the objective it mentions, in
            # words; no developer read-out ("intent win-back", "read from the objective").
            assert v.rationale.startswith(m.INTENT_LABELS[obj.intent])
            assert "mentions " in v.rationale
            assert "intent" not in v.rationale and "read from" not in v.rationale


def test_the_occasion_is_read_as_written() -> None:
    read = {text: m.read_objective(text).occasion for text in (
        "Bring Pune shoppers back for the winter sale", "20% off sale", "Diwali sale: ₹500 off",
        "end of season sale", "Thank our loyal customers")}
    assert read == {"Bring Pune shoppers back for the winter sale": "winter sale",
                    "20% off sale": "sale", "Diwali sale: ₹500 off": "Diwali sale",
                    "end of season sale": "season sale", "Thank our loyal customers": ""}


FEELINGS = ("love", "thank", "miss", "welcome", "see you", "a while")


@pytest.mark.parametrize("tone", m.TONES)
def test_no_feeling_is_said_twice_in_one_message(tone: str) -> None:
    objectives = ["Bring Pune shoppers back for the winter sale", "Thank our loyal customers",
                  "Welcome new signups", "Win back lapsed customers", "Ask for reviews"]
    for objective, facts in itertools.product(objectives, (PUNE_LAPSED, NEW)):
        for v in m.offline_messages(m.read_objective(objective), tone, facts, "sms", 5):
            low = v.text.lower()
            for word in FEELINGS:
                assert len(re.findall(re.escape(word), low)) <= 1, (word, v.text)


def test_different_occasions_give_different_messages() -> None:
    a = m.offline_messages(m.read_objective("Bring shoppers back for the winter sale"),
                           "friendly", NEW, "sms", 3)
    b = m.offline_messages(m.read_objective("Bring shoppers back for the monsoon sale"),
                           "friendly", NEW, "sms", 3)
    assert all("winter sale" in v.text for v in a)
    assert all("monsoon sale" in v.text for v in b)
    assert not {v.text for v in a} & {v.text for v in b}
