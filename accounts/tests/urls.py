"""Small DRF views that exercise the default authentication and permissions."""

from typing import Any

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaffOrCompatService
from accounts.policy import require
from accounts.roles import Action
from accounts.services.compat import actor_for_request


def _field(request: Request, name: str) -> Any:
    return request.data.get(name) if isinstance(request.data, dict) else None


def _actor_id(request: Request) -> str:
    return actor_for_request(user=request.user, claimed_id=None).actor_id


class WhoAmI(APIView):
    """The project's defaults: Bearer key or session, active users only."""

    def get(self, request: Request) -> Response:
        return Response({"actor": _actor_id(request)})

    def post(self, request: Request) -> Response:
        return Response({"actor": _actor_id(request)}, status=201)


class CompatCreate(APIView):
    """An endpoint in the style of the issues API: the actor may be a named service."""

    permission_classes = (IsStaffOrCompatService,)

    def post(self, request: Request) -> Response:
        actor = actor_for_request(
            user=request.user, claimed_id=_field(request, "reporter_id")
        )
        require(actor, Action.CREATE)
        return Response({"actor": actor.actor_id, "role": actor.role}, status=201)


class DeleteGate(APIView):
    def delete(self, request: Request) -> Response:
        require(request.user, Action.DELETE)
        return Response(status=204)


class EditGate(APIView):
    def patch(self, request: Request) -> Response:
        require(request.user, Action.EDIT, owner_id=_field(request, "owner"))
        return Response({"ok": True})


class ManageGate(APIView):
    def get(self, request: Request) -> Response:
        require(request.user, Action.MANAGE)
        return Response({"ok": True})


urlpatterns = [
    path("whoami", WhoAmI.as_view()),
    path("compat", CompatCreate.as_view()),
    path("delete", DeleteGate.as_view()),
    path("edit", EditGate.as_view()),
    path("manage", ManageGate.as_view()),
]
