"""The portal in a real browser: Debian's Chromium driven by Playwright.

A live Django server (pytest-django's `live_server`) against the suite's Firestore
emulator. Every page's console is watched: a Content-Security-Policy violation or
a script error fails the test. Without Chromium the tests are skipped (failed in
CI); the `browser` fixture comes from the root conftest.
"""

import re
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from issues import services
from issues.domain import NewIssue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-password-1"
ZONE = "America/New_York"


@pytest.fixture
def portal(live_server, firestore_db, settings):
    """The live server with the development sign-in on; its base URL."""
    settings.DEBUG = True
    settings.DEV_LOGIN_ENABLED = True
    cache.clear()
    return live_server.url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context in another time zone, whose console must stay clean."""
    context = browser.new_context(timezone_id=ZONE, locale="en-US")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            problems.append(f"CSP: {text}")
        elif message.type == "error" and "status of 400" not in text:
            # Form pages answer 400 on purpose when input is refused.
            problems.append(f"console error: {text}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    yield tab
    context.close()
    assert not problems, problems


def sign_in(page: Page, base: str, username: str, next_path: str = "/") -> None:
    """Use the development sign-in form of the sign-in page."""
    page.goto(base + next_path)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in with password").click()
    expect(page).to_have_url(base + next_path)


def test_developer_reports_finds_comments_and_moves_an_issue(portal, page, make_user):
    make_user(role="developer", username="dev@quantory.app", password=PASSWORD)
    sign_in(page, portal, "dev@quantory.app")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    # The chart is fetched by app.js after the page shows.
    expect(page.locator(".chart-slot svg")).to_be_visible()
    expect(page.locator(".chart-slot")).not_to_have_attribute("aria-busy", "true")

    # Report an issue; a first try without a title keeps the input.
    page.get_by_role("link", name="New issue").first.click()
    page.get_by_label("Description").fill("Order **book** stalls after reconnect")
    page.get_by_role("button", name="Create issue").click()
    expect(page.locator("#id_title_error")).to_contain_text("required")
    expect(page.get_by_label("Description")).to_have_value(
        "Order **book** stalls after reconnect"
    )
    page.get_by_label("Title").fill("Order book freezes")
    page.get_by_label("Type").select_option("bug")
    page.get_by_label("Priority").select_option("critical")
    page.get_by_label("Tags").fill("market-data, websocket")
    page.get_by_role("button", name="Create issue").click()
    expect(page.get_by_role("heading", name="Order book freezes")).to_be_visible()
    expect(page.get_by_text("Issue created.")).to_be_visible()
    expect(page.locator(".prose strong")).to_have_text("book")
    issue_url = page.url

    # Find it with a filter, then with search.
    page.get_by_role("link", name="Issues", exact=True).click()
    page.get_by_label("Priority").select_option("critical")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"priority=critical"))
    expect(page.get_by_role("link", name="Order book freezes")).to_be_visible()
    page.get_by_label("Priority").select_option("low")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No issues match")).to_be_visible()
    page.goto(portal + "/issues/")
    page.get_by_role("searchbox", name="Search").fill("reconnect stalls")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page).to_have_url(re.compile(r"q=reconnect\+stalls"))
    page.get_by_role("link", name="Order book freezes").click()
    expect(page).to_have_url(issue_url)

    # Times are shown in the browser's zone, not as UTC text.
    created = page.locator(".fields time").first
    expect(created).not_to_contain_text("UTC")
    expect(created).to_have_attribute("title", re.compile(ZONE))

    # Comment, then move the status; both show in the history.
    page.get_by_role("textbox", name="Comment").fill("Reproduced with *two* clients")
    page.get_by_role("button", name="Comment").click()
    expect(page.get_by_text("Comment added.")).to_be_visible()
    expect(page.locator(".timeline .comment em")).to_have_text("two")
    page.get_by_role("combobox", name="Status").select_option("in-progress")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Issue updated.")).to_be_visible()
    history = page.locator("#timeline")
    expect(history).to_contain_text("changed the status")
    expect(history).to_contain_text("status: Open → In progress")
    expect(page.locator(".fields")).to_contain_text("In progress")
    entries = history.locator("> li").all_inner_texts()
    assert "created the issue" in entries[0]
    assert "Reproduced with two clients" in entries[1]
    assert "In progress" in entries[2]


def test_viewer_sees_no_edit_controls(portal, page, make_user):
    developer = make_user(role="developer")
    issue = services.issue_create(
        actor=developer, data=NewIssue(title="Read only for some", description="Text")
    )
    make_user(role="viewer", username="viewer@quantory.app", password=PASSWORD)
    sign_in(page, portal, "viewer@quantory.app", f"/issues/{issue.id}/")
    expect(page.get_by_role("heading", name="Read only for some")).to_be_visible()
    expect(page.locator("#edit-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Save changes")).to_have_count(0)
    expect(page.get_by_role("button", name="Comment")).to_have_count(0)
    expect(page.get_by_role("link", name="New issue")).to_have_count(0)
    # On a phone the page still works: the details follow the description.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_role("heading", name="Details")).to_be_visible()
