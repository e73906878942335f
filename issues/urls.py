"""`/api/v1/issues...` (included under /api/v1/), without trailing slashes."""

from django.urls import path

from issues.api import ActivityViewSet, CommentViewSet, IssueViewSet
from issues.api_batch import IssueBatchViewSet
from issues.api_trash import TrashViewSet

app_name = "issues-api"

urlpatterns = [
    path(
        "issues",
        IssueViewSet.as_view({"get": "list", "post": "create"}),
        name="issue-list",
    ),
    path(
        "issues/batch",
        IssueBatchViewSet.as_view({"post": "create"}),
        name="issue-batch",
    ),
    path(
        "issues/<issue_id:issue_id>",
        IssueViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="issue-detail",
    ),
    path(
        "issues/<issue_id:issue_id>/comments",
        CommentViewSet.as_view({"get": "list", "post": "create"}),
        name="issue-comments",
    ),
    path(
        "issues/<issue_id:issue_id>/activities",
        ActivityViewSet.as_view({"get": "list"}),
        name="issue-activities",
    ),
    path("trash", TrashViewSet.as_view({"get": "list"}), name="trash-list"),
    path(
        "trash/<issue_id:issue_id>/restore",
        TrashViewSet.as_view({"post": "restore"}),
        name="trash-restore",
    ),
]
