"""`make test` without Chromium: browser tests skip (fail in CI) and leak nothing.

The browser tests run in a child pytest with CHROMIUM_PATH naming a missing file,
so these tests mean the same whether or not Chromium is installed here.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from issuetracker.testing import CHROMIUM_INSTALL, REPO, child_env, chromium_browser

BROWSER_TESTS = "issues/tests/test_browser_portal.py"

# Runs after the browser module in the same child: nothing may be left set.
ENV_CHECK = """
import os


def test_the_async_guard_is_back():
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
"""


def run_browser_tests(tmp_path: Path, **env: str) -> "subprocess.CompletedProcess[str]":
    """pytest on the browser module, then ENV_CHECK, without Chromium."""
    check = tmp_path / "test_env_after_browser.py"
    check.write_text(ENV_CHECK)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--rootdir",
            str(REPO),
            "-c",
            str(REPO / "pyproject.toml"),
            "-q",
            BROWSER_TESTS,
            str(check),
        ],
        cwd=REPO,
        env=child_env(
            {"CHROMIUM_PATH": str(tmp_path / "no-chromium"), **env},
            drop=("CI", "REQUIRE_BROWSER", "DJANGO_ALLOW_ASYNC_UNSAFE"),
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_chromium_browser_tests_skip_with_one_line_saying_how_to_install(
    tmp_path,
):
    result = run_browser_tests(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    reasons = [line for line in output.splitlines() if CHROMIUM_INSTALL in line]
    assert len(reasons) == 1, output
    assert reasons[0].startswith("SKIPPED"), output
    assert str(tmp_path / "no-chromium") in reasons[0]
    assert " skipped" in output
    assert "1 passed" in output  # the environment check after the browser module


@pytest.mark.parametrize("required", [{"CI": "true"}, {"REQUIRE_BROWSER": "1"}])
def test_without_chromium_browser_tests_fail_where_the_browser_is_required(
    tmp_path, required
):
    result = run_browser_tests(tmp_path, **required)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "skipped" not in output, output
    assert CHROMIUM_INSTALL in output
    assert "1 passed" in output  # the environment check still finds it unset


@pytest.mark.parametrize("before", [None, "keep-me"])
def test_a_failed_launch_puts_the_async_guard_back(monkeypatch, tmp_path, before):
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("CHROMIUM_PATH", str(broken))
    if before is None:
        monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    else:
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", before)
    with pytest.raises(PlaywrightError), chromium_browser(timeout=15_000):
        pytest.fail("a browser that exits at once launched")
    assert os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE") == before
