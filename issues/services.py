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

from django.db import transaction

from accounts.models import AuditAction
from accounts.policy import Actor, require, rules_role
from accounts.roles import Action
from accounts.services.audit import SYSTEM, audit_record
from issues import assigning, events, rules
from issues.access import actor_id, owns, visible
from issues.converters import is_issue_id
from issues.domain import (
    UNSET,
    Activity,
    ActivityType,
    Comment,
    CreateResult,
    Issue,
    IssueChanges,
    NewIssue,
    UpdateResult,
)
from issues.events import EventKind, IssueEvent
from issues.store import IssueExists, get_issue_repository
from issues.workflow import (
    absorbs,
    apply_changes,
    changed_fields,
    created_entry,
    is_replay,
    new_issue,
    record_occurrence,
    with_new_watchers,
)
from issuetracker.errors import (
    ApplicationError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
)
from notifications.services import (
    people_mentioned,
    report_may_notify,
    watches_automatically,
)


def _now() -> datetime:
    return datetime.now(UTC)


# --- issues ------------------------------------------------------------------------


def issue_report(*, actor: Actor, data: NewIssue, occurrences: int = 1) -> CreateResult:
    """Create an open issue reported by `actor`, with its `created` activity; or,
    when `data` has a fingerprint and `actor` already has an unresolved (open or
    in-progress) issue with it, count one more occurrence of that issue instead.

    Defaults (DESIGN.md): type task, priority medium, tags []. Viewers get 403;
    so does a field the role may not set, as a tester's or service's assignee
    (`issues.assigning`); an assignee who is no one assignable is 400.
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
    data = assigning.report_checked(actor, data)
    repo = get_issue_repository()
    now = _now()
    reporter_id = actor_id(actor)
    issue, activity = _new_report(
        actor, data, occurrences, issue_id=data.id or repo.new_id(), now=now
    )
    event_id = repo.new_id() if report_may_notify(issue) else None
    fingerprint = issue.fingerprint

    def absorb(current: Issue) -> Issue | None:
        if fingerprint is None or not absorbs(
            current, reporter_id=reporter_id, fingerprint=fingerprint
        ):
            return None
        return record_occurrence(current, now=now, report_id=data.id, count=occurrences)

    try:
        if fingerprint is None:
            result = CreateResult(
                issue=repo.add(issue=issue, activity=activity, event_id=event_id),
                created=True,
            )
        else:
            result = repo.add_or_absorb(
                issue=issue,
                activity=activity,
                absorb=absorb,
                chosen_id=data.id is not None,
                event_id=event_id,
            )
    except IssueExists as taken:
        return _replay(taken.stored, reporter_id=reporter_id, title=issue.title)
    if not result.replayed:
        _published(result, reporter_id, event_id)
    return result


def _first_watchers(actor: Actor, issue: Issue) -> tuple[str, ...]:
    """Who watches a new issue: its reporter (staff only), its assignee and the
    people its description mentions."""
    found = [issue.reporter_id] if watches_automatically(actor) else []
    if issue.assignee_id:
        found.append(issue.assignee_id)
    found.extend(people_mentioned(text=issue.description))
    return tuple(dict.fromkeys(found))


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
    plain: list[tuple[int, Issue, Activity, str | None]] = []
    for index, (actor, data, occurrences) in enumerate(reports):
        if data.fingerprint or data.id:
            continue
        try:
            require(actor, Action.CREATE)
            data = assigning.report_checked(actor, data)
        except ApplicationError as error:
            results[index] = error
            continue
        issue, activity = _new_report(
            actor, data, occurrences, issue_id=repo.new_id(), now=now
        )
        event_id = repo.new_id() if report_may_notify(issue) else None
        plain.append((index, issue, activity, event_id))
    if plain:
        try:
            stored = repo.add_many(items=[(i, a, e) for _, i, a, e in plain])
        except ApplicationError as error:
            for index, *_ in plain:
                results[index] = error
        else:
            for (index, _, _, event_id), issue in zip(plain, stored, strict=True):
                result = CreateResult(issue=issue, created=True)
                results[index] = result
                _published(result, issue.reporter_id, event_id)
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


def _new_report(
    actor: Actor, data: NewIssue, occurrences: int, *, issue_id: str, now: datetime
) -> tuple[Issue, Activity]:
    """The issue a report would create as `issue_id` (its first watchers;
    `occurrences` merged repeats) and its `created` activity (for the outbox
    event; the history derives it from the issue)."""
    issue = new_issue(data, issue_id=issue_id, reporter_id=actor_id(actor), now=now)
    issue = replace(
        issue,
        watcher_ids=_first_watchers(actor, issue),
        occurrence_count=max(occurrences, 1),
    )
    return issue, created_entry(issue)


def _replay(stored: Issue, *, reporter_id: str, title: str) -> CreateResult:
    """The answer to a create whose chosen id is taken by `stored`."""
    if not is_replay(stored, reporter_id=reporter_id, title=title):
        raise Conflict(
            f"Issue id {stored.id} belongs to another report; choose another id.",
            errors={"id": ["Taken by another report."]},
        )
    return CreateResult(issue=stored, created=False, replayed=True)


def _published(result: CreateResult, reporter_id: str, event_id: str | None) -> None:
    """Publish a committed report: a new issue (with its outbox event when it
    can notify anyone), or one more occurrence (none)."""
    kind = EventKind.REPORTED if result.created else EventKind.OCCURRED
    events.publish(
        IssueEvent(
            kind=kind,
            issue_id=result.issue.id,
            actor_id=reporter_id,
            id=event_id if result.created else None,
        )
    )


def issue_create(*, actor: Actor, data: NewIssue) -> Issue:
    """`issue_report` for callers that need only the issue (the portal's form):
    the new issue, or the existing one that absorbed a fingerprinted report."""
    return issue_report(actor=actor, data=data).issue


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
    `resolvedAt` follow DESIGN.md (409 otherwise); so do the resolution and
    the duplicate link (400 when `duplicate_of` names no issue the actor sees,
    checked before the transaction). Testers may only close or reopen a
    resolved issue; services may change status and priority of their own,
    except closing or reopening them. A new assignee must be someone assignable
    (400, `issues.assigning`).
    """
    require(actor, Action.READ, owner_id=actor_id(actor))
    if changes.duplicate_of is not UNSET and changes.duplicate_of != issue_id:
        _check_duplicate_of(actor, changes.duplicate_of)
    changes, unknown_assignee = assigning.changes_prepared(changes)
    editor_id = actor_id(actor)
    now = _now()
    repo = get_issue_repository()
    event_id = repo.new_id()
    # Looked up before the transaction, which Firestore may run again.
    mentioned = (
        people_mentioned(text=changes.description)
        if isinstance(changes.description, str)
        else ()
    )

    def mutate(issue: Issue) -> UpdateResult:
        visible(actor, issue)
        if expected_version is not None and expected_version != issue.version:
            raise PreconditionFailed(
                f"The issue is at version {issue.version}, not {expected_version}; "
                "read it again and retry."
            )
        moved = changed_fields(issue, changes)
        rules.check_edit(rules_role(actor), issue, moved, own=owns(actor, issue))
        assigning.check_moved(moved, unknown_assignee)
        result = apply_changes(issue, changes, actor_id=editor_id, now=now)
        return with_new_watchers(issue, result, mentioned)

    result = repo.update(issue_id=issue_id, mutate=mutate, event_id=event_id)
    if result.activity is not None:  # something moved and was written
        events.publish(
            IssueEvent(
                kind=EventKind.UPDATED,
                issue_id=issue_id,
                actor_id=editor_id,
                id=event_id,
                changes={
                    change.field: (change.old_value, change.new_value)
                    for change in result.activity.changes
                },
            )
        )
    return result


def _check_duplicate_of(actor: Actor, duplicate_of: str) -> None:
    """InvalidInput naming `duplicate_of` unless it is an issue `actor` sees.

    Outside the update's transaction: the link is a reference, not an
    invariant, so an issue deleted meanwhile leaves a dangling id, as a deleted
    assignee does.
    """
    target = None
    if is_issue_id(duplicate_of):
        target = get_issue_repository().get(duplicate_of)
    try:
        visible(actor, target)
    except NotFound:
        raise InvalidInput(
            f"duplicate_of: there is no issue {duplicate_of!r}.",
            errors={"duplicate_of": [f"No issue with id {duplicate_of!r}."]},
        ) from None


def issue_watch(*, actor: Actor, issue_id: str, watching: bool) -> None:
    """Start (or stop) `actor` watching an issue they may read (404 otherwise).

    Service users receive no notifications, so they may not watch (403).
    """
    require(actor, Action.READ, owner_id=actor_id(actor))
    if watching and not watches_automatically(actor):
        raise Forbidden("Service users receive no notifications.")
    repo = get_issue_repository()
    visible(actor, repo.get(issue_id))
    if not repo.watch(issue_id=issue_id, user_id=actor_id(actor), watching=watching):
        raise NotFound("No issue with this id.")


def issue_delete(*, actor: Actor, issue_id: str, source: str = SYSTEM) -> None:
    """Move an issue to the trash (admins only), audited with `source`.

    Its comments and history stay for a restore (`issue_restore`) until a purge
    (`trash_purge`). The role is checked before anything is read; the move's
    own transaction is the one read. The audit entry commits with the move, or
    not at all when the issue is absent (404).
    """
    require(actor, Action.DELETE)
    with transaction.atomic():
        audit_record(
            action=AuditAction.ISSUE_DELETED,
            actor=actor,
            target=issue_id,
            source=source,
        )
        moved = get_issue_repository().delete(
            issue_id=issue_id, deleted_by=actor_id(actor), deleted_at=_now()
        )
        if not moved:
            raise NotFound("No issue with this id.")
    events.publish(
        IssueEvent(kind=EventKind.DELETED, issue_id=issue_id, actor_id=actor_id(actor))
    )


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
    watchers = [comment.author_id] if watches_automatically(actor) else []
    watchers.extend(people_mentioned(text=content))
    event_id = repo.new_id()
    added = repo.add_comment(
        comment=comment,
        activity=activity,
        event_id=event_id,
        watchers=tuple(dict.fromkeys(watchers)),
    )
    events.publish(
        IssueEvent(
            kind=EventKind.COMMENTED,
            issue_id=issue_id,
            actor_id=added.author_id,
            comment_id=added.id,
            id=event_id,
        )
    )
    return added
