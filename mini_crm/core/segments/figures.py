"""How a segment's figures read: its size, its size as a share of all customers, a saved
segment's row in a list, and the preview's sample customers. One wording, built here from
`core/formatting`, for the Segments pages, the campaign wizard's segment picker and the
rule builder's live preview (the states call these and shape nothing themselves).

Plain functions of values core already computed (`service.Preview`, a
`service.SegmentSummary`): no session, no SQL.
"""

from __future__ import annotations

from typing import Any

from mini_crm.core import formatting
from mini_crm.core.segments.service import SegmentSummary

# A saved segment whose rules no longer validate has no size.
NO_SIZE = "—"


def size_text(size: int | None) -> str:
    """An audience size: "1,23,456" (Indian grouping), "—" when there is none (saved
    rules that no longer validate)."""
    return NO_SIZE if size is None else formatting.count(size)


# The builder's blank state (no condition yet): no size is shown, since an audience
# without conditions is refused at launch and on save (schema.parse_audience).
BLANK_SIZE = "Add a condition"
BLANK_SENTENCE = "Add a condition to choose who is in this audience."


def share_text(size: int, total: int) -> str:
    """`size` as a share of all `total` customers: "12.5% of 3,000 customers" ("<0.1% of
    …" for a sliver, "1 customer" for a lone one); "" when there are no customers."""
    if total <= 0:
        return ""
    return f"{formatting.share(size, total)} of {formatting.plural(total, 'customer')}"


def sample_rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Preview sample customers (service.preview's rows) as the page lists them:
    {external_id, name ("(no name)" when blank), city ("—"), spend (₹, whole rupees)}."""
    return [{"external_id": r["external_id"], "href": formatting.customer_path(r["external_id"]),
             "name": r["name"] or "(no name)",
             "city": r["city"] or "—", "spend": formatting.rupees(r["total_spend"])}
            for r in rows]


def listed(seg: SegmentSummary) -> dict[str, str]:
    """A saved segment as a list row (the Segments page, the wizard's segment picker):
    {id, name, sentence, size (size_text), count (digits; "0" for none), valid ("1" when
    the rules validate, else ""), updated (its last change, a brand-calendar day)}."""
    return {"id": str(seg.id), "name": seg.name, "sentence": seg.sentence,
            "size": size_text(seg.size), "count": str(seg.size or 0),
            "valid": "" if seg.size is None else "1",
            "updated": formatting.date(seg.updated_at)}
