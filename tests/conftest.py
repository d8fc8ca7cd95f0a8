"""Shared test helpers: people, projects and clients made through the real services."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from keelplan.accounts.models import WorkspaceRole
from keelplan.accounts.services import user_create, user_set_workspace_role
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add, project_create

_counter = itertools.count(1)


def pytest_configure(config):
    # Password hashing is deliberately slow in production; tests create many users.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(username: str | None = None, *, workspace_admin: bool = False, **kwargs):
    """A person; ``workspace_admin`` also gives them the workspace administrator role (shared calendars,
    resources), which no project role implies."""
    username = username or f"user{next(_counter)}"
    user = user_create(username=username, password=kwargs.pop("password", "correct-horse-9"), **kwargs)
    if workspace_admin:
        user = user_set_workspace_role(actor=None, user=user, role=WorkspaceRole.ADMIN)
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def make_project(owner, name: str = "Apollo", **kwargs):
    kwargs.setdefault("start_date", dt.date(2026, 1, 5))
    return project_create(actor=owner, name=name, **kwargs)


@pytest.fixture
def owner(db):
    """The project's Owner, who is also the workspace administrator so tests can set up shared calendars and
    resources; tests of who may write those use ``outsider`` and the other roles, who are not."""
    return make_user("owner", full_name="Olive Owner", workspace_admin=True)


@pytest.fixture
def project(owner):
    return make_project(owner)


@pytest.fixture
def members(project, owner):
    """One user per role in ``project``, keyed by role name (``viewer`` ... ``owner``)."""
    people = {"owner": owner}
    for role in (Role.VIEWER, Role.MEMBER, Role.SCHEDULER, Role.ADMIN):
        user = make_user(role.label.lower())
        membership_add(actor=owner, project=project, user=user, role=role)
        people[role.label.lower()] = user
    return people


@pytest.fixture
def outsider(db):
    return make_user("outsider")


@pytest.fixture
def api(owner):
    return client_for(owner)


@pytest.fixture
def linked_pair_and_loner(owner, project):
    """Existing tasks A (2 days) -FS-> B (3 days), and C on its own, keyed "a", "b", "c"."""
    from keelplan.planning.services import dependency_create, task_create

    a = task_create(actor=owner, project=project, name="A", duration=2)
    b = task_create(actor=owner, project=project, name="B", duration=3)
    c = task_create(actor=owner, project=project, name="C")
    dependency_create(actor=owner, predecessor=a, successor=b)
    return {"a": a, "b": b, "c": c}


@pytest.fixture(autouse=True)
def _fresh_schedule_caches():
    """The scheduler's per-process caches outlive a test's rolled-back transaction; start each test empty."""
    from keelplan.scheduling.inputs import input_cache
    from keelplan.scheduling.store import computed_cache

    input_cache.clear()
    computed_cache.clear()
    yield
    input_cache.clear()
    computed_cache.clear()
