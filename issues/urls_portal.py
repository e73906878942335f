"""The portal's URLs, mounted at the site root under the `portal` namespace."""

from django.urls import path

from issues import views

app_name = "portal"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path(
        "dashboard/chart/", views.DashboardChartView.as_view(), name="dashboard-chart"
    ),
    path("issues/", views.IssueListView.as_view(), name="issue-list"),
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
