"""Roles and what each may do: the one place the rules of DESIGN.md live."""

from enum import StrEnum


class Role(StrEnum):
    """A user's role; stored on `accounts.User.role`."""

    ADMIN = "admin"
    DEVELOPER = "developer"
    TESTER = "tester"
    VIEWER = "viewer"
    SERVICE = "service"
