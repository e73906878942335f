"""The issues REST API (`/api/v1/issues...`): parse, call one service, shape.

Errors are raised, never caught here: the project's exception handler turns them
into problem+json. Anonymous callers are let through only where the Flask app's
contract needs it (compatibility mode); `actor_for_request` then names the actor.
"""

import re
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.services.audit import request_source
from issues import services
from issues.access import actor_id
from issues.api_base import ApiView
from issues.schema import (
    ETAG,
    IF_MATCH,
    ISSUE_ID,
    JSON,
    LINK,
    OLD_APP_CREATE_EXAMPLE,
    X_USER_ID,
    problems,
)
from issues.selectors import issues as selectors
from issues.serializers import (
    ActivityOutput,
    ActivityPageOutput,
    CommentCreateInput,
    CommentOutput,
    CommentPageOutput,
    IssueCreateInput,
    IssueDetailOutput,
    IssueListQuery,
    IssueOutput,
    IssuePageOutput,
    IssueUpdateInput,
    PageQuery,
    reusable,
)
from issuetracker.errors import InvalidInput


def _etag(version: int) -> str:
    return f'"{version}"'


# A strong entity tag holding a version: `"3"`. Weak tags (`W/"3"`) and lists do
# not name one version, so they are refused rather than guessed at.
_STRONG_VERSION = re.compile(r'"(\d{1,18})"')


def _if_match(request: Request) -> int | None:
    """The version `If-Match` expects: None when absent or `*`; 400 if unusable."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _STRONG_VERSION.fullmatch(header.strip())
    if match is None:
        message = (
            f'If-Match must be one strong ETag as read, like "3", or *; '
            f"got {header[:40]!r}."
        )
        raise InvalidInput(message, errors={"If-Match": [message]})
    return int(match.group(1))


def _issue_response(issue: Any, status: int = http.HTTP_200_OK) -> Response:
    return Response(
        reusable(IssueOutput).to_representation(issue),
        status=status,
        headers={"ETag": _etag(issue.version)},
    )


class IssueViewSet(ApiView):
    """Issues: list, create, read, partial update, delete."""

    compat_actions = frozenset({"create", "retrieve", "partial_update"})

    @extend_schema(
        operation_id="issues_list",
        summary="List issues",
        description=(
            "Filters combine with AND. Newest first unless `sort` says otherwise; "
            "`created_after`/`created_before` work with `sort=newest` or `oldest`. "
            "Pages follow the opaque `cursor` of `next` (also in the `Link` "
            "header); one Firestore query per page. Services see their own issues."
        ),
        parameters=[IssueListQuery, LINK],
        responses={(200, JSON): IssuePageOutput, **problems(400)},
    )
    def list(self, request: Request) -> Response:
        """One page of issues."""
        query = IssueListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        actor = self.actor(request)
        filters = query.filters(me=actor_id(actor))
        page = selectors.issue_list(
            actor=actor,
            filters=filters,
            limit=params["limit"],
            cursor=params.get("cursor"),
        )
        items = IssueOutput(page.items, many=True).data
        return self.page(request, "issues", items, page.next_cursor)

    @extend_schema(
        operation_id="issues_create",
        summary="Create an issue (or count one more occurrence)",
        description=(
            "The caller is the reporter. Anonymous callers in compatibility mode "
            "name the reporting service with `reporter_id`. Defaults: type `task`, "
            "priority `medium`; status is `open` (`status` may be sent only as "
            "`open`).\n\n"
            "With a `fingerprint`, a report whose reporter already has an `open` or "
            "`in-progress` issue with that fingerprint creates nothing: that issue's "
            "`occurrenceCount` goes up by one and its `lastSeenAt` moves (the other "
            "fields of the report are ignored; no history entry, `updatedAt` and "
            "`version` stay), and the answer is 200 with it. A `resolved` or "
            "`closed` issue takes no more reports: the next one creates a new issue "
            "(201), which takes the later ones. Concurrent reports end as one issue."
        ),
        request={JSON: IssueCreateInput},
        responses={
            (201, JSON): OpenApiResponse(IssueOutput, description="Issue created."),
            (200, JSON): OpenApiResponse(
                IssueOutput,
                description=(
                    "The reporter's unresolved issue with this fingerprint, after "
                    "counting this report as one more occurrence."
                ),
            ),
            **problems(400, 403, 409, 413, 415, 429),
        },
        examples=[OLD_APP_CREATE_EXAMPLE],
    )
    def create(self, request: Request) -> Response:
        """201 with the new issue; 200 with the issue that absorbed the report."""
        body = reusable(IssueCreateInput).run_validation(request.data)
        actor, report = self.reported(request, body)
        result = services.issue_report(
            actor=actor, data=report, occurrences=body["occurrences"]
        )
        status = http.HTTP_201_CREATED if result.created else http.HTTP_200_OK
        return _issue_response(result.issue, status)

    @extend_schema(
        operation_id="issues_retrieve",
        summary="Read an issue",
        description="With `duplicates`: the ids of issues marked as its duplicates.",
        parameters=[ISSUE_ID, X_USER_ID, ETAG],
        responses={(200, JSON): IssueDetailOutput, **problems(400, 403, 404)},
    )
    def retrieve(self, request: Request, issue_id: str) -> Response:
        """One issue and its duplicates' ids, with its version as ETag."""
        actor = self.actor(request)
        issue = selectors.issue_get(actor=actor, issue_id=issue_id)
        duplicates = selectors.issue_duplicates(actor=actor, issue=issue)
        output = IssueDetailOutput(issue, context={"duplicates": duplicates})
        return Response(output.data, headers={"ETag": _etag(issue.version)})

    @extend_schema(
        operation_id="issues_partial_update",
        summary="Change an issue",
        description=(
            "Partial update in one transaction; one activity records every field's "
            "old and new value. Status moves: open <-> in-progress; open or "
            "in-progress -> resolved; open, in-progress or resolved -> closed; "
            "resolved or closed -> open (reopen). Resolving or closing takes a "
            "`resolution` (default `fixed`; closing a resolved issue keeps its "
            "own), and for `duplicate` the `duplicate_of` issue id; reopening "
            "clears both. Send `If-Match` with the ETag read to refuse (412) a "
            "change based on a stale version."
        ),
        parameters=[ISSUE_ID, IF_MATCH, X_USER_ID, ETAG],
        request={JSON: IssueUpdateInput},
        responses={
            (200, JSON): IssueOutput,
            **problems(400, 403, 404, 409, 412, 413, 415, 429),
        },
    )
    def partial_update(self, request: Request, issue_id: str) -> Response:
        """Apply the given fields; the result carries the new ETag."""
        body = IssueUpdateInput(data=request.data)
        body.is_valid(raise_exception=True)
        expected = _if_match(request)
        result = services.issue_update(
            actor=self.actor(request, issue_id=issue_id),
            issue_id=issue_id,
            changes=body.changes(),
            expected_version=expected,
        )
        return _issue_response(result.issue)

    @extend_schema(
        operation_id="issues_destroy",
        summary="Delete an issue (admins)",
        description="Moves the issue to the trash; admins may restore it for 30 days.",
        parameters=[ISSUE_ID],
        responses={204: None, **problems(403, 404, 429)},
    )
    def destroy(self, request: Request, issue_id: str) -> HttpResponse:
        """204 once the issue is in the trash."""
        source = request_source(request.META)
        services.issue_delete(
            actor=self.actor(request), issue_id=issue_id, source=source
        )
        return Response(status=http.HTTP_204_NO_CONTENT)


