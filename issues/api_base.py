"""What every view of the REST API shares (`ApiView`): JSON in and out, who may
call, who the caller is (compatibility mode included), and pages with `next`.
"""

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from rest_framework import exceptions, serializers
from rest_framework.parsers import BaseParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSet

from accounts.permissions import IsStaffOrCompatService, IsStaffOrService
from accounts.services.compat import actor_for_request, old_contract_assignee
from issues.domain import NewIssue, Page
from issues.schema import PageAutoSchema
from issues.selectors import issues as selectors
from issues.serializers import PageQuery
from issuetracker.parsers import LimitedJSONParser


class ApiView(ViewSet):
    """JSON in (1 MiB at most), JSON out; the browsable API for signed-in staff."""

    schema = PageAutoSchema()

    parser_classes: list[type[BaseParser]] = [LimitedJSONParser]
    renderer_classes: list[type[BaseRenderer]] = [JSONRenderer, BrowsableAPIRenderer]
    permission_classes: list[type[BasePermission]] = [IsStaffOrService]
    # Anonymous callers allowed (compatibility mode) for these actions.
    compat_actions: frozenset[str] = frozenset()

    def get_permissions(self) -> list[Any]:
        """Compatibility mode admits anonymous callers to the old app's actions."""
        if self.action in self.compat_actions:
            return [IsStaffOrCompatService()]
        return list(super().get_permissions())

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """A method this endpoint lacks is 405 before anything else: whoever
        calls, signed in or not, learns the method is wrong, not that they must
        authenticate for it."""
        if not hasattr(self, str(request.method).lower()):
            raise exceptions.MethodNotAllowed(str(request.method))
        super().initial(request, *args, **kwargs)

    def actor(
        self,
        request: Request,
        claimed_id: str | None = None,
        *,
        issue_id: str | None = None,
        field: str = "reporter_id",
    ) -> Any:
        """The caller, or in compatibility mode the service it names.

        Only writes (rate-limited) create the service's user. An anonymous write
        to an existing issue (`issue_id`) that names no one acts as the issue's
        reporter, as the old app did. `field` is the body's key for `claimed_id`,
        named in a 400 for a malformed id.
        """
        claimed = claimed_id or None
        if claimed is None:
            claimed = request.headers.get("X-User-Id") or None
            field = "X-User-Id"
        write = request.method not in SAFE_METHODS
        if claimed is None and issue_id is not None and write:
            claimed = self._anonymous_reporter_of(request, issue_id)
            field = "reporter_id"
        return actor_for_request(
            user=request.user, claimed_id=claimed, create=write, field=field
        )

    def reported(
        self, request: Request, validated: Mapping[str, Any]
    ) -> tuple[Any, NewIssue]:
        """The reporter and the report of a validated create body
        (`IssueCreateInput`); under the old contract the assignee is mapped as
        the old app named people."""
        actor = self.actor(request, validated.get("reporter_id"))
        report = NewIssue.from_data(validated)
        if actor.acts_under_old_contract and report.assignee_id:
            assignee = old_contract_assignee(assignee_id=report.assignee_id)
            report = replace(report, assignee_id=assignee)
        return actor, report

    def _anonymous_reporter_of(self, request: Request, issue_id: str) -> str | None:
        """For an anonymous caller, the reporter of the issue (read as one)."""
        if request.user and request.user.is_authenticated:
            return None
        reader = actor_for_request(user=request.user, claimed_id=None, create=False)
        return selectors.issue_get(actor=reader, issue_id=issue_id).reporter_id

    def page(
        self, request: Request, key: str, items: Any, cursor: str | None
    ) -> Response:
        """`{key: [...], "next": url}` with a `Link` header when there is more."""
        next_url = None
        headers = {}
        if cursor:
            params = request.query_params.copy()
            params["cursor"] = cursor
            next_url = request.build_absolute_uri(
                f"{request.path}?{params.urlencode()}"
            )
            headers["Link"] = f'<{next_url}>; rel="next"'
        return Response({key: items, "next": next_url}, headers=headers)

    def issue_page(
        self,
        request: Request,
        issue_id: str,
        list_items: Callable[..., Page[Any]],
        output: type[serializers.Serializer[Any]],
        key: str,
    ) -> Response:
        """A page of an issue's comments or history (`limit`, `cursor`)."""
        query = PageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = list_items(
            actor=self.actor(request),
            issue_id=issue_id,
            limit=query.validated_data["limit"],
            cursor=query.validated_data.get("cursor"),
        )
        return self.page(
            request, key, output(page.items, many=True).data, page.next_cursor
        )
