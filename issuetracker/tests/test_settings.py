from issuetracker.testing import PRODUCTION_ENV, run_manage

VARIABLES = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "GOOGLE_CLOUD_PROJECT")


def test_production_refuses_to_start_without_each_secret():
    for variable in VARIABLES:
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != variable}
        result = run_manage("check", env=env)
        assert result.returncode != 0
        assert "refuse to start without" in result.stderr
        assert variable in result.stderr.splitlines()[-1]


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_warns_while_anonymous_services_are_allowed():
    env = {**PRODUCTION_ENV, "ALLOW_ANONYMOUS_SERVICES": "true"}
    result = run_manage("check", "--deploy", env=env)
    assert "accounts.W001" in result.stderr + result.stdout
    assert "not authenticated" in result.stderr + result.stdout


def test_production_turns_debug_off_even_when_asked():
    script = "from django.conf import settings; print(settings.DEBUG)"
    result = run_manage(
        "shell", "--no-imports", "-c", script, env={**PRODUCTION_ENV, "DEBUG": "true"}
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_an_unknown_environment_is_refused():
    result = run_manage("check", env={"DJANGO_ENV": "prod"})
    assert result.returncode != 0
    assert "DJANGO_ENV must be" in result.stderr


def test_production_refuses_to_start_without_redis_url():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    last = result.stderr.splitlines()[-1]
    assert "refuse to start without REDIS_URL" in last
    assert "RATE_LIMIT_STORE=per-process" in last


def test_production_starts_with_per_process_rate_limits_when_asked():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}
    result = run_manage("check", env={**env, "RATE_LIMIT_STORE": "per-process"})
    assert result.returncode == 0, result.stderr


def test_an_unknown_rate_limit_store_is_refused():
    result = run_manage("check", env={"RATE_LIMIT_STORE": "memcached"})
    assert result.returncode != 0
    assert "RATE_LIMIT_STORE must be" in result.stderr


def test_unreadable_trusted_proxies_are_refused():
    result = run_manage("check", env={"TRUSTED_PROXIES": "10.0.0.0/8,lb"})
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr.splitlines()[-1]
