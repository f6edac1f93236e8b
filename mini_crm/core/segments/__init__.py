"""Audience segments: rules JSON → validated tree → one parameterised SQL statement.

Public API (other features import these):
- `parse_rules(obj) -> Group` raises `RulesError` (with `.path`, `.field`, `.reason`);
  `parse_audience(obj)` also refuses a group without conditions (an audience to send
  to or save);
- `catalogue()` the fields, kinds and operators as data;
- `matching_customer_ids(rules, now) -> Select` of customer ids (for INSERT ... SELECT);
- `audience_size(session, rules, now)`, `preview(session, rules, now, sample)`;
- `describe(rules) -> str` the rules as an English sentence.
"""

from mini_crm.core.segments.describe import describe
from mini_crm.core.segments.fields import FIELDS, catalogue
from mini_crm.core.segments.schema import (
    Condition,
    Group,
    RulesError,
    parse_audience,
    parse_rules,
)
from mini_crm.core.segments.service import (
    Preview,
    audience_size,
    matching_customer_ids,
    preview,
)

__all__ = ["FIELDS", "Condition", "Group", "Preview", "RulesError", "audience_size",
           "catalogue", "describe", "matching_customer_ids", "parse_audience", "parse_rules",
           "preview"]
