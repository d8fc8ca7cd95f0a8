"""What the Beebole service tests compare before and after a refused call: every row a company, subproject,
person, group, task or custom field service could write, and the change log that records each write."""

from __future__ import annotations

from keelplan.accounts.models import Group, GroupAncestor, GroupMember, User
from keelplan.changelog.models import ChangeEvent, ChangeStream
from keelplan.customfields.models import CustomValue
from keelplan.portfolio.models import Affiliation, Company, CompanyMember, GroupAssignment, Membership, Project
from keelplan.timesheets.models import Activity, ActivitySelection

MODELS = (
    Company, CompanyMember, Affiliation, GroupAssignment, Project, Membership, User, User.leaders.through, Group,
    GroupMember, GroupAncestor, Activity, ActivitySelection, ActivitySelection.activities.through, CustomValue,
    ChangeEvent, ChangeStream,
)


def rows() -> dict[str, list[dict]]:
    """Every row of ``MODELS``, soft-deleted ones included, in id order."""
    return {model._meta.label: list(model._base_manager.order_by("pk").values()) for model in MODELS}


def refused(caller, service: str, **fields) -> str:
    """Call ``service`` as ``caller``, who may not: the answer is Beebole's error envelope saying so, and no row
    changed. Returns the message."""
    before = rows()
    message = caller.error(service, **fields)
    assert message.startswith("Not allowed: "), message
    assert rows() == before
    return message


def failed(caller, service: str, **fields) -> str:
    """Call ``service`` as ``caller``, expecting any error envelope and no row changed. Returns the message."""
    before = rows()
    message = caller.error(service, **fields)
    assert rows() == before
    return message
