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

    @property
    def actor_id(self) -> str:
        """The id stored in Firestore as `reporterId`, `authorId`, `userId`.

        Staff log in with Google and get their lower-cased e-mail as username;
        services are named by their id (`workflow-consumer`).
        """
        return self.username

    def __str__(self) -> str:
        return self.display_name or self.email or self.username
