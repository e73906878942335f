"""The compose file and image put the tracker where the old app's callers look."""

from typing import Any

import yaml

from issuetracker.testing import REPO


def compose_service() -> Any:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return compose["services"]["issuetracker"]


def test_compose_service_is_issuetracker_on_6001_inside_and_6002_outside():
    service = compose_service()
    assert service["environment"]["PORT"] == "6001"
    assert service["ports"] == ["${ISSUETRACKER_PORT:-6002}:6001"]


def test_compose_allows_the_host_name_callers_use():
    allowed = compose_service()["environment"]["ALLOWED_HOSTS"]
    assert "issuetracker" in allowed.split(":-", 1)[1].rstrip("}").split(",")


def test_image_health_check_uses_the_probe_that_sends_an_allowed_host():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "issuetracker.healthprobe"]' in dockerfile
