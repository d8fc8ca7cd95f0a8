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

    call_command("migrate", interactive=False, verbosity=verbosity)


def cmd_serve(args) -> int:
    _setup_django()
    _migrate()
    from keelplan.demo import demo_load_if_empty

    loaded = demo_load_if_empty()
    from django.conf import settings

    print(f"Keelplan on http://{args.host}:{args.port}/  (database: {settings.DATABASES['default']['NAME']})")
    if loaded:
        print(loaded.login_help())
    print(f"  API:        http://{args.host}:{args.port}/api/v1/   (token: POST /api/token/)")
    print(f"  Swagger UI: http://{args.host}:{args.port}/api/schema/swagger-ui/")
    print(f"  Admin:      http://{args.host}:{args.port}/admin/")
    sys.stdout.flush()
    if args.workers > 1:
        from gunicorn.app.wsgiapp import run as gunicorn_run

        sys.argv = [
            "gunicorn", "keelplan.config.wsgi:application", "--bind", f"{args.host}:{args.port}",
            "--workers", str(args.workers), "--access-logfile", "-" if args.access_log else "/dev/null",
            "--timeout", "120", "--graceful-timeout", "10",
        ]
        return gunicorn_run() or 0
    from django.core.management import call_command

    call_command("runserver", f"{args.host}:{args.port}", use_reloader=False, use_threading=True,
                 skip_checks=True)
    return 0


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
    createuser.add_argument("--admin", action="store_true", help="workspace administrator (Django superuser)")
    createuser.set_defaults(func=cmd_createuser)

    token = sub.add_parser("token", help="print a new API token for a user")
    token.add_argument("username")
    token.add_argument("--name", help="a label for the token")
    token.set_defaults(func=cmd_token)

    demo = sub.add_parser("demo", help="load the demo workspace")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "workers", 1) < 1:
        print("keelplan serve: --workers must be at least 1", file=sys.stderr)
        return 2
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
