"""Input and output of the notifications API (camelCase out, like the others)."""

from typing import Any

from rest_framework import serializers

from issues.serializers import PageQuery


class NotificationListQuery(PageQuery):
    """`?unread=true`, `limit`, `cursor`."""

    unread = serializers.BooleanField(required=False, default=False)


class NotificationOutput(serializers.Serializer[Any]):
    """A notification with the old app's keys."""

    id = serializers.CharField()
    userId = serializers.CharField(source="user_id")
    type = serializers.CharField()
    issueId = serializers.CharField(source="issue_id")
    message = serializers.CharField()
    read = serializers.BooleanField()
    createdAt = serializers.DateTimeField(source="created_at", allow_null=True)
    actorId = serializers.CharField(source="actor_id")
    issueTitle = serializers.CharField(source="issue_title")


class NotificationPageOutput(serializers.Serializer[Any]):
    """`{"notifications": [...], "next": url|null}`."""

    notifications = NotificationOutput(many=True)
    next = serializers.URLField(allow_null=True)


class ReadAllOutput(serializers.Serializer[Any]):
    """How many notifications were marked read."""

    marked = serializers.IntegerField()


class WatchOutput(serializers.Serializer[Any]):
    """Whether the caller now watches the issue."""

    watching = serializers.BooleanField()
