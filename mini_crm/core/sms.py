"""How many SMS a text costs: GSM-7 or UCS-2, and the segments of a long message.

Carriers bill per segment, not per character. A text made only of the GSM 03.38
alphabet travels as 7-bit septets: 160 in one SMS, 153 per segment once it needs
several (the rest is the concatenation header), and the extension characters
(``^{}[]~|\\€`` and form feed) take two septets each. One character outside that
alphabet — "₹", "’", an emoji, any Devanagari — turns the whole message into UCS-2:
70 UTF-16 units in one SMS, 67 per segment. Segments never split an escape pair or
a surrogate pair, so both are packed character by character.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int  # 0 for an empty text
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    unicode_chars: str  # the characters that forced UCS-2, in order of first use

    @property
    def single_limit(self) -> int:
        return GSM_SINGLE if self.encoding == "GSM-7" else UCS2_SINGLE

    def describe(self) -> str:
        """E.g. "2 SMS (Unicode because of “₹”: 70 characters per SMS, not 160)"."""
        count = f"{self.segments} SMS"
        if self.encoding == "GSM-7":
            return count
        shown = "".join(self.unicode_chars[:3]) + ("…" if len(self.unicode_chars) > 3 else "")
        return f"{count} (Unicode because of “{shown}”: 70 characters per SMS, not 160)"


def _cost(ch: str, gsm: bool) -> int:
    if gsm:
        return 2 if ch in GSM_EXTENDED else 1
    return 2 if ord(ch) > 0xFFFF else 1  # a surrogate pair in UTF-16


def sms_length(text: str) -> SmsLength:
    """The encoding, segment count and size of `text` as one SMS message."""
    unicode_chars = "".join(dict.fromkeys(
        ch for ch in text if ch not in GSM_BASIC and ch not in GSM_EXTENDED))
    gsm = not unicode_chars
    single, part = (GSM_SINGLE, GSM_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    costs = [_cost(ch, gsm) for ch in text]
    units = sum(costs)
    if units <= single:
        segments = 1 if units else 0
    else:
        segments, used = 1, 0
        for cost in costs:
            if used + cost > part:
                segments, used = segments + 1, 0
            used += cost
    return SmsLength("GSM-7" if gsm else "UCS-2", segments, units, unicode_chars)
