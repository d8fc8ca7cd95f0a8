"""How the OpenProject v3 dialect shows each domain error code: the HTTP status and OpenProject's error
identifier (``urn:openproject-org:api:v3:errors:<identifier>``).

OpenProject answers a broken rule about a property with 422 ``PropertyConstraintViolation`` naming the attribute
(a value it cannot read at all -- a date that is no date -- is ``PropertyFormatError``), a stale ``lockVersion``
with 409 ``UpdateConflict``, a bad filter with 400 ``InvalidQuery``, an invisible row with 404 ``NotFound`` and a
visible one the caller may not change with 403 ``MissingPermission``. A duplicate or a cycle is a broken rule
too: 422, not 409. ``tests/core/test_error_codes.py`` fails if a registered code has no entry here.
"""

from __future__ import annotations

from typing import NamedTuple

from keelplan.core.errors import ErrorCode as C


class WireError(NamedTuple):
    status: int
    identifier: str


CONSTRAINT = WireError(422, "PropertyConstraintViolation")
FORMAT = WireError(422, "PropertyFormatError")
INVALID_QUERY = WireError(400, "InvalidQuery")

ERRORS: dict[C, WireError] = {
    **{code: CONSTRAINT for code in (
        C.INVALID, C.REQUIRED, C.NULL, C.BLANK, C.TOO_LONG, C.TOO_SHORT, C.INVALID_CHOICE, C.OUT_OF_RANGE,
        C.UNKNOWN_FIELD, C.NOT_ALLOWED, C.INVALID_REFERENCE, C.TOO_MANY, C.FINISH_BEFORE_START, C.NOT_A_MEMBER,
        C.DATE_OUT_OF_RANGE, C.SELF_DEPENDENCY, C.CROSS_PROJECT_DEPENDENCY, C.DUPLICATE_DEPENDENCY, C.CYCLIC_PARENT,
        C.NOTHING_TO_FOLLOW, C.CYCLIC_DEPENDENCY, C.DUPLICATE_UID, C.LAST_OWNER, C.LAST_WORKSPACE_ADMIN,
        C.PARENT_DELETED, C.DUPLICATE_IDENTIFIER, C.DUPLICATE_USER, C.DUPLICATE_MEMBERSHIP, C.DUPLICATE_ASSIGNMENT,
        C.DUPLICATE_NAME, C.HAS_SUBPROJECTS, C.IN_USE, C.CALENDAR_IN_USE, C.UNKNOWN_SYNC_POINT, C.SYNC_POINT_EXPIRED,
        C.CLIENT_BATCH_ID_REUSED, C.TRANSITION_NOT_ALLOWED)},
    C.INVALID_TYPE: FORMAT,
    C.INVALID_DATE: FORMAT,
    C.INVALID_FORMAT: CONSTRAINT,
    C.INVALID_QUERY: INVALID_QUERY,
    C.INVALID_CURSOR: INVALID_QUERY,
    C.NOT_FOUND: WireError(404, "NotFound"),
    C.PERMISSION_DENIED: WireError(403, "MissingPermission"),
    C.STALE_LOCK_VERSION: WireError(409, "UpdateConflict"),
    C.CONFLICT: WireError(409, "UpdateConflict"),
    C.TOO_MANY_HEAVY_REQUESTS: WireError(429, "TooManyRequests"),
}


def v3_error(code: str) -> WireError:
    return ERRORS[C(code)]
