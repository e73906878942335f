"""The e-mails: one notification, or a day's digest; text and HTML, a link to
each issue and a one-click unsubscribe (RFC 8058) that needs no sign-in."""

from collections.abc import Sequence

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from notifications.domain import Kind, Notification

SALT = "notifications.unsubscribe"
ALL_KINDS = "all"


def unsubscribe_token(user_id: str, kind: str) -> str:
    """A signed token naming a person and the kind (or "all") to switch off."""
    return signing.dumps({"u": user_id, "k": kind}, salt=SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[str, str] | None:
    """The person and kind in a token we signed; None when it is not ours."""
    try:
        data = signing.loads(token, salt=SALT)
        return str(data["u"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError):
        return None


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def issue_url(issue_id: str) -> str:
    """The issue's page in the portal, as a full URL."""
    return _absolute(reverse("portal:issue-detail", args=[issue_id]))


def _message(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, object],
    kind: str,
    user_id: str,
    message_id: str,
) -> EmailMultiAlternatives:
    unsubscribe = _absolute(
        reverse("notifications:unsubscribe", args=[unsubscribe_token(user_id, kind)])
    )
    context = {
        **context,
        "unsubscribe_url": unsubscribe,
        "settings_url": _absolute(reverse("notifications:settings")),
    }
    mail = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/email/{template}.txt", context),
        to=[to],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # The same id on a resend lets mail systems drop the copy.
            "Message-ID": f"<{message_id}@issuetracker.notifications>",
        },
    )
    mail.attach_alternative(
        render_to_string(f"notifications/email/{template}.html", context), "text/html"
    )
    return mail


def notification_email(*, to: str, item: Notification) -> EmailMultiAlternatives:
    """The immediate e-mail of one notification."""
    return _message(
        to=to,
        subject=f"[Issues] {item.message}",
        template="notification",
        context={"item": item, "url": issue_url(item.issue_id)},
        kind=str(item.type),
        user_id=item.user_id,
        message_id=item.id,
    )


def digest_email(
    *, to: str, user_id: str, day: str, items: Sequence[Notification]
) -> EmailMultiAlternatives:
    """One e-mail listing a day's notifications."""
    rows = [(item, issue_url(item.issue_id)) for item in items]
    return _message(
        to=to,
        subject=f"[Issues] {len(items)} notification{'s' if len(items) != 1 else ''}"
        f" ({day})",
        template="digest",
        context={"rows": rows, "day": day},
        kind=ALL_KINDS,
        user_id=user_id,
        message_id=f"digest-{user_id}-{day}",
    )


def kinds_named(kind: str) -> list[Kind]:
    """The kinds an unsubscribe token switches off."""
    return list(Kind) if kind == ALL_KINDS else [Kind(kind)]
