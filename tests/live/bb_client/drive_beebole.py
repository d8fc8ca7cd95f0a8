"""Drives the ``beebole`` client (PyPI 1.0.0, its only release) against a live Keelplan's ``POST /api/v2``; it
speaks the protocol of ``op_clients/_driver.py``: a plan as JSON on stdin, one JSON report on stdout.

The package cannot be imported or used as published, on any Python 3. This driver applies three fixes at run
time, leaving the installed files as they are:

1. ``beebole/__init__.py`` imports ``beebole.client`` first, which imports ``__version__`` from the package before
   it is defined (a circular import): a bare ``beebole`` module, with the installed directory as its
   ``__path__`` and ``__version__ = "1.0.0"``, is registered first, so the package's ``__init__`` never runs.
2. ``beebole.interfaces.entities`` subclasses an Enum that has members (``EntityType(TimeEntryEntityType)``),
   which raises ``TypeError``: a substitute module with the same four names (two independent string Enums and
   the ``IdEntity``/``CountEntity`` dataclasses) is registered under that name, its ``__path__`` the real
   directory so that the entity submodules still load from the package.
3. ``utils.Sentinel`` is wrapped by a ``singleton`` decorator that returns a function, so every service call
   fails in ``isinstance(value, Sentinel)``: ``beebole.base.Sentinel`` is replaced by a plain class after import.

The ``defects`` scenario shows each defect is real before the others run with all three fixes. The endpoint is
not a constructor argument: it is set on the instance (``client.endpoint``). Every reply the client receives is
also recorded from its own session (a response hook), so that a scenario can report what the server sent where
the client's dataclass keeps less (``custom_fields`` items lose their ``value``).

The driver only reports what the client returned or raised; the test decides what is right.
"""

import base64
import dataclasses
import datetime as dt
import enum
import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import sys
import types

# The protocol module lives beside the OpenProject drivers; this script runs from its own folder.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "op_clients"))

from _driver import run  # noqa: E402

PACKAGE = "beebole"
ENTITIES = "beebole.interfaces.entities"
VERSION = "1.0.0"


# ---------------------------------------------------------------- the three run-time fixes

class TimeEntryEntityType(str, enum.Enum):
    ABSENCE = "absence"
    COMPANY = "company"
    PROJECT = "project"
    SUBPROJECT = "subproject"


class EntityType(str, enum.Enum):
    """The published one extends ``TimeEntryEntityType``; this one repeats its members instead."""

    ABSENCE = "absence"
    COMPANY = "company"
    PROJECT = "project"
    SUBPROJECT = "subproject"
    TASK = "task"
    PERSON = "person"


@dataclasses.dataclass
class IdEntity:
    id: int


@dataclasses.dataclass
class CountEntity:
    count: int


class Sentinel:
    """What ``beebole.base`` compares keyword defaults against: an ordinary class, so ``isinstance`` works."""


def _package_dir() -> str:
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the beebole package is not installed in this environment")
    return list(spec.submodule_search_locations)[0]


def _forget() -> None:
    """Drop every ``beebole`` module imported so far, so that the next import starts from nothing."""
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def _fix_circular_import(directory: str) -> None:
    package = types.ModuleType(PACKAGE)
    package.__path__ = [directory]
    package.__version__ = VERSION
    sys.modules[PACKAGE] = package


def _fix_enum_extension(directory: str) -> None:
    entities = types.ModuleType(ENTITIES)
    entities.__path__ = [os.path.join(directory, "interfaces", "entities")]
    for cls in (TimeEntryEntityType, EntityType, IdEntity, CountEntity):
        cls.__module__ = ENTITIES
        setattr(entities, cls.__name__, cls)
    sys.modules[ENTITIES] = entities


def _fix_sentinel() -> None:
    sys.modules["beebole.base"].Sentinel = Sentinel


