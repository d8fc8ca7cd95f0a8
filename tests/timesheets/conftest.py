"""Fixtures for the time entry and activity tests: two work items of the project, and a check that an attempt
wrote nothing."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from keelplan.changelog.models import ChangeEvent
from keelplan.planning.services import task_create
from keelplan.timesheets.models import Activity, ActivitySelection, TimeEntry


@pytest.fixture
def tasks(owner, project):
    return (task_create(actor=owner, project=project, name="Survey", duration=3),
            task_create(actor=owner, project=project, name="Layout", duration=5))


def _state() -> tuple:
    """Every time entry, activity and specific-activity selection, deleted entries too, with every stored field,
    and the change log's length: what a refused call must leave as it was."""
    entries = list(TimeEntry.all_objects.order_by("pk").values_list(
        "pk", "project_id", "work_item_id", "user_id", "activity_id", "spent_on", "minutes", "comment", "deleted_at",
        "lock_version", "updated_at"))
    activities = list(Activity.objects.order_by("pk").values_list("pk", "name", "company_id", "position",
                                                                   "is_default", "is_active"))
    selections = [(row.pk, row.project_id, row.company_id, row.is_enabled,
                   sorted(row.activities.values_list("pk", flat=True)))
                  for row in ActivitySelection.objects.order_by("pk")]
    return entries, activities, selections, ChangeEvent.objects.count()


@pytest.fixture
def unchanged():
    """``with unchanged(): ...`` fails unless the block leaves every time entry, activity and event as it was."""
    @contextmanager
    def check():
        before = _state()
        yield
        assert _state() == before

    return check
