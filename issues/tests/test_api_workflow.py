"""The API's status moves, resolutions, duplicate links and components, end to end
(real emulator): each move allowed and refused per role, and the old bodies."""

from typing import Any

import pytest

from issues import services
from issues.domain import DONE_STATUSES, IssueChanges, Status
from issues.tests.test_api import ISSUES, body, problem
from issues.tests.test_domain import MOVES, status_moves_allowed

pytestmark = pytest.mark.usefixtures("store")


def moved_to(developer: Any, issue: Any, status: Status) -> Any:
    """`issue` brought to `status` by a developer (one move from open)."""
    if status is Status.OPEN:
        return issue
    return services.issue_update(
        actor=developer, issue_id=issue.id, changes=IssueChanges(status=status)
    ).issue


# --- each move, per role -------------------------------------------------------------

CALLERS = ["admin", "developer", "tester", "viewer", "own-service", "other-service"]


@pytest.mark.parametrize(
    ("caller", "old", "new"),
    [(caller, old, new) for caller in CALLERS for old, new in sorted(MOVES)],
)
def test_each_move_is_allowed_or_refused_per_role(
    api, request, developer, service, make_issue, caller, old, new
):
    if caller.endswith("service"):
        reporter = service if caller == "own-service" else developer
        actor, role, own = service, "service", caller == "own-service"
    else:
        actor, role, own = request.getfixturevalue(caller), caller, False
        reporter = developer
    issue = moved_to(developer, make_issue(reporter), old)
    patch: dict[str, Any] = {"status": new}
    if new in DONE_STATUSES:
        patch["resolution"] = "wont-fix"
    response = api.as_user(actor).patch(f"{ISSUES}/{issue.id}", patch)
    if caller == "other-service":
        problem(response, 404)  # not its issue to see
    elif new in status_moves_allowed(role, own=own, status=old):
        assert response.status_code == 200, response.content
        data = body(response)
        assert data["status"] == new
        assert data["resolution"] == ("wont-fix" if new in DONE_STATUSES else None)
    else:
        problem(response, 403)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (old, new)
        for old in Status
        for new in Status
        if old != new and (old, new) not in MOVES
    ],
)
def test_moves_outside_the_workflow_are_409(api, developer, make_issue, old, new):
    issue = moved_to(developer, make_issue(developer), old)
    response = api.as_user(developer).patch(f"{ISSUES}/{issue.id}", {"status": new})
    assert "status" in problem(response, 409)["errors"]


# --- resolutions and duplicate links --------------------------------------------------


def test_resolving_as_a_duplicate_links_both_ways(api, developer, make_issue):
    original = make_issue(developer, title="Original")
    copy = make_issue(developer, title="Copy")
    api.as_user(developer)
    response = api.patch(
        f"{ISSUES}/{copy.id}",
        {"status": "resolved", "resolution": "duplicate", "duplicateOf": original.id},
    )
    data = body(response)
    assert (data["resolution"], data["duplicateOf"]) == ("duplicate", original.id)
    assert "duplicates" not in data  # the read of one issue only
    read = body(api.get(f"{ISSUES}/{original.id}"))
    assert read["duplicates"] == [copy.id]
    assert (read["resolution"], read["duplicateOf"]) == (None, None)
    assert body(api.get(f"{ISSUES}/{copy.id}"))["duplicates"] == []
    history = body(api.get(f"{ISSUES}/{copy.id}/activities"))["activities"]
    assert history[-1]["changes"] == [
        {"field": "status", "oldValue": "open", "newValue": "resolved"},
        {"field": "resolution", "oldValue": None, "newValue": "duplicate"},
        {"field": "duplicateOf", "oldValue": None, "newValue": original.id},
    ]
    closed = body(api.patch(f"{ISSUES}/{copy.id}", {"status": "closed"}))
    assert (closed["resolution"], closed["duplicateOf"]) == ("duplicate", original.id)
    reopened = body(api.patch(f"{ISSUES}/{copy.id}", {"status": "open"}))
    assert (reopened["resolution"], reopened["duplicateOf"]) == (None, None)
    assert body(api.get(f"{ISSUES}/{original.id}"))["duplicates"] == []


