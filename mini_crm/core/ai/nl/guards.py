"""Guards over finished rules, whichever engine wrote them (the LLM's or the parser's).

The offline parser never writes these shapes (its extractors read the words), but an
LLM can answer the literal reading of a prompt, and the API must not pass it on silently:

- a text field compared with a word for "no value" ("phone = missing", "email is
  empty") is is_null (and "!= missing" / "= present" is_not_null): no one's phone is the
  word "missing";
- an email that ends with a bare provider name ("@gmail", "gmail") ends with the
  provider's domains (@gmail.com; @yahoo.com or @yahoo.co.in): no address ends "@gmail";
- a date or window that starts after today ("last ordered on or after 5 Jan 2027",
  "signed up after 31 Dec 2026", an order window in 2027) is a warning: it matches no
  one, as nl_future says for the parser ("… is in the future: no order can have been
  placed then"), so the builder asks before applying.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mini_crm.core.ai.nl.explain import phrase
from mini_crm.core.ai.nl.fields import ABSENT, PRESENT
from mini_crm.core.ai.nl.lexicon import COMMON_MAIL_DOMAINS, PROVIDER_ALIASES

TEXT_FIELDS = ("email", "phone", "name", "city")
_TIMES = {"last_order_at": "no order can have been placed then",
          "first_order_at": "no first order can have been placed then",
          "created_at": "no one can have signed up then"}
_WINDOWS = ("window_order_count", "window_spend")


def guard_rules(rules: dict[str, Any], today: date, email_domains: list[str]
                ) -> tuple[dict[str, Any], list[str]]:
    """The rules with the literal misreadings above rewritten, and the warnings about
    times in the future (sentences for the marketer). `email_domains` are the data's."""
    domains = list(dict.fromkeys([*(d.lower() for d in email_domains), *COMMON_MAIL_DOMAINS]))
    warnings: list[str] = []
    return _walk(rules, today, domains, warnings), warnings


def _walk(node: dict[str, Any], today: date, domains: list[str], warnings: list[str]
          ) -> dict[str, Any]:
    if "rules" in node:
        return {**node, "rules": [_walk(n, today, domains, warnings) for n in node["rules"]]}
    rule = _rewrite(node, domains)
    why = _future(rule, today)
    if why:
        line = f"“{phrase(rule)}” is in the future: {why}"
        if line not in warnings:
            warnings.append(line)
    return rule


def _rewrite(rule: dict[str, Any], domains: list[str]) -> dict[str, Any]:
    f, op, value = rule.get("field"), rule.get("operator"), rule.get("value")
    if f not in TEXT_FIELDS or not isinstance(value, str):
        return rule
    word = value.strip().lower()
    if op in ("=", "!=") and word in ABSENT | PRESENT:
        missing = (word in ABSENT) == (op == "=")
        return {"field": f, "operator": "is_null" if missing else "is_not_null"}
    if f == "email" and op in ("=", "ends_with") and "." not in word:
        label = PROVIDER_ALIASES.get(word.lstrip("@"), word.lstrip("@"))
        hits = [d for d in domains if d.split(".")[0] == label]
        if hits:
            rules = [{"field": "email", "operator": "ends_with", "value": "@" + d} for d in hits]
            return rules[0] if len(rules) == 1 else \
                {"combinator": "or", "not": False, "rules": rules}
    return rule


def _future(rule: dict[str, Any], today: date) -> str | None:
    """Why the rule can hold for no one because its time starts after today, or None."""
    f, op, value = rule.get("field"), rule.get("operator"), rule.get("value")
    if f in _WINDOWS:
        start = _day((rule.get("window") or {}).get("from"))
        return _TIMES["last_order_at"] if start and start > today else None
    if f not in _TIMES:
        return None
    low = value[0] if op == "between" and isinstance(value, list | tuple) and value else value
    day = _day(low)
    if day is None:
        return None
    if op in (">=", "=", "between") and day > today or op == ">" and day >= today:
        return _TIMES[f]
    return None


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
