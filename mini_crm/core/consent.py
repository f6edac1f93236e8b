"""Consent per channel: who opted out of what, from where, and the rules that keep it.

Every door changes consent through `apply` (API field and endpoints, CSV import,
the customer page, one-click unsubscribe links, inbound STOP/START replies), so
every change is recorded the same way, in the caller's transaction:

- customer.consent_<channel> is set (false = opted out);
- an audit_event `consent_changed` per customer names the channels, the source
  (api, ui, import, unsubscribe_link, inbound), the actor and the reason;
- an opt-out puts the customer's normalised address for the channel on the
  suppression list, so the address stays blocked under any other customer record;
  an explicit opt-in takes that address off the list for the channel.

Only a change is recorded: asking for what is already stored (a replayed link, a
second STOP) writes nothing. "Opting out wins": ingestion without consent keys never
touches these columns, so only an explicit opt-in re-subscribes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm.core import suppression, text_checks
from mini_crm.core.auth import audit
from mini_crm.core.contacts import (
    ADDRESS_FIELD,
    CHANNELS,
    InvalidContact,
    address_key,
    normalise_address,
    sms_reachable,
)
from mini_crm.models import AuditEvent, Customer, consent_column, utcnow

CUSTOMER: sa.Table = Customer.__table__  # type: ignore[assignment]
SOURCES = ("api", "ui", "import", "unsubscribe_link", "inbound")


class ConsentError(ValueError):
    """A consent request that cannot be applied (unknown channel, a bad reason...);
    `field` names the input at fault."""

    def __init__(self, message: str, field: str = "channels") -> None:
        super().__init__(message)
        self.field = field


def check_reason(reason: str | None) -> str | None:
    """The reason as given, or ConsentError(field "reason") when it holds a control
    character: it is stored on the suppression list and in the audit trail and shown
    on pages and in CSV exports (core.text_checks, the check every stored text shares)."""
    if problem := text_checks.control_problem(reason, "the reason"):
        raise ConsentError(problem, "reason")
    return reason


@dataclass(frozen=True)
class Change:
    """Why consent changes: the door (`source`), who asked and any context to keep."""

    source: str
    actor: audit.Actor = audit.SYSTEM
    reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"unknown consent source {self.source!r}")


def consent_of(customer: Any) -> dict[str, bool]:
    """{"sms": bool, "email": bool, "whatsapp": bool} of a customer row or object."""
    return {c: bool(getattr(customer, f"consent_{c}")) for c in CHANNELS}


# Why a channel cannot reach a customer, in the order the launch checks them
# (core/campaigns/reach.py: opted out, then no usable address, then suppressed).
OPTED_OUT, NO_PHONE, NO_EMAIL, LANDLINE, SUPPRESSED = (
    "opted out", "no phone", "no email", "landline", "suppressed")
CHANNEL_WORDS = {"sms": "SMS", "email": "email", "whatsapp": "WhatsApp"}


def channel_blocks(customer: Any, suppressed: Mapping[str, bool]) -> dict[str, str | None]:
    """{channel: None when a campaign on it would message the customer, else why not
    (OPTED_OUT, NO_PHONE, NO_EMAIL, LANDLINE for SMS to a line that cannot take one,
    SUPPRESSED)}. `suppressed` is suppressed_channels' entry for the customer. The same
    tests as a launch's, for one customer: consent alone is not reachability."""
    state = consent_of(customer)
    out: dict[str, str | None] = {}
    for channel in CHANNELS:
        address = getattr(customer, ADDRESS_FIELD[channel])
        if not state[channel]:
            out[channel] = OPTED_OUT
        elif not address:
            out[channel] = NO_EMAIL if channel == "email" else NO_PHONE
        elif channel == "sms" and not sms_reachable(getattr(customer, "phone_type", None)):
            out[channel] = LANDLINE
        elif suppressed.get(channel):
            out[channel] = SUPPRESSED
        else:
            out[channel] = None
    return out


