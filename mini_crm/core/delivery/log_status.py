"""One vocabulary for counting communication_log rows, per campaign or per group.

A log row's `status` alone does not say everything a figure needs: a cancel marks the
rows it stopped `failed` with error "cancelled" (claims.CANCELLED_ERROR), and those
were never sent and are not a failure of the campaign. Every figure that splits a
campaign's rows (the campaign read model, each A/B variant, the insights' groups, the
timeline) reads them through this module, so "failed" and "cancelled" mean one thing:

- `bucket()`: the row's status, or "cancelled" for a row a cancel stopped — the SQL
  expression to GROUP BY;
- `Tally.of(counts)`: those buckets' counts -> the figures (docs/api.md, "Campaign
  figures"): pending (queued), waiting, sent (sent + delivered + undelivered),
  delivered, undelivered, failed (real failures only: never reached the vendor or
  refused by it), cancelled, holdout, skipped, recipients (rows to message: pending +
  waiting + sent + failed + cancelled).

The campaign's own top-level API `failed` still includes its cancelled rows (kept for
existing clients; core/campaigns/reports.CampaignStats.failed); every per-variant and
per-group figure uses `Tally`'s `failed`, which does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mini_crm.core.delivery.claims import CANCELLED_ERROR
from mini_crm.models import CommunicationLog, DeliveryStatus

LOG = CommunicationLog.__table__
CANCELLED = "cancelled"  # the bucket of a row a cancel stopped (never a stored status)


def is_cancelled(log: Any = LOG.c) -> sa.ColumnElement[bool]:
    """True for a row a cancel stopped before it left (`log`: a table's `.c`)."""
    return sa.and_(log.status == DeliveryStatus.FAILED, log.error == CANCELLED_ERROR)


def bucket(log: Any = LOG.c) -> sa.ColumnElement[str]:
    """The row's status, with a row a cancel stopped read as CANCELLED, not failed."""
    return sa.case((is_cancelled(log), sa.literal(CANCELLED)), else_=log.status)


@dataclass(frozen=True)
class Tally:
    """Counts of log rows in the one vocabulary (module docstring); all >= 0."""

    pending: int = 0
    waiting: int = 0
    sent: int = 0
    delivered: int = 0
    undelivered: int = 0
    failed: int = 0
    cancelled: int = 0
    holdout: int = 0
    skipped: int = 0

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> Tally:
        """From {bucket(): count} (a stored status or CANCELLED). Without a CANCELLED
        key, every `failed` row counts as a real failure."""
        n = {k: int(v) for k, v in counts.items()}
        delivered = n.get(DeliveryStatus.DELIVERED, 0)
        undelivered = n.get(DeliveryStatus.UNDELIVERED, 0)
        return cls(pending=n.get(DeliveryStatus.QUEUED, 0),
                   waiting=n.get(DeliveryStatus.WAITING, 0),
                   sent=n.get(DeliveryStatus.SENT, 0) + delivered + undelivered,
                   delivered=delivered, undelivered=undelivered,
                   failed=n.get(DeliveryStatus.FAILED, 0), cancelled=n.get(CANCELLED, 0),
                   holdout=n.get(DeliveryStatus.HOLDOUT, 0),
                   skipped=n.get(DeliveryStatus.SKIPPED, 0))

    @property
    def recipients(self) -> int:
        """Rows to message (at launch): everything but skipped and holdout rows."""
        return self.pending + self.waiting + self.sent + self.failed + self.cancelled

    @property
    def awaiting_receipt(self) -> int:
        """Sent rows the vendor has not reported on yet."""
        return self.sent - self.delivered - self.undelivered

    def as_dict(self) -> dict[str, int]:
        """{"pending", "waiting", "sent", "delivered", "undelivered", "failed",
        "cancelled", "holdout", "skipped", "recipients"}."""
        return {"pending": self.pending, "waiting": self.waiting, "sent": self.sent,
                "delivered": self.delivered, "undelivered": self.undelivered,
                "failed": self.failed, "cancelled": self.cancelled,
                "holdout": self.holdout, "skipped": self.skipped,
                "recipients": self.recipients}
