"""A real worker (`manage.py db_worker`, the database backend) killed in the
middle of delivery and started again: nothing lost, nothing doubled."""

import os
import signal
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import pytest
from django.test import override_settings

from issues import services
from issuetracker.testing import database_url, run_manage, start_manage
from notifications.services import unread_count
from notifications.store import NotificationStore

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
COMMENTS = 12
FAR = timedelta(hours=1)  # past any sender's lease


def inbox(user: Any) -> list[Any]:
    return (
        NotificationStore()
        .page(user_id=user.actor_id, unread_only=False, limit=100, cursor=None)
        .items
    )


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_loses_and_doubles_nothing(staff, make_issue, tmp_path):
    mail_dir = tmp_path / "mail"
    env = {
        "DATABASE_URL": database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    ada, bob = staff("ada"), staff("bob")
    issue = make_issue(ada)
    with override_settings(TASKS=DB_TASKS):
        for n in range(COMMENTS):
            # A mention: an immediate e-mail per comment too.
            services.comment_add(actor=bob, issue_id=issue.id, content=f"@ada {n}")
    assert inbox(ada) == []  # queued, not delivered in the request

    worker_args = (
        "db_worker",
        "--no-reload",
        "--no-startup-delay",
        "--interval",
        "0.1",
    )
    worker = start_manage(*worker_args, env=env)
    try:
        deadline = time.monotonic() + 60
        while len(inbox(ada)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(inbox(ada)) >= 3, (
            worker.stdout.read() if worker.poll() and worker.stdout else ""
        )
    finally:
        os.kill(worker.pid, signal.SIGKILL)  # mid-delivery, no clean-up
        worker.wait(10)

    # What the dead worker held is found by the sweep; a fresh worker finishes.
    # The emulator may hold the dead worker's transaction locks for a while, so
    # a delivery can fail once; the next sweep (each minute) hands it off again.
    # An e-mail the dead worker had claimed waits for its sender's lease to run
    # out (EMAIL_LEASE): a grace an hour in the future sweeps as it will then.
    # Until the emulator lets go of those locks (seen taking longer than five
    # rounds), within two minutes.
    settle = time.monotonic() + 120
    while True:
        sweep = run_manage("sweep_notifications", "--grace=-3600", env=env)
        assert sweep.returncode == 0, sweep.stderr
        finish = run_manage(
            "db_worker", "--no-reload", "--no-startup-delay", "--batch", env=env
        )
        assert finish.returncode == 0, finish.stderr
        settled = "Queued 0 event(s) and 0" in sweep.stdout
        if (len(inbox(ada)) == COMMENTS and settled) or time.monotonic() > settle:
            break
        time.sleep(2)

    items = inbox(ada)
    assert len(items) == COMMENTS
    assert len({item.id for item in items}) == COMMENTS
    assert unread_count(user=ada) == COMMENTS
    sent = [
        message_from_bytes(part.encode())
        for path in mail_dir.iterdir()
        for part in path.read_text().split("-" * 79)
        if part.strip()
    ]
    subjects = [m["Subject"] for m in sent]
    # Every notification e-mailed; a copy only for the one e-mail the worker
    # may have been sending when it died (sent, not yet recorded).
    assert len({m["Message-ID"] for m in sent}) == COMMENTS
    assert COMMENTS <= len(sent) <= COMMENTS + 1, subjects
    assert NotificationStore().due_emails(before=datetime.now(UTC) + FAR) == []
