"""Template helpers of the portal: permission checks, badges, times, Markdown,
people by name."""

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.policy import user_can
from accounts.roles import Action
from accounts.services import dev_admin
from accounts.services import users as accounts_users
from issues.markdown import render_markdown

register = template.Library()


def label(value: object) -> str:
    """`in-progress` -> `In progress`: an enum value as people read it."""
    text = str(getattr(value, "value", value) or "")
    return text.replace("-", " ").replace("_", " ").capitalize()


@register.simple_tag(takes_context=True)
def can(context: template.Context, action: str, owner_id: str | None = None) -> bool:
    """`{% can "edit" owner_id=issue.reporter_id as can_edit %}`: ask user_can."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user_can(user, Action(action), owner_id=owner_id)


def _badge(kind: str, value: object) -> SafeString:
    """A coloured badge; screen readers also hear what kind of value it is."""
    text = str(getattr(value, "value", value) or "")
    return format_html(
        '<span class="badge {}-{}"><span class="visually-hidden">{}: </span>{}</span>',
        kind,
        text,
        kind.title(),
        label(text),
    )


@register.filter
def status_badge(value: object) -> SafeString:
    """A coloured badge for a status value."""
    return _badge("status", value)


@register.filter
def priority_badge(value: object) -> SafeString:
    """A coloured badge for a priority value."""
    return _badge("priority", value)


@register.filter(name="label")
def label_filter(value: object) -> str:
    """`{{ issue.type|label }}`."""
    return label(value)


@register.filter
def when(value: datetime | date | None, style: str = "") -> SafeString | str:
    """A `<time>` element in UTC that app.js rewrites into the viewer's zone.

    `style` "relative" asks for "3 hours ago" (with the absolute time as a title).
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return format_html(
            '<time datetime="{}"{}>{}</time>',
            moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
            format_html(' data-format="{}"', style) if style else "",
            moment.strftime("%Y-%m-%d %H:%M UTC"),
        )
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), value)


@register.filter
def markdown(value: str | None) -> SafeString:
    """Markdown rendered through the sanitizer of `issues.markdown`."""
    return render_markdown(value or "")


CHART_WIDTH, CHART_HEIGHT = 600, 160
CHART_RIGHT = 16
CHART_TOP, CHART_BOTTOM, CHART_LEFT = 10, 22, 28


@register.inclusion_tag("issues/_chart.html")
def opened_resolved_chart(days: Any) -> dict[str, Any]:
    """An SVG bar chart of opened vs resolved per day, drawn on the server.

    `days` is a sequence of objects with `day`, `opened` and `resolved`. The bars
    are SVG attributes, not inline styles, so the page's CSP holds; a table of the
    same numbers follows for screen readers and for anyone who wants exact values.
    """
    days = list(days)
    top = max([1] + [max(d.opened, d.resolved) for d in days])
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / max(1, len(days))
    bar = max(1.0, slot / 2 - 1)
    bars = []
    for index, entry in enumerate(days):
        x = CHART_LEFT + index * slot
        for offset, kind, value in (
            (0.0, "opened", entry.opened),
            (bar, "resolved", entry.resolved),
        ):
            height = plot_height * value / top
            bars.append(
                {
                    "kind": kind,
                    "x": round(x + offset + 0.5, 1),
                    "y": round(CHART_TOP + plot_height - height, 1),
                    "width": round(bar, 1),
                    "height": round(height, 1),
                    "label": f"{entry.day.isoformat()}: {value} {kind}",
                }
            )
    ticks = [
        {
            "x": round(CHART_LEFT + index * slot + slot / 2, 1),
            "text": entry.day.strftime("%b %d"),
        }
        for index, entry in enumerate(days)
        # A label a week, ending on today's bar.
        if (len(days) - 1 - index) % 7 == 0
    ]
    return {
        "days": days,
        "bars": bars,
        "ticks": ticks,
        "top": top,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": CHART_HEIGHT - CHART_BOTTOM,
        "left": CHART_LEFT,
        "top_y": CHART_TOP + 4,
        "label_y": CHART_HEIGHT - 6,
        "total_opened": sum(d.opened for d in days),
        "total_resolved": sum(d.resolved for d in days),
    }


