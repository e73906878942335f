"""`/issues/export.csv` and `/issues/export.json`: the filtered list, every
page, streamed (the same query string as the list)."""

from collections.abc import Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase

from issues import export
from issues.domain import PAGE_MAX, Issue
from issues.forms import IssueFilterForm
from issues.selectors import issues as selectors
from issues.views import PortalView, actor_id
from issuetracker.errors import InvalidInput

FORMATS = {
    "csv": ("text/csv; charset=utf-8", export.csv_lines),
    "json": ("application/json; charset=utf-8", export.json_chunks),
}


class IssueExportView(PortalView):
    """The list's issues as CSV or JSON, streamed page by page."""

    def get(self, request: HttpRequest, fmt: str) -> HttpResponseBase:
        """Stream the export, or 400 for invalid filters."""
        form = IssueFilterForm(request.GET)
        if not form.is_valid() or fmt not in FORMATS:
            raise InvalidInput("Fix the filters of the list before exporting.")
        filters = form.filters(me=actor_id(request))
        # The first page is read here, so a refusal or an outage is a page of
        # its own rather than a broken download.
        first = selectors.issue_list(
            actor=request.user, filters=filters, limit=PAGE_MAX
        )

        def issues() -> Iterator[Issue]:
            yield from first.items
            if first.next_cursor:
                yield from export.issues_all(
                    actor=request.user, filters=filters, cursor=first.next_cursor
                )

        content_type, writer = FORMATS[fmt]
        response = StreamingHttpResponse(writer(issues()), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="issues.{fmt}"'
        return response
