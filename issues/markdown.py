"""Markdown for descriptions and comments, rendered to HTML that is safe to show.

Two layers: Python-Markdown is told to treat raw HTML as text (so `<script>` in a
description shows as the characters `<script>`), and its output then goes through
nh3 with a small allowlist of tags, attributes and URL schemes. Images become
links, because the page's CSP would block most of them anyway and a link keeps the
reader on this origin until they choose to leave.
"""

import xml.etree.ElementTree as ET

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = frozenset(
    {
        "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Removed together with their content, not just unwrapped.
DROPPED_WITH_CONTENT = frozenset({"script", "style"})
MAX_SOURCE_CHARS = 100_000


class _RawHtmlAsText(Extension):
    """Stop Python-Markdown passing raw HTML blocks and inline tags through."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_ImagesAsLinks(md), "images_as_links", 5)


class _ImagesAsLinks(Treeprocessor):
    """Turn `![alt](src)` into a link to the image, labelled with its alt text."""

    def run(self, root: ET.Element) -> None:
        for image in list(root.iter("img")):
            image.tag = "a"
            alt = image.attrib.pop("alt", "") or "image"
            image.attrib = {"href": image.attrib.get("src", "")}
            image.text = alt


def render_markdown(source: str) -> SafeString:
    """Render Markdown `source` to sanitized HTML, marked safe for templates."""
    converter = markdown.Markdown(
        extensions=["fenced_code", "tables", "sane_lists", _RawHtmlAsText()],
        output_format="html",
    )
    html = converter.convert(source[:MAX_SOURCE_CHARS])
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitized by nh3 just above
