"""The tracker's user: a Django user with a role, a display name and an avatar."""

from django.contrib.auth.models import AbstractUser
from django.db import models

from accounts.roles import Role


class User(AbstractUser):
    """A staff member (Google login) or a service that reports issues."""

    role = models.CharField(
        max_length=16,
        choices=[(role.value, role.name.title()) for role in Role],
        default=Role.DEVELOPER.value,
        db_index=True,
    )
    display_name = models.CharField(max_length=150, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.email or self.username
