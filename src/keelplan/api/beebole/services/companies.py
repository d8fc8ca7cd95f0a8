"""``company.*``: companies are workspace rows (``portfolio.reference``): everyone signed in reads them, workspace
administrators write them. ``corporate`` marks one's own company or a branch; a customer is not corporate."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from keelplan.api.beebole.registry import Call, activation, service
from keelplan.api.beebole.services.common import company_named, refusals
from keelplan.permissions import projects_visible
from keelplan.portfolio import reference


def with_project_counts(queryset, actor):
    """Companies annotated with ``project_count``: their top-level projects the actor may see."""
    projects = (projects_visible(actor).filter(company=OuterRef("pk"), parent__isnull=True).order_by()
                .values("company").annotate(n=Count("pk")).values("n"))
    return queryset.annotate(project_count=Coalesce(Subquery(projects, output_field=IntegerField()), Value(0)))


def company_json(company) -> dict:
    return {"id": company.pk, "name": company.name, "corporate": company.is_corporate,
            "projects": {"count": company.project_count}, "active": company.is_active}


@service("company.create")
def company_create(call: Call) -> dict:
    body = call.section("company", unwrapped=True)
    name = body.text("name")
    corporate = body.boolean("corporate", required=False)
    with refusals("company"):
        company = reference.company_create(actor=call.actor, name=name, is_corporate=bool(corporate))
    return {"id": company.pk}


@service("company.get")
def company_get(call: Call) -> dict:
    company = company_named(call, call.body.id("id"))
    counted = with_project_counts(reference.company_list(actor=call.actor).filter(pk=company.pk), call.actor).get()
    return {"company": company_json(counted)}


@service("company.update")
def company_update(call: Call) -> dict:
    body = call.section("company")
    company = company_named(call, body.id("id"), body.where("id"))
    fields = {}
    if body.has("name"):
        fields["name"] = body.text("name")
    if body.has("corporate"):
        fields["is_corporate"] = body.boolean("corporate")
    with refusals("company"):
        reference.company_update(actor=call.actor, company=company, **fields)
    return {}


@service("company.list")
def company_list(call: Call) -> dict:
    rows = with_project_counts(reference.company_list(actor=call.actor), call.actor).order_by("id")
    return {"companies": [company_json(c) for c in rows]}


def _set_active(call: Call, company, active: bool) -> None:
    with refusals():
        reference.company_update(actor=call.actor, company=company, is_active=active)


activation("company", company_named, _set_active)
