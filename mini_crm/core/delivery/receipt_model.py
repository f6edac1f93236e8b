"""A delivery receipt: as the vendor posts it (`ReceiptIn`) and as it is kept while it
waits to be applied (`Receipt`, a compact JSON array in the Redis buffer)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ReceiptIn(BaseModel):
    """One receipt as the vendor posts it (validated item by item by the API)."""

    vendor_message_id: str = Field(min_length=1, max_length=128)
    status: Literal["delivered", "failed"]
    error: str | None = Field(default=None, max_length=5000)
    at: datetime | None = None


@dataclass(frozen=True)
class Receipt:
    vendor_message_id: str
    status: str  # "delivered" | "failed" (vendor vocabulary)
    error: str | None = None
    at: str | None = None
    tries: int = 0  # how often it was put back because its vendor id was unknown

    @classmethod
    def from_in(cls, item: ReceiptIn) -> Receipt:
        return cls(item.vendor_message_id, item.status, item.error,
                   item.at.isoformat() if item.at else None)

    def dumps(self) -> str:
        return json.dumps([self.vendor_message_id, self.status, self.error, self.at, self.tries],
                          separators=(",", ":"))

    @classmethod
    def loads(cls, raw: str | bytes) -> Receipt:
        vid, status, error, at, tries = json.loads(raw)
        return cls(vid, status, error, at, tries)
