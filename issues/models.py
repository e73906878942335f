"""The relational side of issues: saved views of the issue list (per person).

Issues themselves live in Firestore; a saved view is a person's name for a
query string of the list, so the URL stays the source of truth.
"""

from django.conf import settings
from django.db import models


class SavedView(models.Model):
    """A named query string of the issue list, its owner's or shared with all."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=1000, blank=True)
    shared = models.BooleanField(
        default=False, help_text="Listed for everyone, not only its owner."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="saved_view_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        """The issue list with this view's query string."""
        return f"/issues/?{self.query}" if self.query else "/issues/"
