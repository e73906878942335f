"""The portal's URLs, mounted at the site root under the `portal` namespace."""

from django.urls import path

from issues import views, views_export, views_trash, views_triage

app_name = "portal"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path(
        "dashboard/chart/", views.DashboardChartView.as_view(), name="dashboard-chart"
    ),
    path("triage/", views_triage.TriageView.as_view(), name="triage"),
    path(
        "triage/<issue_id:issue_id>/",
        views_triage.TriageActionView.as_view(),
        name="triage-action",
    ),
    path("trash/", views_trash.TrashView.as_view(), name="trash"),
    path(
        "trash/<issue_id:issue_id>/restore/",
        views_trash.TrashRestoreView.as_view(),
        name="trash-restore",
    ),
    path("issues/", views.IssueListView.as_view(), name="issue-list"),
    path("issues/bulk/", views_triage.BulkView.as_view(), name="issue-bulk"),
    path(
        "issues/similar/",
        views_triage.SimilarIssuesView.as_view(),
        name="issue-similar",
    ),
    path(
        "issues/export.<str:fmt>",
        views_export.IssueExportView.as_view(),
        name="issue-export",
    ),
    path("views/", views_triage.SavedViewCreateView.as_view(), name="view-save"),
    path(
        "views/<int:view_id>/delete/",
        views_triage.SavedViewDeleteView.as_view(),
        name="view-delete",
    ),
    path("issues/new/", views.IssueCreateView.as_view(), name="issue-new"),
    path(
        "issues/<issue_id:issue_id>/",
        views.IssueDetailView.as_view(),
        name="issue-detail",
    ),
    path(
        "issues/<issue_id:issue_id>/edit/",
        views.IssueUpdateView.as_view(),
        name="issue-edit",
    ),
    path(
        "issues/<issue_id:issue_id>/comments/",
        views.CommentCreateView.as_view(),
        name="comment-add",
    ),
]
