"""People and companies: the company each person belongs to, and a company's exclusive members (people or groups).

Both are workspace rows: written by workspace administrators only, logged in the workspace stream. Every write
locks the workspace stream before it checks anything a concurrent write could change (the company still live, the
row not there yet), the way ``reference.company_delete`` does before it counts who still belongs to a company, so
a person never ends up in a company deleted at the same moment. A group's row is locked before the stream
(``company_memberships_of_group_remove`` too), so a group being deleted gains no member.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from keelplan.accounts.models import Group, User
from keelplan.changelog.services import Change, ChangeAction, change_record, locked_stream
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, NotFound
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Fields, Reference
from keelplan.permissions import Action, require
from keelplan.portfolio.models import Affiliation, Company, CompanyMember

PERSON_COMPANY_INPUT = Fields(user=Reference(User, entity="person"),
                              company=Reference(Company, null=True, entity="company"))


def _no_company() -> InvalidInput:
    return InvalidInput("No such company.", field="company", code=ErrorCode.INVALID_REFERENCE, entity="company")


# ---------------------------------------------------------------- a person's company

@write_transaction()
def person_company_set(*, actor, user: User, company: Company | None) -> Affiliation | None:
    """Make ``company`` (a live company) the one ``user`` belongs to, or take them out of theirs with ``None``
    (workspace administrators). Returns the person's affiliation, None when they have no company. Setting the
    company they have already changes and logs nothing; a change is logged as the person's ``company``."""
    require(actor, Action.WORKSPACE_MANAGE)
    values = PERSON_COMPANY_INPUT.clean({"user": user, "company": company})
    user, company = values["user"], values["company"]
    locked_stream(None)
    if company is not None and not Company.objects.filter(pk=company.pk).exists():
        raise _no_company()
    row = Affiliation.objects.select_for_update().filter(user_id=user.pk).first()
    old, new = (row.company_id if row else None), (company.pk if company else None)
    if old == new:
        return row
    if company is None:
        row.delete()
        row = None
    elif row is None:
        row = Affiliation.objects.create(user=user, company=company)
    else:
        row.company, row.updated_at = company, timezone.now()
        row.save(update_fields=["company", "updated_at"])
    change_record(project=None, actor=actor, changes=[Change("user", user.pk, ChangeAction.UPDATED,
                                                             {"company": (old, new)})])
    return row


def company_of(user: User) -> Company | None:
    """The company ``user`` belongs to, or None."""
    return Company.objects.filter(affiliations__user_id=user.pk).first()


def companies_of(user_ids) -> dict[int, int]:
    """``{person id: company id}`` for those of ``user_ids`` who belong to a company (one query; the others are
    left out)."""
    ids = {pk for pk in user_ids if pk is not None}
    if not ids:
        return {}
    return dict(Affiliation.objects.filter(user_id__in=ids, company__deleted_at__isnull=True)
                .values_list("user_id", "company_id"))


def people_of_company(company: Company) -> QuerySet:
    """The people who belong to ``company`` (locked accounts too: they still belong), by id."""
    return User.objects.filter(affiliation__company_id=company.pk).order_by("id")


def company_people_count(company: Company) -> int:
    """How many people belong to ``company``: what ``reference.company_delete`` refuses to delete it with."""
    return Affiliation.objects.filter(company_id=company.pk).count()


# ---------------------------------------------------------------- a company's exclusive members

def _principal(user, group, *, removing: bool) -> dict:
    """``{"user": user}`` or ``{"group": group}``: exactly one must be given."""
    if user is not None and group is not None:
        raise InvalidInput("Give a person or a group, not both.", field="group", code=ErrorCode.NOT_ALLOWED)
    if user is None and group is None:
        raise InvalidInput("Give a person or a group.", field="user", code=ErrorCode.REQUIRED)
    if removing:
        return {"user": user} if user is not None else {"group": group}
    if group is not None:
        live = (Group.objects.select_for_update().filter(pk=group.pk).first()
                if isinstance(group, Group) and group.pk is not None else None)
        if live is None:
            raise InvalidInput("No such group.", field="group", code=ErrorCode.INVALID_REFERENCE, entity="group")
        return {"group": live}
    if not isinstance(user, User) or not User.objects.filter(pk=user.pk, is_active=True).exists():
        raise InvalidInput("No such active person.", field="user", code=ErrorCode.INVALID_REFERENCE,
                           entity="person")
    return {"user": user}


