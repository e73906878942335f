"""`/api/v1/notifications...` and `/api/v1/issues/{id}/watch`: the caller's own
notifications and watching, one service call each."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.request import Request
from rest_framework.response import Response

from issues import services as issue_services
from issues.api_base import ApiView
from issues.schema import ISSUE_ID, JSON, LINK, problems
from notifications import services
from notifications.serializers import (
    NotificationListQuery,
    NotificationOutput,
    NotificationPageOutput,
    ReadAllOutput,
    WatchOutput,
)

NOTIFICATION_ID = OpenApiParameter("notification_id", str, OpenApiParameter.PATH)


class NotificationViewSet(ApiView):
    """The caller's notifications: list, mark one or all read."""

    @extend_schema(
        operation_id="notifications_list",
        summary="List your notifications, newest first",
        parameters=[NotificationListQuery, LINK],
        responses={(200, JSON): NotificationPageOutput, **problems(400)},
    )
    def list(self, request: Request) -> Response:
        """`{"notifications": [...], "next": ...}`."""
        query = NotificationListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = services.notification_list(
            user=request.user,
            unread_only=query.validated_data["unread"],
            limit=query.validated_data["limit"],
            cursor=query.validated_data.get("cursor"),
        )
        return self.page(
            request,
            "notifications",
            NotificationOutput(page.items, many=True).data,
            page.next_cursor,
        )

    @extend_schema(
        operation_id="notifications_read",
        summary="Mark one of your notifications read",
        parameters=[NOTIFICATION_ID],
        request=None,
        responses={204: None, **problems(404)},
    )
    def read(self, request: Request, notification_id: str) -> Response:
        """204; 404 when it is not the caller's."""
        services.notification_read(user=request.user, notification_id=notification_id)
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="notifications_read_all",
        summary="Mark all your notifications read",
        request=None,
        responses={(200, JSON): ReadAllOutput, **problems()},
    )
    def read_all(self, request: Request) -> Response:
        """`{"marked": n}`."""
        marked = services.notifications_read_all(user=request.user)
        return Response(ReadAllOutput({"marked": marked}).data)


class WatchViewSet(ApiView):
    """Watch (POST) or stop watching (DELETE) an issue."""

    @extend_schema(
        operation_id="issues_watch",
        summary="Watch an issue",
        parameters=[ISSUE_ID],
        request=None,
        responses={(200, JSON): WatchOutput, **problems(403, 404)},
    )
    def create(self, request: Request, issue_id: str) -> Response:
        """`{"watching": true}`."""
        issue_services.issue_watch(actor=request.user, issue_id=issue_id, watching=True)
        return Response(WatchOutput({"watching": True}).data)

    @extend_schema(
        operation_id="issues_unwatch",
        summary="Stop watching an issue",
        parameters=[ISSUE_ID],
        request=None,
        responses={(200, JSON): WatchOutput, **problems(404)},
    )
    def destroy(self, request: Request, issue_id: str) -> Response:
        """`{"watching": false}`."""
        issue_services.issue_watch(
            actor=request.user, issue_id=issue_id, watching=False
        )
        return Response(WatchOutput({"watching": False}).data)
