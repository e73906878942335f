import pytest

ISSUES = "/api/v1/issues"
NEW_ISSUE = {"title": "Order router timeout", "description": "Timed out at step 3"}


@pytest.fixture
def writes(client, firestore_db, make_user, settings):
    """A developer's client with a limit of 2 writes a minute."""
    settings.API_WRITE_RATE = "2/m"
    client.force_login(make_user(role="developer"))
    return lambda: client.post(ISSUES, NEW_ISSUE, content_type="application/json")


def test_writes_over_the_rate_get_429_with_retry_after(writes, client):
    assert [writes().status_code for _ in range(2)] == [201, 201]
    refused = writes()
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert client.get(ISSUES).status_code == 200, "reads are not limited"


def test_each_caller_has_its_own_count(writes, client, make_user):
    writes(), writes()
    assert writes().status_code == 429
    client.force_login(make_user(role="developer"))
    assert writes().status_code == 201


def test_a_cache_outage_lets_writes_through(writes, cache_down):
    assert [writes().status_code for _ in range(3)] == [201, 201, 201]
