"""Vendor clients: how a delivery worker hands messages to a vendor.

One protocol (`base.VendorClient`), one module per vendor, chosen by settings in
`get_vendor_client`:
- `simulator`: the bundled simulator, over the contract's HTTP API (`http`);
- `webhook`: any vendor speaking that HTTP API at VENDOR_URL, requests signed;
- `smtp`: SMTP email (smtplib), which has no receipts.

The names below are the package's public API (callers import them from here).
"""

from __future__ import annotations

from mini_crm.core.delivery.vendors import simulator, smtp, webhook
from mini_crm.core.delivery.vendors.base import (
    OutgoingMessage,
    PermanentVendorError,
    SendResult,
    TransientVendorError,
    VendorClient,
    VendorError,
    parse_retry_after,
)
from mini_crm.core.delivery.vendors.http import MAX_HTTP_BATCH, HttpVendorClient, http_pool
from mini_crm.core.delivery.vendors.smtp import SmtpVendorClient
from mini_crm.settings import Settings, get_settings

__all__ = [
    "MAX_HTTP_BATCH", "HttpVendorClient", "OutgoingMessage", "PermanentVendorError",
    "SendResult", "SmtpVendorClient", "TransientVendorError", "VendorClient", "VendorError",
    "get_vendor_client", "http_pool", "parse_retry_after", "simulator_in_use",
]

simulator_in_use = simulator.in_use


def get_vendor_client(settings: Settings | None = None, channel: str = "sms") -> VendorClient:
    """The client for `channel` under `settings` (default: the current settings): SMTP
    for email when VENDOR_KIND=smtp, else the webhook vendor or the simulator.
    Raises ValueError when the webhook vendor lacks VENDOR_URL or VENDOR_SECRET."""
    settings = settings or get_settings()
    callback = f"{settings.app_url.rstrip('/')}/api/v1/receipts"
    if channel == "email" and settings.vendor_kind == "smtp":
        return smtp.client(settings)
    if settings.vendor_kind == "webhook":
        return webhook.client(settings, callback)
    return simulator.client(settings, callback)
