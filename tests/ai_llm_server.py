"""A local OpenAI-compatible chat-completions server whose answers tests script.

Real HTTP on a free port, in a thread. Use it as a fixture or context manager:

    with LLMTestServer() as server:
        server.reply(Reply.json({"rules": ...}))          # good answer
        server.reply(Reply.text("not json at all"))        # malformed answer
        server.reply(Reply.slow(5.0, Reply.json({...})))   # sleeps past the timeout
        server.reply(Reply.error(500))                     # HTTP error
        server.default = lambda request: Reply.json({...}) # answer computed per request
        ...  server.requests  # every request body received, in order

Scripted replies are used first (in order), then `default`; with neither the
server answers HTTP 500 so a test notices a missing script. `use_llm_settings`
points the app's settings at a server (AI_ENGINE=llm, LLM_BASE_URL, ...).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Reply:
    status: int = 200
    content: str = ""  # the assistant message content
    delay: float = 0.0  # seconds to wait before answering
    raw_body: str | None = None  # send this body instead of a chat-completion envelope

    @classmethod
    def json(cls, obj: Any) -> Reply:
        return cls(content=json.dumps(obj))

    @classmethod
    def text(cls, content: str) -> Reply:
        return cls(content=content)

    @classmethod
    def slow(cls, seconds: float, then: Reply) -> Reply:
        return cls(status=then.status, content=then.content, delay=seconds,
                   raw_body=then.raw_body)

    @classmethod
    def error(cls, status: int = 500, message: str = "scripted failure") -> Reply:
        return cls(status=status, raw_body=json.dumps({"error": {"message": message,
                                                                 "type": "server_error"}}))


@dataclass
class LLMTestServer:
    model: str = "test-model"
    default: Callable[[dict[str, Any]], Reply] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    _queue: deque[Reply] = field(default_factory=deque)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- scripting -----------------------------------------------------------
    def reply(self, *replies: Reply) -> LLMTestServer:
        with self._lock:
            self._queue.extend(replies)
        return self

    def _next(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        if self.default is not None:
            return self.default(request)
        return Reply.error(500, "no scripted reply left")

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> LLMTestServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # /v1/models, for clients that probe
                self._send(200, json.dumps({"object": "list", "data": [
                    {"id": server.model, "object": "model", "owned_by": "tests"}]}))

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                body["_path"] = self.path
                body["_authorization"] = self.headers.get("authorization", "")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, json.dumps({"error": {"message": "not found"}}))
                    return
                reply = server._next(body)
                if reply.delay and server._stop.wait(reply.delay):
                    return  # server stopping: drop the connection
                if reply.raw_body is not None:
                    self._send(reply.status, reply.raw_body)
                    return
                self._send(reply.status, json.dumps(_completion(
                    body.get("model") or server.model, reply.content)))

            def _send(self, status: int, text: str) -> None:
                data = text.encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="llm-test-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LLMTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _completion(model: str, content: str) -> dict[str, Any]:
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def use_llm_settings(monkeypatch: pytest.MonkeyPatch, server: LLMTestServer | None, *,
                     timeout: float = 3.0, engine: str = "llm") -> None:
    """Point get_settings() at `server` (None: LLM selected but not configured)."""
    from mini_crm.settings import get_settings

    monkeypatch.setenv("AI_ENGINE", engine)
    monkeypatch.setenv("LLM_BASE_URL", server.url if server else "")
    monkeypatch.setenv("LLM_API_KEY", "test-key")
    monkeypatch.setenv("LLM_MODEL", server.model if server else "test-model")
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", str(timeout))
    get_settings.cache_clear()


@pytest.fixture
def llm_server() -> Iterator[LLMTestServer]:
    """A running scripted server (not yet wired into settings: call use_llm_settings)."""
    with LLMTestServer() as server:
        yield server


@pytest.fixture
def llm_configured(llm_server: LLMTestServer, monkeypatch: pytest.MonkeyPatch
                   ) -> Iterator[LLMTestServer]:
    """The running server with AI_ENGINE=llm pointed at it (3 s timeout); settings are
    restored afterwards."""
    from mini_crm.settings import get_settings

    use_llm_settings(monkeypatch, llm_server)
    yield llm_server
    monkeypatch.undo()
    get_settings.cache_clear()
