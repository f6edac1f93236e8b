"""Errors the campaign core raises; the API and UI turn them into messages."""

from __future__ import annotations


class CampaignError(ValueError):
    """A campaign that cannot be created or changed; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CampaignNotFound(LookupError):
    pass
