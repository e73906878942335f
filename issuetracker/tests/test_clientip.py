"""Whose address a request has (table tests, no server) and whose limit counts."""

import pytest

from issuetracker.clientip import client_address, parse_trusted_proxies

LB = "10.0.0.5"


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "client"),
    [
        pytest.param("", "203.0.113.7", None, "203.0.113.7", id="no-header"),
        pytest.param("", LB, "198.51.100.1", LB, id="none-trusted-ignores-header"),
        pytest.param("1", LB, "198.51.100.1", "198.51.100.1", id="count-1"),
        pytest.param(
            "1", LB, "6.6.6.6, 198.51.100.1", "198.51.100.1", id="count-1-spoofed"
        ),
        pytest.param(
            "2", LB, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1", id="count-2"
        ),
        pytest.param("2", LB, "198.51.100.1", "198.51.100.1", id="count-short"),
        pytest.param(
            "10.0.0.0/8", LB, "6.6.6.6, 198.51.100.1", "198.51.100.1", id="cidr"
        ),
        pytest.param(
            "10.0.0.0/8",
            LB,
            "6.6.6.6, 198.51.100.1, 10.1.2.3",
            "198.51.100.1",
            id="cidr-two-proxies",
        ),
        pytest.param(
            "10.0.0.0/8", "203.0.113.7", "6.6.6.6", "203.0.113.7", id="cidr-direct"
        ),
        pytest.param("10.0.0.0/8", LB, "junk", LB, id="cidr-junk"),
        pytest.param("10.0.0.0/8", LB, "10.0.0.1", "10.0.0.1", id="cidr-all-trusted"),
        pytest.param(
            "10.0.0.0/8, fd00::/8",
            "fd00::1",
            "[2001:db8::1]:4711",
            "2001:db8::1",
            id="v6-with-port",
        ),
        pytest.param("1", LB, "198.51.100.1:5000", "198.51.100.1", id="v4-with-port"),
    ],
)
def test_the_client_is_found_from_the_right(trusted, remote, forwarded, client):
    trust = parse_trusted_proxies(trusted)
    assert client_address(remote, forwarded, trust) == client


@pytest.mark.parametrize("raw", ["lb", "10.0.0.0/8,nope", "-1"])
def test_unreadable_trusted_proxies_are_an_error(raw):
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        parse_trusted_proxies(raw)


ISSUES = "/api/v1/issues"
ANONYMOUS_ISSUE = {"title": "t", "description": "d", "reporter_id": "svc-a"}


@pytest.fixture
def anonymous_writes(client, firestore_db, db, settings):
    """Anonymous (compatibility mode) creates, 2 a minute, behind one proxy."""
    settings.API_WRITE_RATE = "2/m"
    settings.ALLOW_ANONYMOUS_SERVICES = True
    settings.TRUSTED_PROXIES = "1"

    def write(forwarded: str) -> int:
        response = client.post(
            ISSUES,
            ANONYMOUS_ISSUE,
            content_type="application/json",
            REMOTE_ADDR=LB,
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        return int(response.status_code)

    return write


def test_a_spoofed_forwarded_for_does_not_change_whose_limit_counts(
    anonymous_writes,
):
    statuses = [
        anonymous_writes(f"{spoof}, 198.51.100.1")
        for spoof in ("1.1.1.1", "2.2.2.2", "3.3.3.3")
    ]
    assert statuses == [201, 201, 429]


def test_anonymous_callers_behind_the_proxy_are_counted_apart(anonymous_writes):
    assert [anonymous_writes("198.51.100.1") for _ in range(3)] == [201, 201, 429]
    assert anonymous_writes("198.51.100.2") == 201
