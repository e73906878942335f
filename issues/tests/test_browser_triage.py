"""Triage in a real browser: the keyboard only, bulk duplicates, saved views, and
a console free of CSP errors (the `page` fixture fails the test on any)."""

import re

import pytest
from playwright.sync_api import Page, expect

from issues.domain import Resolution, Status
from issues.selectors import issues as selectors
from issues.selectors import triage
from issues.tests import test_browser_portal as shared

# The live server and the console-watching page of the portal's browser tests.
portal = shared.portal
page = shared.page
PASSWORD = shared.PASSWORD
ZONE = shared.ZONE
sign_in = shared.sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(make_user, make_issue):
    svc = make_user(role="service", username="pricing-engine")
    return [make_issue(svc, title=f"Stale quote {n}") for n in range(3)]


def test_triage_an_issue_with_the_keyboard_only(portal, page: Page, make_user, queue):
    dev = make_user(role="developer", username="dev@quantory.app", password=PASSWORD)
    sign_in(page, portal, "dev@quantory.app", "/triage/")
    page.keyboard.press("?")
    expect(page.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("body").focus()
    page.keyboard.press("j")
    first = page.locator("[data-row].current")
    row_id = first.get_attribute("id")
    assert row_id
    page.keyboard.press("a")
    expect(page.locator(f"#{row_id} .row-done")).to_be_visible()
    issue_id = row_id.removeprefix("issue-row-")
    stored = selectors.issue_get(actor=dev, issue_id=issue_id)
    assert stored.status is Status.IN_PROGRESS
    assert stored.assignee_id == dev.actor_id
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(f"/issues/{issue_id}/$"))


def test_assign_to_me_on_the_issue_page_with_a(portal, page: Page, make_user, queue):
    dev = make_user(role="developer", username="dev@quantory.app", password=PASSWORD)
    issue = queue[0]
    sign_in(page, portal, "dev@quantory.app", f"/issues/{issue.id}/")
    expect(page.locator("[data-assign-me]")).to_be_visible()
    page.locator("body").focus()
    page.keyboard.press("a")
    expect(page.locator("[data-assign-me]")).to_have_count(0)
    expect(page).to_have_url(re.compile(f"/issues/{issue.id}/$"))
    stored = selectors.issue_get(actor=dev, issue_id=issue.id)
    assert stored.assignee_id == dev.actor_id


def test_select_three_and_close_them_as_duplicates(
    portal, page: Page, make_user, make_issue, queue
):
    dev = make_user(role="developer", username="dev@quantory.app", password=PASSWORD)
    original = make_issue(dev, title="The original quote bug")
    sign_in(page, portal, "dev@quantory.app", "/issues/?reporter=pricing-engine")
    boxes = page.locator("[data-select]")
    expect(boxes).to_have_count(3)
    boxes.nth(0).click()
    boxes.nth(2).click(modifiers=["Shift"])  # the range: all three
    expect(page.locator("[data-bulk-count]")).to_have_text("Selected issues: 3")
    page.locator("#bulk-form [name=action]").select_option("duplicate")
    page.locator("#bulk-form [name=duplicate_of]").fill(original.id)
    page.get_by_test_id("bulk-apply").click()
    expect(page.locator("#bulk-result")).to_contain_text("Changed 3 issues")
    for issue in queue:  # each row put in place, out of band
        expect(
            page.locator(f"#issue-row-{issue.id} .badge.status-closed")
        ).to_be_visible()
        stored = selectors.issue_get(actor=dev, issue_id=issue.id)
        assert stored.status is Status.CLOSED
        assert stored.duplicate_of == original.id


def test_save_a_view_and_reopen_it(portal, page: Page, make_user, queue):
    make_user(role="developer", username="dev@quantory.app", password=PASSWORD)
    sign_in(page, portal, "dev@quantory.app", "/issues/?priority=high&sort=oldest")
    page.get_by_test_id("view-name").fill("High, oldest")
    page.get_by_role("button", name="Save view").click()
    expect(page).to_have_url(re.compile(r"/issues/\?priority=high&sort=oldest$"))
    page.goto(portal + "/")
    page.locator(".nav-views summary").click()
    page.get_by_test_id("saved-views").get_by_role("link", name="High, oldest").click()
    expect(page).to_have_url(re.compile(r"priority=high&sort=oldest"))
    expect(page.locator("#id_priority")).to_have_value("high")


