"""Every setting of Mini CRM, read from the environment and an optional `.env`.

One class, one place: code asks `get_settings()` and never reads os.environ itself.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
_DEV_SECRET_FILE = DATA_DIR / ".secret_key"


def _development_secret() -> str:
    """A random key made once per checkout and kept, so dev sessions survive restarts."""
    if _DEV_SECRET_FILE.exists():
        return _DEV_SECRET_FILE.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    _DEV_SECRET_FILE.write_text(key)
    _DEV_SECRET_FILE.chmod(0o600)
    return key


# "scheme://user:password@host" -> "scheme://user@host" (a URL's password is percent-encoded,
# so it holds no "@" or "/").
_URL_PASSWORD = re.compile(r"^([^:/]+://[^:@/]*):[^@/]*@")


def fingerprint_of(database_url: str) -> str:
    """10 hex digits of the sha256 of `database_url` with its password left out: the
    name of one database in the Redis keys and queue names of every install using it."""
    text = _URL_PASSWORD.sub(r"\1@", database_url)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    app_env: Literal["development", "production"] = "development"
    port: int = 3000
    app_url: str = ""  # the public URL; defaults to http://localhost:<port>
    # Timestamps are stored in UTC; customer behaviour (send times, "evening") is read in
    # the brand's own zone.
    brand_timezone: str = "Asia/Kolkata"
    # How a slashed date typed by a person reads (CSV cells, rule values in the builder):
    # "DMY" = 29/11/2026 (India, the brand's locale), "MDY" = 11/29/2026. The API's
    # timestamps stay ISO 8601 only (core.brand_time.parse_people_date).
    date_order: Literal["DMY", "MDY"] = "DMY"
    # Phones written without a country code (98765 43210, 098765-43210) are read as numbers
    # of this region (ISO 3166 alpha-2) and stored in E.164.
    default_phone_region: str = Field(default="IN", pattern=r"^[A-Z]{2}$")
    # The one currency money is counted in (ISO 4217): an order in another currency is
    # refused per item on every ingest door, since no exchange rates are available offline
    # and an unconverted USD amount added to a rupee total spend would be wrong.
    brand_currency: str = Field(default="INR", pattern=r"^[A-Z]{3}$")
    secret_key: str = ""

    database_url: str = f"sqlite:///{DATA_DIR / 'mini_crm.db'}"
    database_echo: bool = False
    # Empty means "no Redis": jobs run on the in-process executor.
    redis_url: str = "redis://127.0.0.1:6379/0"
    worker_processes: int = Field(default=2, ge=1, le=64)
    job_batch_size: int = Field(default=500, ge=1, le=10_000)

    # Sign-in (OpenID Connect). Google by default; any issuer works.
    oidc_issuer: str = "https://accounts.google.com"
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    allowed_email_domains: str = ""
    # The local development provider used when no OIDC client is configured.
    dev_oidc_port: int = 3101
    session_idle_minutes: int = 60 * 12
    session_absolute_hours: int = 24 * 7

    # AI: the offline engine is the default; an OpenAI-compatible endpoint is opt-in.
    ai_engine: Literal["offline", "llm"] = "offline"
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = 20.0

    # Delivery vendor: the bundled simulator unless configured otherwise.
    vendor_kind: Literal["simulator", "webhook", "smtp"] = "simulator"
    vendor_url: str = ""
    vendor_secret: str = ""
    receipt_signing_secret: str = ""
    simulator_delivered_ratio: float = Field(default=0.9, ge=0.0, le=1.0)
    simulator_latency_ms: int = Field(default=0, ge=0)
    simulator_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    simulator_rate_limit_per_second: int = Field(default=0, ge=0)
    frequency_cap_messages: int = Field(default=3, ge=0)
    frequency_cap_days: int = Field(default=7, ge=1)
    # Test sends (before launch) may go to the signed-in marketer's own email address or
    # to these addresses and phone numbers (comma-separated), and nowhere else.
    test_send_recipients: str = ""
    # Campaign delivery (mini_crm.core.campaigns): rows per RQ job, how long a worker's
    # claim on its rows holds before the sweeper hands them to another worker, vendor
    # tries per claim and claims per row, and the per-vendor limits shared by all workers.
    delivery_batch_size: int = Field(default=500, ge=1, le=1000)
    delivery_job_threads: int = Field(default=2, ge=1, le=16)  # vendor requests per job at once
    delivery_claim_timeout_seconds: int = Field(default=60, ge=1)
    delivery_max_attempts: int = Field(default=5, ge=1)
    delivery_vendor_retries: int = Field(default=4, ge=0)
    delivery_backoff_max_seconds: float = Field(default=20.0, ge=0.0)
    delivery_sweep_seconds: float = Field(default=15.0, gt=0)
    # How often due scheduled campaigns are looked for: the latest a scheduled one starts.
    schedule_check_seconds: float = Field(default=2.0, gt=0)
    # How often an open Campaigns list, or a scheduled campaign's page, looks for changes
    # while nothing sends (a campaign launched in another tab or over the API).
    quiet_refresh_seconds: int = Field(default=10, ge=1, le=300)
    vendor_concurrency: int = Field(default=4, ge=1)
    vendor_rate_limit_per_second: int = Field(default=0, ge=0)  # messages/s; 0 = no limit
    # How long a cancel's answer waits for the workers' in-flight rows to settle.
    cancel_settle_seconds: float = Field(default=3.0, ge=0.0, le=30.0)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "campaigns@example.com"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    # Vendor clients and receipts (mini_crm.core.delivery): HTTP timeout per vendor call;
    # receipts are applied before the API's 202 ("database": durable whatever Redis keeps)
    # or buffered in a Redis list under receipt_buffer_prefix ("redis": for a Redis with
    # AOF) and applied in batches; a receipt whose vendor id is not stored yet is retried
    # with backoff up to receipt_max_requeues times; signatures older than the window are
    # refused.
    vendor_timeout_seconds: float = Field(default=10.0, gt=0)
    receipt_buffer: Literal["database", "redis"] = "database"
    receipt_window_seconds: int = Field(default=300, ge=1)
    # Empty = "{REDIS_NAMESPACE}mc:receipts:{database_fingerprint}" (see _redis_prefixes).
    receipt_buffer_prefix: str = ""
    receipt_batch_size: int = Field(default=500, ge=1, le=10_000)
    receipt_flush_ms: int = Field(default=500, ge=10)
    receipt_max_requeues: int = Field(default=25, ge=0)
    receipt_processing_timeout_seconds: int = Field(default=60, ge=1)
    # The simulator's receipts: how long after acceptance, and how many per callback POST.
    simulator_receipt_delay_ms: int = Field(default=200, ge=0)
    simulator_receipt_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Where the mounted simulator keeps its memory in Redis (several app processes).
    # Empty = "{REDIS_NAMESPACE}mc:vendor-sim:{database_fingerprint}" (see _redis_prefixes).
    simulator_redis_prefix: str = ""

    # Attribution (mini_crm.core.outcomes): an order within this many hours after a
    # message on the channel (or after a holdout member's launch time) is a conversion.
    # Defaults follow Klaviyo's default conversion windows: 5 days for email, 1 day for
    # SMS (help.klaviyo.com, "Understanding message attribution"); WhatsApp as SMS.
    conversion_window_email_hours: int = Field(default=120, ge=1, le=24 * 90)
    conversion_window_sms_hours: int = Field(default=24, ge=1, le=24 * 90)
    conversion_window_whatsapp_hours: int = Field(default=24, ge=1, le=24 * 90)

    # auto: queue on a Redis Stream when Redis answers, else write synchronously.
    ingest_mode: Literal["auto", "sync", "queued"] = "auto"
    # Empty = "{REDIS_NAMESPACE}mc:ingest:{database_fingerprint}" (see _redis_prefixes).
    ingest_stream_prefix: str = ""
    ingest_reclaim_idle_seconds: int = Field(default=30, ge=1)
    ingest_max_deliveries: int = Field(default=3, ge=1)
    ingest_max_items: int = 5000
    ingest_max_body_bytes: int = 10 * 1024 * 1024
    # An order dated, or a customer signed up, later than now + this many hours is
    # refused (per item, every door): the slack covers clock skew and a client that sends
    # local time without an offset. (Named for orders, its first use; kept for configs.)
    order_future_tolerance_hours: float = Field(default=24.0, ge=0)
    api_rate_limit_per_minute: int = 600
    # CSV imports (core.ingestion.imports): uploads are kept under import_dir (default
    # data/imports; with several machines, storage they all mount) until the import ends.
    # One job works for at most import_slice_seconds, then queues its own continuation;
    # an import whose heartbeat is older than import_stale_seconds is resumed.
    import_dir: str = ""
    import_max_bytes: int = Field(default=2 * 1024**3, ge=1)
    import_max_stored_errors: int = Field(default=10_000, ge=0)
    import_chunk_rows: int = Field(default=1000, ge=1, le=5000)  # rows per upsert batch
    import_slice_seconds: float = Field(default=60.0, gt=0)
    import_stale_seconds: int = Field(default=120, ge=1)

    # Operations (docs/deploy.md). The app's /metrics needs `Authorization: Bearer
    # METRICS_TOKEN`; empty = open in development and switched off (404) in production. A
    # worker host serves its own /metrics on METRICS_BIND:METRICS_PORT (0 = no exporter),
    # an internal port. Several processes of one role (Reflex's backend workers, RQ
    # workers) share counters through files in PROMETHEUS_MULTIPROC_DIR, the library's own
    # variable; `mini-crm serve` / `worker` make a fresh one when it is unset.
    metrics_token: str = ""
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_bind: str = "127.0.0.1"
    prometheus_multiproc_dir: str = ""
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The periodic sweepers run on one worker host at a time: the holder of a Redis lease
    # renewed every second; another host takes over within this many seconds of its loss.
    periodic_lease_seconds: float = Field(default=10.0, ge=2.0, le=300.0)
    # Prepended to every Redis key and RQ queue name (job tracker, vendor throttles, the
    # leader lease, …), e.g. for a benchmark's own corner of a shared Redis. Two installs
    # on one Redis need none: queue names and per-database keys carry
    # database_fingerprint (jobs.queue_name, periodic.leader_key, _redis_prefixes).
    redis_namespace: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9:_.-]*$")

    @field_validator("default_phone_region", mode="before")
    @classmethod
    def _region_upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _secrets_for_environment(self) -> Settings:
        if not self.app_url:
            self.app_url = f"http://localhost:{self.port}"
        if self.app_env == "production":
            if len(self.secret_key) < 32:
                raise ValueError("SECRET_KEY must be set (32+ characters) in production")
            if not (self.oidc_client_id and self.oidc_client_secret):
                raise ValueError("OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required in production")
        elif not self.secret_key:
            self.secret_key = _development_secret()
        if not self.receipt_signing_secret:
            self.receipt_signing_secret = self.secret_key
        return self

    @model_validator(mode="after")
    def _redis_prefixes(self) -> Settings:
        # These keys hold facts of one database (row ids, vendor ids, queued customers):
        # two installs sharing a Redis with fixed prefixes took each other's ids as
        # duplicates and could apply each other's receipts or ingest batches.
        base = self.redis_namespace
        fingerprint = self.database_fingerprint
        if not self.receipt_buffer_prefix:
            self.receipt_buffer_prefix = f"{base}mc:receipts:{fingerprint}"
        if not self.simulator_redis_prefix:
            self.simulator_redis_prefix = f"{base}mc:vendor-sim:{fingerprint}"
        if not self.ingest_stream_prefix:
            self.ingest_stream_prefix = f"{base}mc:ingest:{fingerprint}"
        return self

    @property
    def database_fingerprint(self) -> str:
        """10 hex digits naming DATABASE_URL with its password left out (rotating the
        password keeps the name); the same URL always gives the same digits."""
        return fingerprint_of(self.database_url)

    @property
    def import_path(self) -> Path:
        return Path(self.import_dir) if self.import_dir else DATA_DIR / "imports"

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def oidc_settings(self) -> tuple[str, str, str]:
        """(issuer, client id, client secret): the configured provider or the local one."""
        if self.uses_local_oidc:
            return f"http://localhost:{self.dev_oidc_port}", "mini-crm-dev", "dev-secret"
        return self.oidc_issuer.rstrip("/"), self.oidc_client_id, self.oidc_client_secret

    @property
    def uses_local_oidc(self) -> bool:
        """Dev sign-in: no Google credentials outside production means the local provider."""
        return not self.is_production and not self.oidc_client_id


class _SettingsCache:
    """`get_settings()`: the process's Settings, built once; `get_settings.cache_clear()`
    makes the next call read the environment again (tests, procdir).

    Not `functools.lru_cache`: a thread that began building Settings before a clear
    stored its stale answer after it, over the fresh one (a vendor client then saw the
    default APP_URL, CI on a loaded machine, stop 21). Here a build that a clear overtook
    is handed to its caller but never cached."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Settings | None = None
        self._generation = 0

    def __call__(self) -> Settings:
        value = self._value
        if value is not None:
            return value
        with self._lock:
            generation = self._generation
        built = Settings()
        with self._lock:
            if self._generation != generation:
                return built
            if self._value is None:
                self._value = built
            return self._value

    def cache_clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._value = None


get_settings = _SettingsCache()
