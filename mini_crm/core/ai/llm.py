"""Structured JSON from any OpenAI-compatible endpoint, validated or refused.

The model's answer is only ever *data*: it is parsed as JSON and validated by a
pydantic schema (whose validators may apply domain checks such as the rules
schema). Invalid output is sent back once with the validation error; a second
invalid answer, a timeout, an HTTP error or missing configuration raise
`LLMUnavailable`, and callers fall back to the offline engine (see engine.py).
"""

from __future__ import annotations

import json
from typing import TypeVar

import openai
from pydantic import BaseModel, ValidationError

from mini_crm.settings import Settings, get_settings

M = TypeVar("M", bound=BaseModel)

# An answer longer than this is not a structured reply we asked for.
MAX_ANSWER_CHARS = 64_000
MAX_TOKENS = 2_000


class LLMUnavailable(Exception):
    """No usable LLM answer: not configured, timeout, HTTP error or invalid output twice."""


def is_configured(settings: Settings | None = None) -> bool:
    s = settings or get_settings()
    return bool(s.llm_base_url.strip() and s.llm_model.strip())


def client(settings: Settings) -> openai.OpenAI:
    # Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) accept any key; the
    # client insists on a non-empty one.
    return openai.OpenAI(base_url=settings.llm_base_url.strip(),
                         api_key=settings.llm_api_key or "not-needed",
                         timeout=settings.llm_timeout_seconds, max_retries=0)


def _system_prompt(system: str, schema: type[BaseModel]) -> str:
    return (f"{system}\n\nAnswer with one JSON object only, no prose and no code fences. "
            f"It must validate against this JSON Schema:\n"
            f"{json.dumps(schema.model_json_schema(), separators=(',', ':'))}")


def _short(err: ValidationError | ValueError) -> str:
    if isinstance(err, ValidationError):
        parts = []
        for e in err.errors()[:5]:
            loc = ".".join(str(p) for p in e.get("loc", ())) or "answer"
            parts.append(f"{loc}: {e.get('msg')}")
        return "; ".join(parts)
    return str(err)[:500]


def _validate(content: str | None, schema: type[M]) -> M:
    if not content or not content.strip():
        raise ValueError("the answer was empty")
    if len(content) > MAX_ANSWER_CHARS:
        raise ValueError(f"the answer was longer than {MAX_ANSWER_CHARS} characters")
    text = content.strip()
    # Some models wrap JSON in a fence despite being told not to; strip only that.
    if text.startswith("```"):
        text = text.strip("`")
        text = text[4:] if text.lower().startswith("json") else text
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer was not valid JSON ({exc.msg} at {exc.pos})") from exc
    if not isinstance(data, dict):
        raise ValueError("the answer was not a JSON object")
    return schema.model_validate(data)


def complete_json(system: str, user: str, schema: type[M], *,
                  settings: Settings | None = None) -> M:
    """Ask for a JSON object matching `schema`; retry once on invalid output.

    Raises LLMUnavailable with a short reason (shown to users in the engine note).
    """
    s = settings or get_settings()
    if not is_configured(s):
        raise LLMUnavailable("the LLM engine is not configured (LLM_BASE_URL is empty)")
    api = client(s)
    messages: list[dict[str, str]] = [
        {"role": "system", "content": _system_prompt(system, schema)},
        {"role": "user", "content": user}]
    last_error = ""
    for attempt in range(2):
        try:
            reply = api.chat.completions.create(
                model=s.llm_model, messages=messages,  # type: ignore[arg-type]
                response_format={"type": "json_object"}, temperature=0,
                max_tokens=MAX_TOKENS)
        except openai.APITimeoutError as exc:
            raise LLMUnavailable(
                f"the LLM did not answer within {s.llm_timeout_seconds:g} s") from exc
        except openai.APIConnectionError as exc:
            raise LLMUnavailable(
                f"could not reach the LLM endpoint at {s.llm_base_url.strip()}") from exc
        except openai.APIStatusError as exc:
            raise LLMUnavailable(f"the LLM endpoint answered HTTP {exc.status_code}") from exc
        except openai.APIError as exc:  # a malformed envelope and the like
            raise LLMUnavailable(f"the LLM endpoint failed ({type(exc).__name__})") from exc
        try:
            content = reply.choices[0].message.content if reply.choices else None
        except (AttributeError, IndexError, TypeError):
            content = None
        try:
            return _validate(content, schema)
        except (ValidationError, ValueError) as exc:
            last_error = _short(exc)
        if attempt == 0:
            messages += [
                {"role": "assistant", "content": (content or "")[:MAX_ANSWER_CHARS]},
                {"role": "user", "content": f"That answer was invalid: {last_error}. "
                 "Reply again with one JSON object that follows the schema exactly."}]
    raise LLMUnavailable(f"the LLM answer was invalid twice ({last_error})")
