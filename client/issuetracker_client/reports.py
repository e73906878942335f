"""Turn what a service reports into a body the tracker's `POST /api/v1/issues` accepts.

Everything is cut to the API's limits and cleaned of what it would refuse (NUL
characters, blank strings, lone surrogates), because a report refused with 400
is lost: a service cannot fix its bug report after the fact.
"""

import hashlib
import os
import platform
import re
import secrets
import socket
import traceback
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any

# The tracker's limits (issues/domain.py); a longer value is refused with 400.
TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
TAG_MAX = 50
TAGS_MAX = 20
FINGERPRINT_MAX = 200
COMMENT_MAX = 5_000
ACTOR_ID_MAX = 100  # reporter_id, assignee_id, author_id
COMPONENT_MAX = 100
ISSUE_ID_MAX = 128

ISSUE_TYPES = ("bug", "feature", "task", "enhancement")
PRIORITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "in-progress", "resolved", "closed")
RESOLUTIONS = ("fixed", "duplicate", "wont-fix", "cannot-reproduce")

_ELLIPSIS = "…"
_UUID = re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
_NUMBER = re.compile(r"\d+")
_ISSUE_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{ISSUE_ID_MAX}}}")
_RESERVED_ID = re.compile(r"__.*__")  # Firestore keeps these document ids


class BadArgument(ValueError):
    """A value the tracker would refuse and that cannot be fitted: the call is
    dropped. The message names the argument, never its value."""


def _text(value: object) -> str:
    """`str(value)` that survives JSON and the tracker's checks."""
    text = value if isinstance(value, str) else str(value)
    # Lone surrogates (from surrogateescape'd file names) cannot be stored.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _one_line(value: object) -> str:
    return " ".join(_text(value).split())


def _cut(text: str, limit: int) -> str:
    """`text` at most `limit` characters, an ellipsis marking a cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(_ELLIPSIS)].rstrip() + _ELLIPSIS


def _cut_middle(text: str, limit: int) -> str:
    """Keep the start and, longer, the end: a traceback's end names the error."""
    if len(text) <= limit:
        return text
    marker = f"\n[... cut to fit: {len(text):,} characters in all ...]\n"
    budget = max(0, limit - len(marker))
    head = budget // 3
    tail = budget - head
    return text[:head] + marker + (text[-tail:] if tail else "")


def title_of(value: object, *, fallback: str = "(no title)") -> str:
    """One line of 1-200 characters."""
    return _cut(_one_line(value), TITLE_MAX) or fallback


def description_of(value: object, *, fallback: str = "(no description)") -> str:
    """1-10,000 characters; a longer text keeps its start and its end."""
    return _cut_middle(_text(value).strip(), DESCRIPTION_MAX) or fallback


def tags_of(tags: Iterable[object]) -> list[str]:
    """At most 20 distinct one-line tags of 1-50 characters, in the order given."""
    if isinstance(tags, str):  # one tag given as a string, not its letters
        tags = (tags,)
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = _cut(_one_line(tag), TAG_MAX)
        if cleaned:
            seen.setdefault(cleaned, None)
        if len(seen) == TAGS_MAX:
            break
    return list(seen)


def choice_of(value: object, allowed: tuple[str, ...], default: str) -> str | None:
    """`value` as one of `allowed` (case ignored), or None when it is none of them."""
    text = _one_line(getattr(value, "value", value)).lower()
    if not text:
        return default
    return text if text in allowed else None


def fingerprint_of(value: object) -> str | None:
    """A caller's fingerprint as the tracker takes it (1-200 characters)."""
    if value is None:
        return None
    text = _one_line(value)
    if len(text) > FINGERPRINT_MAX:  # keep it distinct rather than cut it
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text or None


def new_issue_id() -> str:
    """A fresh issue id: 24 characters of `[A-Za-z0-9_-]` (144 random bits)."""
    while True:
        issue_id = secrets.token_urlsafe(18)  # base64url of 18 bytes: no padding
        if not _RESERVED_ID.fullmatch(issue_id):
            return issue_id


def is_issue_id(value: object) -> bool:
    """True for a string the tracker takes as an issue id in a URL."""
    return (
        isinstance(value, str)
        and _ISSUE_ID.fullmatch(value) is not None
        and _RESERVED_ID.fullmatch(value) is None
    )


def issue_id_of(value: object) -> str:
    """`value` as an issue id (surrounding spaces ignored), else BadArgument."""
    text = value.strip() if isinstance(value, str) else value
    if not is_issue_id(text):
        raise BadArgument(
            f"issue_id must be 1-{ISSUE_ID_MAX} characters of A-Z a-z 0-9 _ -"
        )
    return str(text)


def actor_id_of(value: object, name: str) -> str | None:
    """An actor id of 1-100 characters on one line; None for None or blank."""
    if value is None:
        return None
    text = _one_line(value)
    if len(text) > ACTOR_ID_MAX:  # cut, it would name someone else
        raise BadArgument(f"{name} must be at most {ACTOR_ID_MAX} characters")
    return text or None


def status_of(value: object) -> str:
    """One of STATUSES (case, `_` and spaces forgiven), else BadArgument."""
    text = _one_line(getattr(value, "value", value)).lower()
    text = text.replace("_", "-").replace(" ", "-")
    if text not in STATUSES:
        raise BadArgument(f"status must be one of {', '.join(STATUSES)}")
    return text


