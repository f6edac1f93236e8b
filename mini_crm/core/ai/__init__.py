"""AI features behind one interface: an LLM engine and an offline engine.

- `result.AIResult`: what every AI feature returns (value, which engine answered, note);
- `llm.complete_json` / `llm.LLMUnavailable`: structured JSON from an OpenAI-compatible
  endpoint, validated by a pydantic schema (retried once, then refused);
- `engine.run(llm, offline)`: picks the engine from settings and falls back to offline;
- `nl.parse` (package `nl/`): the offline plain-English → rules parser;
- `segment_rules.segment_rules`: plain English → rules through either engine.

Nothing here imports Reflex or FastAPI.
"""
