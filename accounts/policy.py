"""Who may do what on an issue, read from the role matrix in `accounts.roles`.

The business-level checks the services, the portal and the API share. No DRF
here: the services import this module, and DRF's permission classes in
`accounts.permissions` are built on it.

`user_can` and `require` answer for one issue (pass its `reporterId` as
`owner_id`). Role checks stay explicit in the services, because a plain ViewSet
has no `get_object`.
"""

from typing import Protocol

from accounts.models import User
from accounts.roles import OLD_CONTRACT, Action, allows
from issuetracker.errors import Forbidden, NotAuthenticated


class Actor(Protocol):
    """What the services need of a caller: the signed-in user, a service, or an
    anonymous visitor (`accounts.models.User` and Django's `AnonymousUser` both fit).

    Only an active `User` has a role and an actor id; the checks below look for
    one and refuse everything else.
    """

    @property
    def username(self) -> str:
        """The login name ("" when anonymous)."""
        ...

    @property
    def is_active(self) -> bool:
        """False for a deactivated account and for anonymous callers."""
        ...

    @property
    def is_authenticated(self) -> bool:
        """True for a signed-in user or a service with a key."""
        ...


def active_user(user: Actor | None) -> User | None:
    """The caller as an authenticated, active `User`; None for anyone else."""
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    return None


def rules_role(user: Actor | None) -> str:
    """The row of the role matrix that applies to `user`: its role; the old
    contract's for an anonymous caller in compatibility mode; "" (nothing
    allowed) for anonymous or inactive callers."""
    active = active_user(user)
    if active is None:
        return ""
    return OLD_CONTRACT if active.acts_under_old_contract else active.role


def user_can(
    user: Actor | None, action: Action, *, owner_id: str | None = None
) -> bool:
    """Whether `user` may do `action` on an issue reported by `owner_id`.

    Without `owner_id` the question is about an issue of someone else (or none),
    so an OWN grant does not count.
    """
    active = active_user(user)
    if active is None:
        return False
    own = owner_id is not None and owner_id == active.actor_id
    return allows(rules_role(active), action, own=own)


def require(user: Actor | None, action: Action, *, owner_id: str | None = None) -> None:
    """Raise NotAuthenticated for anonymous or inactive callers, Forbidden when the
    role does not allow `action` on this issue."""
    if active_user(user) is None:
        raise NotAuthenticated()
    if not user_can(user, action, owner_id=owner_id):
        raise Forbidden("Your role does not allow this.")
