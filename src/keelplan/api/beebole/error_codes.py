"""How the Beebole dialect shows each domain error code: the HTTP status and the words its message starts with.

Beebole has no error codes, only ``{"status": "error", "message": "..."}``, with HTTP 200 for every request it
understood. So a broken rule reads ``<field as sent>: <the domain's message>``; a refusal of rights
``Not allowed: ...``; a row the caller may not see ``Unknown <entity>: ...`` (as one that does not exist); too many
heavy requests at once is 429, the one domain error that is not a 200. ``tests/core/test_error_codes.py`` fails if
a registered code has no entry here.
"""

from __future__ import annotations

from typing import NamedTuple

from keelplan.core.errors import ErrorCode as C


class WireError(NamedTuple):
    status: int
    # What the message starts with: "field" (the field the error names, as the client sent it), or fixed words.
    lead: str


FIELD = WireError(200, "field")

ERRORS: dict[C, WireError] = {
    **{code: FIELD for code in C},
    C.NOT_FOUND: WireError(200, "Unknown"),
    C.PERMISSION_DENIED: WireError(200, "Not allowed"),
    C.STALE_LOCK_VERSION: WireError(200, "Changed meanwhile"),
    C.TOO_MANY_HEAVY_REQUESTS: WireError(429, "Too many requests"),
}
