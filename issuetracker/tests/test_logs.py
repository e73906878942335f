# mypy: disable-error-code="no-untyped-call"
"""Structured logs: a request id on every record of a request, JSON lines in
production, and no credential ever written to a log."""

import io
import json
import logging
import re
import sys
from typing import Any

import pytest
from django.test import Client
from google.api_core import exceptions as google_exceptions
from google.cloud.firestore_v1.services.firestore.client import FirestoreClient

from accounts.services.api_keys import api_key_create
from issuetracker.logs import JsonFormatter, RequestContextFilter, scrub
from issuetracker.testing import PRODUCTION_ENV, run_manage

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_log():
    """Every record, as the production handler writes it, in a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


@pytest.mark.django_db
def test_a_safe_incoming_request_id_is_kept_and_sent_back(client):
    response = client.get("/api/v1/nothing", HTTP_X_REQUEST_ID="deploy-42.a_B")
    assert response["X-Request-ID"] == "deploy-42.a_B"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming", [None, "", "a b", "x" * 65, "<script>", "id\nforged: 1", "ä"]
)
def test_otherwise_a_request_id_is_made(client, incoming):
    extra = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}
    response = client.get("/api/v1/nothing", **extra)
    assert HEX_ID.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
def test_every_record_of_a_request_carries_its_id_and_client(client, json_log):
    response = client.get(
        "/api/v1/nothing", HTTP_X_REQUEST_ID="req-123", REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 404
    records = [r for r in lines(json_log) if r["logger"] == "django.request"]
    assert records, "Django logs the 404"
    assert {r["request_id"] for r in records} == {"req-123"}
    assert {r["client_ip"] for r in records} == {"203.0.113.9"}
    client.get("/api/v1/other")
    assert all(r["request_id"] != "req-123" for r in lines(json_log)[len(records) :])


def test_json_lines_hold_the_fields_and_the_exception():
    formatter = JsonFormatter()
    logger = logging.getLogger("issuetracker.test")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logger.makeRecord(
            logger.name, logging.ERROR, __file__, 7, "failed %s", ("x",), sys.exc_info()
        )
    RequestContextFilter().filter(record)
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "issuetracker.test"
    assert entry["message"] == "failed x"
    assert entry["request_id"] == "-"
    assert entry["client_ip"] == "-"
    assert entry["caller"].startswith(f"{__file__}:7")
    assert entry["time"].endswith("+00:00")
    assert entry["exception"]["type"] == "ValueError"
    assert "boom" in entry["exception"]["traceback"]


def test_production_logs_json_lines_to_stdout_and_local_is_readable():
    script = "import logging; logging.getLogger('probe').warning('hello %s', 1)"
    production = run_manage("shell", "--no-imports", "-c", script, env=PRODUCTION_ENV)
    entry = json.loads(production.stdout.strip().splitlines()[-1])
    assert entry["message"] == "hello 1"
    assert entry["logger"] == "probe"
    local = run_manage("shell", "--no-imports", "-c", script)
    assert local.stdout.strip().splitlines()[-1].endswith("WARNING probe [-]: hello 1")


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("Authorization: Bearer abc.def", "abc.def", "Authorization"),
        ("key itk_ab12_secretpart", "secretpart", "key"),
        ("GET /x?api_key=s3cr3t&page=2", "s3cr3t", "&page=2"),
        ("password='hunter2'", "hunter2", "password="),
        ("sessionid=abc123; csrftoken=def", "abc123", "csrftoken="),
    ],
)
def test_scrub_blanks_what_looks_like_a_secret(text, secret, kept):
    assert secret not in scrub(text)
    assert kept in scrub(text)
    assert "[redacted]" in scrub(text)


# --- the canary: no credential reaches a log, whatever the path ----------------

CANARY_PASSWORD = "canary-pw-7f3e9a1c"
CANARY_QUERY = "canary-q-51b2e8d0"
CANARY_COOKIE = "canarycookie0b6d4f2e9a"


@pytest.fixture
def final_firestore_error(monkeypatch):
    """Firestore refusing everything with PermissionDenied (a logged 500)."""

    def fail(*args, **kwargs):
        raise google_exceptions.PermissionDenied("denied")

    def refuse() -> None:
        for name in ("batch_get_documents", "run_query", "commit"):
            monkeypatch.setattr(FirestoreClient, name, fail)

    return refuse


@pytest.mark.django_db
def test_no_key_token_cookie_or_password_is_ever_logged(
    firestore_db, make_user, settings, caplog, json_log, final_firestore_error
):
    settings.DEBUG = True  # SQL logging on, the development login on
    settings.DEV_LOGIN_ENABLED = True
    settings.PORTAL_WRITE_RATE = "3/m"
    settings.API_WRITE_RATE = "3/m"
    developer = make_user(role="developer", password="right-password-123")
    key = api_key_create(owner=make_user(role="service")).key
    bearer = {"Authorization": f"Bearer {key}"}
    wrong = {"Authorization": f"Bearer itk_zz_{CANARY_QUERY}"}
    query = f"?key={CANARY_QUERY}&api_key={CANARY_QUERY}&token={CANARY_QUERY}"
    api = Client(raise_request_exception=False)
    portal = Client(raise_request_exception=False)
    portal.force_login(developer)
    session = portal.cookies["sessionid"].value
    stranger = Client(raise_request_exception=False)
    stranger.cookies["sessionid"] = CANARY_COOKIE
    deep = "[" * 5000 + "]" * 5000
    issue = {"title": "t", "description": "d"}

    with caplog.at_level(logging.DEBUG):
        # API: success, auth failure, bad input, unknown URL, throttled.
        api.post(f"/api/v1/issues{query}", issue, "application/json", headers=bearer)
        api.get(f"/api/v1/issues{query}", headers=wrong)
        api.post(f"/api/v1/issues{query}", deep, "application/json", headers=bearer)
        api.patch(f"/api/v1/issues/x{query}", {}, "application/json", headers=bearer)
        api.post(f"/api/v1/nowhere/{query}", {}, "application/json", headers=bearer)
        for _ in range(4):
            api.post(
                f"/api/v1/issues{query}", issue, "application/json", headers=bearer
            )
        stranger.get(f"/api/v1/issues{query}")
        # Portal: pages, a password form, unknown pages, a CSRF refusal, throttled.
        portal.get(f"/issues/{query}")
        for _ in range(4):
            portal.post("/issues/new/", {**issue, "password": CANARY_PASSWORD})
        stranger.get(f"/issues/{query}")
        stranger.post(
            "/accounts/dev-login/",
            {"username": developer.username, "password": CANARY_PASSWORD},
        )
        stranger.post("/accounts/login/", {"login": "x", "password": CANARY_PASSWORD})
        Client(enforce_csrf_checks=True).post(
            f"/issues/new/{query}", {"password": CANARY_PASSWORD}
        )
        portal.get(f"/nowhere/{query}")
        # Error paths: Firestore refuses (500 with a traceback) on both sides.
        final_firestore_error()
        api.get(f"/api/v1/issues/abc{query}", headers=bearer)
        api.post(f"/api/v1/issues{query}", issue, "application/json", headers=bearer)
        portal.get(f"/issues/abc/{query}")

    written = (
        caplog.text
        + json_log.getvalue()
        + "".join(f"{record.getMessage()} {record.args!r}" for record in caplog.records)
    )
    assert "server_error" in written or "Internal Server Error" in written, (
        "the error paths ran and were logged"
    )
    for canary in (
        key,
        key.split("_", 2)[2],  # the secret part
        session,
        CANARY_COOKIE,
        CANARY_PASSWORD,
        CANARY_QUERY,
    ):
        assert canary not in written, f"{canary[:12]}... was logged"
