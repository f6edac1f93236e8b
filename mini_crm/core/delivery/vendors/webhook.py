"""A generic webhook vendor speaking the contract's HTTP API at VENDOR_URL; every
request is signed with VENDOR_SECRET, as its receipts must be."""

from __future__ import annotations

from mini_crm.core.delivery.vendors.http import HttpVendorClient
from mini_crm.settings import Settings


def client(settings: Settings, callback_url: str) -> HttpVendorClient:
    """The webhook vendor's client; ValueError when VENDOR_URL or VENDOR_SECRET is unset."""
    if not (settings.vendor_url and settings.vendor_secret):
        raise ValueError("the webhook vendor needs VENDOR_URL and VENDOR_SECRET")
    return HttpVendorClient(url=settings.vendor_url, token=settings.vendor_secret,
                            callback_url=callback_url, signing_secret=settings.vendor_secret,
                            timeout=settings.vendor_timeout_seconds, name="webhook")