def test_clear_a_queue_of_30_service_reports_with_the_keyboard_only(
    portal, page: Page, make_user, make_issue
):
    """Take ten with `j` `a`; select ten with `j` `x` and assign them to Ann
    from the bulk form (`b`); select the last ten and close them as won't fix."""
    dev = make_user(role="developer", username="dev@quantory.app", password=PASSWORD)
    make_user(role="developer", username="ann@quantory.app")
    svc = make_user(role="service", username="order-router")
    for n in range(30):
        make_issue(svc, title=f"Order rejected by venue {n}")
    sign_in(page, portal, "dev@quantory.app", "/triage/")
    rows = page.locator("[data-row]")
    expect(rows).to_have_count(30)
    ids = [
        row_id.removeprefix("issue-row-")
        for row_id in page.eval_on_selector_all("[data-row]", "rs => rs.map(r => r.id)")
    ]
    page.locator("body").focus()
    keys = page.keyboard
    for n in range(10):
        keys.press("j")
        keys.press("a")
        expect(rows.nth(n).locator(".row-done")).to_be_visible()
    keys.press("b")  # into the bulk form, and out again: Esc leaves a field
    expect(page.locator("#bulk-action")).to_be_focused()
    keys.press("Escape")

    def bulk(first: int, action: str, value: str = "") -> None:
        for _ in range(10):
            keys.press("j")
            keys.press("x")
        expect(page.locator("[data-bulk-count]")).to_have_text("Selected issues: 10")
        keys.press("b")
        keys.type(action)  # the select's type-ahead picks the action
        keys.press("Tab")  # the "Assign to" field
        keys.type(value)
        keys.press("Enter")
        for n in range(first, first + 10):
            expect(rows.nth(n).locator(".row-done")).to_be_visible()
        keys.press("Escape")  # leave the field: the keys work again

    bulk(10, "assign", "ann@quantory.app")
    bulk(20, "close as w")

    page.goto(portal + "/triage/")
    expect(page.get_by_role("heading", name="Nothing to triage")).to_be_visible()
    stored = [selectors.issue_get(actor=dev, issue_id=issue_id) for issue_id in ids]
    assert {(i.status, i.assignee_id) for i in stored[:10]} == {
        (Status.IN_PROGRESS, dev.actor_id)
    }
    assert {(i.status, i.assignee_id) for i in stored[10:20]} == {
        (Status.OPEN, "ann@quantory.app")
    }
    assert {(i.status, i.resolution, i.assignee_id) for i in stored[20:]} == {
        (Status.CLOSED, Resolution.WONT_FIX, None)
    }


def test_more_reports_appends_the_next_page_in_place(
    portal, page: Page, make_user, make_issue
):
    make_user(role="developer", username="dev@quantory.app", password=PASSWORD)
    svc = make_user(role="service", username="order-router")
    for n in range(triage.PAGE_SIZE + 2):
        make_issue(svc, title=f"Fill late {n}")
    sign_in(page, portal, "dev@quantory.app", "/triage/")
    rows = page.locator("[data-row]")
    expect(rows).to_have_count(triage.PAGE_SIZE)
    page.get_by_role("link", name="More reports").click()
    expect(rows).to_have_count(triage.PAGE_SIZE + 2)
    expect(page.get_by_text("(continued)")).to_be_visible()
    expect(page.get_by_role("link", name="More reports")).to_have_count(0)
    expect(page).to_have_url(f"{portal}/triage/")  # appended, not a new page
    # app.js puts the appended rows' times in the viewer's zone too.
    expect(rows.last.locator("time").first).to_have_attribute("title", re.compile(ZONE))
    expect(page.locator("[data-bulk-count]")).to_be_visible()
