"""Reading the process environment into settings values: data folder, database URL, secrets."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


def data_dir() -> Path:
    """The folder that holds the SQLite file and the generated secret key (``KEELPLAN_DATA_DIR``, default ``./var``)."""
    path = Path(os.environ.get("KEELPLAN_DATA_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(folder: Path) -> str:
    """``KEELPLAN_SECRET_KEY`` if set; otherwise a random key kept in the data folder so restarts keep sessions."""
    explicit = os.environ.get("KEELPLAN_SECRET_KEY")
    if explicit:
        return explicit
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def database_from_url(url: str | None, folder: Path) -> dict:
    """Django ``DATABASES['default']`` for ``DATABASE_URL`` (``postgres://`` or ``sqlite:///``), else SQLite in ``folder``."""
    if not url:
        return _sqlite(folder / "keelplan.sqlite3")
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql", "pgsql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "keelplan",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": int(os.environ.get("KEELPLAN_CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    if parsed.scheme == "sqlite":
        return _sqlite(Path(unquote(parsed.path)))
    raise ValueError(f"DATABASE_URL: unsupported scheme {parsed.scheme!r} (use postgres:// or sqlite:///)")


def _sqlite(path: Path) -> dict:
    # IMMEDIATE transactions take the write lock at BEGIN, so two read-then-write transactions
    # queue on the lock instead of failing with "database is locked" halfway through.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        },
    }


def flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")