@register.simple_tag
def dev_login_enabled() -> bool:
    """Whether the DEBUG-only development sign-in is on (accounts decides)."""
    return dev_admin.dev_login_enabled()


FIELD_LABELS = {"assigneeId": "assignee", "assignee_id": "assignee"}

# --- people ---------------------------------------------------------------------------

# The attributes that hold an actor id on what pages show (issues, comments,
# history entries), and those holding such objects (a timeline entry).
PERSON_ATTRIBUTES = (
    "reporter_id",
    "assignee_id",
    "author_id",
    "user_id",
    "deleted_by",
)
HOLDER_ATTRIBUTES = ("issue", "comment", "activity")
_NAMES = "_people_names"


def person_ids(item: Any) -> set[str]:
    """The actor ids `item` names: its people, those of the objects it holds,
    and the old and new assignees of the changes it lists."""
    found: set[str] = set()
    for name in PERSON_ATTRIBUTES:
        value = getattr(item, name, None)
        if isinstance(value, str) and value:
            found.add(value)
    for name in HOLDER_ATTRIBUTES:
        held = getattr(item, name, None)
        if held is not None:
            found |= person_ids(held)
    for change in getattr(item, "changes", None) or ():
        if getattr(change, "field", None) in FIELD_LABELS:
            found |= {v for v in (change.old_value, change.new_value) if v}
    return found


def _names(context: template.Context) -> dict[str, str]:
    """The page's id -> name map, kept on the request (one per page)."""
    holder: Any = context.get("request") or context.render_context
    names: dict[str, str] | None = getattr(holder, _NAMES, None)
    if names is None:
        names = {}
        setattr(holder, _NAMES, names)
    return names


def _named(context: template.Context, ids: Iterable[str]) -> dict[str, str]:
    names = _names(context)
    missing = {user_id for user_id in ids if user_id and user_id not in names}
    if missing:
        names.update(accounts_users.display_names(ids=missing))
    return names


@register.simple_tag(takes_context=True)
def people(context: template.Context, *groups: Any) -> str:
    """`{% people page.items %}`: find the names of everyone these issues,
    comments or history entries name, in one query, for the page's `{% person %}`
    tags (each object or sequence of objects is a group)."""
    ids: set[str] = set()
    for group in groups:
        plural = isinstance(group, Iterable) and not isinstance(group, str)
        items = group if plural else [group]
        for item in items:
            ids |= person_ids(item)
    _named(context, ids)
    return ""


@register.simple_tag(takes_context=True)
def person(
    context: template.Context, user_id: str | None, empty: str = "unknown"
) -> SafeString | str:
    """`{% person issue.assignee_id "Nobody" %}`: the person's name, with the id
    on hover; `empty` when there is no one. Names come from `{% people %}`,
    else one look-up for this id."""
    if not user_id:
        return empty
    name = _named(context, [user_id])[user_id]
    return format_html('<span class="person" title="{}">{}</span>', user_id, name)


def _change_value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


@register.simple_tag(takes_context=True)
def change_summary(context: template.Context, change: Any) -> SafeString:
    """`{% change_summary change %}`: one field change of the history as a short
    line; assignees by name."""
    name = FIELD_LABELS.get(change.field, change.field)
    if change.field == "description":
        return format_html("{}", "description edited")
    if change.field in FIELD_LABELS:
        old, new = (
            person(context, value, "nobody")
            for value in (change.old_value, change.new_value)
        )
        return format_html("{}: {} → {}", name, old, new)
    old_text, new_text = (
        _change_value(change.old_value),
        _change_value(change.new_value),
    )
    if change.field in {"status", "priority", "type"}:
        old_text, new_text = label(old_text), label(new_text)
    elif change.field == "title":
        old_text, new_text = f"“{old_text}”", f"“{new_text}”"
    return format_html("{}: {} → {}", name, old_text, new_text)


ACTIVITY_VERBS = {
    "created": "created the issue",
    "updated": "updated the issue",
    "status-changed": "changed the status",
    "assigned": "changed the assignee",
    "commented": "commented",
}


@register.filter
def activity_verb(activity: Any) -> str:
    """What a history entry did, as a verb phrase."""
    kind = str(getattr(activity.type, "value", activity.type))
    return ACTIVITY_VERBS.get(kind, kind.replace("-", " "))
