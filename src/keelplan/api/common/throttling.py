"""The heavy-request gate over HTTP: which requests are heavy, a slot held while one runs, 429 past the bounds.

A view marks its heavy handlers with :func:`heavy` (the bulk endpoint, sync, a schedule recompute); any write
whose body is over ``KEELPLAN_HEAVY_BODY_KB`` is heavy too. :class:`HeavyRequestThrottle` (a DRF throttle, so
it runs after authentication and permissions, before the body is read) takes one of the user's slots and one
of the deployment's from ``keelplan.core.slots``, and refuses with 429 ``too_many_heavy_requests`` and a
``Retry-After`` header when either bound is reached. The middleware :func:`heavy_slot_release` gives the slots
back once the response is rendered, whatever happened in between.
"""

from __future__ import annotations

import math
import threading
import time

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.throttling import BaseThrottle

from keelplan.core.slots import HeavySlotsBusy, heavy_slots_acquire

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Where the slots of a request are kept, on Django's HttpRequest (which the middleware sees).
_REQUEST_ATTRIBUTE = "_keelplan_heavy_slots"


def heavy(*methods: str):
    """Mark a view handler (an ``APIView`` method or a ViewSet ``@action``) heavy for the given HTTP methods."""
    def mark(func):
        func.heavy_methods = frozenset(m.upper() for m in methods)
        return func
    return mark


class TooManyHeavyRequests(exceptions.APIException):
    """429 in the v1 error shape; ``wait`` becomes the ``Retry-After`` header (DRF's handler sets it)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_heavy_requests"

    def __init__(self, message: str, *, wait: int):
        super().__init__({"detail": message, "code": self.default_code})
        self.wait = wait


class _RecentDurations:
    """How long heavy requests take in this process (a moving average): the wait a refused client is told."""

    def __init__(self, initial: float = 2.0):
        self._lock = threading.Lock()
        self._average = initial

    def record(self, seconds: float) -> None:
        with self._lock:
            self._average = 0.7 * self._average + 0.3 * seconds

    def retry_after(self) -> int:
        with self._lock:
            return max(1, min(60, math.ceil(self._average)))


recent_durations = _RecentDurations()


def is_heavy(request, view) -> bool:
    """Whether ``request`` to ``view`` needs a heavy slot."""
    handler = getattr(view, request.method.lower(), None)
    if request.method in getattr(handler, "heavy_methods", ()):
        return True
    if request.method not in WRITE_METHODS:
        return False
    threshold = settings.KEELPLAN_HEAVY_BODY_KB * 1024
    if threshold <= 0:
        return False
    meta = request.META
    length = meta.get("CONTENT_LENGTH")
    if not length:
        # A chunked body's size is unknown until it is read: count it as large.
        return "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    try:
        return int(length) > threshold
    except ValueError:
        return False


class HeavyRequestThrottle(BaseThrottle):
    """Takes the heavy slots of an authenticated heavy request, or refuses it with 429."""

    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not is_heavy(request, view):
            return True
        django_request = request._request
        if getattr(django_request, _REQUEST_ATTRIBUTE, None) is not None:
            return True  # a view calling another view within one request holds its slots already
        try:
            held = heavy_slots_acquire(user_id=user.pk, per_user=settings.KEELPLAN_HEAVY_PER_USER,
                                       server=settings.KEELPLAN_HEAVY_SERVER)
        except HeavySlotsBusy as exc:
            raise TooManyHeavyRequests(exc.message, wait=recent_durations.retry_after()) from None
        setattr(django_request, _REQUEST_ATTRIBUTE, (held, time.monotonic()))
        return True


def heavy_slot_release(get_response):
    """Middleware: after the view has answered and its response is rendered (or anything failed), release the
    heavy slots the request took."""

    def middleware(request):
        try:
            return get_response(request)
        finally:
            taken = request.__dict__.pop(_REQUEST_ATTRIBUTE, None)
            if taken is not None:
                held, started = taken
                held.release()
                recent_durations.record(time.monotonic() - started)

    return middleware