def reach_badge(blocks: Mapping[str, str | None]) -> tuple[str, str]:
    """The customer page's header badge from channel_blocks: (text, tone), tone "all"
    (every channel reaches them), "some" or "none".

    "subscribed" only when every channel would message them (the badge said
    "subscribed" for a customer with no phone); otherwise what is true per channel:
    "email only · no phone", "SMS, email only · opted out: WhatsApp",
    "no phone · opted out: email", "email, WhatsApp only · landline, no SMS"."""
    ok = [CHANNEL_WORDS[c] for c in CHANNELS if blocks.get(c) is None]
    if len(ok) == len(CHANNELS):
        return "subscribed", "all"
    parts = [f"{', '.join(ok)} only"] if ok else []
    for why in (OPTED_OUT, NO_PHONE, NO_EMAIL, LANDLINE, SUPPRESSED):
        channels = [CHANNEL_WORDS[c] for c in CHANNELS if blocks.get(c) == why]
        if not channels:
            continue
        if why in (NO_PHONE, NO_EMAIL):
            parts.append(why)  # the channels are implied: a phone is for SMS and WhatsApp
        elif why == LANDLINE:
            parts.append("landline, no SMS")
        else:
            parts.append(f"{why}: {', '.join(channels)}")
    return " · ".join(parts), "some" if ok else "none"


def check_channels(channels: list[str] | None) -> list[str]:
    """The channels asked for (all when None), refusing unknown names."""
    if channels is None:
        return list(CHANNELS)
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise ConsentError(f"unknown channel(s) {', '.join(map(repr, unknown))}; "
                           f"expected {', '.join(CHANNELS)}")
    if not channels:
        raise ConsentError(f"name at least one channel: {', '.join(CHANNELS)}")
    return list(dict.fromkeys(channels))


@dataclass(frozen=True)
class Step:
    """One item's consent keys, in the order a batch carried them: `wanted` channels and,
    when the batch changed them before this item, the customer's `addresses` at that
    moment ({"email": ..., "phone": ...}; a field left out means the stored value)."""

    wanted: Mapping[str, bool]
    addresses: Mapping[str, str | None] = field(default_factory=dict)


def apply(session: Session, wanted: Mapping[int, Mapping[str, bool]], change: Change) -> int:
    """Set consent for customers by id ({customer_id: {channel: bool}}); returns how many
    consent_changed events were written. Set-based: a batch of thousands is a handful of
    statements.

    An opt-out puts the address on the suppression list; an opt-in here never takes it
    off. This is what ingestion calls, and a sync that sends `consent: true` for everyone
    must not undo a STOP (docs/api.md): only the explicit doors lift a suppression, each
    on its own (`set_channels` for the subscribe endpoint and the customer page,
    `set_by_address` for a START reply) or an admin removing the row."""
    return apply_steps(session, {cid: [Step(w)] for cid, w in wanted.items()}, change)


def apply_steps(session: Session, steps: Mapping[int, Sequence[Step]],
                change: Change) -> int:
    """`apply` for a batch in which one customer may appear several times: the steps of
    each customer are applied in order, exactly as if each had been its own request.

    So `[opt out, opt in]` ends opted in *and* leaves the address on the suppression list
    (the opt-out listed it; an ingest opt-in never lifts it), with two audit events, as
    two requests would; an opt-out lists the address the customer had at that step.
    Merging the steps first (last one wins) would lose the opt-out. Returns how many
    consent_changed events were written."""
    ids = sorted(cid for cid, s in steps.items() if s)
    if not ids:
        return 0
    stmt = (sa.select(CUSTOMER.c.id, CUSTOMER.c.external_id, CUSTOMER.c.email,
                      CUSTOMER.c.phone, *(consent_column(c) for c in CHANNELS))
            .where(CUSTOMER.c.id.in_(ids)).order_by(CUSTOMER.c.id))
    if session.get_bind().dialect.name != "sqlite":  # SQLite has one writer at a time
        stmt = stmt.with_for_update()
    updates: dict[tuple[str, bool], list[int]] = {}
    events: list[dict[str, Any]] = []
    opted_out: set[tuple[str, str]] = set()
    now = utcnow()
    for row in session.execute(stmt):
        initial = consent_of(row)
        current = dict(initial)
        for step in steps[row.id]:
            changes = {c: bool(v) for c, v in step.wanted.items() if current[c] != bool(v)}
            if not changes:
                continue
            current.update(changes)
            for channel, value in changes.items():
                name = ADDRESS_FIELD[channel]
                address = step.addresses[name] if name in step.addresses else getattr(row, name)
                if address and not value:
                    opted_out.add((address, channel))
            events.append({
                "at": now, "actor_user_id": change.actor.user_id,
                "actor_label": change.actor.label, "action": audit.CONSENT_CHANGED,
                "target": f"customer:{row.external_id}"[:255],
                "details": {**change.details, "external_id": row.external_id,
                            "changes": changes, "source": change.source,
                            "reason": change.reason}})
        for channel in CHANNELS:
            if current[channel] != initial[channel]:
                updates.setdefault((channel, current[channel]), []).append(row.id)
    for (channel, value), changed_ids in updates.items():
        session.execute(CUSTOMER.update().where(CUSTOMER.c.id.in_(changed_ids))
                        .values({consent_column(channel).name: value, "updated_at": now}))
    if events:
        session.execute(sa.insert(AuditEvent.__table__), events)
    suppression.insert_missing(session, opted_out, source=change.source,
                               reason=change.reason, created_by=change.actor.user_id)
    return len(events)


