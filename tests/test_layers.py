"""The layers of ARCHITECTURE.md, checked on the source: each package imports only the layers below it.

Every ``import`` and ``from ... import`` in ``src/keelplan`` is read with ``ast`` (including imports inside
functions, which are still dependencies), so a new upward import fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "keelplan"

ENGINE = {"engine"}
CORE = {"core"}
CHANGELOG = {"changelog"}
DOMAIN = {"accounts", "portfolio", "planning", "resources", "calendars", "customfields", "timesheets",
          "permissions"}
PROTOCOLS = {"sync", "scheduling"}
DIALECTS = {"api"}

# What each package may import from keelplan (itself always allowed). Anything not listed is refused.
ALLOWED: dict[str, set[str]] = {
    "engine": set(),
    "core": set(),
    "changelog": CORE,
    **{app: ENGINE | CORE | CHANGELOG | DOMAIN for app in DOMAIN},
    **{app: ENGINE | CORE | CHANGELOG | DOMAIN | PROTOCOLS for app in PROTOCOLS},
    "api": ENGINE | CORE | CHANGELOG | DOMAIN | PROTOCOLS | DIALECTS,
}


def keelplan_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, top-level package)`` for each import of a ``keelplan.<package>`` module in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "keelplan":
                names = [f"keelplan.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "keelplan" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def package_files(package: str) -> list[Path]:
    root = SRC / package
    if root.is_file() or (SRC / f"{package}.py").is_file():
        return [SRC / f"{package}.py"]
    return sorted(p for p in root.rglob("*.py") if "migrations" not in p.parts)


def violations(package: str) -> list[str]:
    allowed = ALLOWED[package] | {package}
    return [f"{path.relative_to(SRC)}:{line} imports keelplan.{target}"
            for path in package_files(package)
            for line, target in keelplan_imports(path) if target not in allowed]


@pytest.mark.parametrize("package", sorted(p for p in ALLOWED if (SRC / p).exists() or (SRC / f"{p}.py").exists()))
def test_package_imports_only_lower_layers(package):
    assert violations(package) == []


def test_every_package_has_a_layer():
    """A new top-level package must be placed in a layer (and so in ALLOWED) before it can be checked."""
    unplaced = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()} - set(ALLOWED) - {
        "config"}
    assert unplaced == set()


def test_the_check_catches_an_upward_import(tmp_path):
    """The reader sees the import forms the check depends on, inside functions too."""
    module = tmp_path / "m.py"
    module.write_text("import keelplan.sync.models\nfrom keelplan import scheduling\n"
                      "def f():\n    from keelplan.api.v1 import views\nfrom . import sibling\n")
    assert [target for _, target in keelplan_imports(module)] == ["sync", "scheduling", "api"]