def _live_company(company) -> Company:
    """``company`` read again (under the workspace stream's lock): NotFound once it is deleted."""
    row = (Company.objects.filter(pk=company.pk).first()
           if isinstance(company, Company) and company.pk is not None else None)
    if row is None:
        raise NotFound("No such company.", entity="company")
    return row


@write_transaction()
def company_member_add(*, actor, company: Company, user: User | None = None,
                       group: Group | None = None) -> CompanyMember:
    """Make a person (``user``, an active one) or a group (``group``, a live one) an exclusive member of
    ``company`` (workspace administrators). Someone already a member: ``duplicate_membership``."""
    require(actor, Action.WORKSPACE_MANAGE)
    principal = _principal(user, group, removing=False)
    locked_stream(None)
    company = _live_company(company)
    field, who = next(iter(principal.items()))
    if CompanyMember.objects.filter(company=company, **principal).exists():
        raise _already_member(field, who)
    try:
        with transaction.atomic():
            row = CompanyMember.objects.create(company=company, **principal)
    except IntegrityError:
        raise _already_member(field, who) from None
    change_record(project=None, actor=actor, changes=[Change("company_member", row.pk, ChangeAction.CREATED, {
        "company": (None, company.pk), field: (None, who.pk)})])
    return row


def _already_member(field: str, who) -> Conflict:
    name = who.username if field == "user" else who.name
    return Conflict(f"{name} is already an exclusive member of this company.", field=field,
                    code=ErrorCode.DUPLICATE_MEMBERSHIP)


@write_transaction()
def company_member_remove(*, actor, company: Company, user: User | None = None, group: Group | None = None) -> None:
    """Take a person or a group out of ``company``'s exclusive members (workspace administrators). One who is not
    a member: NotFound (``company member``)."""
    require(actor, Action.WORKSPACE_MANAGE)
    principal = _principal(user, group, removing=True)
    locked_stream(None)
    company = _live_company(company)
    field, who = next(iter(principal.items()))
    expected = User if field == "user" else Group
    row = (CompanyMember.objects.filter(company=company, **{f"{field}_id": who.pk}).first()
           if isinstance(who, expected) and who.pk is not None else None)
    if row is None:
        raise NotFound("Not an exclusive member of this company.", entity="company member")
    CompanyMember.objects.filter(pk=row.pk).soft_delete()
    change_record(project=None, actor=actor, changes=[Change("company_member", row.pk, ChangeAction.DELETED)])


@write_transaction()
def company_memberships_of_group_remove(group: Group, *, actor) -> int:
    """Remove every exclusive membership ``group`` holds (workspace administrators), as deleting the group must;
    returns how many there were. Each is logged in the workspace stream."""
    require(actor, Action.WORKSPACE_MANAGE)
    Group.all_objects.select_for_update().filter(pk=group.pk).first()   # the group before the stream
    ids = list(CompanyMember.objects.filter(group_id=group.pk).values_list("id", flat=True))
    if ids:
        CompanyMember.objects.filter(pk__in=ids).soft_delete()
        change_record(project=None, actor=actor,
                      changes=[Change("company_member", pk, ChangeAction.DELETED) for pk in ids])
    return len(ids)


def company_members(company: Company) -> dict[str, QuerySet]:
    """``company``'s exclusive members: ``people`` (``User``, by id) and ``groups`` (live ``Group``, by id). Rows
    every signed-in person may read, like the company itself."""
    live = {"company_memberships__company_id": company.pk, "company_memberships__deleted_at__isnull": True,
            "company_memberships__company__deleted_at__isnull": True}
    return {"people": User.objects.filter(**live).order_by("id"),
            "groups": Group.objects.filter(**live).order_by("id")}