def resolution_of(value: object) -> str | None:
    """None, or one of RESOLUTIONS (case, `_` and spaces forgiven), else
    BadArgument."""
    if value is None:
        return None
    text = _one_line(getattr(value, "value", value)).lower()
    text = text.replace("_", "-").replace(" ", "-").replace("wontfix", "wont-fix")
    if text not in RESOLUTIONS:
        raise BadArgument(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    return text


def comment_of(value: object) -> str:
    """1-5,000 characters (a longer text keeps its start and end); blank is refused."""
    text = _cut_middle(_text(value).strip(), COMMENT_MAX)
    if not text:
        raise BadArgument("content is blank")
    return text


def line_of(value: object, limit: int) -> str | None:
    """`value` as one line cut to `limit` characters; None for None or blank."""
    if value is None:
        return None
    return _cut(_one_line(value), limit) or None


def issue_body(
    *,
    title: object,
    description: object,
    issue_type: str,
    priority: str,
    tags: Iterable[object],
    fingerprint: object,
    reporter_id: str | None,
) -> dict[str, Any]:
    """The JSON object of `POST /api/v1/issues`."""
    body: dict[str, Any] = {
        "title": title_of(title),
        "description": description_of(description),
        "type": issue_type,
        "priority": priority,
        "tags": tags_of(tags),
    }
    cleaned = fingerprint_of(fingerprint)
    if cleaned is not None:
        body["fingerprint"] = cleaned
    if reporter_id is not None:  # compatibility mode: anonymous, named by body
        body["reporter_id"] = reporter_id
    return body


# Exceptions


def _frames(tb: TracebackType | None) -> Iterator[tuple[str, str]]:
    """(module or file name, function qualname) of each frame, outermost first."""
    while tb is not None:
        frame = tb.tb_frame
        module = frame.f_globals.get("__name__")
        if not isinstance(module, str) or not module:
            module = os.path.basename(frame.f_code.co_filename)
        yield module, frame.f_code.co_qualname
        tb = tb.tb_next


def type_name(exc: BaseException) -> str:
    """`ValueError` for built-ins, `package.module.Error` otherwise."""
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def exception_message(exc: BaseException) -> str:
    """`str(exc)`, or a placeholder when the exception cannot print itself."""
    try:
        return _text(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not lose the report
        return f"<unprintable {type(exc).__name__}>"


def exception_fingerprint(exc: BaseException) -> str:
    """A stable id of "this error at this place in the code".

    The hash of the exception's type and each frame's module and function, not
    line numbers (an unrelated edit moves them) nor the message (it often holds
    ids or amounts). A frame seen twice counts once, so the depth of a recursion
    does not change it.
    """
    parts = dict.fromkeys(
        f"{module}:{name}" for module, name in _frames(exc.__traceback__)
    )
    text = "\n".join([type_name(exc), *parts])
    return "py:" + hashlib.sha256(text.encode()).hexdigest()


def exception_title(exc: BaseException) -> str:
    """`KeyError in place_order: 'ETH-USD'`: innermost function, message's line 1."""
    frames = list(_frames(exc.__traceback__))
    where = f" in {frames[-1][1]}" if frames else ""
    message = exception_message(exc).strip().splitlines()
    head = f"{type(exc).__name__}{where}"
    return title_of(f"{head}: {message[0]}" if message else head)


def _fence(text: str) -> str:
    """A Markdown code fence longer than any run of backticks in `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _traceback_text(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(exc)).rstrip()
    except Exception:  # noqa: BLE001 - fall back to the frames' names alone
        frames = "\n".join(f"  {m}:{f}" for m, f in _frames(exc.__traceback__))
        return f"{type_name(exc)}: {exception_message(exc)}\n{frames}"


def environment_line(service_id: str | None) -> str:
    """Where the report comes from: service, host, process, Python."""
    parts = [
        f"Host: `{socket.gethostname()}`",
        f"PID: {os.getpid()}",
        f"Python {platform.python_version()}",
    ]
    if service_id:
        parts.insert(0, f"Service: `{service_id}`")
    return " · ".join(parts)


def exception_description(
    exc: BaseException, *, context: object = None, service_id: str | None = None
) -> str:
    """Context, the error, its traceback in a code block, where it happened.

    A long traceback loses its middle; its end (the innermost frames and the
    message) is kept, and the code block stays closed.
    """
    lead = _text(context).strip() if context is not None else ""
    message = exception_message(exc).strip()
    summary = f"**{type_name(exc)}**" + (f": {message}" if message else "")
    # Context and message share a quarter of the room; the traceback gets the rest.
    lead = _cut(lead, DESCRIPTION_MAX // 8)
    summary = _cut(summary, DESCRIPTION_MAX // 8)
    trace = _traceback_text(exc)
    fence = _fence(trace)
    head = f"{lead}\n\n{summary}" if lead else summary
    opening = f"{head}\n\n{fence}text\n"
    closing = f"\n{fence}\n\n{environment_line(service_id)}"
    trace = _cut_middle(trace, DESCRIPTION_MAX - len(opening) - len(closing))
    return description_of(opening + trace + closing)
