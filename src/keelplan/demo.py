"""The demo workspace: people in every role, two calendars, resources and a fit-out project, made through services.

Everything is written through the same service functions the API dialects call, so the demo obeys every
rule (roles, validation, cycle checks) and leaves a complete change log behind. Loading is idempotent: the
main project's identifier marks a workspace that already has the demo, and a second load changes nothing.

The story: Keelplan's demo client is having Level 3 of an office building fitted out. Hannah owns the
project, Marcus runs it day to day, Priya plans it, Tom supervises the site and Lena represents the client.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model

from keelplan.accounts.models import PersonKind, WorkspaceRole
from keelplan.accounts.services import user_create, user_leaders_set, user_set_workspace_role, user_update
from keelplan.calendars.services import calendar_create
from keelplan.core.transactions import write_transaction
from keelplan.planning.models import Priority, Status, WorkItemType
from keelplan.planning.services import dependency_create, task_create, task_update
from keelplan.portfolio.models import Project, Role
from keelplan.portfolio.people import person_company_set
from keelplan.portfolio.reference import company_create
from keelplan.portfolio.services import membership_add, project_create, project_update
from keelplan.resources.services import assignment_create, resource_create
from keelplan.timesheets.models import Activity
from keelplan.timesheets.services import time_entry_create

DEMO_PASSWORD = "keelplan-demo"
DEMO_PROJECT_IDENTIFIER = "harbourside-fit-out"
DEMO_SUBPROJECT_IDENTIFIER = "harbourside-it-av"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"

D = dt.date


@dataclass(frozen=True)
class DemoPerson:
    username: str
    full_name: str
    role: Role
    job_title: str

    @property
    def email(self) -> str:
        return f"{self.username}@harbourside.example"


# One person per project role; the first one owns the project and creates it.
# The workspace administrator: keeps the shared calendars and the resource pool.
WORKSPACE_ADMIN = "hannah"
PEOPLE = (
    DemoPerson("hannah", "Hannah Cole", Role.OWNER, "Project director"),
    DemoPerson("marcus", "Marcus Webb", Role.ADMIN, "Project manager"),
    DemoPerson("priya", "Priya Raman", Role.SCHEDULER, "Planner"),
    DemoPerson("tom", "Tom O'Connor", Role.MEMBER, "Site supervisor"),
    DemoPerson("lena", "Lena Fischer", Role.VIEWER, "Client representative"),
)

# England and Wales bank holidays that fall inside the project (and Christmas, for the calendar's sake).
BANK_HOLIDAYS_2026 = (
    (D(2026, 1, 1), "New Year's Day"),
    (D(2026, 4, 3), "Good Friday"),
    (D(2026, 4, 6), "Easter Monday"),
    (D(2026, 5, 4), "Early May bank holiday"),
    (D(2026, 5, 25), "Spring bank holiday"),
    (D(2026, 8, 31), "Summer bank holiday"),
    (D(2026, 12, 25), "Christmas Day"),
    (D(2026, 12, 28), "Boxing Day (substitute day)"),
)
MONDAY_TO_SATURDAY = 0b0111111
CRANE_SUNDAY = D(2026, 6, 14)

# Resources: key -> (name, job role, linked demo username or None, on the site calendar?, capacity).
RESOURCES = {
    "hannah": ("Hannah Cole", "Project director", "hannah", False, "0.20"),
    "marcus": ("Marcus Webb", "Project manager", "marcus", False, "1.00"),
    "priya": ("Priya Raman", "Planner", "priya", False, "0.50"),
    "tom": ("Tom O'Connor", "Site supervisor", "tom", True, "1.00"),
    "architects": ("Northgate Architects", "Architect (external)", None, False, "2.00"),
    "drylining": ("Drylining crew", "Drylining operatives", None, True, "4.00"),
    "mande": ("Volt & Vent M&E", "Mechanical and electrical contractor", None, True, "6.00"),
    "decorators": ("Decorating crew", "Painters and decorators", None, True, "3.00"),
    "lift": ("Scissor lift", "Access equipment", None, True, "2.00"),
    "installers": ("Furniture installers", "Furniture installation team", None, False, "4.00"),
}

# The WBS: phases (summary tasks) with their children. A child is (key, name, duration, options); a
# duration of 0 makes a milestone. Options: site (use the six-day site calendar), assignee (username),
# constraint ((type, date)), deadline (date), priority (code), description.
WBS = (
    ("design", "Design and approvals", (
        ("survey", "Measured survey of Level 3", 3, {"assignee": "marcus"}),
        ("layout", "Space plan and furniture layout", 8, {"assignee": "marcus"}),
        ("design_pack", "Detailed design and specification", 10, {"assignee": "marcus", "priority": "high"}),
        ("signoff", "Client sign-off of the design", 0, {"deadline": D(2026, 4, 10)}),
        ("bc_submit", "Building control submission", 2, {"assignee": "marcus"}),
        ("bc_approval", "Building control approval", 0, {
            "description": "The approving inspector has up to three calendar weeks to reply.",
        }),
    )),
    ("procurement", "Procurement", (
        ("tender_me", "Tender the M&E package", 10, {"assignee": "marcus"}),
        ("order_ahu", "Order air-handling units", 2, {"assignee": "marcus", "priority": "high"}),
        ("ahu_delivery", "Air-handling unit manufacture and delivery", 30, {}),
        ("order_furniture", "Order furniture", 2, {"assignee": "marcus"}),
        ("furniture_delivery", "Furniture manufacture and delivery", 35, {
            "constraint": ("FNLT", D(2026, 7, 24)),
            "description": "The supplier's contract guarantees delivery by 24 July.",
        }),
    )),
    ("strip_out", "Strip-out and enabling works", (
        ("site_setup", "Site set-up, hoarding and welfare", 2, {
            "site": True, "assignee": "tom", "constraint": ("SNET", D(2026, 4, 13)),
            "description": "The landlord hands the floor over on 13 April.",
        }),
        ("security", "Site security and welfare hire", 60, {
            "site": True, "description": "Runs until the client moves in (start-to-finish link).",
        }),
        ("soft_strip", "Soft strip of the existing fit-out", 8, {"site": True, "assignee": "tom"}),
        ("waste", "Waste segregation and removal", 8, {"site": True, "assignee": "tom"}),
        ("screed", "Floor screed repairs", 4, {"site": True}),
    )),
    ("first_fix", "First fix", (
        ("partitions", "Partition framing", 10, {"site": True, "assignee": "tom"}),
        ("mech_first", "Mechanical first fix (ductwork)", 12, {"site": True}),
        ("elec_first", "Electrical first fix (containment and cabling)", 12, {"site": True}),
        ("plumbing_first", "Plumbing first fix", 6, {"site": True}),
        ("data_cabling", "Structured data cabling", 8, {"site": True}),
        ("ahu_install", "Install air-handling units", 5, {
            "site": True, "priority": "high",
            "description": f"Crane lift booked for Sunday {CRANE_SUNDAY:%d %B} (a working day on the site calendar).",
        }),
    )),
    ("finishes", "Finishes", (
        ("boarding", "Plasterboard, tape and joint", 12, {"site": True, "assignee": "tom"}),
        ("ceilings", "Suspended ceilings", 8, {"site": True}),
        ("decoration", "Decoration", 8, {"site": True}),
        ("flooring", "Raised floor and carpet tiles", 6, {"site": True}),
        ("joinery", "Kitchen and reception joinery", 6, {"site": True}),
    )),
    ("commissioning", "Second fix and commissioning", (
        ("elec_second", "Electrical second fix", 6, {"site": True}),
        ("mech_second", "Mechanical second fix (grilles and diffusers)", 5, {"site": True}),
        ("hvac_commissioning", "HVAC commissioning", 4, {"site": True, "assignee": "tom"}),
        ("fire_alarm", "Fire alarm testing and certification", 2, {"site": True}),
        ("furniture_install", "Furniture installation", 4, {"site": True}),
        ("snagging", "Snagging and defects", 5, {"site": True, "assignee": "tom"}),
        ("practical_completion", "Practical completion", 0, {"deadline": D(2026, 8, 28), "priority": "high"}),
    )),
    ("handover", "Handover and move-in", (
        ("om_manuals", "O&M manuals and as-built drawings", 5, {"assignee": "marcus"}),
        ("training", "Building systems training for the client", 1, {"assignee": "marcus"}),
        ("move_in", "Client move-in weekend", 2, {"site": True, "assignee": "tom"}),
        ("close_out", "Project close-out", 0, {"constraint": ("FNLT", D(2026, 9, 30))}),
    )),
)

# Links: (predecessor, successor, type, lag, lag unit). Lag is in elapsed days ("ed") unless it is a working-day
# gap that must skip weekends and holidays ("wd"); a negative lag is a lead.
LINKS = (
    ("survey", "layout", "FS", 0, "ed"),
    ("layout", "design_pack", "FS", 0, "ed"),
    ("design_pack", "signoff", "FS", 0, "ed"),
    ("design_pack", "bc_submit", "FS", 0, "ed"),
    ("bc_submit", "bc_approval", "FS", 21, "ed"),
    ("design_pack", "tender_me", "SS", 5, "wd"),
    ("tender_me", "order_ahu", "FS", 0, "ed"),
    ("order_ahu", "ahu_delivery", "FS", 0, "ed"),
    ("signoff", "order_furniture", "FS", 0, "ed"),
    ("order_furniture", "furniture_delivery", "FS", 0, "ed"),
    ("signoff", "site_setup", "FS", 0, "ed"),
    ("site_setup", "security", "SS", 0, "ed"),
    ("site_setup", "soft_strip", "FS", 0, "ed"),
    ("soft_strip", "waste", "SS", 2, "ed"),
    ("soft_strip", "waste", "FF", 1, "ed"),
    ("soft_strip", "screed", "FS", 0, "ed"),
    ("screed", "partitions", "FS", 0, "ed"),
    ("bc_approval", "partitions", "FS", 0, "ed"),
    ("partitions", "mech_first", "SS", 3, "wd"),
    ("partitions", "elec_first", "SS", 3, "wd"),
    ("partitions", "plumbing_first", "SS", 5, "ed"),
    ("elec_first", "data_cabling", "FS", -3, "ed"),
    ("ahu_delivery", "ahu_install", "FS", 0, "ed"),
    ("mech_first", "ahu_install", "FS", 0, "ed"),
    ("mech_first", "boarding", "FS", 0, "ed"),
    ("elec_first", "boarding", "FS", 0, "ed"),
    ("plumbing_first", "boarding", "FS", 0, "ed"),
    ("boarding", "ceilings", "SS", 4, "wd"),
    ("boarding", "decoration", "FF", 5, "ed"),
    ("decoration", "flooring", "FS", 0, "ed"),
    ("decoration", "joinery", "SS", 2, "ed"),
    ("ceilings", "elec_second", "FS", 0, "ed"),
    ("ceilings", "mech_second", "FS", 0, "ed"),
    ("mech_second", "hvac_commissioning", "FS", 0, "ed"),
    ("ahu_install", "hvac_commissioning", "FS", 0, "ed"),
    ("elec_second", "fire_alarm", "FS", 0, "ed"),
    ("data_cabling", "fire_alarm", "FS", 0, "ed"),
    ("flooring", "furniture_install", "FS", 0, "ed"),
    ("furniture_delivery", "furniture_install", "FS", 0, "ed"),
    ("furniture_install", "snagging", "SS", 2, "ed"),
    ("joinery", "snagging", "FS", 0, "ed"),
    ("hvac_commissioning", "practical_completion", "FS", 0, "ed"),
    ("fire_alarm", "practical_completion", "FS", 0, "ed"),
    ("snagging", "practical_completion", "FS", 0, "ed"),
    ("hvac_commissioning", "om_manuals", "FS", 0, "ed"),
    ("practical_completion", "training", "FS", 0, "ed"),
    ("training", "move_in", "FS", 2, "ed"),
    ("move_in", "security", "SF", 0, "ed"),
    ("move_in", "close_out", "FS", 0, "ed"),
    ("om_manuals", "close_out", "FS", 0, "ed"),
)

# Assignments: (task, resource, units).
ASSIGNMENTS = (
    ("survey", "architects", "1.00"),
    ("layout", "architects", "1.00"),
    ("design_pack", "architects", "2.00"),
    ("design_pack", "hannah", "0.20"),
    ("bc_submit", "architects", "0.50"),
    ("tender_me", "marcus", "0.50"),
    ("order_ahu", "marcus", "0.25"),
    ("order_furniture", "marcus", "0.25"),
    ("site_setup", "tom", "1.00"),
    ("site_setup", "drylining", "2.00"),
    ("soft_strip", "drylining", "4.00"),
    ("soft_strip", "lift", "1.00"),
    ("waste", "tom", "0.50"),
    ("screed", "drylining", "2.00"),
    ("partitions", "drylining", "4.00"),
    ("partitions", "tom", "0.50"),
    ("mech_first", "mande", "3.00"),
    ("mech_first", "lift", "1.00"),
    ("elec_first", "mande", "2.00"),
    ("data_cabling", "mande", "1.00"),
    ("ahu_install", "mande", "2.00"),
    ("boarding", "drylining", "4.00"),
    ("decoration", "decorators", "3.00"),
    ("hvac_commissioning", "mande", "2.00"),
    ("hvac_commissioning", "tom", "0.50"),
    ("snagging", "tom", "1.00"),
    ("snagging", "priya", "0.25"),
    ("furniture_install", "installers", "4.00"),
    ("move_in", "installers", "2.00"),
    ("training", "marcus", "0.50"),
)

# The companies (Beebole's): name, corporate (one's own firm) or not (a customer); and who works for which.
COMPANIES = {"firm": ("Keelside Interiors", True), "client": ("Harbourside Properties", False)}
AFFILIATIONS = {"hannah": "firm", "marcus": "firm", "priya": "firm", "tom": "firm", "lena": "client"}

# Time logged in the first two weeks: (person, task or None for the project, day, minutes, activity, comment).
# Marcus, an Admin, logs Tom's survey help for him; everyone else logs their own.
TIME_LOGGED = (
    ("marcus", "survey", D(2026, 3, 2), 450, "Development", "Measured the north and east wings."),
    ("marcus", "survey", D(2026, 3, 3), 450, "Development", "South and west wings; services risers."),
    ("tom", "survey", D(2026, 3, 3), 240, "Support", "Opened ceiling voids for the survey."),
    ("marcus", "survey", D(2026, 3, 4), 180, "Testing", "Checked the survey against the base-build drawings."),
    ("marcus", "layout", D(2026, 3, 5), 420, "Specification", "First space plan options."),
    ("marcus", "layout", D(2026, 3, 6), 390, "Specification", ""),
    ("priya", None, D(2026, 3, 6), 120, "Management", "Baseline programme and weekly report."),
    ("hannah", "layout", D(2026, 3, 9), 90, "Management", "Reviewed the space plan options with the client."),
    ("marcus", "layout", D(2026, 3, 10), 450, "Specification", "Revised layout after the client review."),
    ("priya", None, D(2026, 3, 13), 90, "Management", "Progress update at the status date."),
)

# The IT and AV subproject Marcus runs under the fit-out: (key, name, duration, options).
SUBPROJECT_TASKS = (
    ("network_design", "Network and Wi-Fi design", 5, {}),
    ("racks", "Install comms room racks", 3, {"assignee": "tom"}),
    ("access_points", "Wi-Fi survey and access points", 4, {}),
    ("meeting_av", "Meeting-room AV installation", 5, {}),
    ("it_go_live", "IT go-live", 0, {}),
)
SUBPROJECT_LINKS = (
    ("network_design", "racks", "FS", 0, "ed"),
    ("racks", "access_points", "FS", 0, "ed"),
    ("racks", "meeting_av", "SS", 2, "ed"),
    ("access_points", "it_go_live", "FS", 0, "ed"),
    ("meeting_av", "it_go_live", "FS", 0, "ed"),
)


@dataclass
class DemoResult:
    """What ``demo_load`` did: the demo usernames (with their roles) and whether anything was created."""

    users: list[str] = field(default_factory=list)
    password: str = DEMO_PASSWORD
    roles: dict[str, str] = field(default_factory=dict)
    full_names: dict[str, str] = field(default_factory=dict)
    projects: list[str] = field(default_factory=list)
    created: bool = True

    def login_help(self, base_url: str = DEFAULT_BASE_URL) -> str:
        base_url = base_url.rstrip("/")
        lines = []
        if self.projects:
            state = "Loaded" if self.created else "Already loaded"
            lines.append(f"{state} demo workspace: {', '.join(self.projects)}.")
        lines.append(f"Demo users, with their role in the fit-out project (password: {self.password}):")
        width = max((len(u) for u in self.users), default=0)
        for username in self.users:
            role = self.roles.get(username, "")
            name = self.full_names.get(username, "")
            if username == WORKSPACE_ADMIN:
                name += " (workspace administrator)"
            lines.append(f"  {username:<{width}}  {role:<9}  {name}".rstrip())
        first = self.users[0] if self.users else "USERNAME"
        lines += [
            "Get a token and list the tasks:",
            f"  curl -s -X POST {base_url}/api/token/ -H 'Content-Type: application/json' "
            f"-d '{{\"username\": \"{first}\", \"password\": \"{self.password}\"}}'",
            f"  curl -s {base_url}/api/v1/tasks/ -H 'Authorization: Bearer <access token from above>'",
        ]
        return "\n".join(lines)


def _result_for_people(*, created: bool) -> DemoResult:
    result = DemoResult(created=created)
    for person in PEOPLE:
        result.users.append(person.username)
        result.roles[person.username] = person.role.label
        result.full_names[person.username] = person.full_name
    result.projects = list(
        Project.objects.filter(identifier__in=[DEMO_PROJECT_IDENTIFIER, DEMO_SUBPROJECT_IDENTIFIER])
        .order_by("id").values_list("name", flat=True)
    )
    return result


@write_transaction()
def demo_load() -> DemoResult:
    """Create the demo workspace unless it is already there; either way report its users."""
    if Project.all_objects.filter(identifier=DEMO_PROJECT_IDENTIFIER).exists():
        return _result_for_people(created=False)
    _Builder().build()
    return _result_for_people(created=True)


def demo_load_if_empty() -> DemoResult | None:
    """Load the demo into a workspace nobody uses yet (no users at all); otherwise do nothing."""
    if get_user_model().objects.exists():
        return None
    return demo_load()


class _Builder:
    """Writes the demo, step by step, as the people in it would: each write by someone whose role allows it."""

    def __init__(self):
        self.people = {}
        self.calendars = {}
        self.resources = {}
        self.tasks = {}
        self.companies = {}

    def build(self) -> None:
        self._people()
        self._companies()
        project = self._project()
        self._calendars(project)
        self._resources()
        self._tasks(project)
        self._links(LINKS)
        self._assignments()
        self._progress(project)
        self._time(project)
        self._subproject(project)

    # -- people and the project

    def _people(self) -> None:
        User = get_user_model()
        for person in PEOPLE:
            user = User.objects.filter(username=person.username).first()
            if user is None:
                user = user_create(username=person.username, password=DEMO_PASSWORD, email=person.email,
                                   full_name=person.full_name)
            if person.username == WORKSPACE_ADMIN:
                user = user_set_workspace_role(actor=None, user=user, role=WorkspaceRole.ADMIN)
            self.people[person.username] = user

    def _companies(self) -> None:
        """The fit-out firm everyone but Lena works for, and its client, Lena's company (Beebole's companies:
        the firm is corporate, the client a customer). Marcus manages projects; Tom reports to him."""
        keeper = self.people[WORKSPACE_ADMIN]
        self.companies = {key: company_create(actor=keeper, name=name, is_corporate=corporate)
                          for key, (name, corporate) in COMPANIES.items()}
        for username, key in AFFILIATIONS.items():
            person_company_set(actor=keeper, user=self.people[username], company=self.companies[key])
        user_update(actor=keeper, user=self.people["marcus"], kind=PersonKind.PROJECT_MANAGER)
        user_update(actor=keeper, user=self.people["tom"], kind=PersonKind.TEAM_LEADER)
        user_leaders_set(actor=keeper, user=self.people["tom"], leaders=[self.people["marcus"]])

    def _project(self) -> Project:
        owner = self.people[PEOPLE[0].username]
        project = project_create(
            actor=owner, name="Harbourside House – Level 3 fit-out", identifier=DEMO_PROJECT_IDENTIFIER,
            start_date=D(2026, 3, 2), company=self.companies["client"],
            description=("Cat A to Cat B fit-out of 1,850 m² on the third floor of Harbourside House: strip-out, "
                         "partitions, M&E, finishes and furniture, ready for the client to move in."),
        )
        for person in PEOPLE[1:]:
            membership_add(actor=owner, project=project, user=self.people[person.username], role=person.role)
        return project

    def _calendars(self, project: Project) -> None:
        keeper = self.people[WORKSPACE_ADMIN]
        holidays = [{"start": day, "end": day, "description": name} for day, name in BANK_HOLIDAYS_2026]
        self.calendars["standard"] = calendar_create(
            actor=keeper, name="Standard office week (Mon–Fri, bank holidays)", hours_per_day=Decimal("7.5"),
            timezone="Europe/London", exceptions=holidays,
        )
        self.calendars["site"] = calendar_create(
            actor=keeper, name="Site six-day week (Mon–Sat)", working_days=MONDAY_TO_SATURDAY,
            hours_per_day=Decimal(9), timezone="Europe/London",
            exceptions=holidays + [{"start": CRANE_SUNDAY, "end": CRANE_SUNDAY, "is_working": True,
                                    "description": "Crane lift for the air-handling units"}],
        )
        project_update(actor=self.people[PEOPLE[0].username], project=project, calendar=self.calendars["standard"])

    def _resources(self) -> None:
        keeper = self.people[WORKSPACE_ADMIN]
        for key, (name, job_role, username, on_site, units) in RESOURCES.items():
            self.resources[key] = resource_create(
                actor=keeper, name=name, job_role=job_role, max_units=Decimal(units),
                user=self.people[username] if username else None,
                email=self.people[username].email if username else "",
                calendar=self.calendars["site"] if on_site else None,
            )

    # -- tasks, links and assignments

    def _task_fields(self, options: dict, duration: int) -> dict:
        fields = {"duration": duration}
        if duration == 0:
            fields["is_milestone"] = True
            fields["type"] = WorkItemType.objects.get(code="milestone")
        if options.get("site"):
            fields["calendar"] = self.calendars["site"]
        if options.get("assignee"):
            fields["assignee"] = self.people[options["assignee"]]
        if options.get("constraint"):
            fields["constraint_type"], fields["constraint_date"] = options["constraint"]
        if options.get("deadline"):
            fields["deadline"] = options["deadline"]
        if options.get("priority"):
            fields["priority"] = Priority.objects.get(code=options["priority"])
        if options.get("description"):
            fields["description"] = options["description"]
        return fields

    def _tasks(self, project: Project) -> None:
        manager = self.people["marcus"]
        phase_type = WorkItemType.objects.get(code="phase")
        for key, name, children in WBS:
            phase = task_create(actor=manager, project=project, name=name, type=phase_type)
            self.tasks[key] = phase
            for child_key, child_name, duration, options in children:
                self.tasks[child_key] = task_create(
                    actor=manager, project=project, name=child_name, parent=phase,
                    **self._task_fields(options, duration),
                )

    def _links(self, links, *, actor=None) -> None:
        actor = actor or self.people["priya"]
        for predecessor, successor, dep_type, lag, lag_unit in links:
            dependency_create(actor=actor, predecessor=self.tasks[predecessor], successor=self.tasks[successor],
                              dep_type=dep_type, lag=lag, lag_unit=lag_unit)

    def _assignments(self) -> None:
        planner = self.people["priya"]
        for task, resource, units in ASSIGNMENTS:
            assignment_create(actor=planner, work_item=self.tasks[task], resource=self.resources[resource],
                              units=Decimal(units))

    def _progress(self, project: Project) -> None:
        """Two weeks in: the survey is done and the space plan is well under way."""
        manager = self.people["marcus"]
        task_update(actor=manager, task=self.tasks["survey"], status=Status.objects.get(code="COMPLETE"),
                    percent_complete=Decimal(100), actual_start=D(2026, 3, 2), actual_finish=D(2026, 3, 4))
        task_update(actor=manager, task=self.tasks["layout"], status=Status.objects.get(code="IN_PROGRESS"),
                    percent_complete=Decimal(60), actual_start=D(2026, 3, 5))
        project_update(actor=self.people[PEOPLE[0].username], project=project, status_date=D(2026, 3, 13))

    def _time(self, project: Project) -> None:
        """The hours spent so far, logged through the time entry service."""
        for username, task, day, minutes, activity, comment in TIME_LOGGED:
            person = self.people[username]
            actor = self.people["marcus"] if username == "tom" else person
            time_entry_create(actor=actor, project=project, user=person, spent_on=day, minutes=minutes,
                              work_item=self.tasks[task] if task else None, comment=comment,
                              activity=Activity.objects.filter(name=activity, is_active=True).first())

    def _subproject(self, parent: Project) -> None:
        """Marcus (Admin of the fit-out) opens a small IT and AV subproject, which he then owns."""
        manager = self.people["marcus"]
        project = project_create(
            actor=manager, name="Harbourside House – IT and AV", identifier=DEMO_SUBPROJECT_IDENTIFIER,
            parent=parent, start_date=D(2026, 6, 1), calendar=self.calendars["standard"], company=parent.company,
            description="Network, Wi-Fi and meeting-room AV for the new office.",
        )
        for username, role in (("hannah", Role.ADMIN), ("tom", Role.MEMBER), ("lena", Role.VIEWER)):
            membership_add(actor=manager, project=project, user=self.people[username], role=role)
        for key, name, duration, options in SUBPROJECT_TASKS:
            self.tasks[key] = task_create(actor=manager, project=project, name=name,
                                          **self._task_fields(options, duration))
        self._links(SUBPROJECT_LINKS, actor=manager)
        assignment_create(actor=manager, work_item=self.tasks["racks"], resource=self.resources["mande"],
                          units=Decimal(1))
        assignment_create(actor=manager, work_item=self.tasks["network_design"], resource=self.resources["marcus"],
                          units=Decimal("0.50"))
