"""Template helpers of the triage queue, bulk actions and saved views."""

from typing import Any

from django import template
from django.template.context import Context

from issues.saved_views import saved_views_for

register = template.Library()

SPARK_WIDTH, SPARK_HEIGHT = 96, 20


@register.inclusion_tag("issues/_sparkline.html")
def sparkline(hours: list[int]) -> dict[str, Any]:
    """Occurrences per hour as a small SVG polyline, drawn on the server
    (attributes, no inline style: the CSP holds)."""
    top = max([1, *hours])
    step = SPARK_WIDTH / max(1, len(hours) - 1)
    span = SPARK_HEIGHT - 2
    points = " ".join(
        f"{round(n * step, 1)},{round(SPARK_HEIGHT - 1 - span * v / top, 1)}"
        for n, v in enumerate(hours)
    )
    return {
        "points": points,
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
        "total": sum(hours),
        "top": top,
    }


@register.simple_tag(takes_context=True)
def saved_views(context: Context) -> Any:
    """The signed-in person's saved views and those shared (one query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return list(saved_views_for(actor=user)) if user is not None else []


@register.filter
def version_ref(issue: Any) -> str:
    """`<id>@<version>`: what a checkbox or a row action posts."""
    return f"{issue.id}@{issue.version}"


@register.simple_tag
def bulk_form() -> Any:
    """An empty bulk-action form, for list pages."""
    from issues.forms_triage import BulkForm  # the form imports the ORM model

    return BulkForm()
