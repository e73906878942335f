"""Request parsers for the API."""

import io
from collections.abc import Mapping
from typing import IO, Any, Final

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request of this API nests deeper than a few levels; deeper JSON is refused
# before it can exhaust the parser's recursion (a 2 KB body could otherwise).
MAX_JSON_DEPTH: Final = 32
DEPTH_MESSAGE: Final = (
    f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels, "
    "the limit of this API."
)


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether parsed JSON nests arrays and objects more than `limit` deep."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class LimitedJSONParser(JSONParser):
    """JSON with the body size capped at DATA_UPLOAD_MAX_MEMORY_SIZE (413 beyond)
    and nesting at MAX_JSON_DEPTH (400 `malformed` beyond).

    DRF reads the request stream directly, which skips Django's own size check,
    so the limit is applied here, before anything is parsed.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Refuse bodies over the limit by their declared and their real length."""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            request = (parser_context or {}).get("request")
            meta = getattr(request, "META", {})
            try:
                declared = int(meta.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise RequestDataTooBig("Request body exceeded the size limit.")
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestDataTooBig("Request body exceeded the size limit.")
            stream = io.BytesIO(body)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(DEPTH_MESSAGE) from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(DEPTH_MESSAGE)
        return data
