"""``keelplan schedule FILE [--json]``: the engine from the command line, without Django."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import trueppm_scheduler as tp

from keelplan.cli import main

PROJECT = {
    "start": "2026-01-05",
    "tasks": [{"id": "A", "name": "Design", "duration": 3}, {"id": "B", "name": "Build the thing", "duration": 2},
              {"id": "C", "duration": 1}, {"id": "M", "name": "Done", "duration": 0}],
    "links": [{"predecessor": "A", "successor": "B"}, {"predecessor": "A", "successor": "C", "lag": 3},
              {"predecessor": "B", "successor": "M"}],
}


@pytest.fixture
def project_file(tmp_path):
    path = tmp_path / "project.json"
    path.write_text(json.dumps(PROJECT))
    return path


def test_table_output(project_file, capsys):
    assert main(["schedule", str(project_file)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = lines[0]
    for column in ("ID", "Name", "Dur", "Early start", "Early finish", "Late start", "Late finish", "TF", "FF",
                   "Crit"):
        assert column in header
    rows = {line.split()[0]: line for line in lines[2:6]}
    assert set(rows) == {"A", "B", "C", "M"}
    # Aligned: every row's early-start column begins where the header's does.
    at = header.index("Early start")
    assert all(row[at:at + 10].startswith("2026-") for row in rows.values())
    assert "Build the thing" in rows["B"] and not rows["B"].rstrip().endswith("*")
    assert rows["A"].split()[1:] == ["Design", "3", "2026-01-05", "2026-01-07", "2026-01-05", "2026-01-07", "0", "0",
                                     "*"]
    assert rows["C"].split()[1:] == ["1", "2026-01-13", "2026-01-13", "2026-01-13", "2026-01-13", "0", "0", "*"]
    # M occupies its day: the working day after B ends (Fri 9) is Mon 12.
    assert rows["M"].split()[1:] == ["Done", "0", "2026-01-12", "2026-01-12", "2026-01-13", "2026-01-13", "1", "1"]
    assert "Project finish: 2026-01-13" in out
    assert "Critical path:  A -> C" in out


def test_json_output(project_file, capsys):
    assert main(["schedule", str(project_file), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["project_finish"] == "2026-01-13"
    assert d["critical_path"] == ["A", "C"]
    assert list(d["tasks"]) == ["A", "B", "C", "M"]
    assert d["tasks"]["B"] == {"early_start": "2026-01-08", "early_finish": "2026-01-09",
                               "late_start": "2026-01-09", "late_finish": "2026-01-12", "total_float": 1,
                               "free_float": 0, "is_critical": False}
    assert d["tasks"]["C"]["early_start"] == "2026-01-13" and d["tasks"]["C"]["is_critical"] is True
    # A drives B and C (neither could start later without A moving them), B drives M.
    assert d["driving_links"] == [["A", "B", "FS"], ["A", "C", "FS"], ["B", "M", "FS"]]


def test_json_output_names_the_links_that_drive(tmp_path, capsys):
    # B waits for A; C starts with the project and A's SS link asks for no more: A -> C does not drive.
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"start": "2026-01-05", "tasks": [
        {"id": "A", "duration": 2}, {"id": "B", "duration": 1},
        {"id": "C", "duration": 1, "constraint": "SNET", "constraint_date": "2026-01-07"}],
        "links": [{"predecessor": "A", "successor": "B"}, {"predecessor": "A", "successor": "C", "type": "SS"}]}))
    assert main(["schedule", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["driving_links"] == [["A", "B", "FS"]]


def test_reads_stdin_and_the_trueppm_format(monkeypatch, capsys):
    project = tp.Project(id="p", name="p", start_date=__import__("datetime").date(2026, 4, 1),
                         tasks=[tp.Task(id="A", name="A", duration=__import__("datetime").timedelta(days=5))])
    monkeypatch.setattr(sys, "stdin", _Stdin(project.to_json().encode()))
    assert main(["schedule", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tasks"]["A"]["early_finish"] == "2026-04-07"


class _Stdin:
    def __init__(self, data: bytes):
        import io
        self.buffer = io.BytesIO(data)


@pytest.mark.parametrize("document, message", [
    ({"start": "2026-01-05", "tasks": [{"id": "A", "duration": 1.5}]},
     "keelplan schedule: task 'A', field 'duration': expected a whole number, got 1.5"),
    ({"start": "2026-01-05", "tasks": [{"id": "A", "duration": 1}, {"id": "B", "duration": 1}],
      "links": [{"predecessor": "A", "successor": "B"}, {"predecessor": "B", "successor": "A"}]},
     "keelplan schedule: Cyclic dependency: A -> B -> A"),
    ({"start": "2026-13-05", "tasks": []}, "keelplan schedule: field 'start': '2026-13-05' is not a real date"),
])
def test_errors_are_one_line_on_stderr_with_status_1(tmp_path, capsys, document, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    assert main(["schedule", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == message + "\n"


def test_missing_file(tmp_path, capsys):
    assert main(["schedule", str(tmp_path / "nope.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("keelplan schedule: cannot read") and err.count("\n") == 1


def test_runs_without_django(tmp_path, project_file):
    """A real process in which ``import django`` fails: the schedule command must not need it."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(textwrap.dedent("""
        import sys

        class _NoDjango:
            def find_spec(self, name, path=None, target=None):
                if name == "django" or name.startswith("django."):
                    raise ImportError("django is blocked in this test")
                return None

        sys.meta_path.insert(0, _NoDjango())
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    code = ("import sys; from keelplan.cli import main; rc = main(sys.argv[1:]); "
            "assert 'django' not in sys.modules; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code, "schedule", str(project_file), "--json"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["project_finish"] == "2026-01-13"
    # The hook really blocks Django: a command that needs it fails in the same environment.
    blocked = subprocess.run([sys.executable, "-c", "import django"], capture_output=True, text=True, env=env,
                             timeout=60)
    assert blocked.returncode != 0 and "django is blocked" in blocked.stderr


def test_help_lists_the_schedule_command():
    done = subprocess.run([sys.executable, "-m", "keelplan.cli", "schedule", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "--json" in done.stdout and "FILE" in done.stdout
