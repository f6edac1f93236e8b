"""The campaign page's action buttons: duplicate (any campaign); edit, reschedule and
send now (a scheduled one). Cancel stays where it was (pages/campaign_detail.py)."""

from __future__ import annotations

import reflex as rx

from mini_crm.components.ui import confirm_dialog
from mini_crm.state.campaign_actions import CampaignActionsState as A

C = A.c


def _reschedule() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(rx.button(rx.icon("calendar-clock", size=16), "Reschedule",
                                     variant="soft", size="3", on_click=A.start_reschedule,
                                     data_testid="reschedule")),
        rx.popover.content(rx.vstack(
            rx.text("New time", size="2", weight="medium"),
            rx.input(type="datetime-local", value=A.reschedule_local,
                     on_change=A.set_reschedule_local, aria_label="New time",
                     data_testid="reschedule-at"),
            rx.popover.close(rx.button("Save time", on_click=A.reschedule,
                                       data_testid="reschedule-save")),
            spacing="2")),
    )


def _send_now() -> rx.Component:
    return confirm_dialog(
        rx.button(rx.icon("send", size=16), "Send now", size="3", data_testid="send-now"),
        title="Send this campaign now?",
        body="It starts at once instead of at its scheduled time.",
        cancel="Not yet", confirm="Send now", on_confirm=A.send_now,
        confirm_test_id="confirm-send-now")


def campaign_actions(cancel: rx.Component) -> rx.Component:
    scheduled = C["status"].to(str) == "scheduled"
    return rx.vstack(
        rx.hstack(
            rx.cond(A.can_launch & scheduled, rx.hstack(
                rx.link(rx.button(rx.icon("pencil", size=16), "Edit", variant="soft",
                                  size="3"),
                        href="/campaigns/new?draft=" + C["id"].to(str),
                        data_testid="edit-campaign"),
                _reschedule(), _send_now(), spacing="2", wrap="wrap")),
            rx.cond(A.can_launch & C.contains("id"),
                    rx.button(rx.icon("copy", size=16), "Duplicate", variant="soft",
                              color_scheme="gray", size="3", on_click=A.duplicate,
                              data_testid="duplicate-campaign")),
            cancel,
            spacing="2", wrap="wrap", justify="end",
        ),
        rx.cond(A.action_error != "", rx.text(A.action_error, color_scheme="red", size="2",
                                              role="alert", data_testid="action-error")),
        align="end", spacing="2",
    )
