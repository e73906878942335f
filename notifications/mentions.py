"""@mentions in Markdown text: pure, no Django.

A mention is `@name` where name is a username or the local part of an e-mail
(`@ada` or `@ada.lovelace`, or a whole address `@ada@quantory.app`). Text in
code spans (`` `@x` ``) and code blocks (fenced or indented) mentions no one, nor
does an address inside a word (`mail@host`).
"""

import re
from typing import Final

_FENCE: Final = re.compile(
    r"^[ ]{0,3}(```|~~~)[^\n]*\n.*?(?:^[ ]{0,3}\1[^\n]*$|\Z)", re.M | re.S
)
_INDENTED: Final = re.compile(r"(?:^(?:[ ]{4}|\t)[^\n]*(?:\n|\Z))+", re.M)
_SPAN: Final = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_MENTION: Final = re.compile(
    r"(?<![\w@.`/])@([A-Za-z0-9](?:[A-Za-z0-9._+-]*[A-Za-z0-9])?"
    r"(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)"
)


def without_code(text: str) -> str:
    """`text` with fenced and indented code blocks and code spans blanked."""
    text = _FENCE.sub(" ", text)
    text = _INDENTED.sub("\n", text)
    return _SPAN.sub(" ", text)


def mentioned_names(text: str) -> frozenset[str]:
    """The lower-cased names `text` mentions outside code."""
    return frozenset(m.group(1).lower() for m in _MENTION.finditer(without_code(text)))


def new_mentions(before: str, after: str) -> frozenset[str]:
    """Who `after` mentions that `before` did not (an edited description)."""
    return mentioned_names(after) - mentioned_names(before)
