"""The ``keelplan`` command: serve, create users and tokens, load the demo workspace."""

from __future__ import annotations

import argparse
import os
import sys


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keelplan.config.settings")
    import django

    django.setup()


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    from keelplan.scheduling.services import schedule_missing

    call_command("migrate", interactive=False, verbosity=verbosity)
    # Projects from before the scheduler stored its results (or restored without them) get dates now.
    schedule_missing()


def cmd_serve(args) -> int:
    # Read by the settings (before they load; gunicorn's workers inherit them) for the heavy-request bound.
    os.environ["KEELPLAN_WORKERS"] = str(args.workers)
    _setup_django()
    _migrate()
    from keelplan.demo import demo_load_if_empty

    loaded = demo_load_if_empty()
    from django.conf import settings

    print(f"Keelplan on http://{args.host}:{args.port}/  (database: {settings.DATABASES['default']['NAME']})")
    if loaded:
        print(loaded.login_help(f"http://{args.host}:{args.port}"))
    print(f"  API:        http://{args.host}:{args.port}/api/v1/   (token: POST /api/token/)")
    print(f"  Swagger UI: http://{args.host}:{args.port}/api/schema/swagger-ui/")
    print(f"  Admin:      http://{args.host}:{args.port}/admin/")
    sys.stdout.flush()
    from django.db import connections

    # Migrating and loading the demo opened a database connection; gunicorn's forked workers would all
    # inherit that one socket and interleave their queries on it. Each process must open its own.
    connections.close_all()
    if args.workers > 1:
        from gunicorn.app.wsgiapp import run as gunicorn_run

        sys.argv = [
            "gunicorn", "keelplan.config.wsgi:application", "--bind", f"{args.host}:{args.port}",
            "--workers", str(args.workers), "--access-logfile", "-" if args.access_log else "/dev/null",
            "--timeout", "120", "--graceful-timeout", "10",
        ]
        return gunicorn_run() or 0
    _serve_threaded(args.host, args.port)
    return 0


def _serve_threaded(host: str, port: int) -> None:
    """One process, one thread per connection (Django's development server), with ``TCP_NODELAY`` set:
    without it a keep-alive client waits ~40 ms on every response, Nagle's algorithm holding back the body
    until the client's delayed ACK of the headers."""
    import socket

    from django.core.servers.basehttp import WSGIServer, run
    from django.core.wsgi import get_wsgi_application

    class NoDelayWSGIServer(WSGIServer):
        def get_request(self):
            connection, address = super().get_request()
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return connection, address

    run(host, port, get_wsgi_application(), ipv6=":" in host, threading=True, server_cls=NoDelayWSGIServer)


def cmd_createuser(args) -> int:
    _setup_django()
    _migrate()
    from keelplan.accounts.services import user_create
    from keelplan.core.errors import DomainError

    try:
        user = user_create(username=args.username, password=args.password, email=args.email or "",
                           full_name=args.full_name or "", is_admin=args.admin)
    except DomainError as exc:
        print(f"keelplan createuser: {exc.field + ': ' if exc.field else ''}{exc.message}", file=sys.stderr)
        return 1
    print(f"Created user {user.username} (id {user.pk}){' with admin rights' if args.admin else ''}.")
    return 0


def cmd_workspace_role(args) -> int:
    _setup_django()
    _migrate()
    from django.contrib.auth import get_user_model

    from keelplan.accounts.models import WorkspaceRole
    from keelplan.accounts.services import user_set_workspace_role
    from keelplan.core.errors import DomainError

    user = get_user_model().objects.filter(username=args.username).first()
    if user is None:
        print(f"keelplan workspace-role: no user named {args.username!r}", file=sys.stderr)
        return 1
    role = WorkspaceRole.ADMIN if args.role == "admin" else WorkspaceRole.USER
    try:
        user_set_workspace_role(actor=None, user=user, role=role)
    except DomainError as exc:
        print(f"keelplan workspace-role: {exc.message}", file=sys.stderr)
        return 1
    print(f"{user.username} is now {role.label.lower()}.")
    return 0


def cmd_token(args) -> int:
    _setup_django()
    _migrate()
    from django.contrib.auth import get_user_model

    from keelplan.accounts.services import api_token_create

    user = get_user_model().objects.filter(username=args.username, is_active=True).first()
    if user is None:
        print(f"keelplan token: no active user named {args.username!r}", file=sys.stderr)
        return 1
    _, raw = api_token_create(user=user, name=args.name or "cli")
    print(raw)
    return 0


def cmd_demo(args) -> int:
    _setup_django()
    _migrate()
    from keelplan.demo import demo_load

    result = demo_load()
    print(result.login_help())
    return 0


