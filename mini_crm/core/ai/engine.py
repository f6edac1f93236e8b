"""Choose the engine for one AI request and fall back to offline, saying why."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from mini_crm.core.ai.llm import LLMUnavailable, is_configured
from mini_crm.core.ai.result import AIResult
from mini_crm.settings import Settings, get_settings

T = TypeVar("T")


def run(llm: Callable[[], T] | None, offline: Callable[[], T], *,
        settings: Settings | None = None) -> AIResult[T]:
    """The LLM's answer when AI_ENGINE=llm and it is configured, else the offline one.

    `llm` raises LLMUnavailable for anything that is not a usable answer (timeout,
    HTTP error, invalid output twice); the offline engine then answers and the
    note says why, so the UI can show it.
    """
    s = settings or get_settings()
    if llm is None or s.ai_engine != "llm":
        return AIResult(offline(), "offline")
    if not is_configured(s):
        return AIResult(offline(), "offline",
                        note="AI_ENGINE is llm but LLM_BASE_URL is not set; "
                             "offline engine answered")
    try:
        return AIResult(llm(), "llm")
    except LLMUnavailable as exc:
        return AIResult(offline(), "offline", note=f"{_capital(str(exc))}; offline engine answered")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else "The LLM engine failed"
