"""A Redis cache that turns an outage into misses instead of failed requests.

Everything the tracker keeps in the cache can be recounted or skipped: rate-limit
counters (allauth's sign-in limits and the API's write limit) and the dashboard
chart's days. So when Redis does not answer, reads miss, writes are not kept and a
counter starts afresh; the outage is logged (at most once a minute), and no
request fails because of it.
"""

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What redis-py raises when the server is down, refuses or times out.
CACHE_DOWN = (RedisError, OSError)
WARN_EVERY_SECONDS = 60.0
_last_warning = [0.0]

T = TypeVar("T")


def _warn(error: BaseException) -> None:
    now = time.monotonic()
    if now - _last_warning[0] >= WARN_EVERY_SECONDS:
        _last_warning[0] = now
        logger.warning("Cache unavailable, carrying on without it: %s", error)


def _or(fallback: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Wrap a client method: on an outage, log and return `fallback`."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def forgiving(*args: Any, **kwargs: Any) -> T:
            try:
                return method(*args, **kwargs)
            except CACHE_DOWN as error:
                _warn(error)
                return fallback  # type: ignore[no-any-return]

        return forgiving

    return decorate


class ForgivingRedisCacheClient(RedisCacheClient):
    """Django's Redis client with every call answering as a miss during an outage."""

    add = _or(False)(RedisCacheClient.add)
    set = _or(None)(RedisCacheClient.set)
    touch = _or(False)(RedisCacheClient.touch)
    delete = _or(False)(RedisCacheClient.delete)
    get_many = _or({})(RedisCacheClient.get_many)
    has_key = _or(False)(RedisCacheClient.has_key)
    set_many = _or(None)(RedisCacheClient.set_many)
    delete_many = _or(None)(RedisCacheClient.delete_many)
    clear = _or(False)(RedisCacheClient.clear)

    def get(self, key: Any, default: Any) -> Any:
        """The value, or `default` when missing or when Redis does not answer."""
        try:
            return super().get(key, default)
        except CACHE_DOWN as error:
            _warn(error)
            return default

    def incr(self, key: Any, delta: int) -> Any:
        """Like a missing key during an outage (ValueError), so counting restarts."""
        try:
            return super().incr(key, delta)
        except CACHE_DOWN as error:
            _warn(error)
            raise ValueError(f"Key {key!r} not counted: cache unavailable.") from error


class ForgivingRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` that survives Redis outages."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ForgivingRedisCacheClient
