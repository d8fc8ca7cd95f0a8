"""The domain's error family and its code registry: every failure a service can report.

Services raise these; each API dialect maps them to its own wire format in exactly one exception handler, so a
rule is enforced once and reported four ways. A code is a member of ``ErrorCode``; its entry in ``REGISTRY``
gives the error class it belongs to (which decides the HTTP status family) and the parameters it carries, so a
dialect can render "too long" with its own words and the limit (``too_long`` with ``max_length``). Messages are
in the domain's words: a field is named by its domain name, never by one dialect's wire name.

>>> error = InvalidInput("At most 255 characters.", code=ErrorCode.TOO_LONG, field="name", max_length=255)
>>> error.code, error.params
('too_long', {'max_length': 255})
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Every code a domain error may carry; stable across releases."""

    # The value itself.
    INVALID = "invalid"                      # breaks a rule no narrower code names
    REQUIRED = "required"                    # absent, and the row needs it
    NULL = "null"                            # sent as null where a value is needed
    BLANK = "blank"                          # empty text where text is needed
    TOO_LONG = "too_long"                    # max_length
    TOO_SHORT = "too_short"                  # min_length
    INVALID_TYPE = "invalid_type"            # expected: "string", "integer", "number", "boolean", "date", "object", "list", "uuid"
    INVALID_CHOICE = "invalid_choice"        # choices: the values allowed
    OUT_OF_RANGE = "out_of_range"            # min_value, max_value (either may be None: unbounded)
    INVALID_DATE = "invalid_date"            # not a calendar date (YYYY-MM-DD)
    INVALID_FORMAT = "invalid_format"        # pattern: what the text must look like (a regexp, "e-mail", "uuid")
    UNKNOWN_FIELD = "unknown_field"          # a field this row does not have
    NOT_ALLOWED = "not_allowed"              # a field that may not be set with the others given
    INVALID_REFERENCE = "invalid_reference"  # entity: names no row the actor may use here
    TOO_MANY = "too_many"                    # max_count
    DATE_OUT_OF_RANGE = "date_out_of_range"  # a date beyond what the scheduler can place
    FINISH_BEFORE_START = "finish_before_start"
    NOT_A_MEMBER = "not_a_member"            # a person who is not a member of the project
    INVALID_QUERY = "invalid_query"          # a filter or sort the collection does not take
    INVALID_CURSOR = "invalid_cursor"
    # Rules across rows.
    SELF_DEPENDENCY = "self_dependency"
    CROSS_PROJECT_DEPENDENCY = "cross_project_dependency"
    DUPLICATE_DEPENDENCY = "duplicate_dependency"
    CYCLIC_DEPENDENCY = "cyclic_dependency"  # cycle: the ids on it, the first repeated last
    CYCLIC_PARENT = "cyclic_parent"
    NOTHING_TO_FOLLOW = "nothing_to_follow"  # automatic scheduling asked of a work item with no predecessor or child
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"  # a status change the type's workflow does not allow the actor
    DUPLICATE_UID = "duplicate_uid"
    LAST_OWNER = "last_owner"
    LAST_WORKSPACE_ADMIN = "last_workspace_admin"
    UNKNOWN_SYNC_POINT = "unknown_sync_point"
    SYNC_POINT_EXPIRED = "sync_point_expired"
    CLIENT_BATCH_ID_REUSED = "client_batch_id_reused"
    # Existence and rights.
    NOT_FOUND = "not_found"                  # entity
    PERMISSION_DENIED = "permission_denied"
    # Clashes with the current state.
    CONFLICT = "conflict"
    STALE_LOCK_VERSION = "stale_lock_version"  # current_lock_version
    PARENT_DELETED = "parent_deleted"
    DUPLICATE_IDENTIFIER = "duplicate_identifier"
    DUPLICATE_USER = "duplicate_user"
    DUPLICATE_MEMBERSHIP = "duplicate_membership"
    DUPLICATE_ASSIGNMENT = "duplicate_assignment"
    DUPLICATE_NAME = "duplicate_name"
    HAS_SUBPROJECTS = "has_subprojects"
    IN_USE = "in_use"                        # reference_count: rows that still use this one
    CALENDAR_IN_USE = "calendar_in_use"      # reference_count
    # Load.
    TOO_MANY_HEAVY_REQUESTS = "too_many_heavy_requests"  # retry_after (seconds)


