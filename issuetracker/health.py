"""`GET /api/health`: whether Firestore and the relational database answer."""

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from issuetracker.errors import RETRY_AFTER_SECONDS
from issuetracker.firestore import get_client

logger = logging.getLogger(__name__)

# Both checks run side by side and answer within this budget, inside a 3 s probe.
CHECK_SECONDS = 2.0
HEALTH_COLLECTION = "_health"


def firestore_answers() -> bool:
    """One cheap read with a hard deadline and no retry."""
    get_client().collection(HEALTH_COLLECTION).limit(1).get(
        timeout=CHECK_SECONDS, retry=None
    )
    return True


def database_answers() -> bool:
    """Run `SELECT 1` on the calling thread's connection, then close it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    finally:
        connection.close()


# Shared threads: a hung check occupies a thread, never the request past its budget.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")


def _result(name: str, future: "Future[bool]", deadline: float) -> bool:
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except Exception as error:  # noqa: BLE001 - any failure of a dependency is "down"
        logger.warning(
            "Health check: %s does not answer (%s)", name, type(error).__name__
        )
        return False


@method_decorator(never_cache, name="dispatch")
class HealthView(APIView):
    """200 when both stores answer; 503 naming the one that failed. No auth."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    renderer_classes = (JSONRenderer,)
    throttle_classes = ()

    @extend_schema(
        operation_id="health",
        responses={
            (status, "application/json"): inline_serializer(
                name=f"Health{status}",
                fields={
                    "status": serializers.ChoiceField(["healthy", "unhealthy"]),
                    "firestore": serializers.BooleanField(),
                    "database": serializers.BooleanField(),
                    "firebase_available": serializers.BooleanField(),
                },
            )
            for status in (200, 503)
        },
    )
    def get(self, request: Request) -> Response:
        """Run both checks side by side within CHECK_SECONDS."""
        deadline = time.monotonic() + CHECK_SECONDS + 0.5
        checks: dict[str, Callable[[], bool]] = {
            "firestore": firestore_answers,
            "database": database_answers,
        }
        futures = {name: _pool.submit(check) for name, check in checks.items()}
        results = {name: _result(name, f, deadline) for name, f in futures.items()}
        healthy = all(results.values())
        body = {
            "status": "healthy" if healthy else "unhealthy",
            **results,
            "firebase_available": results["firestore"],
        }
        if healthy:
            return Response(body)
        return Response(
            body, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
