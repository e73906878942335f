from django.apps import AppConfig


class IssuesConfig(AppConfig):
    """Issues, comments and their history, stored in Firestore."""

    name = "issues"
