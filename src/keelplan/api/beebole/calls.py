"""Reading a service request: the fields of a Beebole body, each checked for presence and type, refused with a
message that names the field as the client sent it (``project.company.id``).

Beebole bodies put a row's fields in an object named after the entity (``{"project": {"name": ...}}``) and refer
to other rows as ``{"id": N}``. Ids are JSON integers; ``true`` is not one, nor is ``"12"``. An optional field sent
as ``null`` is as if it were left out; a required one is refused. Fields a service does not read are ignored, as
Beebole does (clients send extra attributes).
"""

from __future__ import annotations

import datetime as dt

from keelplan.api.beebole.errors import BeeboleError

def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class Fields:
    """The fields of one JSON object in a request, at ``path`` (``""`` for the body itself)."""

    def __init__(self, data: dict, path: str = ""):
        self.data, self.path = data, path

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def missing(self, key: str) -> BeeboleError:
        return BeeboleError(f"Missing field: {self.where(key)}.")

    def ill_typed(self, key: str, expected: str) -> BeeboleError:
        return BeeboleError(f"Invalid field {self.where(key)}: expected {expected}, got "
                            f"{_kind(self.data.get(key))}.")

    def _get(self, key: str, required: bool):
        if key not in self.data:
            if required:
                raise self.missing(key)
            return None
        return self.data[key]

    def object(self, key: str, *, required: bool = True) -> Fields | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, dict):
            raise self.ill_typed(key, "an object")
        return Fields(value, self.where(key))

    def integer(self, key: str, *, required: bool = True) -> int | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.ill_typed(key, "an integer")
        return value

    def id(self, key: str = "id", *, required: bool = True) -> int | None:
        """A row id: a positive JSON integer (one too large for any row is simply unknown, never an error)."""
        value = self.integer(key, required=required)
        if value is not None and value < 1:
            raise BeeboleError(f"Invalid field {self.where(key)}: an id is a positive integer.")
        return value

    def ref(self, key: str, *, required: bool = True, bare: bool = False) -> int | None:
        """The id of the row ``{"<key>": {"id": N}}`` names; ``bare`` also takes ``{"<key>": N}``."""
        value = self._get(key, required)
        if value is None and not required:
            return None
        if bare and isinstance(value, int) and not isinstance(value, bool):
            return self.id(key)
        if not isinstance(value, dict):
            raise self.ill_typed(key, 'an object such as {"id": 1}')
        return Fields(value, self.where(key)).id("id")

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise self.ill_typed(key, "a string")
        return value

    def boolean(self, key: str, *, required: bool = True) -> bool | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, bool):
            raise self.ill_typed(key, "true or false")
        return value

    def date(self, key: str, *, required: bool = True) -> dt.date | None:
        """``YYYY-MM-DD``; Beebole's documents also allow a time after it (``YYYY-MM-DD HH:MM:SS``), ignored."""
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise self.ill_typed(key, "a date (YYYY-MM-DD)")
        text = value.strip()
        day, _, rest = text.partition(" ")
        try:
            if rest:
                dt.time.fromisoformat(rest)
            if len(day) != 10:
                raise ValueError
            return dt.date.fromisoformat(day)
        except ValueError:
            raise BeeboleError(f"Invalid field {self.where(key)}: {value!r} is not a date (YYYY-MM-DD).") from None
