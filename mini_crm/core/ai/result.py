"""What every AI feature answers: the value, which engine produced it and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

ENGINES = ("offline", "llm")


@dataclass
class AIResult(Generic[T]):
    value: T
    engine: str  # "offline" | "llm"
    # Why the engine that answered is not the one configured, e.g.
    # "LLM answer was invalid twice; offline engine answered". Empty when nothing odd happened.
    note: str = ""
