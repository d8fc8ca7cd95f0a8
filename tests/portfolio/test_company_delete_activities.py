"""Deleting a company retires its own activities (they stay on the time logged as them); a company whose
activity is the workspace default is not deleted."""

from __future__ import annotations

import pytest

from keelplan.core.errors import Conflict
from keelplan.portfolio.models import Company
from keelplan.portfolio.reference import company_create, company_delete
from keelplan.timesheets.models import Activity
from keelplan.timesheets.services import activity_create, activity_update

pytestmark = pytest.mark.django_db


def test_deleting_a_company_retires_its_activities_and_no_others(owner):
    acme = company_create(actor=owner, name="Acme")
    own = activity_create(actor=owner, name="Acme support", company=acme)
    workspace = Activity.objects.filter(company__isnull=True, is_active=True).count()
    company_delete(actor=owner, company=acme)
    own.refresh_from_db()
    assert not own.is_active
    assert Activity.objects.filter(company__isnull=True, is_active=True).count() == workspace


def test_a_company_holding_the_default_activity_stays(owner):
    acme = company_create(actor=owner, name="Acme")
    own = activity_create(actor=owner, name="Acme support", company=acme)
    activity_update(actor=owner, activity=own, is_default=True)
    with pytest.raises(Conflict):
        company_delete(actor=owner, company=acme)
    assert Company.objects.filter(pk=acme.pk).exists()
    own.refresh_from_db()
    assert own.is_active and own.is_default
