"""DRF permission classes: which callers an endpoint admits, built on
`accounts.policy`.

The per-issue checks (`user_can`, `require`) live in `accounts.policy`, which
the services import without pulling in DRF.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.policy import active_user
from accounts.roles import Role

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView


class IsStaffOrService(BasePermission):
    """Any authenticated, active user: a staff member or a service. The default."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        """True for an active user whose role is one of Role."""
        active = active_user(request.user)
        return active is not None and active.role in set(Role)


class IsStaffOrCompatService(IsStaffOrService):
    """As IsStaffOrService, and anonymous callers while ALLOW_ANONYMOUS_SERVICES is
    on; the view then names the actor with `compat.actor_for_request`."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        """True for active users, and for anonymous ones in compatibility mode."""
        if not request.user or not request.user.is_authenticated:
            return bool(settings.ALLOW_ANONYMOUS_SERVICES)
        return super().has_permission(request, view)
