"""core.text_checks: the one refusal of control characters in stored and compiled text."""

from __future__ import annotations

import pytest

from mini_crm.core.text_checks import ControlCharacterError, check_text, control_problem


@pytest.mark.parametrize("text,named", [("a\x00b", "a NUL character (U+0000)"),
                                        ("\x1b[31m", "the control character U+001B"),
                                        ("x\x7f", "the control character U+007F"),
                                        ("x\x85", "the control character U+0085"),
                                        ("a\tb", "a tab"),
                                        ("a\nb", "a line break"), ("a\rb", "a line break")])
def test_single_line_text_refuses_every_control_character(text: str, named: str) -> None:
    assert control_problem(text, "a segment name") == f"a segment name contains {named}; " \
        "remove it"
    with pytest.raises(ControlCharacterError, match="remove it"):
        check_text(text, "a segment name")


def test_multiline_text_keeps_tabs_and_line_breaks_but_not_nul() -> None:
    assert check_text("Hi {name},\n\tsee you\r\n", "the message", multiline=True)
    assert "NUL" in (control_problem("Hi\n\x00", "the message", multiline=True) or "")


@pytest.mark.parametrize("value", ["Zoë 李 ₹500 — “quoted”", "", None, 12])
def test_ordinary_text_and_non_text_pass(value: object) -> None:
    assert control_problem(value, "x") is None  # type: ignore[arg-type]
