"""Campaigns: create/launch/schedule/cancel (service), drafts, the launch INSERT ... SELECT
(launch), who is reached (reach), test sends, the sweeper that starts scheduled
campaigns and resumes delivery (sweeper), and the read side (reports). Sending itself
is `mini_crm.core.delivery`; message rendering is `mini_crm.core.messages`.

Importing the package stays light (no vendor client, no RQ worker) so the UI can use it.
"""

from mini_crm.core.campaigns.errors import CampaignError, CampaignNotFound

__all__ = ["CampaignError", "CampaignNotFound"]
