"""The Reflex app: pages plus the FastAPI app (REST API, health, auth) it mounts into."""

import reflex as rx
from reflex.config import get_config
from starlette.types import ASGIApp

from mini_crm.api.app import create_api
from mini_crm.api.preflight import ApiPreflightMiddleware
from mini_crm.components.history_guard import history_guard
from mini_crm.core import periodic_tasks
from mini_crm.core.ai import data_vocabulary
from mini_crm.observability import logs
from mini_crm.pages.admin import team_page
from mini_crm.pages.campaign_detail import campaign_detail_page
from mini_crm.pages.campaign_wizard import campaign_wizard_page
from mini_crm.pages.campaigns import campaigns_page
from mini_crm.pages.customers import customer_detail_page, customers_page
from mini_crm.pages.dashboard import dashboard_page
from mini_crm.pages.data import data_page
from mini_crm.pages.login import login_page
from mini_crm.pages.segments import segment_editor_page, segments_page
from mini_crm.pages.settings import settings_page
from mini_crm.state import base
from mini_crm.state.admin import TeamState
from mini_crm.state.base import AppState
from mini_crm.state.campaign_detail import CampaignDetailState
from mini_crm.state.campaign_wizard import CampaignWizardState
from mini_crm.state.campaigns import CampaignListState
from mini_crm.state.consent import ConsentState, SuppressionState
from mini_crm.state.customer_messages import CustomerMessagesState
from mini_crm.state.customers import CustomerDetailState, CustomersState
from mini_crm.state.dashboard import DashboardState
from mini_crm.state.data import DataState
from mini_crm.state.errors import backend_exception_handler
from mini_crm.state.login import LoginState
from mini_crm.state.segment_list import SegmentListState
from mini_crm.state.segments import SegmentEditorState
from mini_crm.state.settings import SettingsState


class MiniCrmApp(rx.App):
    """rx.App with one more layer outside Reflex's own CORS middleware: /api preflights
    are answered by the API (api/preflight.py), not in Reflex's plain text."""

    def __call__(self) -> ASGIApp:  # the server calls this factory once per process
        return ApiPreflightMiddleware(super().__call__(),
                                      allow_origins=get_config().cors_allowed_origins)


app = MiniCrmApp(
    api_transformer=create_api(),
    # Handler errors become a message on the page, never the default "An error occurred".
    backend_exception_handler=backend_exception_handler,
    style={"font_family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
    # Runs before the router starts, so a page can keep Back/Forward from leaving it.
    head_components=[history_guard()],
)
# The states ask it whether a tab's websocket is still here (base.client_connected).
base.use_app(app)

# Embedded mode (no Redis): the backend process runs the jobs, so it also runs the
# sweepers (scheduled launches, resuming abandoned delivery, receipts); with Redis,
# `mini-crm worker` (or `mini-crm run`) does and this is a no-op.
app.register_lifespan_task(periodic_tasks.start_embedded)
# Each backend process logs in LOG_FORMAT with request ids (at start, not on import).
app.register_lifespan_task(logs.configure_app)
# The plain-English parser's first pass over the customer table, off the request path.
app.register_lifespan_task(data_vocabulary.warm_in_background)

app.add_page(login_page, route="/login", title="Sign in · Mini CRM", on_load=LoginState.open)
app.add_page(dashboard_page, route="/", title="Dashboard · Mini CRM",
             on_load=[AppState.guard, DashboardState.load])
app.add_page(customers_page, route="/customers", title="Customers · Mini CRM",
             on_load=[AppState.guard, CustomersState.open])
app.add_page(customer_detail_page, route="/customers/[external_id]",
             title="Customer · Mini CRM", on_load=[AppState.guard, CustomerDetailState.open,
                      CustomerMessagesState.load, ConsentState.load])
# Feature pages register below (one add_page line each).
app.add_page(segments_page, route="/segments", title="Segments · Mini CRM",
             on_load=[AppState.guard, SegmentListState.load])
app.add_page(segment_editor_page, route="/segments/new", title="New segment · Mini CRM",
             on_load=[AppState.guard, SegmentEditorState.open])
app.add_page(segment_editor_page, route="/segments/[segment_ref]", title="Segment · Mini CRM",
             on_load=[AppState.guard, SegmentEditorState.open])
app.add_page(settings_page, route="/settings", title="Settings · Mini CRM",
             on_load=[AppState.guard, SettingsState.load])
app.add_page(team_page, route="/settings/team", title="Team & audit · Mini CRM",
             on_load=[AppState.guard, TeamState.open])
app.add_page(data_page, route="/data", title="Data · Mini CRM",
             on_load=[AppState.guard, DataState.load_dead_letters, SuppressionState.load])
app.add_page(campaigns_page, route="/campaigns", title="Campaigns · Mini CRM",
             on_load=[AppState.guard, CampaignListState.load])
app.add_page(campaign_wizard_page, route="/campaigns/new", title="New campaign · Mini CRM",
             on_load=[AppState.guard, CampaignWizardState.open])
app.add_page(campaign_detail_page, route="/campaigns/[campaign_id]", title="Campaign · Mini CRM",
             on_load=[AppState.guard, CampaignDetailState.open])
