"""A real gunicorn (`gunicorn.conf.py`) against the suite's emulator: what its
workers buffered is written when they are stopped gracefully (SIGTERM), by the
`worker_exit` hook and interpreter exit, not lost (README, "What a graceful stop
and a crash lose")."""

import http.client
import json
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from accounts.services.api_keys import api_key_create
from issues import services
from issues.domain import NewIssue
from issues.store.buffers import write_buffer
from issuetracker.emulator import free_port
from issuetracker.testing import REPO, child_env, database_url

REPORTS = 24
MERGED = 5  # the last report stands for this many repeats (client merging)


def start_gunicorn(port: int, log: Path) -> "subprocess.Popen[bytes]":
    """Two workers with a buffer interval longer than the test: only the flush at
    a worker's exit can write what they buffered."""
    env = child_env(
        {
            "DATABASE_URL": database_url(),
            "GOOGLE_CLOUD_PROJECT": settings.GOOGLE_CLOUD_PROJECT,
            "INGEST_BUFFER_SECONDS": "60",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "2",
            "API_WRITE_RATE": "100000/m",
            "REDIS_URL": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(REPO / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "issuetracker.wsgi",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def request(port: int, method: str, path: str, body: Any = None, **headers: str):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, json.dumps(body) if body else None, headers)
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"null")
    finally:
        connection.close()


def wait_until_up(server: "subprocess.Popen[bytes]", port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            request(port, "GET", "/api/health")
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"gunicorn did not start:\n{log.read_text()}")


@pytest.mark.django_db(transaction=True)
def test_a_graceful_stop_writes_the_buffered_occurrences(store, service, tmp_path):
    key = api_key_create(owner=service).key
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = {
        "title": "TimeoutError in connect",
        "description": "Traceback ...",
        "fingerprint": "gateway:TimeoutError:connect",
    }
    port, log = free_port(), tmp_path / "gunicorn.log"
    server = start_gunicorn(port, log)
    try:
        wait_until_up(server, port, log)
        # A new connection per report, so both workers take some.
        answers = [
            request(port, "POST", "/api/v1/issues", body, **headers)
            for _ in range(REPORTS - 1)
        ]
        answers.append(
            request(
                port,
                "POST",
                "/api/v1/issues",
                {**body, "occurrences": MERGED},
                **headers,
            )
        )
        statuses = [status for status, _ in answers]
        assert statuses == [201] + [200] * (REPORTS - 1), answers[0]
        issue_id = answers[0][1]["id"]
        ref = store.collection("issues").document(issue_id)
        # Buffered: the store holds only what the creating transaction wrote.
        assert ref.get().to_dict()["occurrenceCount"] == 1
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)

    assert server.returncode == 0, log.read_text()
    assert ref.get().to_dict()["occurrenceCount"] == REPORTS - 1 + MERGED, (
        log.read_text()
    )


def test_the_worker_exit_hook_writes_the_buffer(store, service, settings):
    """The hook itself (interpreter exit would also write the buffer of a real
    worker, so the test above passes without the hook; this one does not)."""
    settings.INGEST_BUFFER_SECONDS = 60
    report = NewIssue(title="KeyError", description="...", fingerprint="crash")
    first = services.issue_report(actor=service, data=report)
    for _ in range(4):
        services.issue_report(actor=service, data=report, occurrences=2)
    ref = store.collection("issues").document(first.issue.id)
    assert ref.get().to_dict()["occurrenceCount"] == 1
    hooks = runpy.run_path(str(REPO / "gunicorn.conf.py"))

    try:
        hooks["worker_exit"](None, None)
    finally:
        write_buffer().discard()

    assert ref.get().to_dict()["occurrenceCount"] == 1 + 4 * 2
