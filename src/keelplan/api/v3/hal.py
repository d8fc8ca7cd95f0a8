"""HAL building blocks of the OpenProject v3 dialect: links, formattable text, dates and durations, and
collections with OpenProject's paging (``offset`` is a 1-based page number, ``pageSize`` a page's length).

Every href is root-relative (``/api/v3/...``): clients prefix it with their base URL. Every link that points
somewhere carries a ``title`` (openproject-api-client reads titles without checking they are there); an empty
to-one link is ``{"href": null}``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import urlencode

from keelplan.api.v3.errors import V3Error

API = "/api/v3"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000
NO_LINK = {"href": None}
_SLOT = "KEELPLANSLOT"   # where a templated link's variable goes, kept intact by urlencode


def href(*parts) -> str:
    """``href("work_packages", 5)`` -> ``/api/v3/work_packages/5``; ``href()`` -> ``/api/v3``."""
    return "/".join([API, *(str(p) for p in parts)])


def link(target: str | None, title: str | None = None, **extra) -> dict:
    """A link to ``target`` (None: an empty link). ``extra`` adds ``method``, ``templated``, ``payload``."""
    if target is None:
        return dict(NO_LINK)
    out = {"href": target}
    if title is not None:
        out["title"] = title
    out.update(extra)
    return out


def action(target: str, method: str = "get", **extra) -> dict:
    """An action link (``update``, ``delete``, ...): shown only where the caller may take the action."""
    return {"href": target, "method": method, **extra}


def formattable(raw: str | None) -> dict:
    """OpenProject's formattable text. Keelplan keeps plain text; ``html`` is it escaped, in a paragraph."""
    from django.utils.html import escape

    raw = raw or ""
    html = "".join(f"<p>{escape(line)}</p>" for line in raw.splitlines() if line.strip())
    return {"format": "markdown", "raw": raw, "html": html}


