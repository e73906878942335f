"""A fake tracker on a local port (stdlib http.server) that answers as scripted."""

import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from issuetracker_client import IssueTrackerClient

API_KEY = "itk_testprefix_s3cr3t-value-never-logged"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: status, headers, body and how long to stall first."""

    status: int = 201
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0


@dataclass(frozen=True)
class Seen:
    """A request the fake received."""

    at: float
    path: str
    method: str
    headers: dict[str, str]
    body: Any


class FakeTracker(ThreadingHTTPServer):
    """Answers POSTs and PATCHes from a script of replies, then with `default`.

    A 2xx answer's body defaults to `{"id": <the id sent in the body, else
    issue-N>}`, as the tracker answers a create with a client-made id.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: deque[Reply] = deque()
        self.default = Reply()
        self.seen: list[Seen] = []
        self.release = threading.Event()  # ends every stall at teardown
        self.changed = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, *replies: Reply, default: Reply | None = None) -> None:
        self.script.extend(replies)
        if default is not None:
            self.default = default

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Seen]:
        """The requests seen, once there are `count` (or the timeout passed)."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.seen) >= count, timeout)
            return list(self.seen)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is expected here."""


class _Handler(BaseHTTPRequestHandler):
    server: FakeTracker

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        tracker = self.server
        with tracker.changed:
            tracker.seen.append(
                Seen(
                    time.monotonic(),
                    self.path,
                    self.command,
                    dict(self.headers),
                    json.loads(raw),
                )
            )
            tracker.changed.notify_all()
            reply = tracker.script.popleft() if tracker.script else tracker.default
        if reply.delay:
            tracker.release.wait(reply.delay)
        body = reply.body
        if body is None and self.path.endswith("/batch"):
            sent = tracker.seen[-1].body
            body = {
                "results": [
                    {"status": 201, "id": report.get("id", f"batch-{n}")}
                    for n, report in enumerate(sent["reports"])
                ]
            }
        if body is None:
            sent = tracker.seen[-1].body if tracker.seen else None
            fallback = f"issue-{len(tracker.seen)}"
            given = sent.get("id", fallback) if isinstance(sent, dict) else fallback
            body = {"id": given} if reply.status < 300 else {}
        data = json.dumps(body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PATCH = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(autouse=True)
def _no_tracker_environment(monkeypatch) -> None:
    """The service's environment must not leak into clients made in tests."""
    for name in ("ISSUETRACKER_URL", "ISSUETRACKER_API_KEY", "ISSUETRACKER_SERVICE_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def tracker() -> Iterator[FakeTracker]:
    server = FakeTracker()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """A local URL nothing listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def make_client(caplog) -> Iterator[Callable[..., IssueTrackerClient]]:
    """Clients with test-sized timeouts and backoff; closed after the test.

    Every test also checks that the key never reached a log record.
    """
    caplog.set_level(logging.DEBUG)
    clients: list[IssueTrackerClient] = []

    def make(url: str, api_key: str | None = API_KEY, **options) -> IssueTrackerClient:
        options.setdefault("timeout", 0.5)
        options.setdefault("backoff", 0.02)
        options.setdefault("max_backoff", 0.05)
        options.setdefault("close_timeout", 1.0)
        options.setdefault("register_atexit", False)
        # One request per report unless a test is about batches.
        options.setdefault("batch", False)
        client = IssueTrackerClient(url, api_key, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close(timeout=1.0)
    assert API_KEY not in caplog.text
    assert "s3cr3t" not in caplog.text
