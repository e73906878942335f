import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "issues.quantory.app",
    "DATABASE_URL": "postgres://tracker@127.0.0.1:5432/tracker",
    "GOOGLE_CLOUD_PROJECT": "alphafusion-prod",
}
VARIABLES = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "GOOGLE_CLOUD_PROJECT")


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {*VARIABLES, "DJANGO_ENV"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_each_secret():
    for variable in VARIABLES:
        env = {k: v for k, v in PRODUCTION.items() if k != variable}
        result = _manage("check", env=env)
        assert result.returncode != 0
        assert "refuse to start without" in result.stderr
        assert variable in result.stderr.splitlines()[-1]


def test_production_settings_pass_the_deploy_check():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_turns_debug_off_even_when_asked():
    script = "from django.conf import settings; print(settings.DEBUG)"
    result = _manage(
        "shell", "--no-imports", "-c", script, env={**PRODUCTION, "DEBUG": "true"}
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_an_unknown_environment_is_refused():
    result = _manage("check", env={"DJANGO_ENV": "prod"})
    assert result.returncode != 0
    assert "DJANGO_ENV must be" in result.stderr
