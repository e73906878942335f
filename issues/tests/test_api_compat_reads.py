"""Compatibility-mode reads look the named service up; only writes create it."""

import pytest

from accounts.models import User
from accounts.roles import Role

ISSUES = "/api/v1/issues"

pytestmark = pytest.mark.usefixtures("store")


@pytest.fixture(autouse=True)
def compat_mode(settings):
    settings.ALLOW_ANONYMOUS_SERVICES = True


def test_a_read_naming_a_new_service_creates_no_user(api, developer, make_issue):
    issue = make_issue(developer)
    before = User.objects.count()

    read = api.get(f"{ISSUES}/{issue.id}", HTTP_X_USER_ID="never-seen-1")
    comments = api.get(f"{ISSUES}/{issue.id}/comments", HTTP_X_USER_ID="never-seen-2")

    # The old contract reads any issue, as the old app did.
    assert (read.status_code, comments.status_code) == (200, 200)
    assert User.objects.count() == before
    assert not User.objects.filter(username__startswith="never-seen").exists()


def test_an_unknown_service_reads_issues_reported_under_its_id(api, store):
    store.collection("issues").document("from-flask").set(
        {
            "title": "Old one",
            "description": "Reported before the move",
            "reporterId": "legacy-bot",
            "createdAt": "2024-01-01T12:00:00Z",
        }
    )

    read = api.get(f"{ISSUES}/from-flask", HTTP_X_USER_ID="legacy-bot")
    comments = api.get(f"{ISSUES}/from-flask/comments", HTTP_X_USER_ID="legacy-bot")

    assert (read.status_code, comments.status_code) == (200, 200)
    assert not User.objects.filter(username="legacy-bot").exists()


def test_a_write_still_creates_the_service(api):
    created = api.post(
        ISSUES,
        {"title": "T", "description": "D", "reporter_id": "first-writer"},
    )

    assert created.status_code == 201
    assert User.objects.get(username="first-writer").role == Role.SERVICE


def test_reads_refuse_staff_ids_and_deactivated_services(api, developer, make_user):
    make_user(role=Role.SERVICE, username="retired-bot", is_active=False)

    for claimed in (developer.username, "retired-bot", "Retired-Bot"):
        response = api.get(f"{ISSUES}/whatever", HTTP_X_USER_ID=claimed)
        assert response.status_code == 403, claimed
