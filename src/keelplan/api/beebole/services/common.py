"""What every service module shares: finding the rows a request names (only among those the caller may see,
so an id of a row they may not see is "unknown", exactly like one that never existed) and running a domain
write with its refusals put in Beebole's words."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db.models import QuerySet

from keelplan.accounts.models import Group
from keelplan.accounts.selectors import users_visible
from keelplan.api.beebole.calls import Fields
from keelplan.api.beebole.error_codes import ERRORS
from keelplan.api.beebole.errors import BeeboleError, domain_message
from keelplan.core.errors import DomainError, ErrorCode
from keelplan.core.workspace import is_workspace_admin
from keelplan.permissions import projects_visible
from keelplan.portfolio.models import Company, Project
from keelplan.portfolio.reference import company_list
from keelplan.timesheets.models import Activity

# Ids above this are no row of any table (a signed 64-bit column).
MAX_ID = 2**63 - 1


@contextlib.contextmanager
def refusals(prefix: str | None = None) -> Iterator[None]:
    """Domain refusals raised inside, as Beebole errors naming fields under ``prefix`` (``project``)."""
    try:
        yield
    except DomainError as exc:
        raise BeeboleError(domain_message(exc, prefix), status_code=ERRORS[ErrorCode(exc.code)].status) from None


def _row(queryset: QuerySet, pk: int, what: str, where: str):
    row = queryset.filter(pk=pk).first() if pk <= MAX_ID else None
    if row is None:
        raise BeeboleError(f"Unknown {what}: no {what} with id {pk} ({where}).")
    return row


def project_named(call, pk: int, where: str = "id") -> Project:
    """A live project the caller may see (a subproject is one too)."""
    return _row(projects_visible(call.actor), pk, "project", where)


def subproject_named(call, pk: int, where: str = "id") -> Project:
    """A live project with a parent, that the caller may see."""
    return _row(projects_visible(call.actor).filter(parent__isnull=False), pk, "subproject", where)


def company_named(call, pk: int, where: str = "id") -> Company:
    return _row(company_list(actor=call.actor), pk, "company", where)


def person_named(call, pk: int, where: str = "id"):
    return _row(users_visible(actor=call.actor), pk, "person", where)


def group_named(call, pk: int, where: str = "id") -> Group:
    return _row(Group.objects.all(), pk, "group", where)


def task_named(call, pk: int, where: str = "id") -> Activity:
    return _row(Activity.objects.all(), pk, "task", where)


def ref_of(fields: Fields, key: str, finder, call, *, required: bool = True, bare: bool = False):
    """The row ``{"<key>": {"id": N}}`` names, found with ``finder``; None when optional and absent."""
    pk = fields.ref(key, required=required, bare=bare)
    return None if pk is None else finder(call, pk, fields.where(key))


def email_shown(user, actor) -> str:
    """A person's e-mail address, for the person and workspace administrators; empty for anyone else (as every
    dialect hides it)."""
    return user.email if is_workspace_admin(actor) or user.pk == actor.pk else ""
