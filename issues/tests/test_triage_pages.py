"""The triage queue in pages of 50 with a "more" link (Django test client,
Firestore emulator): every row once, groups continued across pages, reads
bounded by the page, the same refusals as the first page."""

import re
from html import unescape

import pytest
from django.test import Client
from google.cloud.firestore_v1.query import Query

from issues import services
from issues.domain import IssueChanges, NewIssue
from issues.selectors import triage
from issues.store.queries import encode_cursor
from issues.tests.portal import HX

pytestmark = pytest.mark.django_db

ROW = re.compile(r'id="issue-row-([A-Za-z0-9]+)"')
MORE = re.compile(r'<a class="button secondary" href="(/triage/\?cursor=[^"]+)"')
# (service, component, how many): 60 reports, one page and ten more. In queue
# order: alpha-feed's reports without a component, then its quotes, then
# beta-router's orders, which the first page cuts after five.
SEEDS = [("beta-router", "orders", 15), ("alpha-feed", None, 5)]
SEEDS += [("alpha-feed", "quotes", 40)]


@pytest.fixture
def queue(make_user, store) -> dict[str, tuple[str, str | None]]:
    """The 60 reports: issue id -> (service, component)."""
    made = {}
    names = {name for name, *_ in SEEDS}
    reporters = {name: make_user(role="service", username=name) for name in names}
    for service, component, count in SEEDS:
        for n in range(count):
            issue = services.issue_create(
                actor=reporters[service],
                data=NewIssue(
                    title=f"{service} {component} {n}",
                    description="x",
                    component=component,
                ),
            )
            made[issue.id] = (service, component)
    return made


def page_of(client: Client, path: str) -> tuple[list[str], str | None, str]:
    """The row ids of a page, the path its "more" link leads to, its HTML."""
    html = client.get(path).content.decode()
    more = MORE.search(html)
    return ROW.findall(html), unescape(more.group(1)) if more else None, html


def test_a_long_queue_shows_50_then_the_rest_each_row_once(client, make_user, queue):
    client.force_login(make_user(role="developer"))
    first, more, html = page_of(client, "/triage/")
    assert len(first) == triage.PAGE_SIZE
    assert more
    assert "(continued)" not in html
    second, last, rest = page_of(client, more)
    assert len(second) == len(queue) - triage.PAGE_SIZE
    assert last is None
    assert not set(first) & set(second)
    assert set(first) | set(second) == set(queue)
    # In queue order: services by name, no component first, then by component.
    groups = [queue[issue_id] for issue_id in first + second]
    assert groups == sorted(groups, key=lambda g: (g[0], g[1] or ""))
    # beta-router's orders began on the first page and go on at the top of this one.
    assert re.search(
        r"beta-router <span[^>]*>· orders</span> <span[^>]*>"
        r"\(continued\)</span> <span class=\"badge\">10</",
        rest,
    )


def test_issues_taken_meanwhile_move_no_row_to_another_page(
    client, make_user, developer, queue
):
    client.force_login(make_user(role="developer"))
    first, more, _ = page_of(client, "/triage/")
    for issue_id in first[-5:]:
        services.issue_update(
            actor=developer,
            issue_id=issue_id,
            changes=IssueChanges(assignee_id=developer.actor_id),
        )
    assert more
    second, _, _ = page_of(client, more)
    assert set(first) | set(second) == set(queue)
    assert not set(first) & set(second)


def test_more_for_htmx_answers_the_next_groups_to_append(client, make_user, queue):
    client.force_login(make_user(role="admin"))
    _, more, html = page_of(client, "/triage/")
    assert f'hx-get="{more}"'.replace("&", "&amp;") in html
    assert 'hx-target="#triage-more" hx-swap="outerHTML"' in html
    fragment = client.get(more, **HX).content.decode()
    assert "<html" not in fragment
    assert 'id="bulk-form"' not in fragment
    assert len(ROW.findall(fragment)) == len(queue) - triage.PAGE_SIZE
    assert 'form="bulk-form"' in fragment  # the page's bulk form takes them
    assert 'id="triage-more"' not in fragment  # the last page: no link


@pytest.fixture
def read_counter(monkeypatch) -> list[int]:
    """Documents each query streams from the emulator, one entry per query."""
    counts: list[int] = []
    stream = Query.stream

    def counting(self, *args, **kwargs):
        rows = list(stream(self, *args, **kwargs))
        counts.append(len(rows))
        return iter(rows)

    monkeypatch.setattr(Query, "stream", counting)
    return counts


def test_a_page_reads_at_most_one_issue_more_than_it_shows(
    client, make_user, queue, read_counter
):
    client.force_login(make_user(role="developer"))
    _, more, _ = page_of(client, "/triage/")
    assert sum(read_counter) == triage.PAGE_SIZE + 1
    read_counter.clear()
    assert more
    page_of(client, more)
    assert sum(read_counter) == len(queue) - triage.PAGE_SIZE


@pytest.mark.parametrize(("role", "acts"), [("developer", True), ("viewer", False)])
def test_later_pages_keep_the_rules_of_the_first(client, make_user, queue, role, acts):
    client.force_login(make_user(role=role))
    _, more, _ = page_of(client, "/triage/")
    assert more
    html = client.get(more).content.decode()
    assert ('value="take"' in html) is acts
    assert ('id="bulk-form"' in html) is acts


def test_a_service_is_refused_later_pages_too(client, make_user, queue):
    client.force_login(make_user(role="developer"))
    _, more, _ = page_of(client, "/triage/")
    client.force_login(make_user(role="service"))
    assert more
    assert client.get(more).status_code == 403


@pytest.mark.parametrize(
    "cursor",
    [
        "not-ours",
        encode_cursor("issues-list", ["alpha-feed", None, "2026-12-01", "x"]),
        encode_cursor(triage.CURSOR_KEY, [7, None, "2026-12-01", "x"]),
    ],
)
def test_a_cursor_not_of_the_queue_is_refused(client, make_user, store, cursor):
    client.force_login(make_user(role="developer"))
    assert client.get(f"/triage/?cursor={cursor}").status_code == 400


def test_an_emptied_later_page_says_so(client, make_user, developer, queue):
    client.force_login(make_user(role="developer"))
    _, more, _ = page_of(client, "/triage/")
    for issue_id, (service, _) in queue.items():
        if service == "beta-router":
            services.issue_update(
                actor=developer,
                issue_id=issue_id,
                changes=IssueChanges(assignee_id=developer.actor_id),
            )
    assert more
    html = client.get(more).content.decode()
    assert "No more reports" in html
    assert not ROW.findall(html)
