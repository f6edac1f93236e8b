"""The rule fields' own words (`FieldSpec.words`), read from the field registry in use.

The grammar's words about several fields (ordering, negation, filler …) are in `vocab`;
a word that names one field is on that field's spec in core/segments/fields.py, so a
field added there is read by the parser with no change here.
"""

from __future__ import annotations

from collections.abc import Iterable

from mini_crm.core.segments.fields import FieldSpec, registry


def words_of(name: str) -> frozenset[str]:
    """A field's single words (a several-word entry's words not included)."""
    spec = registry().get(name)
    return frozenset(w for w in spec.words if " " not in w) if spec else frozenset()


def every_word() -> set[str]:
    """Every word any field's entry uses: words the grammar reserves."""
    return {part for spec in registry().values() for w in spec.words for part in w.split()}


def text_fields() -> dict[str, str]:
    """Word → the text field it names ("mobile" → "phone")."""
    return {w: spec.name for spec in registry().values() if spec.kind == "text"
            for w in spec.words if " " not in w}


def names(spec: FieldSpec, words: Iterable[str]) -> bool:
    """Do a clause's words name the field: one of its words, or all words of an entry?"""
    present = set(words)
    return any(set(w.split()) <= present for w in spec.words)


def mentions(spec: FieldSpec, words: list[str]) -> list[int]:
    """Indices of the words (a clause's, in order) that name the field."""
    present = set(words)
    named = {part for w in spec.words if set(w.split()) <= present for part in w.split()}
    return [i for i, x in enumerate(words) if x in named]


def money_fields() -> list[FieldSpec]:
    """The number fields counted in ₹, in catalogue order: an amount with none of their
    words ("over ₹5K") is the first one's (total spend)."""
    return [s for s in registry().values() if s.kind == "number" and s.unit == "money"]


def time_pairs() -> list[tuple[FieldSpec, FieldSpec]]:
    """(days field, date field) on the same column, in catalogue order: a period in a
    clause ("in the last 30 days") is the days field's, a date ("since March") the date
    field's."""
    fields = list(registry().values())
    out = []
    for d in (f for f in fields if f.kind == "days"):
        twin = next((t for t in fields if t.kind == "date" and t.column is d.column), None)
        if twin is not None:
            out.append((d, twin))
    return out