def test_resolution_defaults_to_fixed_and_closing_keeps_it(api, developer, make_issue):
    issue = make_issue(developer)
    url = f"{ISSUES}/{issue.id}"
    api.as_user(developer)
    assert body(api.patch(url, {"status": "resolved"}))["resolution"] == "fixed"
    api.patch(url, {"resolution": "cannot-reproduce"})
    assert body(api.patch(url, {"status": "closed"}))["resolution"] == (
        "cannot-reproduce"
    )


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"status": "resolved", "resolution": "duplicate"}, "duplicate_of"),
        (
            {"status": "resolved", "resolution": "duplicate", "duplicate_of": "SELF"},
            "duplicate_of",
        ),
        (
            {"status": "resolved", "resolution": "duplicate", "duplicate_of": "nope"},
            "duplicate_of",
        ),
        (
            {"status": "closed", "resolution": "duplicate", "duplicate_of": "a.b"},
            "duplicate_of",
        ),
        (
            {"status": "resolved", "resolution": "fixed", "duplicate_of": "OTHER"},
            "duplicate_of",
        ),
        ({"status": "closed", "duplicate_of": "OTHER"}, "duplicate_of"),
        ({"status": "in-progress", "resolution": "fixed"}, "resolution"),
        ({"resolution": "fixed"}, "resolution"),
        ({"status": "resolved", "resolution": "later"}, "resolution"),
    ],
)
def test_bad_resolutions_are_400_naming_the_field(
    api, developer, make_issue, patch, field
):
    issue = make_issue(developer)
    other = make_issue(developer)
    names = {"SELF": issue.id, "OTHER": other.id}
    if "duplicate_of" in patch:
        patch = {
            **patch,
            "duplicate_of": names.get(patch["duplicate_of"], patch["duplicate_of"]),
        }
    response = api.as_user(developer).patch(f"{ISSUES}/{issue.id}", patch)
    assert field in problem(response, 400)["errors"]
    stored = body(api.get(f"{ISSUES}/{issue.id}"))
    assert (stored["status"], stored["version"]) == ("open", issue.version)


def test_a_service_links_only_to_issues_it_sees(api, developer, service, make_issue):
    staff = make_issue(developer)
    own, mine = make_issue(service), make_issue(service)
    api.as_user(service)
    patch = {"status": "resolved", "resolution": "duplicate", "duplicate_of": staff.id}
    assert (
        "duplicate_of" in problem(api.patch(f"{ISSUES}/{own.id}", patch), 400)["errors"]
    )
    patch["duplicate_of"] = mine.id
    assert body(api.patch(f"{ISSUES}/{own.id}", patch))["duplicateOf"] == mine.id
    # A staff issue marked as a duplicate of the service's issue stays unseen.
    services.issue_update(
        actor=developer,
        issue_id=staff.id,
        changes=IssueChanges.from_data(
            {"status": "closed", "resolution": "duplicate", "duplicate_of": mine.id}
        ),
    )
    assert body(api.get(f"{ISSUES}/{mine.id}"))["duplicates"] == [own.id]


def test_a_tester_closes_a_resolved_issue_with_a_resolution(
    api, developer, tester, make_issue
):
    issue = moved_to(developer, make_issue(developer), Status.RESOLVED)
    url = f"{ISSUES}/{issue.id}"
    api.as_user(tester)
    problem(api.patch(url, {"resolution": "wont-fix"}), 403)  # not with the status
    data = body(api.patch(url, {"status": "closed", "resolution": "wont-fix"}))
    assert (data["status"], data["resolution"]) == ("closed", "wont-fix")


# --- create's old bodies and the component ----------------------------------------


def test_create_accepts_status_open_only(api, developer):
    new = {"title": "T", "description": "D"}
    api.as_user(developer)
    assert body(api.post(ISSUES, {**new, "status": "open"}))["status"] == "open"
    data = problem(api.post(ISSUES, {**new, "status": "closed"}), 400)
    assert set(data["errors"]) == {"status"}
    assert "open" in data["errors"]["status"][0]
    assert set(problem(api.post(ISSUES, {**new, "state": "x"}), 400)["errors"]) == {
        "state"
    }


def test_component_is_stored_filtered_and_edited_by_staff(
    api, developer, service, make_issue
):
    api.as_user(developer)
    created = body(
        api.post(ISSUES, {"title": "T", "description": "D", "component": " ledger "})
    )
    assert created["component"] == "ledger"
    plain = body(api.post(ISSUES, {"title": "U", "description": "D"}))
    assert plain["component"] is None
    listed = body(api.get(f"{ISSUES}?component=ledger"))["issues"]
    assert [i["id"] for i in listed] == [created["id"]]
    moved = api.patch(f"{ISSUES}/{plain['id']}", {"component": "gateway"})
    assert body(moved)["component"] == "gateway"
    cleared = api.patch(f"{ISSUES}/{plain['id']}", {"component": None})
    assert body(cleared)["component"] is None
    history = body(api.get(f"{ISSUES}/{plain['id']}/activities"))["activities"]
    assert history[-1]["changes"] == [
        {"field": "component", "oldValue": "gateway", "newValue": None}
    ]
    for bad in ("", "   ", "x" * 101, ["ledger"]):
        problem(
            api.post(ISSUES, {"title": "T", "description": "D", "component": bad}), 400
        )
    own = make_issue(service)
    api.as_user(service)
    data = problem(api.patch(f"{ISSUES}/{own.id}", {"component": "ledger"}), 403)
    assert set(data["errors"]) == {"component"}
