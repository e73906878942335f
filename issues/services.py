"""Issue use cases for the API, the portal and commands: one function per action.

Every function takes keyword-only arguments, checks the caller's role through
`accounts.policy` (the matrix of DESIGN.md) and, for edits, the pure rules
of `issues.rules`, and raises the errors of
`issuetracker.errors`: NotFound (404) for what the caller may not see, Forbidden
(403) for what the role may not do, InvalidInput (400), Conflict (409) for a
status move DESIGN.md does not allow, PreconditionFailed (412) for a stale
version and StoreUnavailable (503) when Firestore does not answer.
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from accounts.policy import Actor, require, rules_role
from accounts.roles import Action
from issues import events, rules
from issues.access import actor_id, visible
from issues.domain import (
    Activity,
    ActivityType,
    Comment,
    CreateResult,
    Issue,
    IssueChanges,
    IssueCounts,
    NewIssue,
    Status,
    UpdateResult,
)
from issues.events import EventKind, IssueEvent
from issues.store import IssueExists, get_issue_repository
from issues.store.backfill import BackfillReport
from issues.workflow import (
    absorbs,
    apply_changes,
    changed_fields,
    is_replay,
    new_issue,
    record_occurrence,
)
from issuetracker.errors import (
    ApplicationError,
    Conflict,
    NotFound,
    PreconditionFailed,
)


def _now() -> datetime:
    return datetime.now(UTC)


# --- issues ------------------------------------------------------------------------


def issue_report(*, actor: Actor, data: NewIssue, occurrences: int = 1) -> CreateResult:
    """Create an open issue reported by `actor`, with its `created` activity; or,
    when `data` has a fingerprint and `actor` already has an unresolved (open or
    in-progress) issue with it, count one more occurrence of that issue instead.

    Defaults (DESIGN.md): type task, priority medium, tags []. Viewers get 403.
    An occurrence writes no activity (a crash loop would flood the history) and
    moves no counter; it bumps `occurrenceCount` and `lastSeenAt` only. A
    resolved or closed issue absorbs nothing: the report is a regression and
    creates a new issue, which absorbs the later ones. Concurrent reports with
    one fingerprint end as one issue (see `add_or_absorb`).

    With an id the caller chose (`data.id`), a retry is safe: the same id again
    from the same reporter with the same title is a replay (nothing written, the
    stored issue returned, `replayed`); the id of another's report, or of one
    with another title, is a Conflict (409).

    `occurrences` > 1: the caller merged that many repeats into one report (the
    client does within a second); they count as that many occurrences.
    """
    require(actor, Action.CREATE)
    repo = get_issue_repository()
    now = _now()
    reporter_id = actor_id(actor)
    issue_id = data.id or repo.new_id()
    issue = new_issue(data, issue_id=issue_id, reporter_id=reporter_id, now=now)
    if occurrences > 1:
        issue = replace(issue, occurrence_count=occurrences)
    activity = Activity(type=ActivityType.CREATED, user_id=reporter_id, created_at=now)
    fingerprint = issue.fingerprint

    def absorb(current: Issue) -> Issue | None:
        if fingerprint is None or not absorbs(
            current, reporter_id=reporter_id, fingerprint=fingerprint
        ):
            return None
        counted = record_occurrence(current, now=now, report_id=data.id)
        extra = occurrences - 1
        return replace(counted, occurrence_count=counted.occurrence_count + extra)

    try:
        if fingerprint is None:
            result = CreateResult(
                issue=repo.add(issue=issue, activity=activity), created=True
            )
        else:
            result = repo.add_or_absorb(
                issue=issue,
                activity=activity,
                absorb=absorb,
                chosen_id=data.id is not None,
            )
    except IssueExists as taken:
        return _replay(taken.stored, reporter_id=reporter_id, title=issue.title)
    if not result.replayed:
        _published(result, reporter_id)
    return result


def issue_report_batch(
    *, reports: Sequence[tuple[Actor, NewIssue, int]]
) -> list[CreateResult | ApplicationError]:
    """`issue_report` for each (actor, report, occurrences), in order; a report's
    error is its own answer, never the others'.

    Reports without a fingerprint or a chosen id are stored together in one
    Firestore batch (`add_many`); the others one by one, as single reports.
    """
    results: list[CreateResult | ApplicationError | None] = [None] * len(reports)
    repo = get_issue_repository()
    now = _now()
    plain: list[tuple[int, Issue, Activity]] = []
    for index, (actor, data, occurrences) in enumerate(reports):
        if data.fingerprint or data.id:
            continue
        try:
            require(actor, Action.CREATE)
        except ApplicationError as error:
            results[index] = error
            continue
        reporter_id = actor_id(actor)
        issue = new_issue(
            data, issue_id=repo.new_id(), reporter_id=reporter_id, now=now
        )
        if occurrences > 1:
            issue = replace(issue, occurrence_count=occurrences)
        activity = Activity(
            type=ActivityType.CREATED, user_id=reporter_id, created_at=now
        )
        plain.append((index, issue, activity))
    if plain:
        try:
            stored = repo.add_many(items=[(i, a) for _, i, a in plain])
        except ApplicationError as error:
            for index, _, _ in plain:
                results[index] = error
        else:
            for (index, _, _), issue in zip(plain, stored, strict=True):
                result = CreateResult(issue=issue, created=True)
                results[index] = result
                _published(result, issue.reporter_id)
    for index, (actor, data, occurrences) in enumerate(reports):
        if results[index] is not None:
            continue
        try:
            results[index] = issue_report(
                actor=actor, data=data, occurrences=occurrences
            )
        except ApplicationError as error:
            results[index] = error
    return [result for result in results if result is not None]


def _replay(stored: Issue, *, reporter_id: str, title: str) -> CreateResult:
    """The answer to a create whose chosen id is taken by `stored`."""
    if not is_replay(stored, reporter_id=reporter_id, title=title):
        raise Conflict(
            f"Issue id {stored.id} belongs to another report; choose another id.",
            errors={"id": ["Taken by another report."]},
        )
    return CreateResult(issue=stored, created=False, replayed=True)


def _published(result: CreateResult, reporter_id: str) -> None:
    """Publish a committed report: a new issue, or one more occurrence."""
    kind = EventKind.REPORTED if result.created else EventKind.OCCURRED
    events.publish(
        IssueEvent(kind=kind, issue_id=result.issue.id, actor_id=reporter_id)
    )


def issue_create(*, actor: Actor, data: NewIssue) -> Issue:
    """`issue_report` for callers that need only the issue (the portal's form):
    the new issue, or the existing one that absorbed a fingerprinted report."""
    return issue_report(actor=actor, data=data).issue


def _owns(actor: Actor, issue: Issue) -> bool:
    return issue.reporter_id == actor_id(actor)


def _check_edit(actor: Actor, issue: Issue, moved: dict[str, Any]) -> None:
    """Raise Forbidden unless the actor's role may make these changes to this
    issue (`rules.check_edit`)."""
    rules.check_edit(rules_role(actor), issue, moved, own=_owns(actor, issue))


def issue_update(
    *,
    actor: Actor,
    issue_id: str,
    changes: IssueChanges,
    expected_version: int | None = None,
) -> UpdateResult:
    """Apply a partial update in one Firestore transaction.

    Writes the issue (version + 1) and one activity with every field's old and new
    value, or nothing when no field moves. `expected_version` (from `If-Match`)
    that is not the stored one gives 412 and writes nothing. Status moves and
    `resolvedAt` follow DESIGN.md (409 otherwise). Testers may only close or
    reopen a resolved issue; services may change status and priority of their
    own, except closing or reopening them.
    """
    require(actor, Action.READ, owner_id=actor_id(actor))
    editor_id = actor_id(actor)
    now = _now()

    def mutate(issue: Issue) -> UpdateResult:
        visible(actor, issue)
        if expected_version is not None and expected_version != issue.version:
            raise PreconditionFailed(
                f"The issue is at version {issue.version}, not {expected_version}; "
                "read it again and retry."
            )
        _check_edit(actor, issue, changed_fields(issue, changes))
        return apply_changes(issue, changes, actor_id=editor_id, now=now)

    result = get_issue_repository().update(issue_id=issue_id, mutate=mutate)
    if result.activity is not None:  # something moved and was written
        events.publish(
            IssueEvent(
                kind=EventKind.UPDATED,
                issue_id=issue_id,
                actor_id=editor_id,
                changes={
                    change.field: (change.old_value, change.new_value)
                    for change in result.activity.changes
                },
            )
        )
    return result


def issue_delete(*, actor: Actor, issue_id: str) -> None:
    """Delete an issue with its comments and activities (admins only).

    The role is checked before anything is read: only admins may delete, and
    they read every issue, so the delete's own transaction is the one read.
    """
    require(actor, Action.DELETE)
    if not get_issue_repository().delete(issue_id=issue_id):
        raise NotFound("No issue with this id.")
    events.publish(
        IssueEvent(kind=EventKind.DELETED, issue_id=issue_id, actor_id=actor_id(actor))
    )


def status_moves(*, actor: Actor, issue: Issue) -> list[Status]:
    """The statuses `actor` may move `issue` to now (for the portal's form)."""
    return rules.status_moves(rules_role(actor), issue, own=_owns(actor, issue))


def editable_fields(*, actor: Actor, issue: Issue) -> frozenset[str]:
    """The fields (domain names) `actor` may change on `issue`, status aside."""
    return rules.editable_fields(rules_role(actor), issue, own=_owns(actor, issue))


# --- comments and history ------------------------------------------------------------


def comment_add(*, actor: Actor, issue_id: str, content: str) -> Comment:
    """Add a comment by `actor`, its `commented` activity and +1 comment count."""
    require(actor, Action.CREATE)
    repo = get_issue_repository()
    visible(actor, repo.get(issue_id))
    now = _now()
    comment = Comment(
        issue_id=issue_id,
        author_id=actor_id(actor),
        content=content,
        created_at=now,
        updated_at=now,
    )
    activity = Activity(
        type=ActivityType.COMMENTED, user_id=comment.author_id, created_at=now
    )
    added = repo.add_comment(comment=comment, activity=activity)
    events.publish(
        IssueEvent(
            kind=EventKind.COMMENTED,
            issue_id=issue_id,
            actor_id=added.author_id,
            comment_id=added.id,
        )
    )
    return added


# --- maintenance ----------------------------------------------------------------------


def issues_backfill() -> BackfillReport:
    """Make the Flask app's documents searchable and sortable (see `backfill`).

    For operators (`manage.py backfill_issues`); takes no actor.
    """
    return get_issue_repository().backfill()


def issue_counts_rebuild() -> IssueCounts:
    """Recount every issue by status and priority and rewrite the counters the
    dashboard reads, for documents written without them (the Flask app's, edits
    in the console). For operators (`manage.py backfill_issues`); takes no actor.
    """
    return get_issue_repository().rebuild_counts()
