"""Process-level response headers: which server process answered, for checking a multi-worker deployment."""

from __future__ import annotations

import os

from keelplan.config import env


def worker_pid_header(get_response):
    """Add ``X-Keelplan-Worker: <pid>`` to every response when ``KEELPLAN_EXPOSE_WORKER_PID`` is set.

    Off by default: a process id tells an outsider about the deployment and is only useful when testing
    that several processes share the load.
    """
    if not env.flag("KEELPLAN_EXPOSE_WORKER_PID"):
        return get_response

    def middleware(request):
        response = get_response(request)
        response["X-Keelplan-Worker"] = str(os.getpid())
        return response

    return middleware
