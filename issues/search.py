"""Search words: how titles, descriptions and queries become the words search
matches (Firestore has no full-text search; each issue stores its word list)."""

import re
import unicodedata
from typing import Final

from issuetracker.errors import InvalidInput

# Search: words of 2+ letters or digits, each cut to 40 characters; at most
# SEARCH_WORDS_MAX distinct words stored per issue, QUERY_WORDS_MAX per query.
SEARCH_WORD_MIN: Final = 2
SEARCH_WORD_MAX: Final = 40
SEARCH_WORDS_MAX: Final = 400
QUERY_WORDS_MAX: Final = 5

_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [
        word[:SEARCH_WORD_MAX]
        for word in _WORD.findall(plain)
        if len(word) >= SEARCH_WORD_MIN
    ]


def search_words(title: str, description: str) -> list[str]:
    """The word list stored on an issue for search: distinct, sorted, capped.

    Case and accents are folded (`Café` -> `cafe`), anything but letters and digits
    separates words (`order_id` -> `order`, `id`), one-character words are left out.
    Title words come first, so a long description never pushes them out of the cap.
    """
    words = dict.fromkeys(_words(title))
    for word in _words(description):
        if len(words) >= SEARCH_WORDS_MAX:
            break
        words.setdefault(word, None)
    return sorted(words)


def query_words(q: str) -> tuple[str, ...]:
    """The words of a search query, normalized as `search_words` does."""
    words = tuple(dict.fromkeys(_words(q)))
    if len(words) > QUERY_WORDS_MAX:
        raise InvalidInput(
            f"Search for at most {QUERY_WORDS_MAX} words at once.",
            errors={"q": [f"At most {QUERY_WORDS_MAX} words."]},
        )
    return words
