"""Real client packages from PyPI, each installed into a virtual environment of its own and run as a separate
process against a live server: building and reusing those environments, and running a driver script in one.

A driver reads its plan as JSON on stdin (the API token travels there, never on a command line) and prints one
JSON line, ``{"ok": true, "steps": [...], "result": {...}}`` or ``{"ok": false, "step": ..., "error": ...}``
(``op_clients/_driver.py`` writes it). The environments live under ``.venv-clients/`` at the repository root (or
``KEELPLAN_CLIENT_VENVS``) and are rebuilt only when their pins or the Python version change. A failed install
fails the tests that need it: it is never skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import LiveServer

REPO = Path(__file__).resolve().parent.parent.parent
INSTALL_TIMEOUT_SECONDS = 900
DRIVER_TIMEOUT_SECONDS = 300
STAMP = "keelplan-pins.txt"
# Hosts the clients reach: never through a proxy the environment may name.
NO_PROXY = "127.0.0.1,localhost"


def venv_root() -> Path:
    return Path(os.environ.get("KEELPLAN_CLIENT_VENVS") or REPO / ".venv-clients")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Two test runs sharing the cache must not build the same environment at once."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_install_step(client: str, command: list[str]) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"installing the {client} client timed out after {INSTALL_TIMEOUT_SECONDS} s: {command}")
    if result.returncode != 0:
        pytest.fail(f"installing the {client} client failed ({result.returncode}): {' '.join(command)}\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def install_client(root: Path, client: str, requirements: Path) -> tuple[Path, float]:
    """The client's environment under ``root``, built from its pin file unless a stamp shows it was built from the
    same pins with the same Python; also the seconds spent installing (0 when reused)."""
    venv = root / client
    wanted = f"python {sys.version.split()[0]}\n{requirements.read_text()}"
    stamp = venv / STAMP
    with _locked(root / f".{client}.lock"):
        if (venv / "bin" / "python").exists() and stamp.exists() and stamp.read_text() == wanted:
            return venv, 0.0
        started = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)
        _run_install_step(client, [sys.executable, "-m", "venv", str(venv)])
        # Every transitive version is pinned, so no resolver runs; that is also how pyopenproject, whose declared
        # pins are too old for current environments, goes in with --no-deps as it must.
        _run_install_step(client, [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                                   "--no-input", "--no-deps", "-r", str(requirements)])
        stamp.write_text(wanted)  # last: a half-built environment is never taken for a finished one
        return venv, time.monotonic() - started


def client_env(**extra: str) -> dict[str, str]:
    """The environment a client process runs in: nothing of Keelplan's (path, settings, database), no proxy."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env.update({"NO_PROXY": NO_PROXY, "no_proxy": NO_PROXY, "PYTHONDONTWRITEBYTECODE": "1"}, **extra)
    return env


def server_tail(server: LiveServer) -> str:
    return f"\n--- end of the server's log ---\n{server.output()[-4000:]}"


def run_driver(python: Path, script: Path, plan: dict, server: LiveServer, label: str) -> dict:
    """Run a driver script with ``python`` (a client's environment) and ``plan`` on its stdin; its result, or the
    test fails naming the client call that broke, the error the client raised (with the server's answer in it)
    and the server's log."""
    try:
        proc = subprocess.run([str(python), str(script)], input=json.dumps(plan), capture_output=True, text=True,
                              timeout=DRIVER_TIMEOUT_SECONDS, env=client_env(), cwd=script.parent)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{label} did not finish within {DRIVER_TIMEOUT_SECONDS} s{server_tail(server)}")
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        pytest.fail(f"{label} printed no report (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n"
                    f"{proc.stderr[-3000:]}")
    if not report["ok"]:
        pytest.fail(f"{label}: the step {report['step']!r} failed:\n{report['error']}\n"
                    f"steps that passed: {report['steps']}\n{report['traceback']}{server_tail(server)}")
    return report["result"]


def mint_api_token(server: LiveServer, username: str, name: str) -> str:
    """A new API token for ``username``, minted with ``keelplan token`` (it prints the token last)."""
    output = server.cli("token", username, "--name", name).stdout
    return output.strip().splitlines()[-1].strip()
