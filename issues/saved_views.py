"""Saved views of the issue list: a person's named query strings (ORM)."""

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.policy import Actor, require
from accounts.roles import Action
from issues.models import SavedView
from issuetracker.errors import NotFound

SAVED_VIEWS_MAX = 50


def saved_views_for(*, actor: Actor) -> QuerySet[SavedView]:
    """The views `actor` sees: its own and those shared, by name."""
    if not getattr(actor, "is_authenticated", False):
        return SavedView.objects.none()
    return SavedView.objects.filter(Q(owner=actor) | Q(shared=True)).select_related(
        "owner"
    )[:SAVED_VIEWS_MAX]


def saved_view_save(*, actor: User, name: str, query: str, shared: bool) -> SavedView:
    """Save the query under `name` for `actor` (the same name replaces it)."""
    require(actor, Action.READ)
    view, _ = SavedView.objects.update_or_create(
        owner=actor, name=name, defaults={"query": query, "shared": shared}
    )
    return view


def saved_view_delete(*, actor: User, view_id: int) -> None:
    """Delete one of `actor`'s own views (another's, shared or not: NotFound)."""
    deleted, _ = SavedView.objects.filter(owner=actor, pk=view_id).delete()
    if not deleted:
        raise NotFound("No saved view of yours with this id.")
