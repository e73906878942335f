import os
import uuid

import psycopg
import pytest

from issuetracker.testing import run_manage


def test_models_and_migrations_agree(tmp_path):
    url = f"sqlite:///{tmp_path / 'check.sqlite3'}"
    result = run_manage(
        "makemigrations", "--check", "--dry-run", env={"DATABASE_URL": url}
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_apply_on_a_fresh_sqlite_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = run_manage("migrate", "--noinput", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "fresh.sqlite3").is_file()


def test_migrations_apply_on_a_fresh_postgresql_database():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL is not PostgreSQL (.ci/run sets one)")
    server = url.rsplit("/", 1)[0] + "/postgres"
    name = f"issuetracker_migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        fresh = url.rsplit("/", 1)[0] + f"/{name}"
        result = run_manage("migrate", "--noinput", env={"DATABASE_URL": fresh})
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
