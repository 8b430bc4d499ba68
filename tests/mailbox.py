"""Real delivery endpoints for the notification tests: an SMTP server (aiosmtpd) and an SMS HTTP provider on loopback,
and the switch that lets the session app's job worker deliver (it is off for the rest of the suite)."""
from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Optional

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout: float = 30, message: str = "") -> Any:
    """Poll until the condition holds (returns a true value); fail with the message after the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met in {timeout}s")
        time.sleep(0.2)


class Mailbox:
    """An SMTP server on 127.0.0.1 that keeps every message it accepts; start() and stop() at will."""

    def __init__(self, port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._controller: Any = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd handler
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def start(self) -> "Mailbox":
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self._lock:
            return [m for m, (_sender, rcpts) in zip(self.messages, self.envelopes) if address in rcpts]

    def with_text(self, text: str) -> list[email.message.EmailMessage]:
        with self._lock:
            return [m for m in self.messages if text in body_of(m) or text in str(m["Subject"])]


def body_of(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def attachment_names(message: email.message.EmailMessage) -> list[str]:
    return [part.get_filename() for part in message.iter_attachments()]


class SmsProvider:
    """An HTTP endpoint on 127.0.0.1 that records each POST; `status` is what it answers."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                provider.received.append({"path": self.path, "headers": dict(self.headers),
                                          "json": json.loads(body or b"{}")})
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if provider.status < 300 else b'{"error": "falha no provedor"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox().start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def sms_provider() -> Iterator[SmsProvider]:
    provider = SmsProvider()
    try:
        yield provider
    finally:
        provider.close()


@pytest.fixture
def delivering(app: Any, monkeypatch: Any) -> Callable[..., None]:
    """Turn the session app's delivery on: commits queue delivery on the real job queue, whose worker thread also
    sweeps due notifications every second. Call it with the mail and SMS settings of the test."""

    def configure(**settings: Any) -> None:
        values = {"NOTIFY_IN_BACKGROUND": True, "NOTIFY_SWEEP_SECONDS": 1, "NOTIFY_RETRY_SECONDS": 1,
                  "NOTIFY_RETRY_MAX_SECONDS": 2, "MAIL_TIMEOUT": 5, **settings}
        for name, value in values.items():
            monkeypatch.setitem(app.config, name, value)

    yield configure
    from app.jobs import Jobs

    queue: Jobs = app.extensions["atende_jobs"]
    wait_for(lambda: queue.huey.pending_count() == 0, 30, "jobs still queued at the end of the test")
    time.sleep(0.3)  # the job being executed (if any) finishes before the settings go back


def worker_running(app: Any) -> bool:
    return app.extensions["atende_jobs"].worker_alive()