def load(fixes: int = 3):
    """The ``beebole`` modules freshly imported with the first ``fixes`` fixes applied."""
    _forget()
    directory = _package_dir()
    if fixes >= 1:
        _fix_circular_import(directory)
    if fixes >= 2:
        _fix_enum_extension(directory)
    client = importlib.import_module("beebole.client")
    if fixes >= 3:
        _fix_sentinel()
    return client


# ---------------------------------------------------------------- talking to the server through the client

class Wire:
    """Every reply the client's session received: its HTTP status and body."""

    def __init__(self) -> None:
        self.replies = []

    def hook(self, response, *args, **kwargs):
        try:
            body = response.json()
        except ValueError:
            body = response.text
        self.replies.append({"status": response.status_code, "body": body})
        return response

    @property
    def last(self) -> dict:
        return self.replies[-1]


def connect(plan: dict, token: str | None = None):
    """A client with all three fixes, pointed at the server, and the record of what it receives."""
    client_module = load()
    client = client_module.BeeboleClient(plan["token"] if token is None else token)
    client.endpoint = plan["base_url"] + "/api/v2"
    wire = Wire()
    client.session.hooks["response"].append(wire.hook)
    return client, wire


def typed(value) -> dict:
    """A reply the client turned into one of its dataclasses, as a dict naming the class it became."""
    if not dataclasses.is_dataclass(value):
        raise AssertionError(f"the client returned {type(value).__name__}, not a typed reply: {value!r}")
    return {"type": type(value).__name__, **dataclasses.asdict(value)}


def attempt(call) -> dict:
    """What a call the scenario expects to fail raised: the exception's class, its message, and the reply."""
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - the test decides which exception was right
        response = getattr(exc, "response", None)
        if response is None and exc.args and hasattr(exc.args[0], "status_code"):
            response = exc.args[0]  # BeeboleNotFound and BeeboleRateLimited keep the response as their argument
        return {"raised": type(exc).__name__, "is_api_exception": type(exc).__name__ == "BeeboleAPIException",
                "message": getattr(exc, "message", str(exc)), "body": getattr(exc, "body", None),
                "status": getattr(response, "status_code", None)}
    return {"raised": None, "value": typed(value) if dataclasses.is_dataclass(value) else value}


def _person(name: str, email: str, user_group: str, *, person_id: int = 0, company: int | None = None):
    """A ``Person`` as the client takes it. It has no company field: an extra attribute set on the instance is
    sent with it (``to_dict`` serialises the instance's own ``__dict__``)."""
    from beebole.interfaces.entities.person import Person, UserGroup

    person = Person(id=person_id, name=name, leaders=[], email=email, userGroup=UserGroup(user_group))
    if company is not None:
        person.company = {"id": company}
    return person


def _company(bb, name: str, corporate: bool = True) -> int:
    return bb.company.create(name, corporate).id


# ---------------------------------------------------------------- scenarios

