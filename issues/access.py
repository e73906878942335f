"""Who the caller is, and whether it may see an issue: shared by the services
(writes) and the selectors (reads)."""

from accounts.policy import Actor, user_can
from accounts.roles import Action
from issues.domain import PAGE_MAX, Issue
from issuetracker.errors import InvalidInput, NotFound


def actor_id(actor: Actor) -> str:
    """The id the store records for `actor` ("" for an anonymous caller)."""
    return str(getattr(actor, "actor_id", ""))


def check_limit(limit: int) -> int:
    """`limit` when it is a page size the store serves; InvalidInput otherwise."""
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput(
            f"limit is between 1 and {PAGE_MAX}.",
            errors={"limit": [f"Give 1 to {PAGE_MAX}."]},
        )
    return limit


def visible(actor: Actor, issue: Issue | None) -> Issue:
    """The issue if the caller may read it; 404 when absent or not theirs to see."""
    if issue is None or not user_can(actor, Action.READ, owner_id=issue.reporter_id):
        raise NotFound("No issue with this id.")
    return issue
