"""The client's options: read from the arguments, else the environment, and checked.

Arguments that make no sense raise ValueError here, at start-up; after that
nothing the client does raises into the caller.
"""

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final
from urllib.parse import urlsplit

from issuetracker_client import reports
from issuetracker_client._version import __version__

SERVICE_ID_MAX: Final = 100  # the tracker's limit on `reporter_id`

DEFAULT_URL: Final = "http://issuetracker:6001"
URL_VARIABLE: Final = "ISSUETRACKER_URL"
KEY_VARIABLE: Final = "ISSUETRACKER_API_KEY"
SERVICE_VARIABLE: Final = "ISSUETRACKER_SERVICE_ID"


class _FromEnv(Enum):
    """The default of `api_key` and `service_id`: read the environment."""

    READ = "from the environment"

    def __repr__(self) -> str:
        return "<from the environment>"


FROM_ENV: Final = _FromEnv.READ


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True, slots=True)
class Settings:
    """Checked options of one client. The key itself is only in `headers`."""

    base_url: str  # without a trailing slash
    service_id: str | None
    has_key: bool
    timeout: float
    queue_size: int
    max_retries: int
    backoff: float
    max_backoff: float
    max_retry_after: float
    close_timeout: float
    tags: tuple[str, ...]  # added to every report
    register_atexit: bool
    batch: bool
    headers: dict[str, str] = field(repr=False)  # of every request

    @property
    def reporter_id(self) -> str | None:
        """Sent as `reporter_id` of reports: the service id, when there is no key."""
        return None if self.has_key else self.service_id

    @property
    def issues_url(self) -> str:
        return f"{self.base_url}/api/v1/issues"


def read_settings(
    base_url: str | None,
    api_key: str | _FromEnv | None,
    service_id: str | _FromEnv | None,
    *,
    timeout: float,
    queue_size: int,
    max_retries: int,
    backoff: float,
    max_backoff: float,
    max_retry_after: float,
    close_timeout: float,
    tags: Iterable[str],
    register_atexit: bool,
    batch: bool,
) -> Settings:
    """The client's settings: FROM_ENV read from the environment, None is none."""
    if base_url is None:
        base_url = _env(URL_VARIABLE) or DEFAULT_URL
    if isinstance(api_key, _FromEnv):
        api_key = _env(KEY_VARIABLE)
    if isinstance(service_id, _FromEnv):
        service_id = _env(SERVICE_VARIABLE)
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"base_url ({URL_VARIABLE}) must be the tracker's http(s) URL, "
            "such as https://issues.quantory.app"
        )
    if api_key is not None and (
        not api_key
        or not api_key.isascii()
        or not api_key.isprintable()
        or any(char.isspace() for char in api_key)
    ):
        raise ValueError(
            f"api_key ({KEY_VARIABLE}) is empty or holds spaces or control characters"
        )
    if service_id is not None:
        service_id = service_id.strip()
        if not 1 <= len(service_id) <= SERVICE_ID_MAX:
            raise ValueError(
                f"service_id ({SERVICE_VARIABLE}) must be 1-{SERVICE_ID_MAX} characters"
            )
    # Neither key nor service id: only log_issue(reporter_id=...) and its
    # follow-ups can name the caller, as with the old client.
    for name, value in (
        ("timeout", timeout),
        ("backoff", backoff),
        ("max_backoff", max_backoff),
        ("max_retry_after", max_retry_after),
        ("close_timeout", close_timeout),
    ):
        if not value >= 0:  # also refuses NaN
            raise ValueError(f"{name} must be a number of seconds >= 0")
    if timeout <= 0 or queue_size < 1 or max_retries < 0:
        raise ValueError("timeout > 0, queue_size >= 1 and max_retries >= 0")

    agent = f"alphafusion-issuetracker-client/{__version__}"
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": f"{agent} ({service_id})" if service_id else agent,
    }
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    return Settings(
        base_url=base_url.rstrip("/"),
        service_id=service_id,
        has_key=api_key is not None,
        timeout=timeout,
        queue_size=queue_size,
        max_retries=max_retries,
        backoff=backoff,
        max_backoff=max_backoff,
        max_retry_after=max_retry_after,
        close_timeout=close_timeout,
        tags=tuple(reports.tags_of(tags)),
        register_atexit=register_atexit,
        batch=batch,
        headers=headers,
    )
