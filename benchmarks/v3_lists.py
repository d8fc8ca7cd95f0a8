"""Benchmark the OpenProject v3 work package list against the v1 task list, over HTTP on PostgreSQL, on one
project (10,000 tasks and 20,000 links by default: ``server_scale.py``'s network, through the bulk endpoint).

    .venv/bin/python benchmarks/v3_lists.py                       # 10,000 tasks, 5 runs
    .venv/bin/python benchmarks/v3_lists.py --tasks 1000 --runs 9 --workers 2

It uses ``server_scale.py``'s database handling, server process and client (so run it as a script, which puts
this folder on the import path): drops and creates its own database (``--database-url``, default
``postgres://postgres@127.0.0.1:5432/keelplan_bench_v3``), starts ``keelplan serve --workers N`` in a process
group of its own, always stops it, and drops the database unless ``--keep``. Both dialects are read with the same
JWT, so they do the same permission work.

Timed, each as the median of ``--runs`` after one warm-up, the two dialects alternating which goes first:

- **all rows**: every task of the project, page by page at the largest page each allows (1,000): v1
  ``GET /api/v1/tasks/?project={id}&page_size=1000`` following ``next``; v3
  ``GET /api/v3/projects/{id}/work_packages?pageSize=1000&offset=k&filters=[]`` (``filters=[]`` lifts the default
  open-status filter) until every row is read. Each read must list every task exactly once.
- **first page of 100**: what a client shows first (v1 ``page_size=100``, v3 ``pageSize=100``).

v3 renders more per row than v1 (HAL links with titles, ancestors and children, action links, a schema link,
time spent), so the ratio says what OpenProject's shape costs over TruePPM's. It prints one table, the ratios,
the Python and PostgreSQL versions, worker count and load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from urllib.parse import quote

try:
    from server_scale import (
        BenchmarkError, Client, SizeResult, analyze, build, create_project, loadavg, network, run_against_server,
    )
except ImportError as exc:  # pragma: no cover - a hint for running it the wrong way
    sys.exit(f"v3_lists.py needs psycopg and server_scale.py next to it ({exc}); run it as a script with the "
             "project's interpreter: .venv/bin/python benchmarks/v3_lists.py")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/keelplan_bench_v3"
PAGE = 1000     # the largest page both dialects give
FIRST_PAGE = 100


def read_v1(client: Client, project_id: int, page_size: int, *, all_pages: bool) -> list[int]:
    url = f"/api/v1/tasks/?project={project_id}&page_size={page_size}"
    ids: list[int] = []
    while url:
        body, _ = client.call("GET", url, {200})
        ids.extend(row["id"] for row in body["results"])
        url = body["next"] if all_pages else None
    return ids


def read_v3(client: Client, project_id: int, page_size: int, *, all_pages: bool) -> list[int]:
    ids: list[int] = []
    offset = 1
    while True:
        body, _ = client.call("GET", f"/api/v3/projects/{project_id}/work_packages?pageSize={page_size}"
                                     f"&offset={offset}&filters={quote('[]')}", {200})
        if body.get("_type") != "WorkPackageCollection" and body.get("_type") != "Collection":
            raise BenchmarkError(f"v3 answered a {body.get('_type')!r}, not a collection")
        ids.extend(row["id"] for row in body["_embedded"]["elements"])
        if not all_pages or len(ids) >= body["total"] or not body["_embedded"]["elements"]:
            return ids
        offset += 1


def timed(read) -> tuple[float, list[int]]:
    started = time.perf_counter()
    ids = read()
    return time.perf_counter() - started, ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="keelplan serve --workers")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help="the database to drop, create and use (default: %(default)s)")
    parser.add_argument("--no-analyze", action="store_true", help="measure before the tables have statistics")
    parser.add_argument("--keep", action="store_true", help="keep the database and the server's data folder")
    args = parser.parse_args(argv)
    if args.tasks < 20 or args.runs < 1 or args.workers < 1:
        parser.error("--tasks at least 20; --runs and --workers at least 1")

    figures: dict[str, list[float]] = {}

    def measure(client: Client) -> None:
        net = network(args.tasks)
        project_id = create_project(client, f"v3 lists {args.tasks}")
        print(f"  building {args.tasks:,} tasks ...", flush=True)
        ids = build(client, project_id, net, SizeResult(tasks=args.tasks, links=len(net.links)))
        if not args.no_analyze:
            analyze(args.database_url)
        expected = sorted(ids)
        cases = {
            "all rows": (lambda: read_v1(client, project_id, PAGE, all_pages=True),
                         lambda: read_v3(client, project_id, PAGE, all_pages=True)),
            f"first page of {FIRST_PAGE}": (lambda: read_v1(client, project_id, FIRST_PAGE, all_pages=False),
                                            lambda: read_v3(client, project_id, FIRST_PAGE, all_pages=False)),
        }
        for name, (v1, v3) in cases.items():
            for run in range(args.runs + 1):      # the first is a warm-up
                order = (("v1", v1), ("v3", v3)) if run % 2 else (("v3", v3), ("v1", v1))
                for dialect, read in order:
                    seconds, got = timed(read)
                    if name == "all rows" and sorted(got) != expected:
                        raise BenchmarkError(f"{dialect} read {len(got)} rows ({len(set(got))} distinct) for "
                                             f"{len(expected)} tasks")
                    if name != "all rows" and len(got) != min(FIRST_PAGE, len(expected)):
                        raise BenchmarkError(f"{dialect}'s first page held {len(got)} rows")
                    if run:
                        figures.setdefault(f"{name}|{dialect}", []).append(seconds)
            print(f"  {name}: done", flush=True)

    run = run_against_server(args, "v3_lists.py", Client, measure)
    if figures:
        print()
        print(f"{'read':<24}{'v1 median s':>14}{'v3 median s':>14}{'v3 / v1':>10}{'v3 min–max s':>18}")
        for name in ("all rows", f"first page of {FIRST_PAGE}"):
            v1, v3 = figures.get(f"{name}|v1"), figures.get(f"{name}|v3")
            if not v1 or not v3:
                continue
            m1, m3 = statistics.median(v1), statistics.median(v3)
            print(f"{name:<24}{m1:>14.3f}{m3:>14.3f}{m3 / m1:>10.2f}{f'{min(v3):.3f}–{max(v3):.3f}':>18}")
    if isinstance(run, int):
        return run
    print()
    print(f"{args.tasks:,} tasks, {args.runs} runs; Python {platform.python_version()}, PostgreSQL {run.pg_version} "
          f"(autovacuum {run.autovacuum}; {'no ANALYZE' if args.no_analyze else 'ANALYZE after the build'}), "
          f"keelplan serve --workers {args.workers}, {os.cpu_count()} CPUs, load average {run.load_before} before "
          f"/ {loadavg()} after")
    print(json.dumps({k: round(statistics.median(v), 4) for k, v in figures.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
