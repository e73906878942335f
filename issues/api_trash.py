"""The trash REST API (`/api/v1/trash...`), for admins: list, restore.

`DELETE /api/v1/issues/{id}` moves an issue here; these endpoints list what was
deleted and put it back. Errors are problem+json, as everywhere under /api/.
"""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.services.audit import request_source
from issues import upkeep
from issues.api_base import ApiView
from issues.domain import TrashedIssue
from issues.schema import JSON, LINK, problems
from issues.selectors import trash as selectors
from issues.serializers import IssueOutput, PageQuery

TRASHED_ID = OpenApiParameter("issue_id", str, OpenApiParameter.PATH)


class TrashedIssueOutput(IssueOutput):
    """An issue in the trash: the issue as it was, who deleted it and when."""

    deletedAt = serializers.DateTimeField(source="deleted_at")
    deletedBy = serializers.CharField(source="deleted_by")

    def to_representation(self, instance: TrashedIssue) -> dict[str, Any]:
        """The issue's fields, then `deletedAt` and `deletedBy`."""
        data: dict[str, Any] = dict(IssueOutput(instance.issue).data)
        data["deletedAt"] = self.fields["deletedAt"].to_representation(
            instance.deleted_at
        )
        data["deletedBy"] = instance.deleted_by
        return data


class TrashPageOutput(serializers.Serializer[Any]):
    """A page of the trash and the URL of the next (null on the last)."""

    issues = TrashedIssueOutput(many=True)
    next = serializers.URLField(allow_null=True)


class TrashViewSet(ApiView):
    """The trash: deleted issues, newest deletion first; restore one."""

    @extend_schema(
        operation_id="trash_list",
        summary="List deleted issues (admins)",
        description=(
            "Issues deleted in the last 30 days (older ones are purged), most "
            "recently deleted first, in cursor pages."
        ),
        parameters=[PageQuery, LINK],
        responses={(200, JSON): TrashPageOutput, **problems(400, 403)},
    )
    def list(self, request: Request) -> Response:
        """`{"issues": [...], "next": ...}`."""
        query = PageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = selectors.trash_list(
            actor=self.actor(request),
            limit=query.validated_data["limit"],
            cursor=query.validated_data.get("cursor"),
        )
        items = TrashedIssueOutput(page.items, many=True).data
        return self.page(request, "issues", items, page.next_cursor)

    @extend_schema(
        operation_id="trash_restore",
        summary="Restore a deleted issue (admins)",
        description=(
            "Puts the issue back as it was, with its comments and history. 409 "
            "when an issue with its id exists again."
        ),
        parameters=[TRASHED_ID],
        request=None,
        responses={(200, JSON): IssueOutput, **problems(403, 404, 409)},
    )
    def restore(self, request: Request, issue_id: str) -> Response:
        """200 with the restored issue."""
        issue = upkeep.issue_restore(
            actor=self.actor(request),
            issue_id=issue_id,
            source=request_source(request.META),
        )
        return Response(
            IssueOutput(issue).data,
            status=http.HTTP_200_OK,
            headers={"ETag": f'"{issue.version}"'},
        )
