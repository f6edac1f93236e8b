"""Campaigns: create/launch/schedule/cancel (service), the launch INSERT ... SELECT
(launch), personalisation (render), delivery jobs (delivery), the sweeper that keeps
delivery moving (sweeper), and the read side (reports).

Importing the package stays light (no vendor client, no RQ worker) so the UI can use it.
"""

from mini_crm.core.campaigns.errors import CampaignError, CampaignNotFound

__all__ = ["CampaignError", "CampaignNotFound"]
