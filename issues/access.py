"""Who the caller is, whether it may see an issue and what it may change there:
shared by the services (writes), the selectors (reads) and the portal's forms."""

from accounts.policy import Actor, rules_role, user_can
from accounts.roles import Action
from issues import rules
from issues.domain import PAGE_MAX, Issue, Status
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


def owns(actor: Actor, issue: Issue) -> bool:
    """Whether `actor` reported `issue` (the role table's "own" issues)."""
    return issue.reporter_id == actor_id(actor)


def status_moves(*, actor: Actor, issue: Issue) -> list[Status]:
    """The statuses `actor` may move `issue` to now (for the portal's form)."""
    return rules.status_moves(rules_role(actor), issue, own=owns(actor, issue))


def editable_fields(*, actor: Actor, issue: Issue) -> frozenset[str]:
    """The fields (domain names) `actor` may change on `issue`, status aside."""
    return rules.editable_fields(rules_role(actor), issue, own=owns(actor, issue))
