"""``person.*``: a Beebole person is a Keelplan user (``accounts.User``), who belongs to one company
(``portfolio.people``). ``userGroup`` is ``admin`` for a workspace administrator, else the person's ``kind``
(employee, contractor, pm, leader). Workspace administrators add and change people; anyone signed in reads the
active ones. An e-mail address is shown only to the person and to administrators, as in every dialect."""

from __future__ import annotations

from django.db.models import Count

from keelplan.accounts import services as accounts
from keelplan.accounts.models import Group, PersonKind, User
from keelplan.accounts.selectors import users_visible
from keelplan.api.beebole.calls import Fields
from keelplan.api.beebole.errors import BeeboleError
from keelplan.api.beebole.registry import Call, activation, service
from keelplan.api.beebole.services.common import (
    company_named, email_shown, group_named, person_named, ref_of, refusals,
)
from keelplan.api.beebole.services.groups import groups_json
from keelplan.api.beebole.services.shared import clear_custom_field_value, custom_fields, set_custom_field_value
from keelplan.portfolio import people

ADMIN = "admin"
USER_GROUPS = (ADMIN, *PersonKind.values)
MAX_LEADERS = accounts.MAX_LEADERS


def user_group(user) -> str:
    return ADMIN if user.has_admin_role else user.kind


def person_json(user, actor, company_id: int | None, leader_count: int) -> dict:
    return {
        "id": user.pk, "name": user.display_name, "company": {"id": company_id} if company_id else None,
        "active": user.is_active, "email": email_shown(user, actor), "userGroup": user_group(user),
        "leaders": {"count": leader_count},
    }


def people_json(users, actor) -> list[dict]:
    users = list(users)
    companies = people.companies_of([u.pk for u in users])
    leaders = dict(User.leaders.through.objects.filter(from_user_id__in=[u.pk for u in users]).order_by()
                   .values("from_user_id").annotate(n=Count("to_user_id")).values_list("from_user_id", "n"))
    return [person_json(u, actor, companies.get(u.pk), leaders.get(u.pk, 0)) for u in users]


def _user_group(body: Fields) -> str | None:
    value = body.text("userGroup", required=False)
    if value is not None and value not in USER_GROUPS:
        raise BeeboleError(f"Invalid field {body.where('userGroup')}: must be one of {', '.join(USER_GROUPS)}.")
    return value


def _leaders(call: Call, body: Fields) -> list | None:
    """The people ``leaders`` names, each by ``id``, else ``email``, else ``name`` (Beebole's order)."""
    if not body.has("leaders"):
        return None
    given = body.data["leaders"]
    if not isinstance(given, list):
        raise body.ill_typed("leaders", "a list")
    if len(given) > MAX_LEADERS:
        raise BeeboleError(f"Invalid field {body.where('leaders')}: at most {MAX_LEADERS} leaders.")
    found = []
    visible = users_visible(actor=call.actor)
    for index, item in enumerate(given):
        where = body.where(f"leaders[{index}]")
        if not isinstance(item, dict):
            raise BeeboleError(f"Invalid field {where}: expected an object such as {{\"id\": 1}}.")
        entry = Fields(item, where)
        if entry.has("id") and item["id"] is not None:
            found.append(person_named(call, entry.id("id"), entry.where("id")))
            continue
        for key, lookup in (("email", "email__iexact"), ("name", "full_name__iexact")):
            if entry.has(key) and item[key] is not None:
                value = entry.text(key)
                matches = list(visible.filter(**{lookup: value})[:2])
                if len(matches) != 1:
                    raise BeeboleError(f"Unknown person: {'no' if not matches else 'more than one'} person with "
                                       f"{key} {value!r} ({entry.where(key)}).")
                found.append(matches[0])
                break
        else:
            raise BeeboleError(f"Missing field: {where}.id (or email or name).")
    return found


