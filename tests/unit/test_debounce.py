"""One debounce for the state layer (state/debounce.settled): the search boxes, the
segment builder's live preview, the wizard's sample messages and the draft autosave each
do their work once, for the last edit of a burst, and nothing for the edits before it.

No clock is involved: `asyncio.sleep` is replaced by a function that plays "another key
arrived during the pause" (it bumps the counter, as the next edit's handler would)."""

from __future__ import annotations

from typing import Any

import pytest

import mini_crm.mini_crm  # noqa: F401 - registers every state, as in the running app
from mini_crm.state import debounce, segments, wizard_message, wizard_reads
from mini_crm.state.base import AppState
from mini_crm.state.campaign_wizard import CampaignWizardState
from mini_crm.state.segments import SegmentEditorState
from mini_crm.state.wizard_drafts import AUTOSAVE_SECONDS

USER = {"email": "m@brand.in", "name": "M", "role": "marketer", "id": 1}


class _Counter:
    """The least a state offers `settled`: a lock to enter and a counter field."""

    def __init__(self) -> None:
        self._generation = 4
        self.entered = 0

    async def __aenter__(self) -> _Counter:
        self.entered += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def _pause(monkeypatch: pytest.MonkeyPatch, state: Any, counter: str, seconds: float, *,
           key_during: bool) -> list[float]:
    """Replace the pause: it checks its length and, with `key_during`, plays a key."""
    slept: list[float] = []

    async def sleep(length: float) -> None:
        assert length == seconds
        slept.append(length)
        if key_during:
            setattr(state, counter, getattr(state, counter) + 1)

    monkeypatch.setattr(debounce.asyncio, "sleep", sleep)
    return slept


@pytest.mark.asyncio
async def test_settled_answers_the_last_edit_and_not_an_earlier_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    state = _Counter()
    slept = _pause(monkeypatch, state, "_generation", 0.3, key_during=True)
    assert await debounce.settled(state, "_generation", 0.3) is None
    assert slept == [0.3] and state.entered == 2  # read under the lock, before and after

    _pause(monkeypatch, state, "_generation", 0.3, key_during=False)
    assert await debounce.settled(state, "_generation", 0.3) == 5


@pytest.mark.asyncio
async def test_settled_does_not_wait_when_the_state_is_not_ready(
        monkeypatch: pytest.MonkeyPatch) -> None:
    state = _Counter()
    slept = _pause(monkeypatch, state, "_generation", 0.3, key_during=False)
    assert await debounce.settled(state, "_generation", 0.3, ready=lambda: False) is None
    assert slept == [] and state.entered == 1
    assert await debounce.settled(state, "_generation", 0.3, ready=lambda: True) == 4


@pytest.mark.asyncio
async def test_a_signed_out_tab_gets_no_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AppState, "_current_user", lambda self: None)
    monkeypatch.setattr(segments, "preview", lambda rules: pytest.fail("queried"))
    editor = SegmentEditorState(_reflex_internal_init=True)
    slept = _pause(monkeypatch, editor, "_generation", segments.PREVIEW_DEBOUNCE_SECONDS,
                   key_during=False)
    await SegmentEditorState.refresh_preview.fn(editor)
    assert slept == [] and not editor.previewing


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AppState, "_current_user", lambda self: dict(USER))


RULES = {"combinator": "and", "not": False, "rules": [
    {"field": "total_spend", "operator": ">", "value": 5000}]}


@pytest.mark.asyncio
@pytest.mark.parametrize("key_during", [True, False])
async def test_the_live_preview_queries_only_for_the_last_edit(
        monkeypatch: pytest.MonkeyPatch, signed_in: None, key_during: bool) -> None:
    asked: list[dict[str, Any]] = []

    def preview(rules: dict[str, Any]) -> dict[str, Any]:
        asked.append(rules)
        return {"error": "", "error_path": "", "size": 12, "sentence": "s", "total": 40,
                "unknown_cities": [],
                "sample": []}

    monkeypatch.setattr(segments, "preview", preview)
    editor = SegmentEditorState(_reflex_internal_init=True)
    _pause(monkeypatch, editor, "_generation", segments.PREVIEW_DEBOUNCE_SECONDS,
           key_during=key_during)
    await SegmentEditorState.refresh_preview.fn(editor)
    if key_during:
        assert asked == [] and not editor.previewing
    else:
        assert len(asked) == 1 and editor.size == 12 and not editor.previewing


@pytest.mark.asyncio
@pytest.mark.parametrize("key_during", [True, False])
async def test_the_sample_messages_render_only_for_the_last_edit(
        monkeypatch: pytest.MonkeyPatch, signed_in: None, key_during: bool) -> None:
    rendered: list[str] = []

    def render_samples(rules: dict[str, Any], template: str, channel: str,
                       subject: str = "", preheader: str = "") -> list[dict[str, str]]:
        rendered.append(template)
        return [{"name": "Asha", "text": template}]

    monkeypatch.setattr(wizard_reads, "render_samples", render_samples)
    wizard = CampaignWizardState(_reflex_internal_init=True)
    wizard._rules, wizard.template = RULES, "Hi {first_name}"
    _pause(monkeypatch, wizard, "_generation", wizard_message.PREVIEW_DEBOUNCE_SECONDS,
           key_during=key_during)
    await CampaignWizardState.refresh_samples.fn(wizard)
    if key_during:
        assert rendered == [] and wizard.samples == []
    else:
        assert rendered == ["Hi {first_name}"] and wizard.samples[0]["name"] == "Asha"


@pytest.mark.asyncio
@pytest.mark.parametrize("key_during", [True, False])
async def test_the_draft_saves_only_after_the_last_edit(
        monkeypatch: pytest.MonkeyPatch, key_during: bool) -> None:
    saves: list[int | None] = []

    async def save_draft(self: Any, generation: int | None) -> None:
        saves.append(generation)

    monkeypatch.setattr(CampaignWizardState, "_save_draft", save_draft)
    wizard = CampaignWizardState(_reflex_internal_init=True)
    wizard._autosave_generation = 7
    _pause(monkeypatch, wizard, "_autosave_generation", AUTOSAVE_SECONDS,
           key_during=key_during)
    events = [e async for e in CampaignWizardState.autosave.fn(wizard)]
    assert events == []
    assert saves == ([] if key_during else [7])
