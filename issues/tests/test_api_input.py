"""Bad input anywhere under /api/ is a 4xx problem+json: deep JSON, writes to
unknown URLs, CSRF failures and unusable If-Match headers."""

import json
from typing import Any

import pytest
from django.test import Client, RequestFactory

from issuetracker.exception_handler import csrf_failure

ISSUES = "/api/v1/issues"
PROBLEM = "application/problem+json"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    data: dict[str, Any] = json.loads(response.content)
    return data


@pytest.fixture
def issue(make_issue, developer):
    return make_issue(developer)


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_json_nested_too_deep_is_400_malformed_naming_the_limit(
    api, developer, store, depth
):
    body = "[" * depth + "]" * depth
    response = api.as_user(developer).post(ISSUES, body)
    data = problem(response, 400)
    assert data["code"] == "malformed"
    assert "32 levels" in data["detail"]


def test_json_nested_within_the_limit_is_parsed(api, developer, store):
    body = {"title": "t", "description": "d", "tags": ["a"]}
    nested = "[" * 31 + "]" * 31
    assert api.as_user(developer).post(ISSUES, body).status_code == 201
    data = problem(api.post(ISSUES, nested), 400)
    assert data["code"] != "malformed", "shallow JSON is parsed, then validated"


def test_bodies_over_a_mebibyte_are_still_413(api, developer, store):
    body = json.dumps({"title": "t", "description": "x" * (1024 * 1024)})
    assert problem(api.as_user(developer).post(ISSUES, body), 413)["code"] == (
        "too_large"
    )


UNKNOWN = [
    f"{ISSUES}/",
    f"{ISSUES}/abc/..",
    f"{ISSUES}/a%2Fb",
    f"{ISSUES}/{'x' * 2000}",
    f"{ISSUES}/abc/comments/",
    "/api/v2/issues",
    "/api/",
]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", UNKNOWN, ids=lambda path: path[:30])
def test_writes_to_unknown_api_urls_are_problem_404s(db, method, path):
    browser = Client(enforce_csrf_checks=True)
    response = getattr(browser, method)(path, "{}", content_type="application/json")
    assert problem(response, 404)["code"] == "not_found"


def test_a_csrf_failure_under_api_is_problem_json_and_html_elsewhere():
    factory = RequestFactory()
    api_refusal = csrf_failure(factory.post("/api/v1/issues"), reason="no token")
    assert problem(api_refusal, 403)["code"] == "forbidden"
    page = csrf_failure(factory.post("/issues/new/"), reason="no token")
    assert page.status_code == 403
    assert page["Content-Type"].startswith("text/html")


def test_the_portal_still_answers_csrf_failures_with_a_page(db, developer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(developer)
    response = browser.post("/issues/new/", {"title": "t"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "header",
    ['W/"1"', '"abc"', "1", '"1", "2"', '"1",', '""', '"-1"', "W/*", '"1" x'],
)
def test_an_unusable_if_match_is_400_naming_it(api, developer, issue, header):
    response = api.as_user(developer).patch(
        f"{ISSUES}/{issue.id}", {"priority": "low"}, HTTP_IF_MATCH=header
    )
    data = problem(response, 400)
    assert data["code"] == "invalid"
    assert "If-Match" in data["errors"]
    assert "If-Match" in data["detail"]


@pytest.mark.parametrize(("header", "status"), [('"1"', 200), ("*", 200), ('"9"', 412)])
def test_a_strong_if_match_or_star_is_checked(api, developer, issue, header, status):
    response = api.as_user(developer).patch(
        f"{ISSUES}/{issue.id}", {"priority": "low"}, HTTP_IF_MATCH=header
    )
    assert response.status_code == status, response.content
