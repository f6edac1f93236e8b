"""“Did you mean Mumbai?”: the known name a typed one most likely meant.

One function for every place that offers a near miss: the rule builder's city boxes
(core/segments/list_values, state/segments) and the plain-English parser's warnings
(core/ai/nl/near_misses). They differ only in how close a match must be, which each
caller passes as `cutoff` (difflib's ratio, 0..1; stdlib):

- the rule builder uses 0.6 (difflib's own default): the text was typed into a city box
  and no customer lives there, so it surely meant some city, and the guess is only a
  button the marketer clicks ("Mumbay" → "Mumbai" is 0.83, "Pue" → "Pune" 0.86, "Goa" →
  "Agra" 0.57: no offer);
- the parser uses 0.75 (one letter in four): the word is any unused word of free text,
  and a looser match would flag ordinary words as misspelt places.

Names compare case-insensitively (as the segment rules do), and the answer is the known
name in its own spelling.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(value: str, known: Iterable[str], cutoff: float) -> str:
    """The name of `known` that `value` most likely meant (difflib ratio at least
    `cutoff`, compared case-folded), in the spelling `known` has it; "" when `value` is
    blank, is itself a known name (in any case), or is near none. Of two known names
    that differ only in case, the first one given is the answer."""
    value = (value or "").strip()
    folded: dict[str, str] = {}
    for name in known:
        if name:
            folded.setdefault(name.casefold(), name)
    if not value or not folded or value.casefold() in folded:
        return ""
    close = difflib.get_close_matches(value.casefold(), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else ""