def iso_date(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def iso_datetime(moment: dt.datetime | None) -> str | None:
    """UTC, seconds precision, ``Z``: ``2014-05-21T08:51:20Z``."""
    if moment is None:
        return None
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def iso_days(days: int | None) -> str | None:
    return None if days is None else f"P{int(days)}D"


def iso_hours(hours) -> str | None:
    """``PT2H``, ``PT1H30M``; None for none."""
    if hours is None:
        return None
    minutes = round(float(hours) * 60)
    whole, rest = divmod(minutes, 60)
    if rest and whole:
        return f"PT{whole}H{rest}M"
    return f"PT{rest}M" if rest else f"PT{whole}H"


_ISO_DURATION = re.compile(r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
                           r"(?:(\d+(?:\.\d+)?)S)?)?")


def days_from_iso(value, attribute: str) -> int:
    """``P5D`` (or a whole number of days) as 5; anything else is 422 naming ``attribute``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _ISO_DURATION.fullmatch(value) if isinstance(value, str) and value not in ("P", "PT") else None
    if match is None or any(match.group(i) for i in (2, 3, 4)) or match.group(1) is None \
            or not float(match.group(1)).is_integer():
        raise V3Error(f"{attribute} must be a whole number of days in ISO 8601 ('P5D').",
                      identifier="PropertyFormatError", attribute=attribute)
    return int(float(match.group(1)))


def hours_from_iso(value, attribute: str):
    """``PT2H30M`` (or ``P1DT2H``: a day is 24 hours) as hours, a number; None stays None; anything else is 422
    naming ``attribute``."""
    if value is None:
        return None
    match = _ISO_DURATION.fullmatch(value) if isinstance(value, str) and value not in ("P", "PT") else None
    if match is None or not any(match.groups()):
        raise V3Error(f"{attribute} must be a duration in ISO 8601 ('PT2H30M').", identifier="PropertyFormatError",
                      attribute=attribute)
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return round(days * 24 + hours + minutes / 60 + seconds / 3600, 2)


# ---------------------------------------------------------------- paging

class Page:
    """``offset`` (1-based page) and ``pageSize`` from the query string: absent -> page 1 of 20; ``-1`` or more
    than ``MAX_PAGE_SIZE`` -> ``MAX_PAGE_SIZE``; anything that is not a whole number -> 400 ``InvalidQuery``."""

    def __init__(self, query, *, default_size: int = DEFAULT_PAGE_SIZE):
        self.offset = max(_whole(query.get("offset"), "offset", 1), 1)
        size = _whole(query.get("pageSize"), "pageSize", default_size)
        self.size = MAX_PAGE_SIZE if size < 0 or size > MAX_PAGE_SIZE else size

    def slice(self, rows):
        start = (self.offset - 1) * self.size
        return rows[start:start + self.size] if self.size else rows[:0]


def _whole(raw, name: str, default: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise V3Error(f"{name} must be a whole number.", identifier="InvalidQuery", status_code=400) from None
    if abs(value) > 2**31:
        raise V3Error(f"{name} is out of range.", identifier="InvalidQuery", status_code=400)
    return value


def _with(path: str, query: dict, **changes) -> str:
    params = {k: v for k, v in {**query, **changes}.items() if v is not None}
    return f"{path}?{urlencode(params)}" if params else path


def collection(path: str, query, rows, render=None, *, render_many=None, page: Page | None = None,
               total: int | None = None, kind: str = "Collection", extra_links: dict | None = None) -> dict:
    """A page of ``rows`` (a queryset or list) as a HAL Collection; ``render(row)`` gives each element, or
    ``render_many(rows of the page)`` all of them at once (reading what they share in one go).

    ``path`` is the collection's own href; the links keep the client's ``filters`` and ``sortBy``.
    """
    page = page or Page(query)
    kept = {k: query.get(k) for k in ("filters", "sortBy", "select") if query.get(k) not in (None, "")}
    total = total if total is not None else (rows.count() if hasattr(rows, "count") and not isinstance(rows, list)
                                             else len(rows))
    chosen = page.slice(rows)
    elements = render_many(chosen) if render_many is not None else [render(row) for row in chosen]
    links = {
        "self": link(_with(path, kept, offset=page.offset, pageSize=page.size)),
        "jumpTo": link(_with(path, kept, offset=_SLOT, pageSize=page.size).replace(_SLOT, "{offset}"),
                       templated=True),
        "changeSize": link(_with(path, kept, offset=page.offset, pageSize=_SLOT).replace(_SLOT, "{size}"),
                           templated=True),
    }
    if page.size and page.offset * page.size < total:
        links["nextByOffset"] = link(_with(path, kept, offset=page.offset + 1, pageSize=page.size))
    if page.offset > 1:
        links["previousByOffset"] = link(_with(path, kept, offset=page.offset - 1, pageSize=page.size))
    links.update(extra_links or {})
    return {"_type": kind, "total": total, "count": len(elements), "pageSize": page.size, "offset": page.offset,
            "_embedded": {"elements": elements}, "_links": links}


def plain_collection(path: str, elements: list, *, kind: str = "Collection") -> dict:
    """A collection OpenProject does not page (``/statuses``, ``/days/week``): every element, one page."""
    return {"_type": kind, "total": len(elements), "count": len(elements), "_embedded": {"elements": elements},
            "_links": {"self": link(path)}}


def filters_param(filters: list) -> str:
    """A ``filters`` query value, as OpenProject's own links write it."""
    return json.dumps(filters, separators=(",", ":"))


def id_from_href(value, kind: str, *, attribute: str) -> int | None:
    """The id at the end of ``/api/v3/<kind>/<id>`` (a link's ``href``); None for a null href. Anything else is
    422 naming ``attribute``."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.rstrip("/")
        prefix = f"{API}/{kind}/"
        if text.startswith(prefix) and text[len(prefix):].isdigit() and len(text) - len(prefix) <= 18:
            return int(text[len(prefix):])
    raise V3Error(f"For property '{attribute}' a link like '{API}/{kind}/:id' is expected, but got "
                  f"'{str(value)[:100]}'.", identifier="ResourceTypeMismatch", attribute=attribute)


def body_links(body: dict) -> dict:
    """A write body's ``_links`` (``{}`` when absent), or 422 when it is not an object."""
    links = body.get("_links", {})
    if not isinstance(links, dict):
        raise V3Error("_links must be an object.", identifier="PropertyFormatError", attribute="_links")
    return links


def link_href(value, attribute: str):
    """The ``href`` of a link a body gives for ``attribute`` (None for none: a null link or ``{"href": null}``),
    or 422 when it is not a link object holding an ``href``."""
    if value is None:
        return None
    if not isinstance(value, dict) or "href" not in value:
        raise V3Error(f"{attribute} must be a link object with an href.", identifier="PropertyFormatError",
                      attribute=attribute)
    return value["href"]
