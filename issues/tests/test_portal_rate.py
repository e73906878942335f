"""Portal form writes are limited per person (PORTAL_WRITE_RATE)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(make_issue, developer):
    return make_issue(developer)


@pytest.fixture
def signed_in(client, developer, settings):
    settings.PORTAL_WRITE_RATE = "3/m"
    client.force_login(developer)
    return client


def test_comments_over_the_rate_get_the_429_page_with_retry_after(signed_in, issue):
    path = f"/issues/{issue.id}/comments/"
    statuses = [
        signed_in.post(path, {"content": f"c{n}"}).status_code for n in range(3)
    ]
    assert statuses == [302, 302, 302]

    refused = signed_in.post(path, {"content": "one too many"})
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 60
    page = refused.content.decode()
    assert "Too many changes" in page
    assert f"try again in {wait} second" in page
    assert signed_in.get(f"/issues/{issue.id}/").status_code == 200, "reads are free"


def test_every_kind_of_portal_write_counts(signed_in, issue):
    signed_in.post("/issues/new/", {"title": "t", "description": "d"})
    signed_in.post(f"/issues/{issue.id}/comments/", {"content": "c"})
    signed_in.post(
        f"/issues/{issue.id}/edit/",
        {"edit-priority": "low", "edit-version": str(issue.version)},
    )
    assert signed_in.post("/issues/new/", {"title": "t"}).status_code == 429


def test_each_person_has_their_own_count(signed_in, issue, client, make_user):
    path = f"/issues/{issue.id}/comments/"
    for n in range(3):
        signed_in.post(path, {"content": f"c{n}"})
    assert signed_in.post(path, {"content": "x"}).status_code == 429
    client.force_login(make_user(role="developer"))
    assert client.post(path, {"content": "mine"}).status_code == 302
