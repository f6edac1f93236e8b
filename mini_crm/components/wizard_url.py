"""The campaign wizard's step in the URL (issue 14): `/campaigns/new?draft=12&step=2`.

Each step change the marketer makes (Next, Back, a step in the step bar) pushes a history
entry, so the browser's Back and Forward move between the wizard's steps, and a refresh
lands on the same step of the same draft (the wizard's `open` prefers the URL's step).

How: the wizard's step-change script (`_focus_title` in state/campaign_wizard.py) calls
`window.__mcWizardStepUrl(N)` with the step the server moved to, which pushes `?step=N`
when the URL says another step (`step=0` too: an address without a step, as in the
history's links, means "where the draft was left"). The step is passed, not read from
the page: under load the page may not show the new step 50 ms later, and pushing the old
one cut off the Forward history. Back or Forward change the URL's query, and Reflex
reruns the page's on_load for any change of path or query (its router hook in
.web/utils/state.js), so the wizard's `open` follows the URL: it resumes the draft at the
URL's step when it opens the draft afresh, or, when this draft is already open in the
tab, keeps everything as it is and moves to the URL's step (`follow_url`: steps not
reached are refused, the steps before are checked again). A step change that comes from
the URL never writes the URL: its script could land after a second Back/Forward and push
a stale step (CI, stop 20: Back then Forward ended on step 1 with no Forward left).
"""

from __future__ import annotations

import reflex as rx

_SCRIPT = """
(() => {
  if (window.__mcWizardStepUrl) return;
  const onWizard = () => window.location.pathname.replace(/\\/$/, '') === '/campaigns/new';
  const urlStep = () => new URLSearchParams(window.location.search).get('step') || '0';
  window.__mcWizardStepUrl = (n, replace) => {
    if (!onWizard()) return;
    const step = String(n);
    if (step === urlStep()) return;
    const params = new URLSearchParams(window.location.search);
    params.set('step', step);
    const query = params.toString();
    const address = window.location.pathname + (query ? '?' + query : '');
    if (replace) window.history.replaceState(window.history.state, '', address);
    else window.history.pushState(window.history.state, '', address);
  };
})();
"""


def wizard_url() -> rx.Component:
    """Put once on the wizard page: defines `window.__mcWizardStepUrl`."""
    return rx.script(_SCRIPT)
