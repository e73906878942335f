from django.apps import AppConfig


class IssuesConfig(AppConfig):
    """Issues, comments and their history, stored in Firestore."""

    name = "issues"

    def ready(self) -> None:
        """Register the `<issue_id:...>` path converter (before any URLconf is
        imported) and the API key's OpenAPI scheme, here rather than as side
        effects of importing the modules that use them."""
        from django.urls import register_converter
        from django.urls.converters import get_converters

        # drf-spectacular registers an extension when its class is defined.
        from issues import schema  # noqa: F401
        from issues.converters import IssueIdConverter

        # Registering a name twice is deprecated; ready() may run again in tests.
        if "issue_id" not in get_converters():
            register_converter(IssueIdConverter, "issue_id")
