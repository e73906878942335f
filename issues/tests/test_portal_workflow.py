"""The portal's resolutions, duplicate links and components (Django test client)."""

from typing import Any

import pytest

from issues.domain import Resolution, Status
from issues.selectors import issues as selectors
from issues.tests.test_portal_views import edit_post, full_edit, html, move

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_role(client, make_user, store):
    """Sign the test client in with a new user of `role` and return the user."""

    def sign_in(role: str) -> Any:
        user = make_user(role=role)
        client.force_login(user)
        return user

    return sign_in


def test_resolving_as_a_duplicate_shows_the_link_both_ways(client, as_role, make_issue):
    me = as_role("developer")
    original, copy = make_issue(me, title="Original"), make_issue(me, title="Copy")
    response = client.post(
        f"/issues/{copy.id}/edit/",
        full_edit(
            copy, status="resolved", resolution="duplicate", duplicate_of=original.id
        ),
    )
    assert response.status_code == 302
    stored = selectors.issue_get(actor=me, issue_id=copy.id)
    assert (stored.status, stored.resolution) == (Status.RESOLVED, Resolution.DUPLICATE)
    assert stored.duplicate_of == original.id
    page = html(client.get(f"/issues/{copy.id}/"))
    assert "Duplicate of" in page
    assert f'href="/issues/{original.id}/"' in page
    page = html(client.get(f"/issues/{original.id}/"))
    assert "Duplicates" in page
    assert f'href="/issues/{copy.id}/"' in page


def test_resolving_without_a_resolution_is_fixed(client, as_role, make_issue):
    me = as_role("developer")
    issue = make_issue(me)
    client.post(f"/issues/{issue.id}/edit/", full_edit(issue, status="closed"))
    assert selectors.issue_get(actor=me, issue_id=issue.id).resolution is (
        Resolution.FIXED
    )
    assert "Fixed" in html(client.get(f"/issues/{issue.id}/"))


@pytest.mark.parametrize(
    ("duplicate_of", "error"),
    [("", "Name the issue"), ("nope", "No issue with id"), ("SELF", "itself")],
)
def test_a_duplicate_needs_an_existing_other_issue(
    client, as_role, make_issue, duplicate_of, error
):
    me = as_role("developer")
    issue = make_issue(me)
    duplicate_of = issue.id if duplicate_of == "SELF" else duplicate_of
    response = client.post(
        f"/issues/{issue.id}/edit/",
        full_edit(
            issue, status="resolved", resolution="duplicate", duplicate_of=duplicate_of
        ),
    )
    assert response.status_code == 400
    errors = response.context["edit_form"].errors
    assert error in " ".join(errors["duplicate_of"])
    assert selectors.issue_get(actor=me, issue_id=issue.id).status is Status.OPEN


def test_a_resolution_is_ignored_unless_resolving_or_closing(
    client, as_role, make_issue
):
    me = as_role("developer")
    issue = move(me, make_issue(me), "resolved")
    # Reopening with the resolution select still showing the old one: no error.
    response = client.post(
        f"/issues/{issue.id}/edit/",
        full_edit(issue, status="open", resolution="fixed", duplicate_of="x"),
    )
    assert response.status_code == 302
    stored = selectors.issue_get(actor=me, issue_id=issue.id)
    assert (stored.status, stored.resolution) == (Status.OPEN, None)


def test_a_tester_closes_a_resolved_issue_with_a_resolution(
    client, as_role, make_user, make_issue
):
    developer = make_user(role="developer")
    issue = move(developer, make_issue(developer), "resolved")
    tester = as_role("tester")
    response = client.post(
        f"/issues/{issue.id}/edit/",
        edit_post(issue, status="closed", resolution="wont-fix"),
    )
    assert response.status_code == 302
    stored = selectors.issue_get(actor=tester, issue_id=issue.id)
    assert (stored.status, stored.resolution) == (Status.CLOSED, Resolution.WONT_FIX)


def test_component_is_created_edited_shown_and_filtered(client, as_role, make_issue):
    me = as_role("developer")
    response = client.post(
        "/issues/new/",
        {"title": "T", "description": "D", "type": "bug", "priority": "low",
         "component": " ledger "},
    )  # fmt: skip
    assert response.status_code == 302
    other = make_issue(me, title="Elsewhere")
    listed = client.get("/issues/?component=ledger")
    assert [i.title for i in listed.context["page"].items] == ["T"]
    client.post(f"/issues/{other.id}/edit/", full_edit(other, component="gateway"))
    other = selectors.issue_get(actor=me, issue_id=other.id)
    assert other.component == "gateway"
    page = html(client.get(f"/issues/{other.id}/"))
    assert "?component=gateway" in page
    client.post(f"/issues/{other.id}/edit/", full_edit(other, component=""))
    assert selectors.issue_get(actor=me, issue_id=other.id).component is None
