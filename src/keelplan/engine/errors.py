"""The engine's exception family. Every error is a ``ValueError`` so callers that only know that still work."""

from __future__ import annotations


class SchedulingError(ValueError):
    """Base of every error the engine raises."""


class InvalidInput(SchedulingError):
    """An input value breaks a rule. ``task`` and ``field`` name where, when known."""

    def __init__(self, message: str, *, task=None, field: str | None = None):
        where = []
        if task is not None:
            where.append(f"task {task!r}")
        if field:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.task = task
        self.field = field
        self.reason = message


class UnknownTaskError(InvalidInput):
    """A link, parent or calendar reference names something that is not in the input."""


class CyclicDependencyError(SchedulingError):
    """The links (with summaries expanded to their tasks) form a cycle. ``cycle`` lists the task ids on it,
    the first repeated at the end."""

    def __init__(self, cycle: list):
        self.cycle = list(cycle)
        super().__init__("Cyclic dependency: " + " -> ".join(str(t) for t in self.cycle))


class DateRangeError(SchedulingError):
    """The schedule would run outside the dates Python can represent (years 1 to 9999)."""
