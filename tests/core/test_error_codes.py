"""The error-code registry: every code raised anywhere is registered, and every dialect maps every code."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import keelplan.api
from keelplan.core.errors import REGISTRY, ErrorCode, InvalidInput

SRC = Path(__file__).resolve().parents[2] / "src" / "keelplan"
ERROR_CLASSES = {"DomainError", "InvalidInput", "CyclicDependency", "NotFound", "PermissionDenied", "Conflict",
                 "StaleLockVersion", "Throttled"}


def _codes_in_source() -> list[tuple[str, int, str]]:
    """``(file, line, code)`` for every code given to a domain error in ``src/keelplan``: ``code="..."`` and
    ``code=ErrorCode.X`` keywords of calls to the error classes, and ``code = ...`` class attributes."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            values = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ERROR_CLASSES:
                    values = [kw.value for kw in node.keywords if kw.arg == "code"]
            elif isinstance(node, ast.ClassDef) and any(
                    getattr(base, "id", None) in ERROR_CLASSES or getattr(base, "attr", None) in ERROR_CLASSES
                    for base in node.bases):
                values = [stmt.value for stmt in node.body if isinstance(stmt, ast.Assign)
                          and any(getattr(t, "id", None) == "code" for t in stmt.targets)]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.append((str(path.relative_to(SRC)), value.lineno, value.value))
                elif isinstance(value, ast.Attribute) and getattr(value.value, "id", None) == "ErrorCode":
                    found.append((str(path.relative_to(SRC)), value.lineno, ErrorCode[value.attr].value))
                else:
                    found.append((str(path.relative_to(SRC)), value.lineno, f"<not a literal: {ast.dump(value)}>"))
    return found


def test_every_code_raised_in_the_source_is_registered():
    codes = _codes_in_source()
    assert len(codes) > 50  # the reader found the raise sites
    assert [c for c in codes if c[2] not in {code.value for code in ErrorCode}] == []


def test_the_registry_names_every_code_with_its_parameters():
    assert set(REGISTRY) == set(ErrorCode)
    assert REGISTRY[ErrorCode.TOO_LONG].params == ("max_length",)
    assert REGISTRY[ErrorCode.INVALID_CHOICE].params == ("choices",)
    assert REGISTRY[ErrorCode.NOT_FOUND].params == ("entity",)


def test_an_unregistered_code_cannot_be_raised():
    with pytest.raises(ValueError):
        InvalidInput("Nope.", code="not_a_registered_code")


def _dialect_mappings() -> dict[str, dict]:
    """Each dialect's error mapping: the ``ERRORS`` dict of ``keelplan.api.<dialect>.error_codes``."""
    found = {}
    for info in pkgutil.iter_modules(keelplan.api.__path__):
        if info.name == "common":
            continue
        try:
            module = importlib.import_module(f"keelplan.api.{info.name}.error_codes")
        except ModuleNotFoundError:
            found[info.name] = None
            continue
        found[info.name] = module.ERRORS
    return found


def test_every_dialect_maps_every_code():
    mappings = _dialect_mappings()
    assert "v1" in mappings
    for dialect, mapping in mappings.items():
        assert mapping is not None, f"{dialect} has no error_codes.ERRORS"
        assert set(mapping) == set(ErrorCode), dialect
