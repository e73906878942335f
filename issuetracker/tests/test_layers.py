"""The layering DESIGN.md asks for, checked on the source.

Services, selectors and policy never import DRF (it belongs to the API layer);
the domain imports neither Django nor Google. The files are found by pattern,
so a module added later (a selectors package, one more accounts service) is
checked too; a pattern that matches nothing yet is skipped.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

NO_DRF = (
    "issues/services.py",
    "issues/services/**/*.py",
    "issues/selectors*.py",
    "issues/selectors/**/*.py",
    "issues/domain.py",
    "accounts/policy.py",
    "accounts/services/**/*.py",
)
PLAIN_DOMAIN = ("issues/domain.py",)


def _files(patterns: tuple[str, ...]) -> list[Path]:
    found = {path for pattern in patterns for path in ROOT.glob(pattern)}
    return sorted(path for path in found if path.is_file())


def _imported(path: Path) -> set[str]:
    """The absolute module names `path` imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _under(names: set[str], package: str) -> list[str]:
    return sorted(
        name for name in names if name == package or name.startswith(f"{package}.")
    )


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_patterns_find_the_modules_that_exist_today():
    found = {_id(path) for path in _files(NO_DRF)}

    assert {
        "issues/services.py",
        "issues/domain.py",
        "accounts/policy.py",
        "accounts/services/compat.py",
    } <= found


@pytest.mark.parametrize("path", _files(NO_DRF), ids=_id)
def test_services_selectors_domain_and_policy_do_not_import_drf(path):
    assert _under(_imported(path), "rest_framework") == []


@pytest.mark.parametrize("path", _files(PLAIN_DOMAIN), ids=_id)
def test_the_domain_imports_neither_django_nor_google(path):
    names = _imported(path)

    assert _under(names, "django") + _under(names, "google") == []


def test_the_scan_sees_nested_and_from_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import os\n"
        "from . import sibling\n"
        "def f():\n"
        "    from rest_framework.request import Request\n"
        "    import google.cloud.firestore\n"
    )

    names = _imported(module)

    assert _under(names, "rest_framework") == ["rest_framework.request"]
    assert _under(names, "google") == ["google.cloud.firestore"]
    assert _under(names, "os") == ["os"]
