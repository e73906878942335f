# mypy: disable-error-code="no-untyped-call"
"""The problem+json translator, through small DRF views and the URL handlers."""

import json
import logging
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.test import RequestFactory
from google.api_core import exceptions as google_exceptions
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from issuetracker import errors
from issuetracker.exception_handler import (
    PROBLEM_CONTENT_TYPE,
    handler404,
    handler500,
)


class EchoSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=5)
    tags = serializers.ListField(child=serializers.CharField(max_length=3))


def view_raising(exc: Any) -> Any:
    class Raising(APIView):
        authentication_classes = ()
        permission_classes = (AllowAny,)

        def get(self, request: Request) -> Response:
            raise exc

        def post(self, request: Request) -> Response:
            serializer = EchoSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            return Response(serializer.validated_data)

    return Raising.as_view()


def call(exc: Any, method: str = "get", **kwargs: Any) -> Any:
    factory = RequestFactory()
    request = getattr(factory, method)("/api/v1/thing", **kwargs)
    response = view_raising(exc)(request)
    if hasattr(response, "render"):
        response.render()
    return response


def problem(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = json.loads(response.content)
    assert body["status"] == response.status_code
    assert body["error"] == body["detail"]
    assert body["type"].endswith(body["code"])
    assert set(body) >= {"type", "title", "status", "detail", "code", "errors"}
    return body


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (errors.InvalidInput("bad"), 400, "invalid"),
        (errors.NotAuthenticated(), 401, "not_authenticated"),
        (errors.Forbidden("no"), 403, "forbidden"),
        (errors.NotFound("gone"), 404, "not_found"),
        (errors.Conflict("clash"), 409, "conflict"),
        (errors.PreconditionFailed("stale"), 412, "precondition_failed"),
        (errors.StoreUnavailable("down"), 503, "unavailable"),
        (drf.ParseError(), 400, "malformed"),
        (drf.NotAuthenticated(), 401, "not_authenticated"),
        (drf.AuthenticationFailed(), 401, "not_authenticated"),
        (drf.PermissionDenied(), 403, "forbidden"),
        (drf.NotFound(), 404, "not_found"),
        (drf.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (drf.UnsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
        (Http404(), 404, "not_found"),
        (DjangoPermissionDenied(), 403, "forbidden"),
        (google_exceptions.ServiceUnavailable("x"), 503, "unavailable"),
        (google_exceptions.DeadlineExceeded("x"), 503, "unavailable"),
        (google_exceptions.RetryError("x", cause=None), 503, "unavailable"),
    ],
)
def test_known_exceptions_become_problems(exc, status, code):
    response = call(exc)
    assert response.status_code == status
    assert problem(response)["code"] == code


def test_validation_errors_name_each_field_and_list_item():
    response = call(
        None,
        method="post",
        data={"title": "far too long", "tags": ["ok", "toolong"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = problem(response)
    assert set(body["errors"]) == {"title", "tags.1"}
    assert "title:" in body["error"]


def test_401_carries_www_authenticate():
    assert call(errors.NotAuthenticated())["WWW-Authenticate"] == "Bearer"


def test_throttled_and_unavailable_carry_retry_after():
    assert call(drf.Throttled(wait=7))["Retry-After"] == "7"
    assert call(drf.Throttled(wait=7)).status_code == 429
    assert call(google_exceptions.ServiceUnavailable("x"))["Retry-After"]
    assert call(errors.StoreUnavailable())["Retry-After"] == "5"


def test_unexpected_errors_are_logged_with_traceback_and_answer_500(caplog):
    with caplog.at_level(logging.ERROR, logger="issuetracker.exception_handler"):
        response = call(RuntimeError("boom"))
    assert response.status_code == 500
    body = problem(response)
    assert body["code"] == "server_error"
    assert "boom" not in body["detail"]
    assert caplog.records[0].exc_info is not None


def test_store_errors_are_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="issuetracker.exception_handler"):
        call(google_exceptions.DeadlineExceeded("slow"))
    assert "DeadlineExceeded" in caplog.text


def test_errors_are_json_even_when_the_browser_asks_for_html():
    response = call(errors.NotFound(), HTTP_ACCEPT="text/html")
    assert problem(response)["code"] == "not_found"


def test_handlers_answer_problem_json_under_api_only(rf):
    api_404 = handler404(rf.get("/api/nope"), Http404())
    assert problem(api_404)["status"] == 404
    api_500 = handler500(rf.get("/api/v1/issues"))
    assert problem(api_500)["status"] == 500
    page = handler404(rf.get("/nope"), Http404())
    assert page.status_code == 404
    assert "html" in page["Content-Type"]


@pytest.mark.django_db
def test_unknown_api_urls_answer_problem_json(client):
    for method in ("get", "post", "delete"):
        response = getattr(client, method)("/api/v1/no-such-thing")
        assert response.status_code == 404
        assert problem(response)["code"] == "not_found"


@pytest.mark.django_db
def test_wrong_method_on_an_api_view_is_405(client, firestore_db):
    response = client.post("/api/health")
    assert response.status_code == 405
    assert problem(response)["code"] == "method_not_allowed"
