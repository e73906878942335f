"""The old app's `users` collection in Firestore, read page by page."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions as google_exceptions
from google.cloud.firestore_v1.field_path import FieldPath

from issuetracker.errors import StoreUnavailable
from issuetracker.firestore import call_options, get_client

USERS = "users"
PAGE_SIZE = 300


@dataclass(frozen=True)
class LegacyUser:
    """One document of the old app's `users` collection."""

    doc_id: str
    email: str
    role: str
    display_name: str
    photo_url: str


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def legacy_users_iter(*, page_size: int = PAGE_SIZE) -> Iterator[LegacyUser]:
    """Every document of `users`, in document-id order, a page per call."""
    query = (
        get_client()
        .collection(USERS)
        .order_by(FieldPath.document_id())
        .limit(page_size)
    )
    last: Any = None  # the previous page's last snapshot
    while True:
        page = query.start_after(last) if last is not None else query
        try:
            snapshots = list(page.get(**call_options()))
        except google_exceptions.GoogleAPIError as error:
            raise StoreUnavailable(f"Firestore did not answer: {error}") from error
        for snapshot in snapshots:
            data = snapshot.to_dict() or {}
            yield LegacyUser(
                doc_id=snapshot.id,
                email=_text(data, "email"),
                role=_text(data, "role"),
                display_name=_text(data, "displayName"),
                photo_url=_text(data, "photoURL"),
            )
        if len(snapshots) < page_size:
            return
        last = snapshots[-1]
