"""E-mail: immediate and digest, through locmem and a real SMTP server."""

from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from issues import services
from issues.domain import IssueChanges
from issuetracker.emulator import free_port
from notifications import services as notify
from notifications.domain import EmailMode, Kind
from notifications.emails import unsubscribe_token
from notifications.models import NotificationSettings
from notifications.store import NotificationStore

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = LOCMEM
    settings.SITE_URL = "https://issues.example"


def assign(actor: Any, issue: Any, to: Any) -> None:
    services.issue_update(
        actor=actor, issue_id=issue.id, changes=IssueChanges(assignee_id=to.actor_id)
    )


def test_assignment_sends_one_email_with_unsubscribe_headers(staff, make_issue):
    ada, bob = staff("ada"), staff("bob")
    issue = make_issue(ada, title="Margin call")
    assign(ada, issue, bob)
    [sent] = mail.outbox
    assert sent.to == [bob.email]
    assert "Ada assigned you to “Margin call”" in sent.subject
    assert f"https://issues.example/issues/{issue.id}/" in sent.body
    html, kind = getattr(sent, "alternatives", [])[0]
    assert kind == "text/html"
    assert "Open the issue" in html
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent.extra_headers["List-Unsubscribe"].startswith(
        "<https://issues.example/notifications/unsubscribe/"
    )
    [item] = (
        NotificationStore()
        .page(user_id=bob.actor_id, unread_only=False, limit=5, cursor=None)
        .items
    )
    assert notify.email_send(notification_id=item.id) is False  # never twice
    assert len(mail.outbox) == 1


def test_comments_wait_for_the_digest_which_is_sent_once(staff, make_issue):
    ada, bob = staff("ada"), staff("bob")
    issue = make_issue(ada)
    services.comment_add(actor=bob, issue_id=issue.id, content="one")
    services.comment_add(actor=bob, issue_id=issue.id, content="two")
    assert mail.outbox == []
    assert notify.digests_enqueue(day="2026-12-01") >= 1
    assert len(mail.outbox) == 1
    assert "2 notifications" in mail.outbox[0].subject
    notify.digests_enqueue(day="2026-12-01")
    assert notify.digest_send(user_id=ada.actor_id, day="2026-12-01") is False
    assert len(mail.outbox) == 1


def test_off_sends_nothing_but_keeps_the_in_app_notification(staff, make_issue, inbox):
    ada, bob = staff("ada"), staff("bob")
    notify.settings_update(
        user=bob, email={Kind.ASSIGNED: EmailMode.OFF}, critical_issues=False
    )
    assign(ada, make_issue(ada), bob)
    assert mail.outbox == []
    assert len(inbox(bob)) == 1


def test_one_click_unsubscribe_needs_no_sign_in(client, staff):
    bob = staff("bob")
    token = unsubscribe_token(bob.actor_id, "assigned")
    url = f"/notifications/unsubscribe/{token}/"
    assert client.get(url).status_code == 200  # a page, nothing changed yet
    assert NotificationSettings.objects.filter(user=bob).count() == 0
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert NotificationSettings.objects.get(user=bob).email_assigned == "off"
    assert client.post("/notifications/unsubscribe/forged/").status_code == 404


def test_smtp_delivery_through_a_real_server(settings, staff, make_issue):
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = False
        ada, bob = staff("ada"), staff("bob")
        assign(ada, make_issue(ada), bob)
    finally:
        controller.stop()
    [envelope] = received
    assert envelope.rcpt_tos == [bob.email]
    text = envelope.content.decode()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in text
    assert "multipart/alternative" in text
