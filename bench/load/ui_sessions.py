"""Concurrent UI sessions over the websocket: each speaks Reflex's Socket.IO protocol the
way a browser tab on /segments/new does, edits the first rule's value and measures the
live preview's round trip (the edit sent → the new audience size received).

    python -m bench.load.ui_sessions --host http://127.0.0.1:PORT --cookie TOKEN \
        --sessions 10 --seconds 20

The round trip includes the page's deliberate debounce (PREVIEW_DEBOUNCE_SECONDS =
0.35 s: the preview waits for the user to stop typing); `server_ms` is the round trip
minus it. One JSON line on stdout. A thread per session (simple_websocket): no browser,
so 50 sessions fit on two cores, and what is measured is the server. Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import simple_websocket

from mini_crm.core.auth.sessions import COOKIE_NAME
from mini_crm.core.segments import editing
from mini_crm.state.segments import PREVIEW_DEBOUNCE_SECONDS, SegmentEditorState

PAGE = "/segments/new"
DEBUG = bool(os.environ.get("UI_SESSIONS_DEBUG"))
NAMESPACE = "/_event"


class Session:
    """One tab: an Engine.IO v4 websocket, the Socket.IO namespace, Reflex events."""

    def __init__(self, host: str, cookie: str, timeout: float = 30.0) -> None:
        self.token = str(uuid.uuid4())
        self.timeout = timeout
        url = (host.replace("http://", "ws://") + f"/_event/?EIO=4&transport=websocket"
               f"&token={self.token}")
        self.ws = simple_websocket.Client.connect(url, headers={
            "Cookie": f"{COOKIE_NAME}={cookie}"})
        opened = self.ws.receive(timeout)
        if not str(opened).startswith("0"):
            raise RuntimeError(f"unexpected Engine.IO open packet: {opened!r}")
        self.ws.send(f"40{NAMESPACE},{{}}")
        self._until(lambda kind, _: kind == "connected")

    def _until(self, done, timeout: float | None = None) -> Any:  # noqa: ANN001
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the server")
            packet = self.ws.receive(left)
            if packet is None:
                continue
            packet = str(packet)
            if DEBUG:
                print("<", packet[:300], file=sys.stderr, flush=True)
            if packet == "2":  # Engine.IO ping: answer or be dropped
                self.ws.send("3")
                continue
            if packet.startswith(f"40{NAMESPACE}"):
                if done("connected", None):
                    return None
                continue
            if packet.startswith(f"42{NAMESPACE},"):
                name, data = json.loads(packet[len(NAMESPACE) + 3:])[:2]
                if name == "event" and done("event", data):
                    return data

    def emit(self, handler: str, payload: dict[str, Any]) -> None:
        event = {"name": f"{SegmentEditorState.get_full_name()}.{handler}",
                 "payload": payload, "token": self.token,
                 "router_data": {"pathname": PAGE, "asPath": PAGE, "query": {}}}
        self.ws.send(f"42{NAMESPACE}," + json.dumps(["event", event]))

    def preview(self, path: str, value: str) -> float:
        """Set the rule's value; seconds until a delta with the new size arrives."""
        start = time.monotonic()
        self.emit("set_value", {"path": path, "value": value})
        self._until(lambda kind, data: kind == "event" and _preview_done(data))
        return time.monotonic() - start

    def close(self) -> None:
        self.ws.close()


def _preview_done(update: dict[str, Any]) -> bool:
    """The refresh_preview's last delta: `previewing` back to false (with the size)."""
    for substate in (update.get("delta") or {}).values():
        for key, value in substate.items():
            if key.startswith("previewing") and value is False:
                return True
    return False


def run(host: str, cookie: str, sessions: int, seconds: float) -> dict[str, Any]:
    path = next(row["path"] for row in editing.flatten(editing.empty_tree(), "", "")
                if row["kind"] == "rule")
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    values = itertools.count(1000, 250)

    def tab() -> None:
        try:
            session = Session(host, cookie)
        except Exception as exc:  # noqa: BLE001 - counted, reported
            with lock:
                errors.append(f"connect: {exc}"[:120])
            return
        try:
            while time.monotonic() < stop:
                with lock:
                    value = str(next(values))
                took = session.preview(path, value)
                with lock:
                    times.append(took)
                time.sleep(1.0)  # a user reading the new size before the next edit
        except Exception as exc:  # noqa: BLE001
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}"[:120])
        finally:
            session.close()

    threads = [threading.Thread(target=tab, daemon=True) for _ in range(sessions)]
    for t in threads:
        t.start()
        time.sleep(0.05)  # tabs open over a moment, not in one instant
    for t in threads:
        t.join(seconds + 60)
    ms = sorted(t * 1000 for t in times)

    def pct(q: float) -> float | None:
        return round(ms[min(len(ms) - 1, int(q * len(ms)))], 0) if ms else None

    debounce = PREVIEW_DEBOUNCE_SECONDS * 1000
    return {"sessions": sessions, "previews": len(ms),
            "previews_per_s": round(len(ms) / seconds, 1),
            "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "server_p50_ms": round(statistics.median(ms) - debounce) if ms else None,
            "debounce_ms": debounce, "errors": len(errors), "error_kinds": sorted(set(errors))[:3]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--cookie", required=True, help="a signed-in session's cookie value")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args(argv)
    if urlsplit(args.host).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("load tests run against this machine only (127.0.0.1)")
    print(json.dumps({"scenario": "ui-preview",
                      **run(args.host, args.cookie, args.sessions, args.seconds)}), flush=True)


if __name__ == "__main__":
    main()
