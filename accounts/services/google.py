"""Google sign-in: who may log in, and the staff user a login attaches to."""

from django.db.models import Q

from accounts.models import User
from accounts.roles import Role
from accounts.services.domains import email_is_allowed
from issuetracker.errors import Forbidden


class LoginRefused(Forbidden):
    """A Google account that may not sign in here."""

    code, title = "login_refused", "Sign-in refused"


def google_login_check(*, email: str | None, verified: bool) -> str:
    """The lower-cased e-mail of an admissible Google login; LoginRefused else.

    Admissible: an address Google marks verified whose domain, lower-cased, is one
    of ALLOWED_EMAIL_DOMAINS exactly (no subdomains, no suffix tricks).
    """
    if not email:
        raise LoginRefused("Google did not share an e-mail address.")
    if not verified:
        raise LoginRefused("Google has not verified this e-mail address.")
    if not email_is_allowed(email):
        raise LoginRefused("Only accounts on the company's domain may sign in.")
    return email.strip().lower()


def staff_user_for_email(*, email: str) -> User | None:
    """The existing non-service user a first Google login should attach to.

    Users added before their first login (by `assign_role --create` or the
    Firestore import) are named by their e-mail.
    """
    return (
        User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email))
        .exclude(role=Role.SERVICE)
        .order_by("pk")
        .first()
    )


def staff_profile_refresh(*, user: User, display_name: str, avatar_url: str) -> None:
    """Keep the name and picture Google reports, when they changed."""
    changed = []
    if display_name and user.display_name != display_name:
        user.display_name = display_name[:150]
        changed.append("display_name")
    if avatar_url and user.avatar_url != avatar_url:
        user.avatar_url = avatar_url[:500]
        changed.append("avatar_url")
    if changed:
        user.save(update_fields=changed)
