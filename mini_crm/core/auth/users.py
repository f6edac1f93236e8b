"""Who may enter, and with which role."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import case
from sqlmodel import Session, func, select

from mini_crm.core.auth import audit, sessions
from mini_crm.models import User, utcnow

ROLES = ("admin", "marketer", "viewer")


class AccessDenied(Exception):
    """Sign-in refused; the message is shown to the person signing in."""


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def allowed_domains(setting: str) -> set[str]:
    return {d.strip().lower().lstrip("@") for d in setting.split(",") if d.strip()}


def sign_in(session: Session, *, email: str | None, subject: str, name: str | None,
            picture: str | None, domains_setting: str) -> User:
    """The user for verified OIDC claims, created on first sign-in if admitted.

    Admitted: an existing, enabled user (invited or signed in before), or an
    address in an allowed domain, or anyone at all while no user exists yet (the
    very first user becomes admin, so a fresh install can be set up).
    """
    if not email or "@" not in email:
        raise AccessDenied("Your identity provider did not share an email address.")
    email = email.strip().lower()
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None:
        if user.disabled:
            raise AccessDenied(f"The account {email} is disabled. Ask an admin.")
    else:
        first = session.exec(select(func.count()).select_from(User)).one() == 0
        domains = allowed_domains(domains_setting)
        if not first and _domain(email) not in domains:
            raise AccessDenied(f"{email} is not invited and its domain is not allowed. "
                               "Ask an admin to invite you.")
        user = User(email=email, role="admin" if first else "marketer")
    user.oidc_subject = subject
    user.name = name or user.name or email.split("@")[0]
    user.picture_url = picture or user.picture_url
    user.last_login_at = utcnow()
    session.add(user)
    session.flush()
    return user


def invite(session: Session, email: str, role: str = "marketer") -> User:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError("give an email address")
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = User(email=email, role=role, invited=True)
    else:
        user.role, user.disabled = role, False
    session.add(user)
    session.flush()
    return user


def can_launch(user: User) -> bool:
    return user.role in ("admin", "marketer") and not user.disabled


def can_manage(user: User) -> bool:
    return user.role == "admin" and not user.disabled


# --- Team administration (the admin page and any other door call these) ---------------

# Practical address syntax: local part of the usual characters, a dotted domain with a TLD.
# Deliverability is the identity provider's business; this catches typos.
_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
                    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class TeamError(ValueError):
    """A refused team change (guard rails, bad input); the message is shown to the admin."""


@dataclass(frozen=True)
class Invitation:
    user: User
    domain_allowed: bool  # the address could have signed in without the invite


def normalise_email(text: str) -> str:
    email = (text or "").strip().lower()
    if len(email) > 254 or not _EMAIL.match(email) or ".." in email:
        raise TeamError(f"“{text.strip()}” is not a valid email address.")
    return email


def _signed_in_ever(user: User) -> bool:
    return user.last_login_at is not None


def is_pending_invite(user: User) -> bool:
    return user.invited and not _signed_in_ever(user)


def list_users(session: Session, limit: int = 500) -> list[User]:
    """Members (everyone who has signed in), admins first, then by email."""
    order = case((User.role == "admin", 0), (User.role == "marketer", 1), else_=2)
    return list(session.exec(select(User).where(User.last_login_at.is_not(None))
                             .order_by(order, User.email).limit(limit)).all())


def emails_by_id(session: Session, user_ids: set[int]) -> dict[int, str]:
    """{user id: email} for the given ids (unknown ids are left out)."""
    if not user_ids:
        return {}
    return dict(session.exec(select(User.id, User.email)
                             .where(User.id.in_(user_ids))).all())


def list_invites(session: Session, limit: int = 500) -> list[User]:
    """Invited addresses that have not signed in yet, newest first."""
    return list(session.exec(select(User).where(User.invited, User.last_login_at.is_(None))
                             .order_by(User.created_at.desc(), User.id.desc())
                             .limit(limit)).all())


def _get(session: Session, user_id: int) -> User:
    # FOR UPDATE: two admins editing the same person serialise on its row.
    user = session.exec(select(User).where(User.id == user_id).with_for_update()).first()
    if user is None:
        raise TeamError("That user no longer exists.")
    return user


def _other_active_admins(session: Session, user_id: int) -> int:
    """Enabled admins other than `user_id`. The rows are locked, so two admins demoting
    each other at the same moment cannot both succeed and leave nobody in charge."""
    ids = session.exec(select(User.id).where(User.role == "admin", User.disabled.is_(False),
                                             User.id != user_id).with_for_update()).all()
    return len(ids)


def invite_member(session: Session, email: str, role: str, *, actor: audit.Actor,
                  domains_setting: str = "") -> Invitation:
    """Invite an address with a role (or change the role of a pending invite), audited."""
    if role not in ROLES:
        raise TeamError(f"Choose a role: {', '.join(ROLES)}.")
    email = normalise_email(email)
    existing = session.exec(select(User).where(User.email == email)).first()
    if existing is not None and not is_pending_invite(existing):
        state = "is disabled — enable them in the list" if existing.disabled \
            else "already has an account — change their role in the list"
        raise TeamError(f"{email} {state}.")
    user = invite(session, email, role)
    audit.record_by(session, actor, audit.USER_INVITED, target=email,
                    details={"role": role, "reinvite": existing is not None})
    return Invitation(user=user, domain_allowed=_domain(email) in allowed_domains(domains_setting))


def revoke_invite(session: Session, user_id: int, *, actor: audit.Actor) -> str:
    """Withdraw an invite that was never used; returns the address."""
    user = _get(session, user_id)
    if not is_pending_invite(user):
        raise TeamError(f"{user.email} has already signed in; disable the account instead.")
    email = user.email
    session.delete(user)
    audit.record_by(session, actor, audit.INVITE_REVOKED, target=email)
    return email


def set_role(session: Session, user_id: int, role: str, *, actor: audit.Actor) -> User:
    if role not in ROLES:
        raise TeamError(f"Choose a role: {', '.join(ROLES)}.")
    user = _get(session, user_id)
    if user.role == role:
        return user
    if user.role == "admin" and not user.disabled and _other_active_admins(session, user.id) == 0:
        raise TeamError(f"{user.email} is the last admin. Make someone else admin first.")
    before, user.role = user.role, role
    session.add(user)
    audit.record_by(session, actor, audit.ROLE_CHANGED, target=user.email,
                    details={"from": before, "to": role})
    session.flush()
    return user


def disable_user(session: Session, user_id: int, *, actor: audit.Actor) -> User:
    """Disable an account and end its sessions at once."""
    user = _get(session, user_id)
    if actor.user_id is not None and actor.user_id == user.id:
        raise TeamError("You cannot disable your own account.")
    if user.disabled:
        return user
    if user.role == "admin" and _other_active_admins(session, user.id) == 0:
        raise TeamError(f"{user.email} is the last admin and cannot be disabled.")
    user.disabled = True
    session.add(user)
    ended = sessions.revoke_all_for_user(session, user.id)
    audit.record_by(session, actor, audit.USER_DISABLED, target=user.email,
                    details={"sessions_revoked": ended})
    session.flush()
    return user


def enable_user(session: Session, user_id: int, *, actor: audit.Actor) -> User:
    user = _get(session, user_id)
    if not user.disabled:
        return user
    user.disabled = False
    session.add(user)
    audit.record_by(session, actor, audit.USER_ENABLED, target=user.email)
    session.flush()
    return user


def actor(session: Session, email: str) -> audit.Actor:
    """A signed-in user as the audit trail records them: id for joins, email for reading."""
    user_id = session.exec(select(User.id).where(User.email == email)).first()
    return audit.Actor(user_id=user_id, label=email)
