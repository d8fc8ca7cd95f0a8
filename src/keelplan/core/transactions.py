"""The write scope every service runs in: one database transaction, plus work that must happen just before it
commits.

``write_transaction`` is used in place of ``transaction.atomic`` on services (as a decorator or a ``with``
block). Scopes nest; only the outermost one runs the *pre-commit hooks* registered during it with
``before_commit``, still inside the transaction, so what they write commits or rolls back with the rows that
caused it. The scheduler uses this to reschedule a project once per request however many rows were written:

>>> from keelplan.core.transactions import before_commit, in_write_scope
>>> in_write_scope()
False

Hooks are keyed: registering the same key twice in one scope runs it once. A hook may register further hooks;
they run in the same pass. If the scope's body raises, no hook runs and the transaction rolls back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from contextlib import contextmanager

from django.db import transaction

_state = threading.local()


def in_write_scope() -> bool:
    return getattr(_state, "depth", 0) > 0


def before_commit(key: Hashable, hook: Callable[[], None]) -> None:
    """Run ``hook`` once, at the end of the outermost write scope, before its transaction commits."""
    if not in_write_scope():
        raise RuntimeError("before_commit needs a write_transaction scope around the write")
    _state.hooks.setdefault(key, hook)


@contextmanager
def write_transaction():
    """A service's transaction. Usable as ``@write_transaction()`` or ``with write_transaction():``."""
    with transaction.atomic():
        depth = getattr(_state, "depth", 0)
        if depth == 0:
            _state.hooks = {}
        _state.depth = depth + 1
        try:
            yield
            if depth == 0:
                _run_hooks()
        finally:
            _state.depth = depth
            if depth == 0:
                _state.hooks = {}


def _run_hooks() -> None:
    done: set = set()
    while True:
        pending = [(k, h) for k, h in list(_state.hooks.items()) if k not in done]
        if not pending:
            return
        for key, hook in pending:
            done.add(key)
            hook()


__all__ = ["before_commit", "in_write_scope", "write_transaction"]
