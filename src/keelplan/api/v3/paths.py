"""Paths under ``/api/v3`` route alike with a trailing slash or doubled slashes (pyopenproject asks for
``/api/v3/work_packages//5`` and ``/api/v3/work_packages/``), as OpenProject's router reads them."""

from __future__ import annotations

import re

PREFIX = "/api/v3"
_SLASHES = re.compile(r"/{2,}")


def normalise_v3_paths(get_response):
    def middleware(request):
        path = request.path_info
        if path.startswith(PREFIX) and (path[len(PREFIX):len(PREFIX) + 1] in ("", "/")):
            clean = _SLASHES.sub("/", path)
            if len(clean) > 1:
                clean = clean.rstrip("/")
            if clean != path:
                request.path_info = clean
        return get_response(request)

    return middleware
