"""Who may do what, for the API and the portal alike, read from `accounts.roles`.

`user_can` and `require` answer for one issue (pass its `reporterId` as
`owner_id`); the DRF classes admit callers to whole endpoints. Role checks stay
explicit in the services, because a plain ViewSet has no `get_object`.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import User
from accounts.roles import Action, Role, allows
from issuetracker.errors import Forbidden, NotAuthenticated

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView

AnyUser = AbstractBaseUser | AnonymousUser


def _active_user(user: AnyUser | None) -> User | None:
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    return None


def user_can(
    user: AnyUser | None, action: Action, *, owner_id: str | None = None
) -> bool:
    """Whether `user` may do `action` on an issue reported by `owner_id`.

    Without `owner_id` the question is about an issue of someone else (or none),
    so an OWN grant does not count.
    """
    active = _active_user(user)
    if active is None:
        return False
    own = owner_id is not None and owner_id == active.actor_id
    return allows(active.role, action, own=own)


def require(
    user: AnyUser | None, action: Action, *, owner_id: str | None = None
) -> None:
    """Raise NotAuthenticated for anonymous or inactive callers, Forbidden when the
    role does not allow `action` on this issue."""
    if _active_user(user) is None:
        raise NotAuthenticated()
    if not user_can(user, action, owner_id=owner_id):
        raise Forbidden("Your role does not allow this.")


class IsStaffOrService(BasePermission):
    """Any authenticated, active user: a staff member or a service. The default."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        """True for an active user whose role is one of Role."""
        active = _active_user(request.user)
        return active is not None and active.role in set(Role)


class IsStaffOrCompatService(IsStaffOrService):
    """As IsStaffOrService, and anonymous callers while ALLOW_ANONYMOUS_SERVICES is
    on; the view then names the actor with `services.actor_for_request`."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        """True for active users, and for anonymous ones in compatibility mode."""
        if not request.user or not request.user.is_authenticated:
            return bool(settings.ALLOW_ANONYMOUS_SERVICES)
        return super().has_permission(request, view)
