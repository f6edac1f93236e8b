"""SMS segments: GSM-7 vs UCS-2, the 160/153 and 70/67 limits, pairs never split."""

from __future__ import annotations

import pytest

from mini_crm.core.sms import sms_length


@pytest.mark.parametrize(("text", "encoding", "segments", "units"), [
    ("", "GSM-7", 0, 0),
    ("Hi Asha, your order is on its way!", "GSM-7", 1, 34),
    ("a" * 160, "GSM-7", 1, 160),
    ("a" * 161, "GSM-7", 2, 161),  # 153 + 8
    ("a" * 306, "GSM-7", 2, 306),
    ("a" * 307, "GSM-7", 3, 307),
    ("€" * 80, "GSM-7", 1, 160),  # extension characters cost two septets
    ("€" * 81, "GSM-7", 2, 162),  # 76 pairs (152) fit a segment; the 77th moves on
    ("₹" + "a" * 69, "UCS-2", 1, 70),
    ("₹" + "a" * 70, "UCS-2", 2, 71),  # 67 + 4
    ("😀" * 35, "UCS-2", 1, 70),  # surrogate pairs: two UTF-16 units each
    ("😀" * 34 + "a" * 3, "UCS-2", 2, 71),
])
def test_encoding_segments_and_units(text: str, encoding: str, segments: int,
                                     units: int) -> None:
    got = sms_length(text)
    assert (got.encoding, got.segments, got.units) == (encoding, segments, units)


def test_escape_and_surrogate_pairs_are_never_split() -> None:
    # 152 septets of "a", then one "€" (2) cannot fit the 153rd: a third segment opens.
    assert sms_length("a" * 152 + "€" + "a" * 152 + "€").segments == 3
    assert sms_length("a" * 66 + "😀" + "a" * 66 + "😀").segments == 3


def test_the_characters_that_force_unicode_are_named() -> None:
    got = sms_length("Hi Ravi, you’ve spent ₹12,450 with us")
    assert got.unicode_chars == "’₹"
    assert got.single_limit == 70
    assert got.describe() == ("1 SMS (Unicode because of “’₹”: 70 characters per SMS, "
                              "not 160)")
    assert sms_length("Hi Ravi, Rs. 12,450").describe() == "1 SMS"
