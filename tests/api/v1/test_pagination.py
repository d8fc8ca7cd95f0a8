"""Cursor pagination of v1 lists: page sizes, following ``next``/``previous``, bad parameters, and pages that
stay put while rows are added between requests."""

from __future__ import annotations

import base64
import random
from urllib.parse import parse_qs, quote, urlparse

import pytest

from keelplan.planning.models import WorkItem
from keelplan.planning.services import default_priority, default_status, default_type

from conftest import client_for

TOTAL = 130




def add_tasks(project, count: int, *, ids=None, prefix: str = "Task") -> list[int]:
    """Rows straight into the table: this file reads pages, it does not test task creation."""
    status, kind, priority = default_status(), default_type(), default_priority()
    ids = list(ids) if ids is not None else [None] * count
    rows = [
        WorkItem(id=pk, project=project, name=f"{prefix} {n}", status=status, type=kind, priority=priority,
                 position=n)
        for n, pk in enumerate(ids, start=1)
    ]
    WorkItem.objects.bulk_create(rows)
    return list(WorkItem.objects.filter(project=project, name__startswith=prefix).values_list("id", flat=True))


@pytest.fixture
def tasks(project):
    return sorted(add_tasks(project, TOTAL))


def walk(client, url, direction="next"):
    """Every page from ``url`` on, following ``direction`` links until they run out."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        pages.append(response.json())
        url = pages[-1][direction]
    return pages


def ids_of(pages) -> list[int]:
    return [row["id"] for page in pages for row in page["results"]]


def test_first_page_has_the_default_size_and_the_total(api, project, tasks):
    body = api.get(f"/api/v1/tasks/?project={project.pk}").json()
    assert len(body["results"]) == 50
    assert body["count"] == TOTAL
    assert body["previous"] is None
    assert "cursor" in parse_qs(urlparse(body["next"]).query)
    assert [row["id"] for row in body["results"]] == tasks[:50]


def test_following_next_visits_every_row_once_in_id_order(api, project, tasks):
    pages = walk(api, f"/api/v1/tasks/?project={project.pk}")
    assert [len(p["results"]) for p in pages] == [50, 50, 30]
    assert ids_of(pages) == tasks
    assert all(p["count"] == TOTAL for p in pages)
    assert pages[-1]["next"] is None


def test_next_keeps_the_filter_and_page_size(api, project, tasks):
    first = api.get(f"/api/v1/tasks/?project={project.pk}&page_size=40").json()
    query = parse_qs(urlparse(first["next"]).query)
    assert query["project"] == [str(project.pk)]
    assert query["page_size"] == ["40"]


def test_previous_walks_back_over_the_same_pages(api, project, tasks):
    forward = walk(api, f"/api/v1/tasks/?project={project.pk}&page_size=30")
    backward = walk(api, forward[-1]["previous"], direction="previous")
    assert [ids_of([p]) for p in backward] == [ids_of([p]) for p in reversed(forward[:-1])]
    assert backward[-1]["previous"] is None


@pytest.mark.parametrize("size", [7, 50, 130, 1000])
def test_page_size_up_to_1000(api, project, tasks, size):
    pages = walk(api, f"/api/v1/tasks/?project={project.pk}&page_size={size}")
    assert [len(p["results"]) for p in pages[:-1]] == [size] * (len(pages) - 1)
    assert len(pages) == -(-TOTAL // size)
    assert ids_of(pages) == tasks


def test_page_size_one(api, project, tasks):
    body = api.get(f"/api/v1/tasks/?project={project.pk}&page_size=1").json()
    assert [row["id"] for row in body["results"]] == tasks[:1]
    second = api.get(body["next"]).json()
    assert [row["id"] for row in second["results"]] == tasks[1:2]


@pytest.mark.parametrize("size", ["0", "1001", "abc", "-5", "2.5"])
def test_bad_page_size_is_400_naming_it(api, project, tasks, size):
    response = api.get(f"/api/v1/tasks/?project={project.pk}&page_size={size}")
    assert response.status_code == 400
    assert "page_size" in response.json()


# Undecodable text; base64 of nothing useful; a position that is not an id ("r=1&p=foo"); an id beyond
# any database integer ("p=99999999999999999999").
@pytest.mark.parametrize("cursor", ["garbage", "%00", "cj0xJnA9Zm9v", "cD05OTk5OTk5OTk5OTk5OTk5OTk5OQ%3D%3D"])
def test_garbage_cursor_is_400_naming_it(api, project, tasks, cursor):
    response = api.get(f"/api/v1/tasks/?project={project.pk}&cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_pages_stay_stable_when_rows_arrive_between_requests(project, owner):
    # Existing rows have even ids with gaps, so new rows can land just behind and just ahead of the cursor.
    existing = add_tasks(project, 120, ids=range(1_000_000, 1_000_240, 2), prefix="Old")
    client = client_for(owner)
    seen, behind, ahead = [], [], []
    url = f"/api/v1/tasks/?project={project.pk}&page_size=25"
    while url:
        body = client.get(url).json()
        seen.extend(row["id"] for row in body["results"])
        url = body["next"]
        if url:
            last = seen[-1]
            behind.append(last - 1)
            ahead.append(last + 1)
            add_tasks(project, 3, ids=[last - 1, last + 1, 9_000_000 + 10 * len(ahead)], prefix=f"New {len(ahead)}")
    assert len(seen) == len(set(seen)), "a row was served twice"
    assert seen == sorted(seen)
    assert [pk for pk in seen if pk in set(existing)] == sorted(existing), "an existing row was skipped"
    assert not set(behind) & set(seen), "a row inserted behind the cursor was served"
    assert set(ahead) <= set(seen), "a row inserted ahead of the cursor was not served"


def test_pages_are_scoped_to_what_the_reader_may_see(project, owner, tasks, outsider):
    body = client_for(outsider).get("/api/v1/tasks/").json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


# ---------------------------------------------------------------- forged cursors

def b64(text: str) -> str:
    return quote(base64.b64encode(text.encode()).decode())


def assert_invalid_cursor(response):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["cursor"] == ["Invalid cursor."]
    assert body["code"] == "invalid_cursor"


# DRF's own cursor format, which the server used to accept from anyone: a huge offset (a slow query), a reverse
# cursor at a position it never handed out, a negative position.
@pytest.mark.parametrize("forged", ["o=999999999999", "r=1&p=5", "p=-1", "p=5", "o=5&p=5", "r=1"])
def test_a_cursor_in_drfs_format_is_400(api, project, tasks, forged):
    assert_invalid_cursor(api.get(f"/api/v1/tasks/?project={project.pk}&cursor={b64(forged)}"))


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_as_a_cursor_are_400(api, project, tasks, seed):
    noise = random.Random(seed).randbytes(40)
    for text in (base64.urlsafe_b64encode(noise).decode(), quote(noise.decode("latin-1"))):
        assert_invalid_cursor(api.get(f"/api/v1/tasks/?project={project.pk}&cursor={text}"))


def cursor_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["cursor"][0]


def test_a_handed_out_cursor_with_one_character_changed_is_400(api, project, tasks):
    first = api.get(f"/api/v1/tasks/?project={project.pk}").json()
    second = api.get(first["next"]).json()
    for link in (first["next"], second["previous"]):
        cursor = cursor_of(link)
        for i in range(len(cursor)):
            changed = cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1:]
            assert_invalid_cursor(api.get(f"/api/v1/tasks/?project={project.pk}&cursor={quote(changed)}"))


def test_a_cursor_signed_with_another_key_is_400(api, project, tasks, settings):
    first = api.get(f"/api/v1/tasks/?project={project.pk}").json()
    settings.SECRET_KEY = "another key, another deployment"
    assert_invalid_cursor(api.get(first["next"]))


def test_the_cursor_reveals_nothing_drf_would_read(api, project, tasks):
    cursor = cursor_of(api.get(f"/api/v1/tasks/?project={project.pk}").json()["next"])
    with pytest.raises(ValueError):
        base64.b64decode(cursor, validate=True)


@pytest.mark.parametrize("size", [1, 7, 50])
def test_every_next_and_previous_link_handed_out_works(api, project, tasks, size):
    """From the first page forward to the last, then back to the first, then forward again from every page's
    ``previous`` link: every link answers 200 with the page it names."""
    forward = walk(api, f"/api/v1/tasks/?project={project.pk}&page_size={size}")
    assert ids_of(forward) == tasks
    backward = walk(api, forward[-1]["previous"], direction="previous") if len(forward) > 1 else []
    assert [ids_of([p]) for p in backward] == [ids_of([p]) for p in reversed(forward[:-1])]
    for page in backward:
        following = api.get(page["next"])
        assert following.status_code == 200, following.content
        assert following.json()["results"][0]["id"] == tasks[tasks.index(ids_of([page])[-1]) + 1]
