"""Team & audit page state: members and roles, invites, and the audit trail.

Admin-only. Every handler asks the server (`ensure_role("admin")`) before it reads
or writes anything; the page's "Only admins…" state is a courtesy, not the check.
The guard rails (last admin, disabling yourself) live in core/auth/users.py, so
every door onto the team enforces them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from mini_crm.core import formatting
from mini_crm.core.auth import audit, users
from mini_crm.db import session_scope
from mini_crm.models import AuditEvent
from mini_crm.settings import get_settings
from mini_crm.state.base import AppState
from mini_crm.state.pager import Pager

AUDIT_PER_PAGE = 20
ALL_ACTIONS = "all"


def _local(value: datetime | None) -> str:
    """A stored (naive UTC) time in the brand's zone, e.g. "24 Nov 2026, 18:32 IST"."""
    if value is None:
        return "—"
    return formatting.brand_time(value).strftime("%d %b %Y, %H:%M %Z")


def _launch_counts(d: dict[str, Any]) -> str:
    """" to 179 recipients (246 matching)": `recipients` are the rows to send (after
    consent, suppressions and the holdout); `audience_size` is everyone who matched.
    Older entries have only audience_size, which is the matching audience, not recipients."""
    size, recipients = d.get("audience_size"), d.get("recipients")
    if isinstance(recipients, int):
        matching = (f" ({formatting.count(size)} matching)"
                    if isinstance(size, int) and size != recipients else "")
        return f" to {formatting.plural(recipients, 'recipient')}{matching}"
    return f" ({formatting.count(size)} matching)" if isinstance(size, int) else ""


def _details(event: AuditEvent) -> str:
    d = event.details or {}
    if event.action == audit.ROLE_CHANGED:
        return f"{d.get('from', '?')} → {d.get('to', '?')}"
    if event.action == audit.USER_INVITED:
        return f"as {d.get('role', '?')}" + (" (role updated)" if d.get("reinvite") else "")
    if event.action == audit.APIKEY_CREATED:
        return "scopes: " + ", ".join(d.get("scopes", []))
    if event.action == audit.USER_DISABLED:
        n = int(d.get("sessions_revoked", 0))
        return f"{n} session{'s' if n != 1 else ''} ended"
    if event.action == audit.SIGNIN_REFUSED:
        return str(d.get("reason") or "")
    if event.action == audit.AB_WINNER_PICKED:
        by = "by hand" if d.get("decided_by", "manual") == "manual" else "automatically"
        return f"{d.get('winner', '?')} ({by})"
    if event.action == audit.AB_WINNER_DECIDED:
        return _decision_words(d)
    if event.action in (audit.CAMPAIGN_LAUNCHED, audit.CAMPAIGN_SCHEDULED) and "name" in d:
        return f"“{d['name']}”{_launch_counts(d)}"
    return _as_words(d)


def _decision_words(d: dict[str, Any]) -> str:
    """The automatic A/B decision: "B won on conversion rate (p = 0.012); the other 1,200
    get B" or "no clear winner on delivery rate; the other 160 get A (the control)"."""
    metric = {"conversion": "conversion rate", "delivery": "delivery rate"}.get(
        str(d.get("metric")), "the test's measure")
    rest, released = d.get("rest_variant", "?"), d.get("released")
    others = (f"the other {formatting.count(released)} get {rest}"
              if isinstance(released, int) else f"the rest get {rest}")
    if d.get("winner"):
        p = d.get("p_value")
        p_text = f" (p = {p:.3g})" if isinstance(p, int | float) else ""
        return f"{d['winner']} won on {metric}{p_text}; {others}"
    return f"no clear winner on {metric}; {others} (the control)"


_CHANNEL_WORDS = {"sms": "SMS", "email": "email", "whatsapp": "WhatsApp"}