class DomainError(Exception):
    """Base of all domain errors. ``code`` is an ``ErrorCode`` value; ``message`` is for people; ``params`` are the
    code's parameters (and any further detail a dialect may show)."""

    code = ErrorCode.INVALID

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, **params):
        super().__init__(message)
        self.message = message
        # ErrorCode(...) refuses a code missing from the registry: a new code is added there first.
        self.code = str(ErrorCode(code or type(self).code))
        self.field = field
        self.params = params

    @property
    def extra(self) -> dict:
        return self.params

    def field_errors(self) -> dict[str, list[str]]:
        return {self.field: [self.message]} if self.field else {}

    def under(self, where: str) -> DomainError:
        """This error naming the row of a many-row request it was found in: field ``duration`` under ``tasks[3]``
        becomes ``tasks[3].duration``. Returns the error itself, to re-raise."""
        self.field = f"{where}.{self.field}" if self.field else where
        return self


class InvalidInput(DomainError):
    """Input that breaks a domain rule (HTTP 400 / 422). ``field`` names the offending field when there is one."""

    code = ErrorCode.INVALID

    def __init__(self, message: str = "Invalid input.", *, errors: dict[str, list[str]] | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.errors = dict(errors or {})
        if self.field and self.field not in self.errors:
            self.errors[self.field] = [message]

    def field_errors(self) -> dict[str, list[str]]:
        return self.errors

    def under(self, where: str) -> InvalidInput:
        self.errors = {f"{where}.{key}": messages for key, messages in self.errors.items()} or {where: [self.message]}
        super().under(where)
        return self


class CyclicDependency(InvalidInput):
    """A dependency (or parent link) that would close a cycle. ``cycle`` lists the ids on it, first id repeated last."""

    code = ErrorCode.CYCLIC_DEPENDENCY

    def __init__(self, cycle: list, *, names: list[str] | None = None, field: str = "predecessor"):
        shown = " -> ".join(names or [str(x) for x in cycle])
        super().__init__(f"This link would create a cycle: {shown}.", field=field, cycle=list(cycle))
        self.cycle = list(cycle)


class NotFound(DomainError):
    """The row does not exist, is deleted, or the actor may not know it exists."""

    code = ErrorCode.NOT_FOUND


class PermissionDenied(DomainError):
    """The actor can see the row but their role does not allow the action."""

    code = ErrorCode.PERMISSION_DENIED


class Conflict(DomainError):
    """The request is well-formed but clashes with the current state (duplicate, stale version, in use)."""

    code = ErrorCode.CONFLICT


class StaleLockVersion(Conflict):
    code = ErrorCode.STALE_LOCK_VERSION

    def __init__(self, *, expected: int, current: int):
        super().__init__(
            f"The row was changed by someone else since version {expected} (it is now at version {current}); "
            "read it again and apply the change to the new version.",
            field="lock_version",
            current_lock_version=current,
        )


class Throttled(DomainError):
    """Too many requests of a kind at once; the caller may retry after ``retry_after`` seconds."""

    code = ErrorCode.TOO_MANY_HEAVY_REQUESTS


@dataclass(frozen=True)
class CodeSpec:
    """What a code carries: the names of its parameters. (The error's class, not its code, decides the status
    family: ``duplicate_uid`` is 400 for two rows of one request, 409 against a stored row.)"""

    params: tuple[str, ...] = ()


# Every code, with its parameters. tests/core/test_error_codes.py holds the code to it.
REGISTRY: dict[ErrorCode, CodeSpec] = {code: CodeSpec() for code in ErrorCode} | {
    ErrorCode.TOO_LONG: CodeSpec(("max_length",)),
    ErrorCode.TOO_SHORT: CodeSpec(("min_length",)),
    ErrorCode.INVALID_TYPE: CodeSpec(("expected",)),
    ErrorCode.INVALID_CHOICE: CodeSpec(("choices",)),
    ErrorCode.OUT_OF_RANGE: CodeSpec(("min_value", "max_value")),
    ErrorCode.INVALID_FORMAT: CodeSpec(("pattern",)),
    ErrorCode.INVALID_REFERENCE: CodeSpec(("entity",)),
    ErrorCode.TOO_MANY: CodeSpec(("max_count",)),
    ErrorCode.CYCLIC_DEPENDENCY: CodeSpec(("cycle",)),
    ErrorCode.NOT_FOUND: CodeSpec(("entity",)),
    ErrorCode.STALE_LOCK_VERSION: CodeSpec(("current_lock_version",)),
    ErrorCode.IN_USE: CodeSpec(("reference_count",)),
    ErrorCode.CALENDAR_IN_USE: CodeSpec(("reference_count",)),
    ErrorCode.TOO_MANY_HEAVY_REQUESTS: CodeSpec(("retry_after",)),
}
