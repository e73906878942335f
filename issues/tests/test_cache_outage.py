"""The portal keeps working when the cache (Redis) does not answer."""

import pytest
from django.test import override_settings

from issuetracker.emulator import free_port


@pytest.fixture
def redis_down():
    """The default cache pointed at a port nothing listens on."""
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=caches):
        yield


def test_dashboard_and_its_chart_render_when_the_cache_is_down(
    client, developer, make_issue, redis_down
):
    make_issue(developer, title="Counted without a cache")
    client.force_login(developer)
    page = client.get("/")
    assert page.status_code == 200
    chart = client.get("/dashboard/chart/")
    assert chart.status_code == 200
