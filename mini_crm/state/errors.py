"""The app's backend exception handler: a failed event handler becomes a message on the
page, in the marketer's words, instead of Reflex's "An error occurred" toast.

Handlers report the errors they expect (validation, permissions) in their own state's
error fields, next to the input. This is the net under them: whatever escapes a handler
is logged with a short reference, and `AppState.handler_failed` shows a plain message at
the top of the page and stops the spinners the failed handler left running.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy.exc as sa_exc
from reflex.event import EventSpec

from mini_crm.state.base import AppState

logger = logging.getLogger(__name__)

TOO_LARGE = ("A number you entered is too large to use. Use a smaller number "
             "(at most 15 digits); nothing else you entered was changed.")
DATABASE_DOWN = ("The database did not answer, so this could not be done just now. "
                 "What you entered is kept; try again in a moment.")
UNEXPECTED = ("Something went wrong on our side and this could not be done. What you "
              "entered is kept; try again, and if it happens again tell your admin the "
              "reference {ref}.")


def marketer_message(exc: BaseException, ref: str) -> str:
    """The page's message for an unexpected handler error; `ref` ties it to the log."""
    if isinstance(exc, OverflowError) or (
            isinstance(exc, sa_exc.DataError | sa_exc.StatementError)
            and _mentions_overflow(exc)):
        return TOO_LARGE
    if isinstance(exc, sa_exc.OperationalError | sa_exc.TimeoutError | ConnectionError):
        return DATABASE_DOWN
    return UNEXPECTED.format(ref=ref)


def _mentions_overflow(exc: BaseException) -> bool:
    text = f"{exc} {getattr(exc, 'orig', '')}".lower()
    return any(word in text for word in ("out of range", "too large", "overflow"))


def backend_exception_handler(exception: Exception) -> EventSpec:
    """rx.App(backend_exception_handler=...): log with a reference, show it on the page."""
    ref = uuid.uuid4().hex[:8]
    logger.error("event handler failed (reference %s)", ref, exc_info=exception)
    return AppState.handler_failed(marketer_message(exception, ref))
