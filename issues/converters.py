"""The `<issue_id:...>` path converter, shared by the API's and the portal's URLs.

It accepts what real issue ids look like: Firestore's auto-ids (20 letters and
digits, the old Flask app's and ours) and other ids made of letters, digits, `_`
and `-`, up to 128 characters. Anything else (`.`, `..`, `__x__`, which Firestore
rejects with InvalidArgument) matches no URL, so it is a 404, not a 500.
`IssuesConfig.ready` registers it as `issue_id`.
"""

import re

# Firestore reserves document ids of the form `__.*__`.
_RESERVED = re.compile(r"__.*__")


def is_issue_id(value: str) -> bool:
    """Whether `value` can be an issue id (what the converter accepts)."""
    return bool(
        re.fullmatch(IssueIdConverter.regex, value) and not _RESERVED.fullmatch(value)
    )


class IssueIdConverter:
    """An issue id in a URL path: `[A-Za-z0-9_-]{1,128}`, not `__.*__`."""

    regex = r"[A-Za-z0-9_-]{1,128}"

    def to_python(self, value: str) -> str:
        if _RESERVED.fullmatch(value):
            raise ValueError(value)  # Django reads this as "no match": a 404
        return value

    def to_url(self, value: str) -> str:
        return self.to_python(value)
