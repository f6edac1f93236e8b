"""The wizard's "Test message variants (A/B)" section: variant A is the message typed
above; B-D are added here (or from an AI suggestion), with the test share, the test
period and the metric the winner is picked by. Checking is core/campaigns/ab_test's
own (the same sentences the API answers with)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventHandler

from mini_crm.core.campaigns import ab_test
from mini_crm.core.campaigns.errors import CampaignError
from mini_crm.state.base import AppState

SHARES = ["10", "20", "30", "40", "50", "100"]
MAX_EXTRA = ab_test.MAX_VARIANTS - 1  # variant A is the main message

# The wizard's handlers this section answers with, registered by campaign_wizard as it
# is built (`answer_to`): it imports this module, so this one cannot import it back.
_WIZARD: dict[str, EventHandler] = {}


def answer_to(note_edit: EventHandler, use_suggestion: EventHandler) -> None:
    """The wizard's handlers: `note_edit()` after every change of this section (its
    draft autosave), `use_suggestion(text)` for an AI suggestion taken as variant A
    (the wizard's main message)."""
    _WIZARD.update(note_edit=note_edit, use_suggestion=use_suggestion)


class VariantsState(AppState):
    enabled: bool = False
    extra: list[str] = []  # the messages of variants B, C, D
    subjects: list[str] = []  # email: their subject lines ("" = the campaign's)
    test_share: str = "20"
    test_hours: str = "24"
    metric: str = "conversion"
    error: str = ""
    # Bumped when the server replaces or moves typed text: the boxes (text_field, keyed
    # by it and the row) then show the server's copy.
    rev: int = 0
    # The review's audience: recipients a launch would reach now (-1: not counted yet)
    # and the holdout chosen, set by the wizard's reach count and HoldoutState.
    eligible: int = -1
    holdout_percent: int = 0

    @rx.var
    def keys(self) -> list[str]:
        return [ab_test.KEYS[i + 1] for i in range(len(self.extra))]

    @rx.var
    def can_add(self) -> bool:
        return len(self.extra) < MAX_EXTRA

    @rx.var
    def summary(self) -> str:
        if not self.enabled:
            return "Off: everyone gets the same message."
        n = len(self.extra) + 1
        when = (f"all at once; the winner is named after {self.test_hours} h"
                if self.test_share == "100" else
                # Exact: the launch deals the share out by rank (core/campaigns/split).
                f"{self.test_share}% of recipients first, split evenly; the rest gets the "
                "winner "
                f"after {self.test_hours} h")
        return f"{n} variants, {when}, by {self.metric} rate."

    @rx.var
    def test_warning(self) -> str:
        """The review's warning when each variant would likely get fewer than the 100
        people an automatic winner needs (ab_test.small_test_warning); "" otherwise."""
        if not self.enabled or self.eligible < 0:
            return ""
        share = int(self.test_share) if self.test_share.isdigit() else 100
        return ab_test.small_test_warning(self.eligible, len(self.extra) + 1, share,
                                          self.holdout_percent) or ""

    def note_audience(self, eligible: int, holdout_percent: int) -> None:
        """The review's audience count and holdout (from the wizard and HoldoutState)."""
        self.eligible, self.holdout_percent = int(eligible), int(holdout_percent)

    @rx.var
    def review_rows(self) -> list[dict[str, str]]:
        """Variants B-D as the review lists them: {"key", "message", "subject"}
        (subject "" = the campaign's own)."""
        if not self.enabled:
            return []
        subjects = self.subjects + [""] * (len(self.extra) - len(self.subjects))
        return [{"key": ab_test.KEYS[i + 1], "message": t, "subject": s.strip()}
                for i, (t, s) in enumerate(zip(self.extra, subjects, strict=False))]

    def _edited(self) -> EventHandler:
        """A change the wizard's draft autosave should pick up."""
        return _WIZARD["note_edit"]

    def restore(self, variants: list[dict[str, Any]] | None,
                settings: dict[str, Any] | None) -> None:
        """A saved draft's variants (A is the wizard's message) and test settings."""
        self.reset_variants()
        if not variants:
            return
        settings = {**ab_test.DEFAULT_TEST, **(settings or {})}
        self.enabled = True
        self.extra = [str(v.get("message") or "") for v in variants[1:]][:MAX_EXTRA]
        self.subjects = [str(v.get("subject") or "") for v in variants[1:]][:MAX_EXTRA]
        share = str(settings["test_percent"])
        self.test_share = share if share in SHARES else "20"
        self.test_hours = str(settings["test_hours"])
        self.metric = str(settings["metric"])

    def draft_fields(self, template: str, channel: str) -> dict[str, Any]:
        """What a draft keeps of this section as typed (checked in full at launch)."""
        if not self.enabled:
            return {"variants": None, "ab_test": None}
        return {"variants": [{"message": template}, *self._extra_variants(channel)],
                "ab_test": {"test_percent": int(self.test_share),
                            "test_hours": int(self.test_hours)
                            if self.test_hours.isdigit() else None,
                            "metric": self.metric}}

    def _extra_variants(self, channel: str) -> list[dict[str, Any]]:
        subjects = self.subjects + [""] * (len(self.extra) - len(self.subjects))
        return [{"message": t, **({"subject": s.strip()} if s.strip() and channel == "email"
                                  else {})} for t, s in zip(self.extra, subjects, strict=False)]

    def reset_variants(self) -> None:
        self.enabled, self.extra, self.subjects, self.error = False, [], [], ""
        self.rev += 1
        self.test_share, self.test_hours, self.metric = "20", "24", "conversion"

    def set_enabled(self, value: bool):
        self.enabled, self.error = bool(value), ""
        if self.enabled and not self.extra:
            self.extra, self.subjects = [""], [""]
        return self._edited()

    def add_variant(self):
        if len(self.extra) >= MAX_EXTRA:
            self.error = f"At most {ab_test.MAX_VARIANTS} variants: remove one first."
            return None
        self.extra, self.subjects = [*self.extra, ""], [*self._padded(), ""]
        self.error = ""
        return self._edited()

    def remove_variant(self, index: int):
        self.subjects = [t for i, t in enumerate(self._padded()) if i != index]
        self.extra = [t for i, t in enumerate(self.extra) if i != index]
        self.error = ""
        self.rev += 1  # the rows after it move up
        return self._edited()

    def set_variant(self, index: int, text: str):
        self.extra = [text if i == index else t for i, t in enumerate(self.extra)]
        self.error = ""
        return self._edited()

    def _padded(self) -> list[str]:
        return (self.subjects + [""] * len(self.extra))[:len(self.extra)]

    def set_subject(self, index: int, text: str):
        self.subjects = [text if i == index else t for i, t in enumerate(self._padded())]
        self.error = ""
        return self._edited()

    def use_as_variant(self, text: str, message: str = ""):
        """An AI suggestion becomes the next variant: A (the main message, `message` as
        typed) when it is still empty, else the first empty one of B-D, or a new one."""
        if not message.strip():
            self.enabled, self.error = True, ""
            if not self.extra:
                self.extra, self.subjects = [""], [""]
            return _WIZARD["use_suggestion"](text)
        self.enabled = True
        if "" in self.extra:
            i = self.extra.index("")
            self.extra = [text if j == i else t for j, t in enumerate(self.extra)]
            self.rev += 1
        elif len(self.extra) < MAX_EXTRA:
            self.extra, self.subjects = [*self.extra, text], [*self._padded(), ""]
        else:
            self.error = f"At most {ab_test.MAX_VARIANTS} variants: remove one first."
            return None
        self.error = ""
        return self._edited()

    def set_test_share(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) else value
        self.test_share = value if value in SHARES else "20"
        return self._edited()

    def set_test_hours(self, value: str):
        self.test_hours = "".join(c for c in str(value) if c.isdigit())[:3]
        if self.test_hours != value:  # the box shows what was kept
            self.rev += 1
        self.error = ""
        return self._edited()

    def set_metric(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) else value
        self.metric = value if value in ("conversion", "delivery") else "conversion"
        return self._edited()

    def fields(self, template: str, channel: str) -> dict[str, Any]:
        """{"variants": [...] | None, "ab_test": {...} | None} for the launch; raises
        CampaignError (the core's sentence) when the section is on and not valid."""
        if not self.enabled:
            return {"variants": None, "ab_test": None}
        variants = [{"message": template}, *self._extra_variants(channel)]
        checked = ab_test.check_variants(variants, channel)
        settings = ab_test.check_settings(
            {"test_percent": int(self.test_share),
             "test_hours": int(self.test_hours) if self.test_hours.isdigit() else 0,
             "metric": self.metric}, checked)
        return {"variants": [{"message": v["message"],
                              **({"subject": v["subject"]} if v["subject"] else {})}
                             for v in checked or []],
                "ab_test": settings}

    def check(self, template: str, channel: str) -> bool:
        """Validate for the wizard's step check; the error shows under the section."""
        try:
            self.fields(template, channel)
        except CampaignError as exc:
            self.error = exc.message[:1].upper() + exc.message[1:] + "."
            return False
        self.error = ""
        return True