def _kind_and_admin(group: str | None) -> dict:
    if group is None:
        return {}
    if group == ADMIN:
        return {"is_admin": True}
    return {"is_admin": False, "kind": group}


@service("person.create")
def person_create(call: Call) -> dict:
    body = call.section("person", unwrapped=True)
    name = body.text("name")
    company = ref_of(body, "company", company_named, call)
    email = body.text("email", required=False) or ""
    group = _user_group(body)
    leaders = _leaders(call, body)
    kind = _kind_and_admin(group)
    with refusals("person"):
        user = accounts.person_create(actor=call.actor, full_name=name, email=email,
                                      kind=kind.get("kind", PersonKind.EMPLOYEE), is_admin=kind.get("is_admin", False))
        people.person_company_set(actor=call.actor, user=user, company=company)
        if leaders:
            accounts.user_leaders_set(actor=call.actor, user=user, leaders=leaders)
    return {"id": user.pk}


@service("person.get")
def person_get(call: Call) -> dict:
    user = person_named(call, call.body.id("id"))
    return {"person": people_json([user], call.actor)[0]}


@service("person.update")
def person_update(call: Call) -> dict:
    body = call.section("person")
    user = person_named(call, body.id("id"), body.where("id"))
    fields = {}
    if body.has("name"):
        fields["full_name"] = body.text("name")
    if body.has("email"):
        fields["email"] = body.text("email")
    fields.update(_kind_and_admin(_user_group(body)))
    company = ref_of(body, "company", company_named, call, required=False) if body.has("company") else None
    leaders = _leaders(call, body)
    with refusals("person"):
        accounts.user_update(actor=call.actor, user=user, **fields)
        if company is not None and company != people.company_of(user):
            people.person_company_set(actor=call.actor, user=user, company=company)
        if leaders is not None:
            accounts.user_leaders_set(actor=call.actor, user=user, leaders=leaders)
    return {}


@service("person.list")
def person_list(call: Call) -> dict:
    """The people of a company the caller may see (everyone they may see when no company is named)."""
    company = ref_of(call.body, "company", company_named, call, required=False)
    rows = users_visible(actor=call.actor)
    if company is not None:
        rows = rows.filter(pk__in=people.people_of_company(company).values("pk"))
    return {"people": people_json(rows.order_by("id"), call.actor)}


@service("person.leaders")
def person_leaders(call: Call) -> dict:
    user = person_named(call, call.body.id("id"))
    rows = users_visible(actor=call.actor).filter(team=user).order_by("id")
    return {"leaders": people_json(rows, call.actor)}


def _set_active(call: Call, user, active: bool) -> None:
    with refusals("person"):
        accounts.user_set_active(actor=call.actor, user=user, active=active)


activation("person", person_named, _set_active)


@service("person.add_group")
def person_add_group(call: Call) -> dict:
    user = person_named(call, call.body.id("id"))
    group = group_named(call, call.body.ref("group"), "group")
    with refusals():
        accounts.group_member_add(actor=call.actor, group=group, user=user)
    return {}


@service("person.remove_group")
def person_remove_group(call: Call) -> dict:
    user = person_named(call, call.body.id("id"))
    group = group_named(call, call.body.ref("group"), "group")
    with refusals():
        accounts.group_member_remove(actor=call.actor, group=group, user=user)
    return {}


@service("person.groups")
def person_groups(call: Call) -> dict:
    user = person_named(call, call.body.id("id"))
    return {"groups": groups_json(Group.objects.filter(memberships__user=user))}


@service("person.set_custom_field_value")
def person_set_custom_field_value(call: Call) -> dict:
    return set_custom_field_value(call, person_named(call, call.body.id("id")))


@service("person.clear_custom_field_value")
def person_clear_custom_field_value(call: Call) -> dict:
    return clear_custom_field_value(call, person_named(call, call.body.id("id")))


@service("person.custom_fields")
def person_custom_fields(call: Call) -> dict:
    return custom_fields(call, person_named(call, call.body.id("id")))
