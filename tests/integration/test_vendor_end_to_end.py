"""The whole loop in one process, as in embedded mode: the app with the simulator mounted at
/vendor, the simulator client, receipts posted back to /api/v1/receipts and applied by the
app's own flusher (on SQLite, PostgreSQL and MariaDB)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mini_crm.api.app import create_api
from mini_crm.core.delivery.vendors import OutgoingMessage, get_vendor_client
from mini_crm.models import CommunicationLog
from mini_crm.settings import get_settings
from mini_crm.simulator.sender import outcome
from tests.integration.test_receipts_api import settle_settings
from tests.integration.test_receipts_apply import make_logs
from tests.servers import free_socket, serve


def _store_vendor_ids(engine: sa.Engine, results) -> None:
    """What a delivery worker does after the vendor answered."""
    table = CommunicationLog.__table__
    rows = [{"row_id": int(r.idempotency_key),
             "new_status": "sent" if r.status == "accepted" else "failed",
             "vid": r.vendor_message_id, "err": r.error} for r in results]
    with engine.begin() as conn:
        conn.execute(table.update()
                     .where(table.c.id == sa.bindparam("row_id"), table.c.status == "queued")
                     .values(status=sa.bindparam("new_status"),
                             vendor_message_id=sa.bindparam("vid"), error=sa.bindparam("err")),
                     rows)


def _counts(engine: sa.Engine) -> dict[str, int]:
    with Session(engine) as s:
        rows = s.exec(select(CommunicationLog.status, sa.func.count())
                      .group_by(CommunicationLog.status)).all()
    return dict(rows)


def test_send_then_receipts_flow_back_and_apply(app_settings: sa.Engine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    env = {"APP_URL": f"http://127.0.0.1:{port}", "VENDOR_KIND": "simulator",
           "VENDOR_URL": "", "VENDOR_SECRET": "", "RECEIPT_SIGNING_SECRET": "e2e-secret",
           "RECEIPT_FLUSH_MS": "50", "SIMULATOR_RECEIPT_DELAY_MS": "50"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settle_settings(**env)
    api = create_api()
    simulator = next(r.app for r in api.routes if getattr(r, "path", "") == "/vendor")
    n = 600
    ids = make_logs(app_settings, ["queued-noid"] * n)
    with serve(api, sock) as base:
        client = get_vendor_client(get_settings(), "sms")
        assert client.url == f"{base}/vendor/v1/messages"
        batch = [OutgoingMessage(str(i), "sms", "+91 98200 12345", f"hi {i}") for i in ids]
        batch[0] = OutgoingMessage(str(ids[0]), "sms", "", "hi")  # rejected: no number
        early, late = batch[:400], batch[400:]
        _store_vendor_ids(app_settings, client.send(early))
        # The late rows' receipts arrive before the worker stores their vendor ids: they
        # wait in the buffer and apply once the ids are there.
        late_results = client.send(late)
        time.sleep(0.8)
        threading.Thread(target=_store_vendor_ids, args=(app_settings, late_results)).start()
        # A worker that retries a batch (crash after the vendor answered) changes nothing.
        assert [r.vendor_message_id for r in client.send(late[:50])] == \
            [r.vendor_message_id for r in late_results[:50]]
        deadline = time.monotonic() + 60
        while (counts := _counts(app_settings)).get("sent") or counts.get("queued"):
            assert time.monotonic() < deadline, counts
            time.sleep(0.1)
        stats = httpx.get(f"{base}/vendor/v1/stats", headers={"Authorization": "Bearer sim"}
                          ).json()
        simulator.state.simulator.sender.close()
    expected_delivered = sum(1 for i in ids[1:] if outcome(str(i), "sms", 0.9)[0] == "delivered")
    assert _counts(app_settings) == {"failed": 1, "delivered": expected_delivered,
                                     "undelivered": n - 1 - expected_delivered}
    assert 0.85 < expected_delivered / (n - 1) < 0.95
    assert (stats["accepted"], stats["rejected"], stats["duplicates"]) == (n - 1, 1, 50)
    assert stats["receipts_posted"] == n - 1
