"""Who may enter, and with which role."""

from __future__ import annotations

from sqlmodel import Session, func, select

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
