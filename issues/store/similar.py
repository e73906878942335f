"""The similar-issue query of the new-issue form, beside the issue store.

Issues sharing a word with a title being written: one `array-contains-any`
query on the search words every issue stores (`searchWords`), which Firestore's
single-field index serves; the caller ranks what it gets.
"""

from collections.abc import Sequence
from typing import Protocol

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from issues.domain import Issue
from issues.store.documents import ISSUES, SEARCH_WORDS, read_issue_or_skip
from issuetracker.firestore import call_options, get_client, store_errors

# Firestore's `array-contains-any` takes at most 30 values.
ANY_MAX = 30


class SimilarStore(Protocol):
    """Issues that share words with a text."""

    def sharing_words(self, *, words: Sequence[str], limit: int) -> list[Issue]:
        """At most `limit` issues whose search words include one of `words`."""


class FirestoreSimilarStore:
    """`SimilarStore` over the `issues` collection."""

    def __init__(self, client: firestore.Client | None = None) -> None:
        self.issues = (client or get_client()).collection(ISSUES)

    def sharing_words(self, *, words: Sequence[str], limit: int) -> list[Issue]:
        """One query; unreadable documents are skipped (and logged)."""
        query = self.issues.where(
            filter=FieldFilter(
                SEARCH_WORDS, "array_contains_any", list(words)[:ANY_MAX]
            )
        ).limit(limit)
        with store_errors("looking for similar issues"):
            rows = list(query.stream(**call_options()))
        return [issue for row in rows if (issue := read_issue_or_skip(row))]


def get_similar_store() -> SimilarStore:
    """The similar-issue store the selectors use."""
    return FirestoreSimilarStore()