def cmd_purge(args) -> int:
    _setup_django()
    _migrate()
    from django.conf import settings

    from keelplan.sync.retention import tombstones_purge

    counts = tombstones_purge()
    days = settings.KEELPLAN_TOMBSTONE_RETENTION_DAYS
    gone = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items() if n) or "nothing"
    print(f"Purged rows deleted more than {days} days ago, and older push answers: {gone}.")
    return 0


def cmd_schedule(args) -> int:
    """Schedule a project file with the engine alone: no Django, no database."""
    from keelplan.engine.cpm import collector_paused

    # Reading a large file makes a few hundred thousand objects and no cycles (pausing saves a fifth of the time).
    with collector_paused():
        return _schedule_file(args)


def _schedule_file(args) -> int:
    from keelplan.engine import SchedulingError, schedule
    from keelplan.engine.formats import load_project, schedule_to_json

    try:
        if args.file == "-":
            text = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as fh:
                text = fh.read()
    except OSError as exc:
        print(f"keelplan schedule: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        project = load_project(text)
        result = schedule(project)
    except SchedulingError as exc:
        message = " ".join(str(exc).split())
        print(f"keelplan schedule: {message}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(schedule_to_json(result, project) + "\n")
    else:
        sys.stdout.write(_schedule_table(project, result))
    return 0


def _schedule_table(project, result) -> str:
    """The schedule as an aligned text table, then the project finish and the critical path."""
    durations = {t.id: t.duration for t in project.tasks}
    names = {t.id: t.name for t in project.tasks}
    headers = ["ID", "Name", "Dur", "Early start", "Early finish", "Late start", "Late finish", "TF", "FF", "Crit"]
    rows = []
    for task_id in result.tasks:
        r = result[task_id]
        rows.append([str(task_id), names.get(task_id, ""), "-" if r.is_summary else str(durations.get(task_id, "")),
                     r.early_start.isoformat(), r.early_finish.isoformat(), r.late_start.isoformat(),
                     r.late_finish.isoformat(), str(r.total_float), str(r.free_float), "*" if r.is_critical else ""])
    widths = [max([len(h)] + [len(row[c]) for row in rows]) for c, h in enumerate(headers)]
    right = {2, 7, 8}

    def line(cells):
        return "  ".join(cell.rjust(w) if c in right else cell.ljust(w)
                         for c, (cell, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    out.append("")
    out.append(f"Project start:  {result.project_start.isoformat()}")
    out.append(f"Project finish: {result.project_finish.isoformat()}")
    path = " -> ".join(str(t) for t in result.critical_path) or "(none)"
    out.append(f"Critical path:  {path}")
    return "\n".join(out) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keelplan", description="Keelplan project server.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, load the demo into a new database, and serve HTTP")
    serve.add_argument("--host", default=os.environ.get("KEELPLAN_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("KEELPLAN_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1, help="more than 1 serves with gunicorn")
    serve.add_argument("--access-log", action="store_true", help="log every request (gunicorn)")
    serve.set_defaults(func=cmd_serve)

    createuser = sub.add_parser("createuser", help="create a user")
    createuser.add_argument("username")
    createuser.add_argument("--password", required=True)
    createuser.add_argument("--email")
    createuser.add_argument("--full-name")
    createuser.add_argument("--admin", action="store_true", help="workspace administrator (and Django superuser)")
    createuser.set_defaults(func=cmd_createuser)

    workspace_role = sub.add_parser("workspace-role", help="make a user a workspace administrator, or an ordinary "
                                                           "user again")
    workspace_role.add_argument("username")
    workspace_role.add_argument("role", choices=["admin", "user"])
    workspace_role.set_defaults(func=cmd_workspace_role)

    token = sub.add_parser("token", help="print a new API token for a user")
    token.add_argument("username")
    token.add_argument("--name", help="a label for the token")
    token.set_defaults(func=cmd_token)

    demo = sub.add_parser("demo", help="load the demo workspace")
    demo.set_defaults(func=cmd_demo)

    purge = sub.add_parser("purge", help="delete for good what was soft-deleted longer ago than the tombstone "
                                         "retention (run daily)")
    purge.set_defaults(func=cmd_purge)

    sched = sub.add_parser("schedule", help="schedule a project JSON file and print its dates (no server needed)",
                           description="Schedule a project file (Keelplan's JSON project format or "
                                       "trueppm-scheduler's Project.to_json() output, detected automatically).")
    sched.add_argument("file", metavar="FILE", help="the project JSON file, or - to read standard input")
    sched.add_argument("--json", action="store_true", help="print the schedule as JSON")
    sched.set_defaults(func=cmd_schedule)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "workers", 1) < 1:
        print("keelplan serve: --workers must be at least 1", file=sys.stderr)
        return 2
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
