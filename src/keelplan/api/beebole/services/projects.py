"""``project.*`` and ``subproject.*``: a Beebole project is a Keelplan project with no parent, a subproject one
with a parent (OpenProject's and TruePPM's same rows). Creating one makes the caller its Owner, as every dialect
does; a subproject takes its parent's company and start date."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from keelplan.api.beebole.registry import Call, activation, service
from keelplan.api.beebole.services.common import (
    company_named, project_named, ref_of, refusals, subproject_named,
)
from keelplan.permissions import projects_visible
from keelplan.portfolio import services as portfolio


def with_subproject_counts(queryset, actor):
    """``queryset`` of projects annotated with ``subproject_count``: their live children the actor may see."""
    children = (projects_visible(actor).filter(parent=OuterRef("pk")).order_by().values("parent")
                .annotate(n=Count("pk")).values("n"))
    return queryset.annotate(subproject_count=Coalesce(Subquery(children, output_field=IntegerField()), Value(0)))


def project_json(project) -> dict:
    return {
        "id": project.pk,
        "name": project.name,
        "startDate": project.start_date.isoformat(),
        "description": project.description,
        "company": {"id": project.company_id} if project.company_id else None,
        "subprojects": {"count": project.subproject_count},
        "active": project.is_active,
    }


def subproject_json(project) -> dict:
    return {"id": project.pk, "name": project.name, "project": {"id": project.parent_id}, "active": project.is_active}


def _counted(call: Call, project):
    return with_subproject_counts(projects_visible(call.actor).filter(pk=project.pk), call.actor).get()


# ---------------------------------------------------------------- projects

@service("project.create")
def project_create(call: Call) -> dict:
    body = call.section("project")
    name = body.text("name")
    start = body.date("startDate", required=False) or timezone.localdate().replace(day=1)
    description = body.text("description", required=False) or ""
    company = ref_of(body, "company", company_named, call)
    with refusals("project"):
        project = portfolio.project_create(actor=call.actor, name=name, start_date=start, description=description,
                                           company=company)
    return {"id": project.pk}


@service("project.get")
def project_get(call: Call) -> dict:
    project = project_named(call, call.body.id("id"))
    return {"project": project_json(_counted(call, project))}


@service("project.update")
def project_update(call: Call) -> dict:
    body = call.section("project")
    project = project_named(call, body.id("id"), body.where("id"))
    fields = {}
    if body.has("name"):
        fields["name"] = body.text("name")
    if body.date("startDate", required=False) is not None:
        fields["start_date"] = body.date("startDate")
    if body.text("description", required=False) is not None:
        fields["description"] = body.text("description")
    if body.has("company"):
        fields["company"] = ref_of(body, "company", company_named, call)
    with refusals("project"):
        portfolio.project_update(actor=call.actor, project=project, **fields)
    return {}


@service("project.list")
def project_list(call: Call) -> dict:
    """The caller's top-level projects of a company (of every company when none is named)."""
    company = ref_of(call.body, "company", company_named, call, required=False)
    rows = projects_visible(call.actor).filter(parent__isnull=True)
    if company is not None:
        rows = rows.filter(company=company)
    rows = with_subproject_counts(rows, call.actor).order_by("id")
    return {"projects": [project_json(p) for p in rows]}


def set_active(call: Call, project, active: bool) -> None:
    with refusals():
        portfolio.project_update(actor=call.actor, project=project, is_active=active)


activation("project", project_named, set_active)


# ---------------------------------------------------------------- subprojects

@service("subproject.create")
def subproject_create(call: Call) -> dict:
    body = call.section("subproject", unwrapped=True)
    name = body.text("name")
    parent = ref_of(body, "project", project_named, call)
    with refusals("subproject"):
        project = portfolio.project_create(actor=call.actor, name=name, start_date=parent.start_date,
                                           parent=parent, company=parent.company)
    return {"id": project.pk}


@service("subproject.get")
def subproject_get(call: Call) -> dict:
    return {"subproject": subproject_json(subproject_named(call, call.body.id("id")))}


@service("subproject.update")
def subproject_update(call: Call) -> dict:
    body = call.section("subproject")
    project = subproject_named(call, body.id("id"), body.where("id"))
    fields = {}
    if body.has("name"):
        fields["name"] = body.text("name")
    if body.has("project"):
        fields["parent"] = ref_of(body, "project", project_named, call)
    with refusals("subproject"):
        portfolio.project_update(actor=call.actor, project=project, **fields)
    return {}


@service("subproject.list")
def subproject_list(call: Call) -> dict:
    parent = ref_of(call.body, "project", project_named, call)
    rows = projects_visible(call.actor).filter(parent=parent).order_by("id")
    return {"subprojects": [subproject_json(p) for p in rows]}


activation("subproject", subproject_named, set_active)
