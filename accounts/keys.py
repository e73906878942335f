"""API key format: generation, hashing and parsing. Plain Python, no Django."""

import hashlib
import secrets

KEY_MARK = "itk_"
PREFIX_LENGTH = 10  # hex characters: 40 bits, enough to find a row without clashes


def key_new() -> tuple[str, str]:
    """Return a fresh `(prefix, key)`; the key is shown once and never stored."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return prefix, f"{KEY_MARK}{prefix}_{secrets.token_urlsafe(32)}"


def key_hash(key: str) -> str:
    """The stored form of a key. Keys are random, so a plain SHA-256 suffices."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str | None:
    """The prefix inside a well-formed key, or None when it is not one of ours."""
    if not key.startswith(KEY_MARK):
        return None
    prefix, sep, secret = key[len(KEY_MARK) :].partition("_")
    if not sep or not secret or len(prefix) != PREFIX_LENGTH:
        return None
    if any(char not in "0123456789abcdef" for char in prefix):
        return None
    return prefix
