"""Account settings as production and the local setup read them from the environment."""

import json
from typing import Any

from issuetracker.testing import PRODUCTION_ENV, run_manage

NAMES = (
    "DEBUG",
    "DEV_LOGIN_ENABLED",
    "ALLOW_ANONYMOUS_SERVICES",
    "ALLOWED_EMAIL_DOMAINS",
    "SOCIALACCOUNT_PROVIDERS",
)
SCRIPT = (
    "import json; from django.conf import settings; "
    f"print(json.dumps({{n: getattr(settings, n) for n in {NAMES!r}}}))"
)
OURS = {*PRODUCTION_ENV, "DEBUG", "ALLOW_ANONYMOUS_SERVICES", "ALLOWED_EMAIL_DOMAINS"}


def _settings(**env: str) -> dict[str, Any]:
    result = run_manage(
        "shell", "--no-imports", "-c", SCRIPT, env=env, drop=OURS | {"GOOGLE_CLIENT_ID"}
    )
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return values


def test_production_has_no_dev_login_and_no_anonymous_services_whatever_is_asked():
    values = _settings(**PRODUCTION_ENV, DEBUG="true")

    assert values["DEBUG"] is False
    assert values["DEV_LOGIN_ENABLED"] is False
    assert values["ALLOW_ANONYMOUS_SERVICES"] is False


def test_production_may_opt_in_to_anonymous_services_but_never_to_dev_login():
    values = _settings(**PRODUCTION_ENV, DEBUG="true", ALLOW_ANONYMOUS_SERVICES="true")

    assert values["ALLOW_ANONYMOUS_SERVICES"] is True
    assert values["DEV_LOGIN_ENABLED"] is False


def test_the_local_setup_has_both_by_default():
    values = _settings()

    assert values["DEBUG"] is True
    assert values["DEV_LOGIN_ENABLED"] is True
    assert values["ALLOW_ANONYMOUS_SERVICES"] is True
    assert values["ALLOWED_EMAIL_DOMAINS"] == ["quantory.app"]


def test_local_setup_without_debug_has_no_dev_login():
    assert _settings(DEBUG="false")["DEV_LOGIN_ENABLED"] is False


def test_allowed_domains_are_read_lower_cased():
    values = _settings(ALLOWED_EMAIL_DOMAINS=" Quantory.App , AlphaFusion.example ")

    assert values["ALLOWED_EMAIL_DOMAINS"] == ["quantory.app", "alphafusion.example"]


def test_the_google_app_comes_from_the_environment():
    values = _settings(GOOGLE_CLIENT_ID="id-1", GOOGLE_CLIENT_SECRET="s")

    google = values["SOCIALACCOUNT_PROVIDERS"]["google"]
    assert google["APP"] == {"client_id": "id-1", "secret": "s"}
    assert google["SCOPE"] == ["openid", "email", "profile"]
    assert "APP" not in _settings()["SOCIALACCOUNT_PROVIDERS"]["google"]
