"""The production cache backend answers as a miss while Redis is down."""

import logging

import pytest
from django.core.cache import cache

from issuetracker import cache as forgiving


def test_an_outage_reads_as_misses_and_writes_are_not_kept(cache_down, caplog):
    forgiving._last_warning[0] = 0.0
    with caplog.at_level(logging.WARNING, logger="issuetracker.cache"):
        assert cache.get("key", "default") == "default"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("key", 1) is False
        cache.set("key", 1)
        cache.set_many({"a": 1})
        assert cache.has_key("key") is False
        cache.delete("key")
        with pytest.raises(ValueError, match="cache unavailable"):
            cache.incr("key")
    warnings = [r for r in caplog.records if r.name == "issuetracker.cache"]
    assert len(warnings) == 1, "an outage is logged once a minute, not per call"


def test_a_live_redis_behaves_as_django_redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "issuetracker.cache.ForgivingRedisCache",
            "LOCATION": "redis://127.0.0.1:6379/14",
        }
    }
    from django.core.cache import caches

    live = caches.create_connection("default")
    live.clear()
    live.set("key", {"n": 1})
    if live.get("key") is None:
        pytest.skip("no Redis on 127.0.0.1:6379 (.ci/run starts one)")
    assert live.get("key") == {"n": 1}
    assert live.add("counter", 1) is True
    assert live.incr("counter") == 2
    live.clear()
