"""The container's health probe names a host the deployment allows."""

import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from issuetracker.emulator import free_port
from issuetracker.healthprobe import probe, probe_host


@pytest.mark.parametrize(
    ("allowed_hosts", "expected"),
    [
        ("issues.quantory.app,issuetracker", "issues.quantory.app"),
        (" issuetracker , issues.quantory.app", "issuetracker"),
        (".quantory.app", "quantory.app"),
        ("*,issuetracker", "issuetracker"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_probe_host_is_one_the_allowed_hosts_accept(allowed_hosts, expected):
    assert probe_host(allowed_hosts) == expected


@pytest.mark.django_db(transaction=True)
def test_probe_passes_where_a_request_for_127_0_0_1_is_refused(
    live_server, firestore_db, settings
):
    settings.ALLOWED_HOSTS = ["issues.quantory.app", "issuetracker"]
    port = str(urlsplit(live_server.url).port)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5)
    assert refused.value.code == 400

    assert probe(port=port, allowed_hosts="issues.quantory.app,issuetracker")


def test_probe_fails_fast_when_nothing_listens():
    assert not probe(port=str(free_port()), allowed_hosts="issuetracker")
