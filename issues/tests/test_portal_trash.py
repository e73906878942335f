"""The portal's trash page: admins list deleted issues and restore them; other
roles get the 403 page, anonymous visitors the sign-in page."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import AuditAction, AuditEntry
from issues import services
from issues.domain import IssueFilters
from issues.selectors import issues as selectors
from issues.store.trash import DELETED_AT

pytestmark = pytest.mark.usefixtures("store")

TRASH = "/trash/"


@pytest.fixture
def trashed(admin, developer, make_issue):
    issue = make_issue(developer, title="Ledger sync fails")
    services.comment_add(actor=developer, issue_id=issue.id, content="seen it")
    services.issue_delete(actor=admin, issue_id=issue.id)
    return issue


def restore_url(issue_id: str) -> str:
    return f"/trash/{issue_id}/restore/"


def test_admins_see_who_deleted_what_when_and_the_days_left(client, admin, trashed):
    client.force_login(admin)
    page = client.get(TRASH)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ledger sync fails" in html
    assert f'title="{admin.username}"' in html  # the person who deleted it
    assert "30 days" in html
    assert restore_url(trashed.id) in html
    assert "csrfmiddlewaretoken" in html
    assert f'href="{TRASH}"' in html, "the navigation links the trash"


def test_days_left_count_down_to_the_purge(client, admin, trashed, store):
    store.collection("trash").document(trashed.id).update(
        {DELETED_AT: datetime.now(UTC) - timedelta(days=29, hours=12)}
    )
    client.force_login(admin)
    assert ">1 day<" in client.get(TRASH).content.decode()


def test_restore_brings_the_issue_back_and_says_so(client, admin, trashed):
    client.force_login(admin)
    response = client.post(restore_url(trashed.id), follow=True)
    assert response.redirect_chain == [(TRASH, 302)]
    html = response.content.decode()
    assert "Restored" in html
    assert f'href="/issues/{trashed.id}/"' in html
    assert restore_url(trashed.id) not in html, "no longer in the trash"
    back = selectors.issue_get(actor=admin, issue_id=trashed.id)
    assert back.comment_count == 1
    assert client.get(f"/issues/{trashed.id}/").status_code == 200
    listed = client.get("/issues/").content.decode()
    assert "Ledger sync fails" in listed, "back in the issue list"
    (entry,) = AuditEntry.objects.filter(action=AuditAction.ISSUE_RESTORED)
    assert (entry.actor, entry.target) == (admin.username, trashed.id)


def test_restoring_twice_says_it_is_not_in_the_trash(client, admin, trashed):
    client.force_login(admin)
    client.post(restore_url(trashed.id))
    again = client.post(restore_url(trashed.id), follow=True)
    assert again.status_code == 200
    assert "No issue with this id in the trash." in again.content.decode()


@pytest.mark.parametrize("role", ["developer", "tester", "viewer"])
def test_other_roles_get_403_and_no_link(client, make_user, role, trashed):
    client.force_login(make_user(role=role))
    assert client.get(TRASH).status_code == 403
    assert client.post(restore_url(trashed.id)).status_code == 403
    assert f'href="{TRASH}"' not in client.get("/issues/").content.decode()
    assert not selectors.issue_list(
        actor=make_user(role="admin"), filters=IssueFilters()
    ).items, "still in the trash"


def test_anonymous_visitors_go_to_sign_in(client, trashed):
    for response in (client.get(TRASH), client.post(restore_url(trashed.id))):
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_pages_of_the_trash_follow_the_next_link(client, admin, developer, make_issue):
    titles = {f"Deleted {n}" for n in range(27)}
    for title in titles:
        issue = make_issue(developer, title=title)
        services.issue_delete(actor=admin, issue_id=issue.id)
    client.force_login(admin)
    seen: list[str] = []
    url: str | None = TRASH
    while url:
        html = client.get(url).content.decode()
        seen += [t for t in titles if f">{t} <" in html]
        url = _next_link(html)
    assert sorted(seen) == sorted(titles)


def _next_link(html: str) -> str | None:
    marker = 'rel="next"'
    if marker not in html:
        return None
    tag = html[: html.index(marker)]
    query = tag[tag.rindex('href="') + 6 : tag.rindex('"')].replace("&amp;", "&")
    return TRASH + query


def test_restores_count_as_portal_writes(client, admin, trashed, settings):
    settings.PORTAL_WRITE_RATE = "1/m"
    client.force_login(admin)
    assert client.post(restore_url(trashed.id)).status_code == 302
    assert client.post(restore_url(trashed.id)).status_code == 429
