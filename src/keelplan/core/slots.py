"""Numbered slots that every process of a deployment sees: how many heavy requests run at once, per user and
in all.

A slot is a named lock taken without waiting: a PostgreSQL session advisory lock when the database is
PostgreSQL (so processes on several hosts sharing the database count together), an ``flock`` on a small file
under ``DATA_DIR/slots`` with SQLite (one host). Both are released by the operating system or the database
if the holder dies, so a crashed worker never leaks a slot. A process-local set of held names comes first:
an advisory lock is re-entrant within one database session, and a thread must not take a slot its own
connection already holds for another request.

>>> slot_key_number("heavy:server:0") == slot_key_number("heavy:server:0")
True
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections

from keelplan.core.errors import DomainError

logger = logging.getLogger(__name__)

# Process-local: names of the slots some thread of this process holds.
_held: set[str] = set()
_held_lock = threading.Lock()


class HeavySlotsBusy(DomainError):
    """Every slot of a bound is taken. ``scope`` is ``"user"`` (the actor's own limit) or ``"server"``."""

    code = "too_many_heavy_requests"

    def __init__(self, message: str, *, scope: str, limit: int):
        super().__init__(message)
        self.scope = scope
        self.limit = limit


def slot_key_number(name: str) -> int:
    """The signed 64-bit advisory-lock key of a slot name (``keelplan:`` keeps it apart from other users' keys)."""
    digest = hashlib.blake2b(f"keelplan:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def slot_file(name: str) -> Path:
    """The lock file of a slot name on SQLite."""
    return Path(settings.DATA_DIR) / "slots" / f"{name.replace(':', '-')}.lock"


class _AdvisoryLocks:
    """Session advisory locks on the thread's Django connection (kept open between requests by CONN_MAX_AGE;
    if it closes, PostgreSQL releases its locks)."""

    def __init__(self, alias: str):
        self.alias = alias

    def try_lock(self, name: str):
        number = slot_key_number(name)
        with connections[self.alias].cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [number])
            taken = cursor.fetchone()[0]
        return number if taken else None

    def unlock(self, number) -> None:
        with connections[self.alias].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [number])


class _FileLocks:
    """``flock`` on one file per slot. Each take opens the file afresh, so two threads of one process conflict
    too (flock locks belong to the open file, not the process)."""

    def try_lock(self, name: str):
        path = slot_file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd

    def unlock(self, fd) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _backend(alias: str = "default"):
    return _AdvisoryLocks(alias) if connections[alias].vendor == "postgresql" else _FileLocks()


@dataclass
class HeldSlots:
    """Slots taken together; :meth:`release` gives them all back (safe to call twice)."""

    names: list[str] = field(default_factory=list)
    _handles: list = field(default_factory=list, repr=False)
    _backend: object = field(default=None, repr=False)

    def release(self) -> None:
        while self.names:
            name, handle = self.names.pop(), self._handles.pop()
            try:
                self._backend.unlock(handle)
            except (DatabaseError, OSError):
                # The lock went with its connection or file descriptor; there is nothing left to give back.
                logger.warning("could not release slot %s cleanly", name, exc_info=True)
            finally:
                with _held_lock:
                    _held.discard(name)

    def __enter__(self) -> HeldSlots:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _take_one(held: HeldSlots, prefix: str, count: int) -> bool:
    """Take the first free slot ``prefix:0`` ... ``prefix:count-1`` into ``held``; False if all are taken."""
    for number in range(count):
        name = f"{prefix}:{number}"
        with _held_lock:
            if name in _held:
                continue
            handle = held._backend.try_lock(name)
            if handle is None:
                continue
            _held.add(name)
        held.names.append(name)
        held._handles.append(handle)
        return True
    return False


def heavy_slots_acquire(*, user_id: int, per_user: int, server: int) -> HeldSlots:
    """One of the user's ``per_user`` slots and one of the deployment's ``server`` slots, or
    :class:`HeavySlotsBusy` with nothing held. A bound of 0 (or less) is no bound."""
    held = HeldSlots(_backend=_backend())
    try:
        if per_user > 0 and not _take_one(held, f"heavy:user:{user_id}", per_user):
            raise HeavySlotsBusy(f"You already have {per_user} heavy request{'s' if per_user != 1 else ''} "
                                 "(bulk writes, sync, schedule recomputes, large bodies) running; retry when "
                                 f"{'they have' if per_user != 1 else 'it has'} finished.",
                                 scope="user", limit=per_user)
        if server > 0 and not _take_one(held, "heavy:server", server):
            raise HeavySlotsBusy(f"The server is running as many heavy requests as it takes at once ({server}); "
                                 "retry shortly.", scope="server", limit=server)
    except BaseException:
        held.release()
        raise
    return held


def slots_held_here() -> set[str]:
    """Names of the slots this process holds (for tests and diagnostics)."""
    with _held_lock:
        return set(_held)
