"""The domain's error family: every failure a service can report, each with a stable ``code``.

Services raise these; each API dialect maps them to its own wire format in exactly one exception
handler, so a rule is enforced once and reported four ways.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of all domain errors. ``code`` is stable across releases; ``message`` is for people."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.extra = extra

    def field_errors(self) -> dict[str, list[str]]:
        return {self.field: [self.message]} if self.field else {}


class InvalidInput(DomainError):
    """Input that breaks a domain rule (HTTP 400 / 422). ``field`` names the offending field when there is one."""

    code = "invalid"

    def __init__(self, message: str = "Invalid input.", *, errors: dict[str, list[str]] | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.errors = dict(errors or {})
        if self.field and self.field not in self.errors:
            self.errors[self.field] = [message]

    def field_errors(self) -> dict[str, list[str]]:
        return self.errors


class CyclicDependency(InvalidInput):
    """A dependency (or parent link) that would close a cycle. ``cycle`` lists the ids on it, first id repeated last."""

    code = "cyclic_dependency"

    def __init__(self, cycle: list, *, names: list[str] | None = None, field: str = "predecessor"):
        shown = " -> ".join(names or [str(x) for x in cycle])
        super().__init__(f"This link would create a cycle: {shown}.", field=field)
        self.cycle = list(cycle)


class NotFound(DomainError):
    """The row does not exist, is deleted, or the actor may not know it exists."""

    code = "not_found"


class PermissionDenied(DomainError):
    """The actor can see the row but their role does not allow the action."""

    code = "permission_denied"


class Conflict(DomainError):
    """The request is well-formed but clashes with the current state (duplicate, stale version, in use)."""

    code = "conflict"


class StaleLockVersion(Conflict):
    code = "stale_lock_version"

    def __init__(self, *, expected: int, current: int):
        super().__init__(
            f"The row was changed by someone else (you sent lock_version {expected}, it is now {current}); "
            "reload it and apply your change again.",
            field="lock_version",
            current_lock_version=current,
        )
