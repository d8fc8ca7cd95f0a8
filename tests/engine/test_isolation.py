"""The engine stays free of Django, and its doctests pass."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest


def test_importing_the_engine_does_not_import_django():
    code = ("import sys, keelplan.engine, keelplan.engine.cpm, keelplan.engine.calendars; "
            "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.') "
            "or m.startswith('rest_framework')); print(repr(bad)); sys.exit(1 if bad else 0)")
    env_free = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"})
    assert env_free.returncode == 0, env_free.stdout + env_free.stderr
    assert env_free.stdout.strip() == "[]"


def test_a_django_import_would_be_detected():
    # The check above is meaningful: the same probe reports django when it is imported.
    code = "import sys, django; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize("name", ["keelplan.engine.cpm", "keelplan.engine.calendars", "keelplan.engine.inputs",
                                  "keelplan.engine.results"])
def test_doctests(name):
    module = importlib.import_module(name)
    failed, attempted = doctest.testmod(module, verbose=False, report=False)
    assert failed == 0
    if name in ("keelplan.engine.cpm", "keelplan.engine.calendars", "keelplan.engine.inputs"):
        assert attempted > 0  # these modules carry worked examples
