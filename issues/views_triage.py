"""The portal's triage queue, its one-click actions, bulk actions, similar
issues and saved views: thin views over `issues.bulk`, `selectors.triage` and
`issues.saved_views`.

Posts go through `PortalView.dispatch`, so they count against the person's
PORTAL_WRITE_RATE like every portal write. An htmx request (`HX-Request`) gets
the changed rows back to put in place; a plain post a redirect, so everything
works without JavaScript.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from accounts.policy import user_can
from accounts.roles import Action
from issues import bulk, saved_views
from issues.bulk import BulkReport
from issues.forms_triage import BulkForm, SavedViewForm
from issues.selectors import issues as selectors
from issues.selectors import triage
from issues.views import PortalView, people_suggestions
from issuetracker.errors import ApplicationError, InvalidInput


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (it then wants a fragment)."""
    return request.headers.get("HX-Request") == "true"


def _problems(form: Any) -> str:
    """A form's errors on one line."""
    return "; ".join(str(m) for ms in form.errors.values() for m in ms)


def _context(request: HttpRequest) -> dict[str, Any]:
    return {"can_edit": user_can(request.user, Action.EDIT)}


class TriageView(PortalView):
    """`/triage/`: the service reports nobody has picked up, by service."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Render a page of the queue (`?cursor=` from the "more" link); for
        htmx, only its groups and link, to append in place."""
        queue = triage.triage_queue(
            actor=request.user, cursor=request.GET.get("cursor") or None
        )
        context = {"queue": queue, **_context(request)}
        if is_htmx(request):
            return render(request, "issues/_triage_page.html", context)
        return render(
            request,
            "issues/triage.html",
            {
                **context,
                "page_size": triage.PAGE_SIZE,
                "bulk_form": BulkForm(),
                "people": people_suggestions(),
            },
        )


class TriageActionView(PortalView):
    """`POST /triage/<id>/`: one click of the queue (take, assign, close as
    duplicate or won't fix, raise or lower the priority)."""

    def post(self, request: HttpRequest, issue_id: str) -> HttpResponse:
        """Apply the action; the row for htmx, else back to the queue."""
        data = request.POST.copy()
        data.setlist("ids", [f"{issue_id}@{data.get('version', '')}"])
        form = BulkForm(data)
        if not form.is_valid():
            problem = _problems(form)
            raise InvalidInput(problem or "Invalid action.")
        error = None
        try:
            result = bulk.issue_change_one(
                actor=request.user,
                issue_id=issue_id,
                change=form.change(),
                expected_version=form.targets[0][1],
            )
            issue = result.issue
        except ApplicationError as refused:
            # A stale version (412) or a refusal is shown on the row for htmx;
            # the rest goes to the portal's error pages.
            if not is_htmx(request) or refused.status >= 500:
                raise
            error = refused.message
            issue = selectors.issue_get(actor=request.user, issue_id=issue_id)
        if is_htmx(request):
            return render(
                request,
                "issues/_triage_row.html",
                {
                    "issue": issue,
                    "error": error,
                    "done": error is None,
                    **_context(request),
                },
            )
        messages.success(request, f"“{issue.title}” updated.")
        return HttpResponseRedirect(form.next_url(reverse("portal:triage")))


class BulkView(PortalView):
    """`POST /issues/bulk/`: one action on the selected issues, each through the
    same service and rules as one at a time."""

    def post(self, request: HttpRequest) -> HttpResponse:
        """Apply; report changed and refused issues by title."""
        form = BulkForm(request.POST)
        back = form.next_url(reverse("portal:issue-list"))
        if not form.is_valid():
            problem = _problems(form)
            if is_htmx(request):
                return render(
                    request,
                    "issues/_bulk_result.html",
                    {"report": BulkReport(), "problem": problem},
                )
            messages.error(request, f"Nothing changed: {problem}")
            return HttpResponseRedirect(back)
        report = bulk.issues_change_many(
            actor=request.user, targets=form.targets, change=form.change()
        )
        if is_htmx(request):
            return render(
                request,
                "issues/_bulk_result.html",
                {
                    "report": report,
                    "layout": request.POST.get("layout", "list"),
                    **_context(request),
                },
            )
        _report_messages(request, report)
        return HttpResponseRedirect(back)


def _report_messages(request: HttpRequest, report: BulkReport) -> None:
    if report.changed:
        messages.success(request, f"Changed {len(report.changed)} issue(s).")
    if report.unchanged:
        messages.info(
            request, f"{len(report.unchanged)} issue(s) had nothing to change."
        )
    for refusal in report.refused:
        messages.error(request, f"Not changed: “{refusal.title}”: {refusal.reason}")


class SimilarIssuesView(PortalView):
    """`/issues/similar/?title=...`: issues sharing words with a title being
    written (an HTML fragment for the new-issue form)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Render the fragment (empty for a title without words)."""
        title = request.GET.get("title", "")[:200]
        found = triage.issue_similar(actor=request.user, title=title)
        return render(request, "issues/_similar.html", {"similar": found})


class SavedViewCreateView(PortalView):
    """`POST /views/`: save the list's query string under a name."""

    def post(self, request: HttpRequest) -> HttpResponse:
        """Save it and open it, or go back with the problem."""
        form = SavedViewForm(request.POST)
        if not form.is_valid():
            problem = _problems(form)
            messages.error(request, f"View not saved: {problem}")
            query = request.POST.get("query", "")
            return HttpResponseRedirect(f"{reverse('portal:issue-list')}?{query}")
        view = saved_views.saved_view_save(
            actor=request.user,  # type: ignore[arg-type]
            name=form.cleaned_data["name"],
            query=form.cleaned_data["query"],
            shared=form.cleaned_data["shared"],
        )
        messages.success(request, f"View “{view.name}” saved.")
        return HttpResponseRedirect(view.url)


class SavedViewDeleteView(PortalView):
    """`POST /views/<pk>/delete/`: delete one of one's own views."""

    def post(self, request: HttpRequest, view_id: int) -> HttpResponse:
        """Delete it and go back to the list."""
        saved_views.saved_view_delete(actor=request.user, view_id=view_id)  # type: ignore[arg-type]
        messages.success(request, "View deleted.")
        return HttpResponseRedirect(reverse("portal:issue-list"))