def _customer(session: Session, external_id: str) -> Customer:
    from mini_crm.core.ingestion.reads import get_customer  # reads imports this module

    customer = get_customer(session, external_id)  # the path's id read as a body's
    if customer is None:
        raise LookupError(f"no customer with external_id {external_id!r}")
    return customer


def set_channels(session: Session, external_id: str, channels: list[str] | None,
                 value: bool, change: Change) -> dict[str, bool]:
    """Opt a customer out of (value False) or into (True) channels; all when None.

    An opt-in here is the explicit one (the subscribe endpoint, the customer page's
    toggle): it also takes the customer's address on those channels off the suppression
    list when another record's opt-out had put it there, with an audit entry, even if
    this record's own consent was already on. (Ingest never does: a sync that carries
    `consent: true` for everyone must not undo a STOP sent under another record.)
    Returns the customer's consent afterwards. Raises LookupError for an unknown
    external_id and ConsentError for an unknown channel or a reason holding a control
    character.
    """
    check_reason(change.reason)
    wanted = dict.fromkeys(check_channels(channels), value)
    customer = _customer(session, external_id)
    apply(session, {int(customer.id): wanted}, change)  # type: ignore[arg-type]
    if value:
        for channel in wanted:
            address = getattr(customer, ADDRESS_FIELD[channel])
            row = suppression.find(session, address, channel) if address else None
            if row is not None:
                suppression.remove(session, int(row.id), actor=change.actor,  # type: ignore[arg-type]
                                   source=change.source)
    session.refresh(customer)
    return consent_of(customer)


def suppressed_channels(session: Session, customers: list[Customer]
                        ) -> dict[int, dict[str, bool]]:
    """{customer id: {channel: True when its address on the channel is on the suppression
    list}} for a page of customers, in one query: a record can read consent on while
    another record's opt-out suppresses its address, and sends skip it."""
    pairs = {(address, c) for customer in customers for c in CHANNELS
             if (address := getattr(customer, ADDRESS_FIELD[c]))}
    listed = suppression.listed(session, pairs)
    return {int(customer.id): {c: (getattr(customer, ADDRESS_FIELD[c]), c) in listed  # type: ignore[arg-type]
                               for c in CHANNELS} for customer in customers}


@dataclass(frozen=True)
class AddressResult:
    address: str
    customers: int  # records holding the address
    changed: int  # of those, how many had their consent changed


