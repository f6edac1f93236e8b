"""The bundled vendor simulator (`mini_crm/simulator`, mounted at /vendor unless
VENDOR_URL points at a separate one), reached over the contract's HTTP API."""

from __future__ import annotations

from mini_crm.core.delivery.vendors.http import HttpVendorClient
from mini_crm.settings import Settings, get_settings


def in_use(settings: Settings | None = None) -> bool:
    """Whether the bundled simulator serves some channel (so the app mounts it at /vendor):
    the simulator vendor, or SMTP email with no HTTP vendor for SMS/WhatsApp."""
    settings = settings or get_settings()
    return settings.vendor_kind == "simulator" or (
        settings.vendor_kind == "smtp" and not settings.vendor_url)


def client(settings: Settings, callback_url: str) -> HttpVendorClient:
    """The simulator's client: VENDOR_URL, else this app's /vendor; bearer VENDOR_SECRET
    (or "sim"), and requests signed only when VENDOR_SECRET is set."""
    base = (settings.vendor_url or f"{settings.app_url.rstrip('/')}/vendor").rstrip("/")
    return HttpVendorClient(url=f"{base}/v1/messages", token=settings.vendor_secret or "sim",
                            callback_url=callback_url,
                            signing_secret=settings.vendor_secret or None,
                            timeout=settings.vendor_timeout_seconds, name="simulator")
