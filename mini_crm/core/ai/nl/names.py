"""Names the data knows, found in a prompt: cities (with common old names and typos) and
custom-attribute values ("gold", "whatsapp", "Maharashtra", "25-34").

Matches are replaced by placeholders before tokenizing, so multi-word names ("New
Delhi", "google ads") and names with symbols ("55+") stay one token.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mini_crm.core.ai.nl.tokens import Mapped

# Old or colloquial names → the name a brand's data usually holds. Used only when the
# target city is in the data.
CITY_ALIASES = {
    "bombay": "mumbai", "bangalore": "bengaluru", "bengalooru": "bengaluru",
    "calcutta": "kolkata", "madras": "chennai", "gurgaon": "gurugram", "mysore": "mysuru",
    "trivandrum": "thiruvananthapuram", "vizag": "visakhapatnam", "baroda": "vadodara",
    "new delhi": "delhi", "poona": "pune", "cochin": "kochi", "benares": "varanasi",
    "banaras": "varanasi", "pondicherry": "puducherry", "mangalore": "mangaluru",
    "hubli": "hubballi", "belgaum": "belagavi", "simla": "shimla", "allahabad": "prayagraj",
    "dilli": "delhi", "dehli": "delhi", "bambai": "mumbai",  # Hindi name, common misspellings
    # and the other way, for data that keeps the old name
    "bengaluru": "bangalore", "mumbai": "bombay", "gurugram": "gurgaon", "kolkata": "calcutta",
}
# People words → attribute values, used only when such a value is in the data.
VALUE_ALIASES = {"women": "female", "woman": "female", "ladies": "female", "lady": "female",
                 "girls": "female", "females": "female", "men": "male", "man": "male",
                 "gents": "male", "guys": "male", "males": "male", "gentlemen": "male",
                 # language names → ISO 639-1 codes, for data that stores codes
                 "hindi": "hi", "marathi": "mr", "tamil": "ta", "telugu": "te",
                 "kannada": "kn", "malayalam": "ml", "bengali": "bn", "bangla": "bn",
                 "gujarati": "gu", "punjabi": "pa", "english": "en", "urdu": "ur",
                 "odia": "or", "oriya": "or", "assamese": "as"}


@dataclass(frozen=True)
class Name:
    field: str  # "city" or "attributes.<key>"
    value: Any  # as stored in the data


def _pattern(text: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s_]+", text.strip().lower()) if w]
    return r"[\s_-]+".join(words)


@lru_cache(maxsize=32)
def _regex(texts: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation of every name, longest first (compiled once per set of names)."""
    alternation = "|".join(_pattern(t) for t in texts)
    # a plural or an adverb counts too: "referrals", "acquired organically"
    return re.compile(rf"(?<![a-z0-9@.])(?:{alternation})(?:'?s|ally|ly)?(?![a-z0-9])")


def find_names(mapped: Mapped, cities: list[str], attribute_values: dict[str, list[Any]],
               reserved: set[str]) -> tuple[Mapped, dict[str, list[Name]]]:
    """Replace known names by placeholders; return the new text and what each one means.

    Attribute values that are also parser words (e.g. "email", "member") are left alone:
    they count only where their key is named ("preferred channel is email").
    """
    by_text: dict[str, list[Name]] = {}
    city_lower = {c.lower(): c for c in cities if c and c.strip()}
    for low, city in city_lower.items():
        by_text.setdefault(low, []).append(Name("city", city))
    for alias, target in CITY_ALIASES.items():
        if target in city_lower and alias not in city_lower:
            by_text.setdefault(alias, []).append(Name("city", city_lower[target]))
    for key, values in attribute_values.items():
        for v in values:
            if not isinstance(v, str) or len(v.strip()) < 2 or len(v) > 60:
                continue
            low = v.strip().lower()
            if low in reserved or low.replace("_", " ") in reserved or low.isdigit():
                continue
            by_text.setdefault(low, []).append(Name(f"attributes.{key}", v))
    lowered = {key: {str(v).lower(): v for v in values if isinstance(v, str)}
               for key, values in attribute_values.items()}
    for alias, target in VALUE_ALIASES.items():
        for key, by_lower in lowered.items():
            if target in by_lower and alias not in by_text:
                by_text.setdefault(alias, []).append(Name(f"attributes.{key}", by_lower[target]))
    # A city wins over an attribute value spelt the same (Delhi the city, Delhi the state).
    for low, names in by_text.items():
        if any(n.field == "city" for n in names):
            by_text[low] = [n for n in names if n.field == "city"][:1]

    spans: list[tuple[int, int, str]] = []
    meanings: dict[str, list[Name]] = {}
    taken: list[tuple[int, int]] = []
    if by_text:
        regex = _regex(tuple(sorted(by_text, key=len, reverse=True)))
        lookup = {re.sub(r"[\s_-]+", " ", t): names for t, names in by_text.items()}
        for m in regex.finditer(mapped.text):
            key = re.sub(r"[\s_-]+", " ", m.group())
            names = lookup.get(key) or lookup.get(re.sub(r"('?s|ally|ly)$", "", key))
            if not names:
                continue
            ph = f"\x00{len(meanings)}\x00"
            meanings[ph] = names
            spans.append((m.start(), m.end(), ph))
            taken.append((m.start(), m.end()))
    # Typos of city names ("Banglore", "Hydrabad"): close matches of longer words only.
    city_keys = [c for c in by_text if any(n.field == "city" for n in by_text[c])]
    for m in re.finditer(r"(?<![a-z0-9@.])[a-z]{5,}(?![a-z0-9])", mapped.text):
        if m.group() in reserved or any(s <= m.start() < e for s, e in taken):
            continue
        close = difflib.get_close_matches(m.group(), city_keys, n=1, cutoff=0.84)
        if close:
            ph = f"\x00{len(meanings)}\x00"
            meanings[ph] = by_text[close[0]]
            spans.append((m.start(), m.end(), ph))
    return mapped.replace(spans), meanings
