import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]


def _manage(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_models_and_migrations_agree(tmp_path):
    url = f"sqlite:///{tmp_path / 'check.sqlite3'}"
    result = _manage("makemigrations", "--check", "--dry-run", database_url=url)
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_apply_on_a_fresh_sqlite_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = _manage("migrate", "--noinput", database_url=url)
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
        result = _manage("migrate", "--noinput", database_url=fresh)
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
