"""The ``keelplan`` command, run in-process against the test database (and once as a real process)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from keelplan.cli import main
from keelplan.demo import DEMO_PASSWORD, DEMO_PROJECT_IDENTIFIER
from keelplan.planning.models import WorkItem
from keelplan.portfolio.models import Project

from conftest import make_user

User = get_user_model()




def bearer(credential: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    return client


def jwt_for(username: str, password: str):
    return APIClient().post("/api/token/", {"username": username, "password": password}, format="json")


def test_help_runs_as_a_module_and_lists_every_subcommand():
    done = subprocess.run([sys.executable, "-m", "keelplan.cli", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: keelplan")
    for command in ("serve", "createuser", "token", "demo"):
        assert command in done.stdout


def test_a_command_is_required():
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


# ---------------------------------------------------------------- createuser

def test_createuser_creates_a_user_who_can_obtain_a_jwt(db, capsys):
    code = main(["createuser", "ada", "--password", "analytical-9", "--email", "ada@example.com",
                 "--full-name", "Ada Lovelace"])

    assert code == 0
    assert "Created user ada" in capsys.readouterr().out
    user = User.objects.get(username="ada")
    assert (user.email, user.full_name, user.is_staff) == ("ada@example.com", "Ada Lovelace", False)
    response = jwt_for("ada", "analytical-9")
    assert response.status_code == 200, response.content
    me = bearer(response.json()["access"]).get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "ada"
    assert me.json()["full_name"] == "Ada Lovelace"


def test_createuser_with_admin_makes_a_workspace_administrator(db, capsys):
    assert main(["createuser", "root2", "--password", "admin-pass-9", "--admin"]) == 0

    user = User.objects.get(username="root2")
    assert user.is_staff and user.is_superuser
    assert "admin rights" in capsys.readouterr().out


def test_createuser_with_a_duplicate_name_exits_1_with_a_message_on_stderr(db, capsys):
    make_user("grace")

    code = main(["createuser", "grace", "--password", "another-pass-9"])

    assert code == 1
    captured = capsys.readouterr()
    assert "grace" in captured.err and "already exists" in captured.err
    assert captured.out == ""
    assert User.objects.filter(username="grace").count() == 1


def test_createuser_with_a_too_short_password_exits_1_and_creates_nobody(db, capsys):
    code = main(["createuser", "shorty", "--password", "abc"])

    assert code == 1
    assert "password" in capsys.readouterr().err
    assert not User.objects.filter(username="shorty").exists()


def test_createuser_requires_a_password():
    with pytest.raises(SystemExit) as exc:
        main(["createuser", "nopass"])
    assert exc.value.code == 2


# ---------------------------------------------------------------- token

def test_token_prints_an_api_token_that_authenticates_as_that_user(db, capsys):
    make_user("linus")
    make_user("someone_else")

    code = main(["token", "linus", "--name", "ci"])

    assert code == 0
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("kp_") and len(raw) > 20
    response = bearer(raw).get("/api/v1/users/me/")
    assert response.status_code == 200, response.content
    assert response.json()["username"] == "linus"


def test_each_token_call_issues_a_new_token(db, capsys):
    make_user("linus")
    main(["token", "linus"])
    first = capsys.readouterr().out.strip()
    main(["token", "linus"])
    second = capsys.readouterr().out.strip()

    assert first != second
    assert bearer(first).get("/api/v1/users/me/").status_code == 200
    assert bearer(second).get("/api/v1/users/me/").status_code == 200


def test_a_made_up_kp_token_is_refused(db):
    assert bearer("kp_not-a-real-token").get("/api/v1/users/me/").status_code == 401


def test_token_for_an_unknown_user_exits_1(db, capsys):
    code = main(["token", "nobody"])

    assert code == 1
    captured = capsys.readouterr()
    assert "nobody" in captured.err
    assert captured.out == ""


def test_token_for_an_inactive_user_exits_1(db, capsys):
    user = make_user("retired")
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert main(["token", "retired"]) == 1
    assert "retired" in capsys.readouterr().err


# ---------------------------------------------------------------- demo and serve

def test_demo_loads_the_workspace_and_prints_how_to_log_in(db, capsys):
    code = main(["demo"])

    assert code == 0
    out = capsys.readouterr().out
    project = Project.objects.get(identifier=DEMO_PROJECT_IDENTIFIER)
    assert WorkItem.objects.filter(project=project).count() >= 30
    for username in ("hannah", "marcus", "priya", "tom", "lena"):
        assert username in out
    for role in ("Owner", "Admin", "Scheduler", "Member", "Viewer"):
        assert role in out
    assert DEMO_PASSWORD in out
    assert "curl" in out and "http://127.0.0.1:8000/api/token/" in out
    # The printed credentials work.
    assert jwt_for("tom", DEMO_PASSWORD).status_code == 200


def test_demo_twice_does_not_fail_or_duplicate(db, capsys):
    assert main(["demo"]) == 0
    counts = (User.objects.count(), Project.all_objects.count(), WorkItem.all_objects.count())
    capsys.readouterr()

    assert main(["demo"]) == 0

    out = capsys.readouterr().out
    assert (User.objects.count(), Project.all_objects.count(), WorkItem.all_objects.count()) == counts
    assert "Already loaded" in out
    assert "hannah" in out and DEMO_PASSWORD in out


def test_serve_rejects_zero_workers(capsys):
    assert main(["serve", "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
