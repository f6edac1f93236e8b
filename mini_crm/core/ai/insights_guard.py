"""The insights LLM's guard: its text may quote only numbers that are in the figures.

An LLM asked to write a campaign report may invent a rate or a count. Its answer is
validated against every number the figures hold (within rounding: 86.12 % may be quoted
as 86 or 86.1; numbers under 10 are not checked, being mostly words like "2 groups"), and
a refused answer goes back to the model with the reason (llm.complete_json retries).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, field_validator

_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")


def allowed_numbers(figures: Any) -> set[float]:
    """Every number the figures (JSON-like: dicts, lists, numbers, strings) hold, as
    counts, percentages and points, rounded to 2 places."""
    found: set[float] = set()

    def walk(value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int | float):
            found.add(round(float(value), 2))
            if isinstance(value, float) and abs(value) <= 1:
                found.add(round(value * 100, 1))
                found.add(float(round(value * 100)))
            found.add(round(abs(float(value)), 2))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            for m in _NUMBER.finditer(value):
                found.add(round(float(m.group(0).replace(",", "")), 2))

    walk(figures)
    return found


def unsupported_numbers(text: str, allowed: set[float]) -> list[str]:
    """Numbers (10 and over) in `text` that match no figure within rounding."""
    bad = []
    for m in _NUMBER.finditer(text):
        value = float(m.group(0).replace(",", ""))
        if value < 10:
            continue
        if not any(abs(value - a) <= 0.6 for a in allowed):
            bad.append(m.group(0))
    return bad


def answer_schema(allowed: set[float], max_highlights: int) -> type[BaseModel]:
    """The LLM's answer (a summary and up to `max_highlights` highlights), refused with a
    reason the model is shown on retry when it quotes a number not in the figures."""

    class InsightsAnswer(BaseModel):
        summary: str = Field(min_length=20, max_length=1500)
        highlights: list[str] = Field(default_factory=list, max_length=max_highlights)

        @field_validator("summary")
        @classmethod
        def _summary_figures(cls, text: str) -> str:
            bad = unsupported_numbers(text, allowed)
            if bad:
                raise ValueError(f"the summary quotes {', '.join(bad[:5])}, which are not in "
                                 "the figures; quote only the figures given")
            return " ".join(text.split())

        @field_validator("highlights")
        @classmethod
        def _highlight_figures(cls, items: list[str]) -> list[str]:
            out = []
            for text in items:
                if len(text) > 300:
                    raise ValueError("a highlight is at most 300 characters")
                bad = unsupported_numbers(text, allowed)
                if bad:
                    raise ValueError(f"a highlight quotes {', '.join(bad[:5])}, which are not "
                                     "in the figures")
                out.append(" ".join(text.split()))
            return out

    return InsightsAnswer
