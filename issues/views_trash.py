"""The portal's trash page, for admins: deleted issues, most recently deleted
first, in cursor pages, each with a button to restore it.

Thin views over the API's own functions (`selectors.trash.trash_list`,
`upkeep.issue_restore`), which refuse other roles (the 403 page). A restore is a
POST through `PortalView.dispatch`, so it counts against the person's
PORTAL_WRITE_RATE like every portal write, and is audited with the client's
address as the API's is.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from accounts.services.audit import request_source
from issues import upkeep
from issues.domain import PAGE_DEFAULT, TrashedIssue
from issues.selectors import trash as selectors
from issues.views import PortalView, issue_url
from issuetracker.errors import Conflict, NotFound

DAY = timedelta(days=1)


@dataclass(frozen=True)
class TrashRow:
    """A trashed issue as the page shows it: the entry and its days left."""

    entry: TrashedIssue
    days_left: int


def trash_row(entry: TrashedIssue, *, now: datetime) -> TrashRow:
    """The entry with the whole days (rounded up) until a purge may remove it."""
    purge_at = entry.deleted_at + timedelta(days=upkeep.TRASH_DAYS)
    return TrashRow(entry, max(0, math.ceil((purge_at - now) / DAY)))


class TrashView(PortalView):
    """`/trash/`: one page of the trash (admins only)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Render one page; `?cursor=` is the next page's."""
        cursor = request.GET.get("cursor") or None
        page = selectors.trash_list(
            actor=request.user, limit=PAGE_DEFAULT, cursor=cursor
        )
        now = datetime.now(UTC)
        return render(
            request,
            "issues/trash.html",
            {
                "page": page,
                "rows": [trash_row(entry, now=now) for entry in page.items],
                "is_first_page": cursor is None,
                "trash_days": upkeep.TRASH_DAYS,
            },
        )


class TrashRestoreView(PortalView):
    """`POST /trash/<id>/restore/`: put the issue back; back to the trash page
    with a message saying what happened."""

    def post(self, request: HttpRequest, issue_id: str) -> HttpResponse:
        """Restore the issue, or say why it cannot be."""
        try:
            issue = upkeep.issue_restore(
                actor=request.user,
                issue_id=issue_id,
                source=request_source(request.META),
            )
        except (Conflict, NotFound) as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                format_html(
                    'Restored <a href="{}">{}</a>.', issue_url(issue), issue.title
                ),
            )
        return HttpResponseRedirect(reverse("portal:trash"))
