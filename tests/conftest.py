"""Shared test helpers: people, projects and clients made through the real services."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from keelplan.accounts.models import WorkspaceRole
from keelplan.accounts.services import user_create, user_set_workspace_role
from keelplan.core.errors import DomainError
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


class Refusal(NamedTuple):
    """A domain error the second writer of ``second_writer_outcome`` was refused with; equal to the plain tuple
    ``(field, code)``, so a test compares it with one."""

    field: str | None
    code: str


def second_writer_outcome(first: Callable[[], Any], second: Callable[[], Any], *,
                          refused: tuple[type[DomainError], ...] = (DomainError,), wait: float = 0.5) -> Any:
    """Two writers at once, the second arriving while the first holds its locks: what the second got.

    ``first()`` runs in a thread inside ``transaction.atomic()``, which is held open once it returns, so every row
    lock it took is still held. ``second()`` then starts in another thread and must still be running ``wait``
    seconds later, blocked on those locks: one that takes no lock the first holds finishes at once, and this
    asserts. (One that only blocks later, say on the change log's stream, after reading rows as the first found
    them, passes this check: the caller's assertions on the outcome and the rows are what catch it.) The first
    transaction then commits, both threads are joined (each closes its own database connection), and the result
    is ``second()``'s return value, or a ``Refusal(field, code)`` for an error of ``refused`` it raised. Any other
    error from either writer (a deadlock, say) is raised here.

    Needs a test with ``django_db(transaction=True)`` on PostgreSQL: SQLite runs one writer at a time, so the
    caller skips there, and the threads must see the rows the test committed."""
    held, release, got = threading.Event(), threading.Event(), {}

    def hold():
        try:
            with transaction.atomic():
                first()
                held.set()
                release.wait(10)
        except BaseException as exc:   # raised again in the test's thread
            got["first error"] = exc
        finally:
            held.set()
            connection.close()

    def write():
        try:
            got["second"] = second()
        except refused as exc:
            got["second"] = Refusal(exc.field, exc.code)
        except BaseException as exc:   # raised again in the test's thread
            got["second error"] = exc
        finally:
            connection.close()

    holder, waiter = threading.Thread(target=hold, daemon=True), threading.Thread(target=write, daemon=True)
    holder.start()
    try:
        assert held.wait(10), "the first write did not finish within 10 s"
        if "first error" in got:
            raise got["first error"]
        waiter.start()
        waiter.join(wait)
        assert waiter.is_alive(), f"the second write did not wait for the first's locks: {got}"
    finally:
        release.set()
        holder.join(10)
        if waiter.ident is not None:
            waiter.join(10)
    assert not holder.is_alive() and not waiter.is_alive(), "a writer was still running 10 s after the release"
    for error in ("first error", "second error"):
        if error in got:
            raise got[error]
    return got["second"]


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
