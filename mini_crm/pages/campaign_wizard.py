"""New campaign: a four-step wizard (audience, message, schedule, review) that launches.

This module is the frame: the step bar, Back/Next, the draft bar, keyboard shortcuts
and the leave guard. Each step's layout is its own module (`pages/wizard_audience`,
`wizard_message`, `wizard_schedule`, `wizard_review`), all bound to
`state/campaign_wizard.CampaignWizardState`.
"""

from __future__ import annotations

import reflex as rx

from mini_crm.components.campaign_ui import step_indicator
from mini_crm.components.layout import page_shell
from mini_crm.components.ui import confirm_dialog
from mini_crm.components.wizard_url import wizard_url
from mini_crm.pages.wizard_audience import audience_step
from mini_crm.pages.wizard_message import message_step
from mini_crm.pages.wizard_review import review_step
from mini_crm.pages.wizard_schedule import schedule_step
from mini_crm.state.campaign_wizard import CampaignWizardState as W
from mini_crm.state.wizard_reads import STEPS

# Ctrl/Cmd+Enter goes to the next step (or launches on the review), Alt+← goes back:
# handled in the browser by clicking the visible button, so the same validation runs
# and no extra event travels for every key press.
_SHORTCUTS = """
if (!window.__mcWizardKeys) {
  window.__mcWizardKeys = true;
  document.addEventListener('keydown', (e) => {
    if (!location.pathname.startsWith('/campaigns/new')) return;
    const click = (id) => { const b = document.querySelector(`[data-testid="${id}"]`);
                            if (b && !b.disabled) { e.preventDefault(); b.click(); } };
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      click(document.querySelector('[data-testid="wizard-next"]') ? 'wizard-next'
                                                                 : 'launch-campaign');
    } else if (e.key === 'ArrowLeft' && e.altKey) { click('wizard-back'); }
  });
}
"""


# Leaving the page (refresh, closing the tab, another site) while edits are not saved
# yet asks first; the marker element carries the state's `dirty` flag.
_LEAVE_GUARD = """
if (!window.__mcLeaveGuard) {
  window.__mcLeaveGuard = (e) => {
    const m = document.getElementById('wizard-dirty');
    if (m && m.dataset.dirty === 'true') { e.preventDefault(); e.returnValue = ''; }
  };
  window.addEventListener('beforeunload', window.__mcLeaveGuard);
}
"""


def _draft_bar() -> rx.Component:
    """Whether the draft is saved, and deleting it."""
    return rx.hstack(
        rx.el.span(id="wizard-dirty", custom_attrs={"data-dirty": W.dirty.to(str)},
                   display="none"),
        rx.script(_LEAVE_GUARD),
        rx.cond(W.dirty, rx.text("Saving…", size="1", color_scheme="gray"),
                rx.text(W.draft_note, size="1", color_scheme="gray",
                        data_testid="draft-note")),
        rx.spacer(),
        rx.cond(W.draft_status == "draft", _delete_draft()),
        width="100%", align="center", min_height="20px",
    )


def _delete_draft() -> rx.Component:
    """Deleting a draft cannot be undone, so it asks first."""
    return confirm_dialog(
        rx.button(rx.icon("trash-2", size=14), "Delete draft", size="1", variant="ghost",
                  color_scheme="red", data_testid="delete-draft"),
        title="Delete this draft?",
        body="Its audience, message and schedule are removed for good; nothing has been "
             "sent.",
        cancel="Keep it", confirm="Delete draft", on_confirm=W.discard_draft, danger=True,
        confirm_test_id="confirm-delete-draft")


def _viewer_notice() -> rx.Component:
    """A viewer is told at once, instead of walking the wizard to a launch that fails."""
    return rx.callout(
        rx.text("Viewers can't create campaigns. Ask an admin to give you the marketer "
                "role; meanwhile you can look at ", rx.link("existing campaigns",
                                                            href="/campaigns"), "."),
        icon="lock", color_scheme="amber", width="100%", role="status",
        data_testid="viewer-cannot-create")


def _nav() -> rx.Component:
    return rx.hstack(
        rx.cond(W.step > 0,
                rx.button(rx.icon("arrow-left", size=16), "Back", variant="soft",
                          color_scheme="gray", size="3", on_click=W.prev_step,
                          data_testid="wizard-back"),
                rx.link(rx.button("Cancel", variant="soft", color_scheme="gray", size="3"),
                        href="/campaigns")),
        rx.spacer(),
        rx.text(rx.el.kbd("Ctrl"), "+", rx.el.kbd("Enter"),
                rx.cond(W.step < len(STEPS) - 1, " next step", " launch"), size="1",
                color_scheme="gray", display=["none", "none", "block"]),
        rx.cond(W.step < len(STEPS) - 1,
                rx.button("Next", rx.icon("arrow-right", size=16), size="3",
                          on_click=W.next_step, data_testid="wizard-next")),
        rx.script(_SHORTCUTS),
        width="100%",
        align="center",
        padding_top="8px",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )


def campaign_wizard_page() -> rx.Component:
    # The role comes from the page's on_load (AppState.guard); "" until it has run.
    viewer = (W.user_role != "") & ~W.can_launch
    return page_shell(
        "New campaign",
        rx.cond(viewer, _viewer_notice(), _wizard()),
        subtitle="Audience, message, schedule, review: nothing is sent until you launch.",
        actions=rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("All campaigns"),
                                  align="center", spacing="1"), href="/campaigns", size="2"),
    )


def _wizard() -> rx.Component:
    return rx.fragment(
        rx.card(step_indicator(STEPS, W.step, W.reached, W.go_to), width="100%", size="1"),
        _draft_bar(),
        wizard_url(),
        rx.cond(W.launch_error != "", rx.callout(W.launch_error, icon="triangle-alert",
                                                 color_scheme="red", width="100%",
                                                 role="alert", data_testid="launch-error")),
        rx.card(
            rx.vstack(
                rx.match(W.step, (0, audience_step()), (1, message_step()),
                         (2, schedule_step()), review_step()),
                _nav(),
                spacing="5",
                width="100%",
            ),
            # Less padding on a phone, so the step's controls fit the card.
            size=rx.breakpoints(initial="2", sm="3"),
            width="100%",
        ),
    )
