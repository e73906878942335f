"""The portal: server-rendered pages, each a thin view over one service or selector.

Sign-in is required everywhere (anonymous visitors go to the sign-in page). The
services decide what a role may do; the pages only offer what they allow, and a
forged POST is refused by the same services. Expected errors become pages in
`PortalView.dispatch`, the portal's one translator: 404 for what is absent or not
the viewer's to see, 403 for what the role forbids, 503 when Firestore does not
answer (never an empty list or a "not found").
"""

import logging
from enum import StrEnum
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from accounts.policy import require
from accounts.roles import Action
from accounts.services import users as accounts_users
from issues import access, assigning, services
from issues.domain import EDITABLE_FIELDS, PAGE_DEFAULT, Issue, Status
from issues.forms import CommentForm, IssueEditForm, IssueFilterForm, IssueForm
from issues.selectors import dashboard, issue_page
from issues.selectors import issues as selectors
from issuetracker.error_classes import ErrorClass, Outage, classify
from issuetracker.errors import (
    RETRY_AFTER_SECONDS,
    ApplicationError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PreconditionFailed,
)
from issuetracker.throttling import portal_write_refusal

logger = logging.getLogger(__name__)


def unavailable_page(
    request: HttpRequest, *, database_down: bool = False
) -> HttpResponse:
    """The 503 page: Firestore or the database did not answer; try again shortly."""
    if database_down:
        # The page must not ask the database who is signed in: it is down.
        request.user = AnonymousUser()
    context = {"database_down": database_down, "retry_url": _retry_url(request)}
    response = render(request, "503.html", context, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _retry_url(request: HttpRequest) -> str:
    """Where "Try again" leads: the page itself for a GET; after a POST (an edit,
    a comment: POST-only URLs) the issue's page, or the dashboard."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    match = request.resolver_match
    issue_id = match.kwargs.get("issue_id") if match else None
    if issue_id:
        return reverse("portal:issue-detail", args=[issue_id])
    return reverse("portal:dashboard")


class PortalView(LoginRequiredMixin, View):
    """A signed-in page; turns the services' expected errors into error pages."""

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        """Run the page; translate ApplicationError and store failures.

        Writes (every POST: forms, bulk actions) count against the person's
        PORTAL_WRITE_RATE first; over it the answer is the 429 page.
        """
        try:
            if request.method == "POST" and request.user.is_authenticated:
                refused = portal_write_refusal(request)
                if refused is not None:
                    return refused
            return super().dispatch(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error
        except NotAuthenticated:
            return redirect_to_login(request.get_full_path())
        except Forbidden as error:
            return render(request, "403.html", {"message": error.message}, status=403)
        except Exception as error:
            kind = classify(error)
            # Django answers the rest (its own 400 and 500 pages).
            if kind is None or not (
                kind.transient or isinstance(error, ApplicationError)
            ):
                raise
            return error_page(request, error, kind)


def error_page(
    request: HttpRequest, error: Exception, kind: ErrorClass
) -> HttpResponse:
    """The page of an expected error `classify` put in `kind`."""
    if kind.outage is Outage.DATABASE:
        logger.error("Database unavailable on %s", request.path, exc_info=error)
        return unavailable_page(request, database_down=True)
    if kind.transient:
        if not isinstance(error, ApplicationError):
            logger.warning("Firestore unavailable on %s: %s", request.path, error)
        return unavailable_page(request)
    if kind.status >= 500:
        logger.error("%s answering %s: %s", kind.code, request.path, error)
        return render(request, "500.html", status=kind.status)
    return render(
        request,
        "400.html",
        {"message": kind.detail, "errors": kind.errors, "status": kind.status},
        status=kind.status,
    )


def people_suggestions() -> list[str]:
    """Actor ids of active staff, offered as assignee and reporter suggestions."""
    return accounts_users.staff_usernames_active()


class DashboardView(PortalView):
    """`/`: counts, the 30-day chart and the viewer's short lists."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Render the dashboard."""
        board = dashboard.dashboard_get(actor=request.user)
        return render(request, "issues/dashboard.html", {"board": board})


class DashboardChartView(PortalView):
    """`/dashboard/chart/`: the 30-day chart, alone (`?fragment=1`: for app.js to
    put into the dashboard) or as a page of its own (the link without JS)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Render the chart."""
        chart = dashboard.chart_get(actor=request.user)
        if request.GET.get("fragment"):
            return render(request, "issues/_chart_card.html", {"chart": chart})
        return render(request, "issues/dashboard_chart.html", {"chart": chart})


class IssueListView(PortalView):
    """`/issues/`: filters, search, sort and cursor pages, all in the query string."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Render one page of the list, or the filter errors."""
        form = IssueFilterForm(request.GET)
        page = None
        status = 200
        if form.is_valid():
            page = selectors.issue_list(
                actor=request.user,
                filters=form.filters(me=actor_id(request)),
                limit=PAGE_DEFAULT,
                cursor=form.cleaned_data["cursor"] or None,
            )
        else:
            status = 400
        return render(
            request,
            "issues/issue_list.html",
            {
                "form": form,
                "page": page,
                "is_first_page": not request.GET.get("cursor"),
                "people": people_suggestions(),
            },
            status=status,
        )


class IssueCreateView(PortalView):
    """`/issues/new/`: the new-issue form; errors shown beside their fields."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """An empty form (for roles that may create)."""
        require(request.user, Action.CREATE)
        assignees = assigning.assignee_choices(actor=request.user)
        return self.page(request, IssueForm(assignees=assignees))

    def post(self, request: HttpRequest) -> HttpResponse:
        """Create the issue, or show the form again with its errors and input."""
        require(request.user, Action.CREATE)
        assignees = assigning.assignee_choices(actor=request.user)
        form = IssueForm(request.POST, assignees=assignees)
        if not form.is_valid():
            return self.page(request, form, status=400)
        try:
            issue = services.issue_create(actor=request.user, data=form.new_issue())
        except InvalidInput as error:
            add_errors(form, error)
            return self.page(request, form, status=400)
        messages.success(request, "Issue created.")
        return HttpResponseRedirect(issue_url(issue))

    def page(
        self, request: HttpRequest, form: IssueForm, status: int = 200
    ) -> HttpResponse:
        """The form page."""
        return render(
            request,
            "issues/issue_new.html",
            {"form": form},
            status=status,
        )


class IssueDetailView(PortalView):
    """`/issues/<id>/`: the issue, its timeline and the forms the role allows."""

    def get(self, request: HttpRequest, issue_id: str) -> HttpResponse:
        """Render the issue page."""
        view = issue_page.issue_page_get(actor=request.user, issue_id=issue_id)
        return render_issue_page(request, view)


class IssueUpdateView(PortalView):
    """`POST /issues/<id>/edit/`: apply the edit form (fields the role allows)."""

    def post(self, request: HttpRequest, issue_id: str) -> HttpResponse:
        """Update the issue, or show the page again with the form's errors.

        The form needs only the issue and what the role may change; the page's
        comments and history are read only to show it again after an error.
        """
        actor = request.user
        issue = selectors.issue_get(actor=actor, issue_id=issue_id)
        form = edit_form(
            issue,
            fields_allowed=access.editable_fields(actor=actor, issue=issue),
            status_moves=access.status_moves(actor=actor, issue=issue),
            data=request.POST,
        )
        if form.is_empty:
            raise Forbidden("Your role may not change this issue.")
        if not form.is_valid():
            return self.again(request, issue_id, form, status=400)
        try:
            result = services.issue_update(
                actor=request.user,
                issue_id=issue_id,
                changes=form.changes(),
                expected_version=form.cleaned_data["version"],
            )
        except PreconditionFailed:
            messages.error(
                request,
                "Someone changed this issue while you were editing it. Here it is "
                "as it is now; make your change again.",
            )
            return HttpResponseRedirect(issue_url(issue))
        except (InvalidInput, Conflict) as error:
            add_errors(form, error)
            return self.again(request, issue_id, form, status=error.status)
        if result.activity is None:
            messages.info(request, "Nothing changed.")
        else:
            messages.success(request, "Issue updated.")
        return HttpResponseRedirect(issue_url(result.issue))

    @staticmethod
    def again(
        request: HttpRequest, issue_id: str, form: IssueEditForm, *, status: int
    ) -> HttpResponse:
        """The issue page again, with the bound form and its errors."""
        view = issue_page.issue_page_get(actor=request.user, issue_id=issue_id)
        return render_issue_page(request, view, edit=form, status=status)


class CommentCreateView(PortalView):
    """`POST /issues/<id>/comments/`: add a comment."""

    def post(self, request: HttpRequest, issue_id: str) -> HttpResponse:
        """Add the comment, or show the page again with the form's errors."""
        require(request.user, Action.CREATE)
        form = CommentForm(request.POST)
        if not form.is_valid():
            view = issue_page.issue_page_get(actor=request.user, issue_id=issue_id)
            return render_issue_page(request, view, comment=form, status=400)
        comment = services.comment_add(
            actor=request.user,
            issue_id=issue_id,
            content=form.cleaned_data["content"],
        )
        messages.success(request, "Comment added.")
        url = reverse("portal:issue-detail", args=[issue_id])
        return HttpResponseRedirect(f"{url}#comment-{comment.id}")


# --- helpers -----------------------------------------------------------------------


def actor_id(request: HttpRequest) -> str:
    """The signed-in user's id as Firestore stores it (reporterId, assigneeId)."""
    return str(getattr(request.user, "actor_id", ""))


def issue_url(issue: Issue) -> str:
    """The issue page's path."""
    return reverse("portal:issue-detail", args=[issue.id])


def edit_form(
    issue: Issue,
    *,
    fields_allowed: frozenset[str],
    status_moves: list[Status],
    data: Any = None,
) -> IssueEditForm:
    """The edit form for this viewer: only the fields and moves the role allows."""
    return IssueEditForm(
        data,
        fields_allowed=fields_allowed,
        status_now=issue.status,
        status_moves=status_moves,
        assignees=(
            assigning.edit_choices(current=issue.assignee_id)
            if "assignee_id" in fields_allowed
            else ()
        ),
        initial={
            **{name: _form_value(getattr(issue, name)) for name in EDITABLE_FIELDS},
            "version": issue.version,
        },
        prefix="edit",
    )


def _form_value(value: Any) -> Any:
    """A field's value as a form shows it: enums as text, no assignee as ""."""
    if isinstance(value, StrEnum):
        return value.value
    return "" if value is None else value


def render_issue_page(
    request: HttpRequest,
    view: issue_page.IssuePage,
    *,
    edit: IssueEditForm | None = None,
    comment: CommentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The issue page, with bound forms when one came back with errors."""
    form = edit or edit_form(
        view.issue,
        fields_allowed=view.editable_fields,
        status_moves=view.status_moves,
    )
    return render(
        request,
        "issues/issue_detail.html",
        {
            "view": view,
            "issue": view.issue,
            "edit_form": None if form.is_empty else form,
            "comment_form": (comment or CommentForm()) if view.can_comment else None,
            # "Assign to me" (key `a`): for a role that may set the assignee.
            "assign_me": "assignee_id" in view.editable_fields
            and view.issue.assignee_id != actor_id(request),
        },
        status=status,
    )


def add_errors(form: Any, error: ApplicationError) -> None:
    """Put a service's field errors beside the form's fields (others on top)."""
    placed = False
    for name, field_messages in error.errors.items():
        target = name if name in form.fields else None
        for message in field_messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)