class CommentViewSet(ApiView):
    """An issue's comments: add, list (oldest first)."""

    compat_actions = frozenset({"create", "list"})

    @extend_schema(
        operation_id="issues_comments_list",
        summary="List an issue's comments",
        parameters=[ISSUE_ID, PageQuery, X_USER_ID, LINK],
        responses={(200, JSON): CommentPageOutput, **problems(400, 403, 404)},
    )
    def list(self, request: Request, issue_id: str) -> Response:
        """`{"comments": [...], "next": ...}`, oldest first."""
        return self.issue_page(
            request, issue_id, selectors.comment_list, CommentOutput, "comments"
        )

    @extend_schema(
        operation_id="issues_comments_create",
        summary="Comment on an issue",
        description=(
            "The caller is the author; anonymous callers in compatibility mode "
            "name the service with `author_id`."
        ),
        parameters=[ISSUE_ID, X_USER_ID],
        request={JSON: CommentCreateInput},
        responses={
            (201, JSON): CommentOutput,
            **problems(400, 403, 404, 413, 415, 429),
        },
    )
    def create(self, request: Request, issue_id: str) -> Response:
        """201 with the comment."""
        body = CommentCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        comment = services.comment_add(
            actor=self.actor(
                request, data.get("author_id"), issue_id=issue_id, field="author_id"
            ),
            issue_id=issue_id,
            content=data["content"],
        )
        return Response(CommentOutput(comment).data, status=http.HTTP_201_CREATED)


class ActivityViewSet(ApiView):
    """An issue's history."""

    compat_actions = frozenset({"list"})

    @extend_schema(
        operation_id="issues_activities_list",
        summary="An issue's history",
        description="Oldest first; each entry lists the fields it changed.",
        parameters=[ISSUE_ID, PageQuery, X_USER_ID, LINK],
        responses={(200, JSON): ActivityPageOutput, **problems(400, 403, 404)},
    )
    def list(self, request: Request, issue_id: str) -> Response:
        """`{"activities": [...], "next": ...}`."""
        return self.issue_page(
            request, issue_id, selectors.activity_list, ActivityOutput, "activities"
        )
