"""Mention parsing: pure table tests."""

import pytest

from notifications.mentions import mentioned_names, new_mentions


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("hi @ada", {"ada"}),
        ("@Ada.Lovelace please look", {"ada.lovelace"}),
        ("cc @ada@quantory.app and @bob.", {"ada@quantory.app", "bob"}),
        ("mail me at ada@quantory.app", set()),
        ("(@ada), @bob!", {"ada", "bob"}),
        ("`@ada` in a span", set()),
        ("``code `@ada` here`` but @bob", {"bob"}),
        ("```\n@ada in a fence\n```\nthen @bob", {"bob"}),
        ("~~~python\n@ada\n~~~", set()),
        ("text\n\n    @ada indented code\n\n@bob", {"bob"}),
        ("```\nunclosed @ada", set()),
        ("@ada @ada @ADA", {"ada"}),
        ("no mention here @", set()),
        ("path/@ada", set()),
        ("", set()),
    ],
)
def test_mentioned_names(text, names):
    assert mentioned_names(text) == names


def test_new_mentions_are_those_not_in_the_old_text():
    assert new_mentions("hi @ada", "hi @ada and @bob") == {"bob"}
    assert new_mentions("hi @ada", "bye") == set()