def _value_words(value: Any) -> str:
    """One detail value in words: booleans as on/off, lists joined, dicts as "key value"."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        return _as_words(value, sep=" ")
    if isinstance(value, list | tuple):
        return ", ".join(_value_words(v) for v in value)
    return str(value)


def _as_words(details: dict[str, Any], sep: str = ": ") -> str:
    """Any audit details dict in words, e.g. {"changes": {"sms": False}, "reason": None}
    -> "SMS off". Empty values are left out (never "None"); keys read as words."""
    parts = []
    for key, value in details.items():
        if key in ("key_id",) or value is None or value == "" or value == {} or value == []:
            continue
        if key == "changes" and isinstance(value, dict):  # consent: "SMS off, email on"
            parts.append(_as_words(value, sep=" "))
            continue
        name = _CHANNEL_WORDS.get(key, key.replace("_", " "))
        parts.append(f"{name}{sep}{_value_words(value)}")
    return ", ".join(parts)


def _audit_rows(action: str, page: int) -> dict[str, Any]:
    with session_scope() as session:
        result = audit.list_events(session, action=None if action == ALL_ACTIONS else action,
                                   page=page, per_page=AUDIT_PER_PAGE)
        actor_ids = {e.actor_user_id for e in result.events if e.actor_user_id}
        emails = users.emails_by_id(session, actor_ids)
        first = (result.page - 1) * AUDIT_PER_PAGE + 1
        return {
            "rows": [{
                "id": str(e.id), "at": _local(e.at), "action": e.action,
                "label": audit.label(e.action),
                "actor": e.actor_label or emails.get(e.actor_user_id, "") or "—",
                "target": e.target or "", "details": _details(e),
            } for e in result.events],
            "page": result.page, "pages": result.pages, "total": result.total,
            "range": (f"{first}–{first + len(result.events) - 1} of {result.total}"
                      if result.total else "No events"),
            "actions": [{"value": a, "label": audit.label(a)}
                        for a in audit.known_actions(session)],
        }


def _team(me: str) -> dict[str, Any]:
    with session_scope() as session:
        members = [{
            "id": str(u.id), "email": u.email, "name": u.name or u.email.split("@")[0],
            "role": u.role, "status": "disabled" if u.disabled else "active",
            "last_login": _local(u.last_login_at), "is_me": "yes" if u.email == me else "",
        } for u in users.list_users(session)]
        invites = [{"id": str(u.id), "email": u.email, "role": u.role,
                    "invited": _local(u.created_at)} for u in users.list_invites(session)]
    return {"members": members, "invites": invites}


class TeamState(Pager, AppState):
    """The team card (members, invites) and one page of the audit trail (`page` of
    `pages`, from the Pager mixin)."""

    members: list[dict[str, str]] = []
    invites: list[dict[str, str]] = []
    allowed_domains: str = ""
    loading: bool = True
    # One message line for the team card; `notice_ok` picks its colour.
    notice: str = ""
    notice_ok: bool = True

    invite_email: str = ""
    # Bumped when the server clears typed text (components/text_field.py).
    form_rev: int = 0
    invite_role: str = "marketer"
    invite_error: str = ""

    events: list[dict[str, str]] = []
    action_options: list[dict[str, str]] = []
    audit_action: str = ALL_ACTIONS
    audit_total: int = 0
    audit_range: str = ""

    def _refuse(self) -> bool:
        """True (and nothing loaded) unless the session belongs to an admin."""
        if self.ensure_role("admin"):
            return False
        self.members, self.invites, self.events = [], [], []
        self.loading = False
        return True

    def _say(self, text: str, ok: bool = True) -> None:
        self.notice, self.notice_ok = text, ok

    @rx.event
    def open(self):
        """on_load: a fresh visit starts with the whole trail and no stale messages."""
        self.notice, self.invite_error = "", ""
        self.audit_action, self.page = ALL_ACTIONS, 1
        return TeamState.load

    @rx.event(background=True)
    async def load(self) -> None:
        async with self:
            if self._refuse():
                return
            self.loading = True
            me, action, page = self.user_email, self.audit_action, self.page
        team = await rx.run_in_thread(lambda: _team(me))
        trail = await rx.run_in_thread(lambda: _audit_rows(action, page))
        async with self:
            self.members, self.invites = team["members"], team["invites"]
            self._apply_trail(trail)
            domains = sorted(users.allowed_domains(get_settings().allowed_email_domains))
            self.allowed_domains = ", ".join(domains)
            self.loading = False

    def _apply_trail(self, trail: dict[str, Any]) -> None:
        self.events, self.action_options = trail["rows"], trail["actions"]
        self.page, self.pages = trail["page"], trail["pages"]
        self.audit_total, self.audit_range = trail["total"], trail["range"]

    @rx.event(background=True)
    async def load_trail(self) -> None:
        async with self:
            if self._refuse():
                return
            action, page = self.audit_action, self.page
        trail = await rx.run_in_thread(lambda: _audit_rows(action, page))
        async with self:
            self._apply_trail(trail)

    # --- audit trail navigation -------------------------------------------------------

    def _reload(self):
        return TeamState.load_trail

    @rx.event
    def filter_action(self, action: str):
        self.audit_action = action or ALL_ACTIONS
        return self._first_page()

    # --- invites ----------------------------------------------------------------------

    @rx.event
    def set_invite_email(self, email: str) -> None:
        self.invite_email, self.invite_error = email, ""

    @rx.event
    def set_invite_role(self, role: str) -> None:
        self.invite_role = role

    @rx.event
    def invite(self):
        if self._refuse():
            return
        settings = get_settings()
        try:
            with session_scope() as session:
                made = users.invite_member(session, self.invite_email, self.invite_role,
                                           actor=users.actor(session, self.user_email),
                                           domains_setting=settings.allowed_email_domains)
                email, role = made.user.email, made.user.role
        except users.TeamError as exc:
            self.invite_error = str(exc)
            return
        how = ("Their domain is already allowed; the invite sets their role."
               if made.domain_allowed else
               "Their domain is not in the allowed list, so the invite is what lets them in.")
        self._say(f"Invited {email} as {role}. {how} Nothing is emailed: tell them to sign "
                  "in with that address.")
        self.invite_email, self.invite_error = "", ""
        self.form_rev += 1
        return TeamState.load

    @rx.event
    def revoke_invite(self, user_id: str):
        return self._change(lambda s, actor: users.revoke_invite(s, int(user_id), actor=actor),
                            "Invite for {} withdrawn.")

    # --- members ----------------------------------------------------------------------

    @rx.event
    def change_role(self, user_id: str, role: str):
        return self._change(lambda s, actor: users.set_role(s, int(user_id), role, actor=actor),
                            "{} is now " + role + ".")

    @rx.event
    def disable(self, user_id: str):
        return self._change(lambda s, actor: users.disable_user(s, int(user_id), actor=actor),
                            "{} is disabled and signed out everywhere.")

    @rx.event
    def enable(self, user_id: str):
        return self._change(lambda s, actor: users.enable_user(s, int(user_id), actor=actor),
                            "{} can sign in again.")

    def _change(self, apply: Any, done: str):
        """Run one audited team change as the signed-in admin; refusals become the notice."""
        if self._refuse():
            return None
        try:
            with session_scope() as session:
                result = apply(session, users.actor(session, self.user_email))
                who = result if isinstance(result, str) else result.email
        except ValueError as exc:  # TeamError, or an id that is not a number
            self._say(str(exc), ok=False)
            return TeamState.load  # e.g. put a refused role select back
        self._say(done.format(who))
        return TeamState.load