def _files_changed() -> list[str]:
    """The installed package's files whose content no longer matches the hash pip recorded at install time."""
    changed = []
    for file in importlib.metadata.distribution(PACKAGE).files or []:
        if file.hash is None:  # RECORD itself, and the __pycache__ files compiled later
            continue
        digest = hashlib.new(file.hash.mode, file.read_binary()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != file.hash.value:
            changed.append(str(file))
    return changed


def defects(plan: dict, step) -> dict:
    """Each defect, shown on its own: with fewer fixes the import or the first call fails as described; and the
    installed files are those pip installed."""
    out = {}
    with step("the installed files against pip's RECORD"):
        out["files_checked"] = sum(1 for file in importlib.metadata.distribution(PACKAGE).files or [] if file.hash)
        out["files_changed"] = _files_changed()
    with step("import beebole (as published)"):
        _forget()
        out["as_published"] = attempt(lambda: importlib.import_module(PACKAGE))
    with step("import beebole.client (circular import fixed)"):
        out["circular_fixed"] = attempt(lambda: load(fixes=1))
    with step("company.list (circular import and enum fixed)"):
        client_module = load(fixes=2)
        client = client_module.BeeboleClient(plan["token"])
        client.endpoint = plan["base_url"] + "/api/v2"
        wire = Wire()
        client.session.hooks["response"].append(wire.hook)
        out["enum_fixed"] = attempt(lambda: client.company.list())
        out["enum_fixed_requests"] = len(wire.replies)
    with step("company.list (all three fixed)"):
        bb, wire = connect(plan)
        out["all_fixed"] = attempt(lambda: bb.company.list())
        out["all_fixed_requests"] = len(wire.replies)
    with step("the client's requests"):
        out["endpoint"] = bb.endpoint
        out["headers"] = {key: bb.session.headers[key] for key in ("Content-Type", "User-Agent")}
        out["authorization_scheme"] = bb.session.headers["Authorization"].split(" ", 1)[0]
    return out


def company(plan: dict, step) -> dict:
    bb, _ = connect(plan)
    tag, out = plan["tag"], {}
    with step("company.create (corporate)"):
        out["own_created"] = typed(bb.company.create(f"Own {tag}", True))
    with step("company.create (customer, corporate left to its default)"):
        out["customer_created"] = typed(bb.company.create(f"Customer {tag}"))
    own, customer = out["own_created"]["id"], out["customer_created"]["id"]
    with step("company.get"):
        out["own"] = bb.company.get(own)
        out["customer"] = bb.company.get(customer)
    with step("company.list"):
        out["listed"] = bb.company.list()
    with step("company.deactivate"):
        out["deactivated"] = typed(bb.company.deactivate(customer))
    with step("company.get (deactivated)"):
        out["inactive"] = bb.company.get(customer)
    with step("company.list (one deactivated)"):
        out["listed_inactive"] = bb.company.list()
    with step("company.activate"):
        out["activated"] = typed(bb.company.activate(customer))
    with step("company.get (activated again)"):
        out["active_again"] = bb.company.get(customer)
    with step("project.create (to count)"):
        bb.project.create(f"Counted {tag}", own)
    with step("company.get (one project)"):
        out["own_with_project"] = bb.company.get(own)
    return out


def person(plan: dict, step) -> dict:
    bb, _ = connect(plan)
    tag, out = plan["tag"], {}
    with step("company.create"):
        staff = out["company"] = _company(bb, f"Staff {tag}")
        elsewhere = out["other_company"] = _company(bb, f"Elsewhere {tag}")
    with step("person.create"):
        sent = _person(f"Pat {tag}", f"pat-{tag}@example.com", "pm", company=staff)
        out["created"] = typed(bb.person.create(sent))
        out["instance_after_create"] = {key: value for key, value in vars(sent).items() if key != "leaders"}
    pid = out["created"]["id"]
    with step("person.create (in another company)"):
        out["other"] = bb.person.create(_person(f"Sam {tag}", f"sam-{tag}@example.com", "employee",
                                                company=elsewhere)).id
    with step("person.create (to deactivate for good)"):
        out["leaver"] = bb.person.create(_person(f"Lee {tag}", f"lee-{tag}@example.com", "contractor",
                                                 company=staff)).id
    with step("person.get"):
        out["got"] = bb.person.get(pid)
    with step("person.list"):
        out["listed"] = bb.person.list(staff)
        out["listed_other"] = bb.person.list(elsewhere)
    with step("person.update"):
        out["updated"] = typed(bb.person.update(_person(f"Pat {tag} (renamed)", f"pat.renamed-{tag}@example.com",
                                                        "leader", person_id=pid)))
    with step("person.get (updated)"):
        out["got_updated"] = bb.person.get(pid)
    with step("person.deactivate"):
        out["deactivated"] = typed(bb.person.deactivate(pid))
        bb.person.deactivate(out["leaver"])
    with step("person.get (deactivated)"):
        out["inactive"] = bb.person.get(pid)
    with step("person.activate"):
        out["activated"] = typed(bb.person.activate(pid))
    with step("person.get (activated again)"):
        out["active_again"] = bb.person.get(pid)
    with step("group.create"):
        kept = out["kept_group"] = bb.group.create(f"Kept {tag}").id
        left = out["left_group"] = bb.group.create(f"Left {tag}").id
    with step("person.add_group"):
        out["added"] = typed(bb.person.add_group(pid, kept))
        bb.person.add_group(pid, left)
    with step("person.groups"):
        out["groups"] = typed(bb.person.groups(pid))
    with step("person.remove_group"):
        out["removed"] = typed(bb.person.remove_group(pid, left))
    with step("person.groups (one removed)"):
        out["groups_after"] = typed(bb.person.groups(pid))
    return out


def group(plan: dict, step) -> dict:
    bb, _ = connect(plan)
    tag, out = plan["tag"], {}
    with step("group.create (root)"):
        out["root_created"] = typed(bb.group.create(f"Region {tag}"))
    root = out["root_created"]["id"]
    with step("group.create (child, with its parent)"):
        out["child_created"] = typed(bb.group.create(f"City {tag}", root))
    child = out["child_created"]["id"]
    with step("group.get"):
        out["root"] = typed(bb.group.get(root))
        out["child"] = typed(bb.group.get(child))
    with step("group.tree"):
        out["tree"] = bb.group.tree()
    with step("group.update"):
        out["updated"] = typed(bb.group.update(child, f"Town {tag}"))
        out["child_updated"] = typed(bb.group.get(child))
    with step("company.create / project.create / task.create / person.create"):
        company_id = out["company"] = _company(bb, f"Census {tag}")
        project_id = out["project"] = bb.project.create(f"Survey {tag}", company_id).id
        task_id = out["task"] = bb.task.create(f"Counting {tag}", company_id).id
        person_id = out["person"] = bb.person.create(
            _person(f"Kim {tag}", f"kim-{tag}@example.com", "employee", company=company_id)).id
    with step("company.add_group / project.add_group / task.add_group / person.add_group"):
        out["company_added"] = typed(bb.company.add_group(company_id, root))
        out["project_added"] = typed(bb.project.add_group(project_id, root))
        out["task_added"] = typed(bb.task.add_group(task_id, root))
        out["person_added"] = typed(bb.person.add_group(person_id, root))
    with step("group.list (company, sent as a bare id)"):
        out["list_company"] = typed(bb.group.list(company_id, EntityType.COMPANY))
    with step("group.list (project)"):
        out["list_project"] = typed(bb.group.list(project_id, EntityType.PROJECT))
    with step("company.groups / project.groups / task.groups"):
        out["company_groups"] = typed(bb.company.groups(company_id))
        out["project_groups"] = typed(bb.project.groups(project_id))
        out["task_groups"] = typed(bb.task.groups(task_id))
    with step("group.assignments"):
        out["assignments"] = bb.group.assignments(root)
        out["child_assignments"] = bb.group.assignments(child)
    with step("group.create (to delete)"):
        doomed = out["doomed"] = bb.group.create(f"Doomed {tag}").id
        bb.company.add_group(company_id, doomed)
    with step("group.delete (assigned, without force)"):
        out["delete_refused"] = attempt(lambda: bb.group.delete(doomed))
    with step("group.get (after the refusal)"):
        out["doomed_still"] = typed(bb.group.get(doomed))
        out["company_groups_still"] = typed(bb.company.groups(company_id))
    with step("group.delete (assigned, with force)"):
        out["delete_forced"] = typed(bb.group.delete(doomed, True))
    with step("group.get (deleted)"):
        out["doomed_gone"] = attempt(lambda: bb.group.get(doomed))
    with step("company.groups (after the delete)"):
        out["company_groups_after"] = typed(bb.company.groups(company_id))
    with step("group.create / group.delete (never assigned)"):
        idle = out["idle"] = bb.group.create(f"Idle {tag}").id
        out["idle_deleted"] = typed(bb.group.delete(idle))
    return out


def task(plan: dict, step) -> dict:
    bb, _ = connect(plan)
    tag, out = plan["tag"], {}
    with step("company.create"):
        company_id = out["company"] = _company(bb, f"Works {tag}")
        elsewhere = out["other_company"] = _company(bb, f"Yard {tag}")
    with step("task.create"):
        out["created"] = typed(bb.task.create(f"Design {tag}", company_id))
        out["other"] = bb.task.create(f"Welding {tag}", elsewhere).id
    tid = out["created"]["id"]
    with step("task.get"):
        out["got"] = bb.task.get(tid)
    with step("task.list"):
        out["listed"] = bb.task.list(company_id)
        out["listed_other"] = bb.task.list(elsewhere)
    with step("task.update"):
        out["updated"] = typed(bb.task.update(tid, f"Drafting {tag}"))
        out["got_updated"] = bb.task.get(tid)
    with step("task.deactivate"):
        out["deactivated"] = typed(bb.task.deactivate(tid))
        out["inactive"] = bb.task.get(tid)
        out["listed_inactive"] = bb.task.list(company_id)
    with step("task.activate"):
        out["activated"] = typed(bb.task.activate(tid))
        out["active_again"] = bb.task.get(tid)
    return out


def project(plan: dict, step) -> dict:
    bb, wire = connect(plan)
    tag, out = plan["tag"], {}
    with step("company.create"):
        company_id = out["company"] = _company(bb, f"Agency {tag}")
        elsewhere = out["other_company"] = _company(bb, f"Rival {tag}")
    with step("project.create (the client's defaults)"):
        out["created"] = typed(bb.project.create(f"Website {tag}", company_id))
        # The client always sends a start date (the 1st of the current month) and an empty description.
        out["default_start"] = dt.date.today().replace(day=1).isoformat()
    pid = out["created"]["id"]
    with step("project.create (start date and description given)"):
        out["dated"] = bb.project.create(f"Brochure {tag}", company_id, "Printed matter", "2026-03-02").id
        out["other"] = bb.project.create(f"Elsewhere {tag}", elsewhere).id
    with step("project.get"):
        out["got"] = bb.project.get(pid)
        out["got_dated"] = bb.project.get(out["dated"])
    with step("project.list"):
        out["listed"] = bb.project.list(company_id)
    with step("project.update"):
        out["updated"] = typed(bb.project.update(pid, name=f"Website {tag} (relaunch)", start_date="2026-04-06",
                                                 description="The relaunch"))
        out["got_updated"] = bb.project.get(pid)
    with step("project.deactivate"):
        out["deactivated"] = typed(bb.project.deactivate(pid))
        out["inactive"] = bb.project.get(pid)
    with step("project.activate"):
        out["activated"] = typed(bb.project.activate(pid))
        out["active_again"] = bb.project.get(pid)

    with step("person.create / group.create (members)"):
        kept = out["member_kept"] = bb.person.create(
            _person(f"Ann {tag}", f"ann-{tag}@example.com", "employee", company=company_id)).id
        left = out["member_left"] = bb.person.create(
            _person(f"Bob {tag}", f"bob-{tag}@example.com", "employee", company=company_id)).id
        team = out["team"] = bb.group.create(f"Web team {tag}").id
    with step("project.attach_member (people and a group)"):
        out["attached_person"] = typed(bb.project.attach_member(pid, kept))
        bb.project.attach_member(pid, left)
        out["attached_group"] = typed(bb.project.attach_member(pid, team, group=True))
    with step("project.members"):
        out["members"] = bb.project.members(pid)
    with step("project.detach_member"):
        out["detached"] = typed(bb.project.detach_member(pid, left))
        out["members_after"] = bb.project.members(pid)

    with step("person.create (managers)"):
        manager = out["manager"] = bb.person.create(
            _person(f"Max {tag}", f"max-{tag}@example.com", "pm", company=company_id)).id
        former = out["former_manager"] = bb.person.create(
            _person(f"Mia {tag}", f"mia-{tag}@example.com", "pm", company=company_id)).id
    with step("project.attach_manager"):
        out["attached_manager"] = typed(bb.project.attach_manager(pid, manager))
        bb.project.attach_manager(pid, former)
    with step("project.managers"):
        out["managers"] = bb.project.managers(pid)
    with step("project.detach_manager"):
        out["detached_manager"] = typed(bb.project.detach_manager(pid, former))
        out["managers_after"] = bb.project.managers(pid)

    with step("task.create (specific tasks)"):
        specific = out["specific_task"] = bb.task.create(f"Copywriting {tag}", company_id).id
        passing = out["passing_task"] = bb.task.create(f"Proofreading {tag}", company_id).id
    with step("project.attach_specific_tasks (the client's plural service name)"):
        out["attached_task"] = typed(bb.project.attach_specific_tasks(pid, specific))
        bb.project.attach_specific_tasks(pid, passing)
        out["specific_tasks"] = bb.project.specific_tasks(pid)
    with step("project.disable_specific_tasks"):
        out["disabled"] = typed(bb.project.disable_specific_tasks(pid))
        out["specific_tasks_disabled"] = bb.project.specific_tasks(pid)
    with step("project.enable_specific_tasks"):
        out["enabled"] = typed(bb.project.enable_specific_tasks(pid))
        out["specific_tasks_enabled"] = bb.project.specific_tasks(pid)
    with step("project.detach_specific_tasks"):
        out["detached_task"] = typed(bb.project.detach_specific_tasks(pid, passing))
        out["specific_tasks_after"] = bb.project.specific_tasks(pid)

    with step("group.create (category)"):
        category = out["category"] = bb.group.create(f"Marketing {tag}").id
        passing_category = out["passing_category"] = bb.group.create(f"Seasonal {tag}").id
    with step("project.add_group"):
        out["added_group"] = typed(bb.project.add_group(pid, category))
        bb.project.add_group(pid, passing_category)
        out["groups"] = typed(bb.project.groups(pid))
    with step("project.remove_group"):
        out["removed_group"] = typed(bb.project.remove_group(pid, passing_category))
        out["groups_after"] = typed(bb.project.groups(pid))

    field = plan["custom_field_id"]
    with step("custom_field.list"):
        out["custom_field_list"] = typed(bb.custom_field.list())
    with step("project.set_custom_field_value"):
        out["set_value"] = typed(bb.project.set_custom_field_value(pid, field, "Salt Lake City, UT, USA"))
    with step("project.custom_fields (set)"):
        out["custom_fields"] = typed(bb.project.custom_fields(pid))
        out["custom_fields_wire"] = wire.last
    with step("project.clear_custom_field_value"):
        out["cleared_value"] = typed(bb.project.clear_custom_field_value(pid, field))
        out["custom_fields_cleared"] = typed(bb.project.custom_fields(pid))
        out["custom_fields_cleared_wire"] = wire.last
    with step("project.set_custom_field_value (again)"):
        bb.project.set_custom_field_value(pid, field, "Lyon")
    with step("project.get (at the end)"):
        out["final"] = bb.project.get(pid)
    return out


def subproject(plan: dict, step) -> dict:
    bb, _ = connect(plan)
    tag, out = plan["tag"], {}
    with step("company.create / project.create"):
        company_id = out["company"] = _company(bb, f"Lab {tag}")
        pid = out["project"] = bb.project.create(f"Development {tag}", company_id).id
        out["count_before"] = bb.project.get(pid)
    with step("subproject.create"):
        out["created"] = typed(bb.subproject.create(f"Analyse {tag}", pid))
    sid = out["created"]["id"]
    with step("subproject.get"):
        out["got"] = bb.subproject.get(sid)
    with step("project.get (one subproject)"):
        out["count_one"] = bb.project.get(pid)
    with step("subproject.create (a second)"):
        out["second"] = bb.subproject.create(f"Proto {tag}", pid).id
    with step("subproject.list"):
        out["listed"] = bb.subproject.list(pid)
    with step("project.get (two subprojects)"):
        out["count_two"] = bb.project.get(pid)
    with step("project.list"):
        out["projects"] = bb.project.list(company_id)
    return out


def errors(plan: dict, step) -> dict:
    bb, wire = connect(plan)
    unknown, out = plan["unknown_id"], {}
    with step("project.get (unknown id)"):
        out["project_get"] = attempt(lambda: bb.project.get(unknown))
        out["project_get_wire"] = wire.last
    with step("company.get / person.get / task.get / subproject.get (unknown id)"):
        out["company_get"] = attempt(lambda: bb.company.get(unknown))
        out["person_get"] = attempt(lambda: bb.person.get(unknown))
        out["task_get"] = attempt(lambda: bb.task.get(unknown))
        out["subproject_get"] = attempt(lambda: bb.subproject.get(unknown))
    with step("group.get (unknown id, a typed call)"):
        out["group_get"] = attempt(lambda: bb.group.get(unknown))
    with step("project.update (unknown id)"):
        out["project_update"] = attempt(lambda: bb.project.update(unknown, name="Nowhere"))
    with step("project.create (unknown company)"):
        out["project_create"] = attempt(lambda: bb.project.create(f"Orphan {plan['tag']}", unknown))
    with step("a wrong token"):
        stranger, stranger_wire = connect(plan, token="not-a-token")
        out["wrong_token"] = attempt(lambda: stranger.company.list())
        out["wrong_token_wire"] = stranger_wire.last
    return out


def bad_input_setup(plan: dict, step) -> dict:
    """Rows the bad requests aim at: two companies, a project of the first, a task of the second, a group on the
    project."""
    bb, _ = connect(plan)
    tag, out = plan["tag"], {}
    with step("setup"):
        out["ours"] = bb.company.create(f"Ours {tag}", True).id
        out["theirs"] = bb.company.create(f"Theirs {tag}", False).id
        out["project"] = bb.project.create(f"Guarded {tag}", out["ours"]).id
        out["their_task"] = bb.task.create(f"Their task {tag}", out["theirs"]).id
        out["group"] = bb.group.create(f"Tag {tag}").id
        bb.project.add_group(out["project"], out["group"])
    return out


def bad_input(plan: dict, step) -> dict:
    """Requests the server must refuse, each through the client's own services; the test fingerprints the
    database around them."""
    bb, _ = connect(plan)
    plain, _ = connect(plan, token=plan["plain_token"])
    rows, unknown, tag, out = plan["rows"], plan["unknown_id"], plan["tag"], {}
    attempts = {
        "project in an unknown company": lambda: bb.project.create(f"Orphan {tag}", unknown),
        "unknown person as member": lambda: bb.project.attach_member(rows["project"], unknown),
        "unknown group as member": lambda: bb.project.attach_member(rows["project"], unknown, group=True),
        "another company's task on a project": lambda: bb.project.attach_specific_tasks(rows["project"],
                                                                                       rows["their_task"]),
        "another company's task on a company": lambda: bb.company.attach_specific_task(rows["ours"],
                                                                                      rows["their_task"]),
        "subproject under an unknown project": lambda: bb.subproject.create(f"Lost {tag}", unknown),
        "an assigned group deleted without force": lambda: bb.group.delete(rows["group"]),
        "unknown task renamed": lambda: bb.task.update(unknown, "Nothing"),
        "a company made by a person without the right": lambda: plain.company.create(f"Mine {tag}"),
        "a project changed by a non-member": lambda: plain.project.update(rows["project"], name="Taken"),
        "a manager named by a non-member": lambda: plain.project.attach_manager(rows["project"], unknown),
        "a task made by a person without the right": lambda: plain.task.create(f"Mine {tag}", rows["ours"]),
    }
    for name, call in attempts.items():
        with step(name):
            out[name] = attempt(call)
    return out


if __name__ == "__main__":
    sys.exit(run({"defects": defects, "company": company, "person": person, "group": group, "task": task,
                  "project": project, "subproject": subproject, "errors": errors,
                  "bad_input_setup": bad_input_setup, "bad_input": bad_input}))
