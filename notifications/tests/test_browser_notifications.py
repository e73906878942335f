"""In a real browser: a mention in a comment shows the mentioned person a badge;
they open the inbox and mark the notification read."""

import pytest
from playwright.sync_api import expect

from issues import services
from issues.domain import NewIssue
from issues.tests.test_browser_portal import PASSWORD, page, portal, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_mention_badge_inbox_mark_read(portal, page, make_user):  # noqa: F811
    ada = make_user(
        role="developer",
        username="ada@quantory.app",
        email="ada@quantory.app",
        password=PASSWORD,
    )
    make_user(
        role="developer",
        username="bob@quantory.app",
        email="bob@quantory.app",
        password=PASSWORD,
    )
    issue = services.issue_create(
        actor=ada, data=NewIssue(title="Quotes lag", description="since 9:00")
    )
    sign_in(page, portal, "ada@quantory.app", f"/issues/{issue.id}/")
    page.get_by_role("textbox", name="Comment").fill("@bob can you look?")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Comment added")
    page.context.clear_cookies()

    sign_in(page, portal, "bob@quantory.app")
    badge = page.get_by_test_id("unread-badge")
    expect(badge).to_contain_text("1")
    page.get_by_test_id("notifications-link").click()
    expect(page.locator(".notification.unread")).to_contain_text("mentioned you")
    page.get_by_test_id("mark-read").click()
    expect(page.locator(".notification.unread")).to_have_count(0)
    expect(page.get_by_test_id("unread-badge")).to_have_count(0)