def set_by_address(session: Session, channel: str, raw_address: str, value: bool,
                   change: Change) -> AddressResult:
    """Opt every customer holding `raw_address` out of / into `channel` (inbound replies).

    The address goes on (or comes off) the suppression list even when no customer
    holds it yet, so a STOP from an unknown number still blocks it. Raises
    InvalidContact for an unreadable address, ConsentError for an unknown channel.
    """
    check_channels([channel])
    check_reason(change.reason)
    address = normalise_address(channel, raw_address)
    if address is None:
        raise InvalidContact("no address given")
    # Every record of the inbox / handset: any spelling of a gmail address is one inbox.
    key = address_key(channel, address)
    ids = [int(i) for i in session.execute(
        sa.select(CUSTOMER.c.id).where(suppression.customers_keyed(channel, key))).scalars()]
    changed = apply(session, dict.fromkeys(ids, {channel: value}), change)
    if value:
        suppression.delete_pairs(session, [(address, channel)])
    else:
        suppression.insert_missing(session, [(address, channel)], source=change.source,
                                   reason=change.reason, created_by=change.actor.user_id)
    return AddressResult(address, len(ids), changed)


def history(session: Session, external_id: str, limit: int = 50) -> list[AuditEvent]:
    """The customer's consent changes, newest first."""
    return list(session.exec(
        select(AuditEvent).where(AuditEvent.action == audit.CONSENT_CHANGED,
                                 AuditEvent.target == f"customer:{external_id}"[:255])
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)).all())


def latest_by_channel(events: list[AuditEvent]) -> dict[str, AuditEvent]:
    """Of a history (newest first), the last change of each channel."""
    latest: dict[str, AuditEvent] = {}
    for event in events:
        for channel in (event.details or {}).get("changes", {}):
            latest.setdefault(channel, event)
    return latest


@dataclass(frozen=True)
class LinkResult:
    channel: str
    changed: bool  # False when the recipient had already opted out (a replayed link)


def unsubscribe_by_link(session: Session, customer_id: int, channel: str,
                        campaign_id: int) -> LinkResult:
    """The one-click opt-out of a verified link (core.unsubscribe_links.verify).

    Raises LookupError when the customer no longer exists.
    """
    check_channels([channel])
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise LookupError("the customer this link was sent to no longer exists")
    change = Change(source="unsubscribe_link",
                    actor=audit.Actor(label="recipient, by unsubscribe link"),
                    reason="unsubscribe link", details={"campaign_id": campaign_id})
    changed = apply(session, {customer_id: {channel: False}}, change)
    return LinkResult(channel, changed > 0)


def recipient_status(session: Session, customer_id: int, channel: str
                     ) -> tuple[bool, str | None] | None:
    """(still subscribed on `channel`, the address) for a link's recipient; None when the
    customer no longer exists."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    return consent_of(customer)[channel], getattr(customer, ADDRESS_FIELD[channel])


@dataclass(frozen=True)
class ChannelConsent:
    """One channel of a customer, as the customer page shows it."""

    channel: str
    subscribed: bool
    address: str | None  # the customer's address for the channel
    suppressed: bool  # that address is on the suppression list
    last_change: AuditEvent | None  # the latest consent change of this channel
    # NO_PHONE / NO_EMAIL (no address) or LANDLINE (SMS to a line that cannot take one):
    # consent is kept, but nothing sent on the channel reaches them; None otherwise.
    unreachable: str | None = None


def panel(session: Session, external_id: str) -> list[ChannelConsent] | None:
    """Every channel's consent, address, suppression and last change; None if no customer."""
    customer = session.exec(select(Customer).where(Customer.external_id == external_id)).first()
    if customer is None:
        return None
    suppressed = suppressed_channels(session, [customer])[int(customer.id)]  # type: ignore[arg-type]
    latest = latest_by_channel(history(session, external_id))
    state = consent_of(customer)
    # Read as if subscribed: the address problem stands whatever the consent.
    blocks = channel_blocks(_Subscribed(customer), suppressed)
    return [ChannelConsent(c, state[c], getattr(customer, ADDRESS_FIELD[c]), suppressed[c],
                           latest.get(c),
                           blocks[c] if blocks[c] in (NO_PHONE, NO_EMAIL, LANDLINE) else None)
            for c in CHANNELS]


class _Subscribed:
    """A customer read as subscribed to every channel (its addresses unchanged)."""

    def __init__(self, customer: Any) -> None:
        self._customer = customer

    def __getattr__(self, name: str) -> Any:
        return True if name.startswith("consent_") else getattr(self._customer, name)
