"""The service table: each ``"<entity>.<verb>"`` a client may name, and the function that serves it.

A handler takes a :class:`Call` and returns the reply's fields beyond ``"status": "ok"`` (``{}`` for a plain ok).
Modules register their handlers with :func:`service` when ``keelplan.api.beebole.services`` imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from keelplan.api.beebole.calls import Fields

SERVICES: dict[str, Callable[[Call], dict]] = {}


@dataclass
class Call:
    """One service request: who asks (``actor``), which service, and the body's fields."""

    actor: object
    name: str
    body: Fields

    def section(self, key: str, *, unwrapped: bool = False) -> Fields:
        """The entity object of a create or update body (``{"project": {...}}``). ``unwrapped``: a body that
        does not wrap its fields (the ``beebole`` package sends companies, subprojects and groups so) is read as
        that object."""
        if unwrapped and not self.body.has(key):
            return Fields(self.body.data, "")
        return self.body.object(key)


def service(*names: str):
    """Register the decorated handler under each of ``names``."""
    def register(handler: Callable[[Call], dict]):
        for name in names:
            if name in SERVICES:
                raise RuntimeError(f"Two handlers for {name}.")
            SERVICES[name] = handler
        return handler
    return register


def activation(entity: str, finder: Callable, write: Callable) -> None:
    """Register ``<entity>.activate`` and ``<entity>.deactivate``: the row ``{"id"}`` names, found with
    ``finder(call, id)``, handed to ``write(call, row, active)``."""
    for verb, active in (("activate", True), ("deactivate", False)):
        def handler(call: Call, active: bool = active) -> dict:
            write(call, finder(call, call.body.id("id")), active)
            return {}
        handler.__name__ = f"{entity}_{verb}"
        service(f"{entity}.{verb}")(handler)
