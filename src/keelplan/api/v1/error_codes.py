"""How the v1 (TruePPM) dialect shows each domain error code: the code on the wire, and which of the code's
parameters the body carries. (The status follows the error's class: ``errors.STATUS_BY_ERROR``.)

v1 answers a rule about one value (blank, too long, out of range, not a choice, ...) with ``invalid``, as it
always has; its clients read the field map and the message. Codes of rules across rows keep their own name.
``tests/core/test_error_codes.py`` fails if a registered code has no entry in ``ERRORS``.
"""

from __future__ import annotations

from typing import NamedTuple

from keelplan.core.errors import ErrorCode as C


class WireError(NamedTuple):
    code: str
    params: tuple[str, ...] = ()


def _invalid(code: C) -> WireError:
    return WireError("invalid")


def _own(code: C, params: tuple[str, ...] = ()) -> WireError:
    return WireError(code.value, params)


ERRORS: dict[C, WireError] = {
    **{code: _invalid(code) for code in (
        C.INVALID, C.REQUIRED, C.NULL, C.BLANK, C.TOO_LONG, C.TOO_SHORT, C.INVALID_TYPE, C.INVALID_CHOICE,
        C.OUT_OF_RANGE, C.INVALID_DATE, C.INVALID_FORMAT, C.UNKNOWN_FIELD, C.NOT_ALLOWED, C.INVALID_REFERENCE,
        C.TOO_MANY, C.FINISH_BEFORE_START, C.NOT_A_MEMBER, C.INVALID_QUERY)},
    **{code: _own(code) for code in (
        C.DATE_OUT_OF_RANGE, C.INVALID_CURSOR, C.SELF_DEPENDENCY, C.CROSS_PROJECT_DEPENDENCY, C.DUPLICATE_DEPENDENCY,
        C.CYCLIC_PARENT, C.NOTHING_TO_FOLLOW, C.DUPLICATE_UID, C.LAST_OWNER, C.LAST_WORKSPACE_ADMIN,
        C.UNKNOWN_SYNC_POINT, C.SYNC_POINT_EXPIRED, C.CLIENT_BATCH_ID_REUSED, C.TRANSITION_NOT_ALLOWED)},
    C.CYCLIC_DEPENDENCY: _own(C.CYCLIC_DEPENDENCY, ("cycle",)),
    C.NOT_FOUND: _own(C.NOT_FOUND),
    C.PERMISSION_DENIED: _own(C.PERMISSION_DENIED),
    **{code: _own(code) for code in (
        C.CONFLICT, C.PARENT_DELETED, C.DUPLICATE_IDENTIFIER, C.DUPLICATE_USER, C.DUPLICATE_MEMBERSHIP,
        C.DUPLICATE_ASSIGNMENT, C.DUPLICATE_NAME, C.HAS_SUBPROJECTS)},
    C.STALE_LOCK_VERSION: _own(C.STALE_LOCK_VERSION, ("current_lock_version",)),
    C.IN_USE: _own(C.IN_USE, ("reference_count",)),
    C.CALENDAR_IN_USE: _own(C.CALENDAR_IN_USE, ("reference_count",)),
    C.TOO_MANY_HEAVY_REQUESTS: _own(C.TOO_MANY_HEAVY_REQUESTS, ("retry_after",)),
}


def v1_error(code: str) -> WireError:
    return ERRORS[C(code)]
