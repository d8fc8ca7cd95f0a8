"""``GET /api/v3/spec.json``: the OpenProject v3 dialect describes itself in OpenAPI 3.1, as every OpenProject
server serves its own description at that path.

The document is written here by hand, from small builders, and describes exactly the routes ``api/v3/urls.py``
serves (``tests/api/v3/test_spec.py`` fails when a route and a path part ways): their parameters, the request
bodies the views read, and every status each can answer with the HAL body it carries. Response schemas say what
the representers always write and leave room for what they may add (custom fields, action links), so a client
that validates against them is not broken by a new optional property. Bodies allow unknown properties, since
OpenProject ignores them. The document is public: it describes the API, never data.
"""

from __future__ import annotations

from functools import cache

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from keelplan.api.common.renderers import FastJSONRenderer
from keelplan.api.v3.base import V3View
from keelplan.api.v3.hal import API, MAX_PAGE_SIZE
from keelplan.api.v3.root import INSTANCE_NAME, core_version
from keelplan.planning.models import VersionSharing, VersionStatus
from keelplan.portfolio.models import ProjectStatusCode, Role

HAL = "application/hal+json"
JSON = "application/json"
MAX_ID = 10**18 - 1   # ``<id:pk>``: at most 18 digits
# Paths under /projects/ that name something other than a project, so no project reference may spell them.
PROJECT_SUBPATHS = ("form", "schema", "available_parent_projects")
IDENTIFIER_PATTERN = "^[a-z][a-z0-9_-]{0,99}$"


# ---------------------------------------------------------------- JSON Schema builders

def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


def obj(properties: dict | None = None, required=(), **extra) -> dict:
    """An object with these properties; any others allowed unless ``extra`` says otherwise."""
    out = {"type": "object", "properties": properties or {}}
    if required:
        out["required"] = list(required)
    out.update(extra)
    return out


def array(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
ID = {"type": "integer", "minimum": 1}
DATE = {"type": "string", "format": "date"}
MAYBE_DATE = nullable("string", format="date")
MAYBE_DATETIME = nullable("string", format="date-time")
LINK = ref("Link")
LINKS_OF = array(ref("Link"))


def links(*names: str, lists=(), required=("self",)) -> dict:
    """A ``_links`` object holding at least ``required``; ``names`` single links and ``lists`` arrays of links may
    appear, and so may others (action links, custom fields)."""
    properties = {name: LINK for name in ("self", *names)}
    properties.update({name: LINKS_OF for name in lists})
    return obj(properties, required, additionalProperties={"anyOf": [LINK, LINKS_OF]})


def resource(kind: str, properties: dict, required=(), *, link_names=(), link_lists=(), required_links=("self",),
             embedded: dict | None = None) -> dict:
    """A HAL resource: ``_type`` fixed to ``kind``, its properties, its ``_links`` (and ``_embedded``)."""
    props = {"_type": {"const": kind}, **properties,
             "_links": links(*link_names, lists=link_lists, required=required_links)}
    if embedded is not None:
        props["_embedded"] = embedded
    return obj(props, ["_type", *required, "_links"])


def collection_of(element: dict, *, paged: bool, kind: str = "Collection") -> dict:
    """A HAL collection of ``element``; a paged one carries ``pageSize`` and ``offset`` (a 1-based page)."""
    counts = {"total": {"type": "integer", "minimum": 0}, "count": {"type": "integer", "minimum": 0}}
    required = ["_type", "total", "count", "_embedded", "_links"]
    link_names: tuple = ()
    if paged:
        counts.update({"pageSize": {"type": "integer", "minimum": 0, "maximum": MAX_PAGE_SIZE},
                       "offset": {"type": "integer", "minimum": 1}})
        required += ["pageSize", "offset"]
        link_names = ("jumpTo", "changeSize", "nextByOffset", "previousByOffset")
    return obj({"_type": {"const": kind}, **counts,
                "_embedded": obj({"elements": array(element)}, ["elements"]),
                "_links": links(*link_names)}, required)


# ---------------------------------------------------------------- component schemas

def _components() -> dict:
    formattable = obj({"format": {"enum": ["plain", "markdown", "custom"]}, "raw": nullable("string"),
                       "html": STRING}, ["raw"])
    link = obj({"href": nullable("string"), "title": STRING, "templated": BOOLEAN, "method": STRING,
                "payload": {"type": "object"}, "identifier": STRING}, ["href"])
    error = obj({
        "_type": {"const": "Error"},
        "errorIdentifier": {"type": "string", "pattern": "^urn:openproject-org:api:v3:errors:[A-Za-z]+$"},
        "message": {"type": "string", "minLength": 1},
        "_embedded": obj({"details": obj({"attribute": STRING}), "errors": array(ref("Error"))}),
    }, ["_type", "errorIdentifier", "message"])
    stamps = {"createdAt": MAYBE_DATETIME, "updatedAt": MAYBE_DATETIME}
    status = resource("Status", {
        "id": ID, "name": STRING, "isClosed": BOOLEAN, "color": nullable("string"), "isDefault": BOOLEAN,
        "isReadonly": BOOLEAN, "excludedFromTotals": BOOLEAN, "defaultDoneRatio": nullable("integer"),
        "position": INTEGER}, ["id", "name", "isClosed", "isDefault", "isReadonly", "position"])
    type_ = resource("Type", {"id": ID, "name": STRING, "color": nullable("string"), "position": INTEGER,
                              "isDefault": BOOLEAN, "isMilestone": BOOLEAN, **stamps},
                     ["id", "name", "position", "isDefault", "isMilestone"])
    priority = resource("Priority", {"id": ID, "name": STRING, "position": INTEGER, "color": nullable("string"),
                                     "isDefault": BOOLEAN, "isActive": BOOLEAN},
                        ["id", "name", "position", "isDefault", "isActive"])
    role = resource("Role", {"id": {"enum": [int(r) for r in Role]}, "name": STRING}, ["id", "name"])
    version = resource("Version", {
        "id": ID, "name": STRING, "description": ref("Formattable"), "startDate": MAYBE_DATE, "endDate": MAYBE_DATE,
        "status": {"enum": list(VersionStatus.values)}, "sharing": {"enum": list(VersionSharing.values)},
        "lockVersion": INTEGER, **stamps}, ["id", "name", "description", "status", "sharing"],
        link_names=("definingProject", "availableInProjects"), required_links=("self", "definingProject"))
    category = resource("Category", {"id": ID, "name": STRING}, ["id", "name"],
                        link_names=("project", "defaultAssignee"), required_links=("self", "project"))
    week_day = resource("WeekDay", {"day": {"type": "integer", "minimum": 1, "maximum": 7}, "name": STRING,
                                    "working": BOOLEAN}, ["day", "name", "working"])
    non_working_day = resource("NonWorkingDay", {"date": DATE, "name": STRING}, ["date", "name"])
    day = resource("Day", {"date": DATE, "name": STRING, "working": BOOLEAN}, ["date", "name", "working"],
                   link_names=("weekDay",), link_lists=("nonWorkingReasons",), required_links=("self", "weekDay"))
    project = resource("Project", {
        "id": ID, "identifier": STRING, "name": STRING, "active": BOOLEAN, "public": BOOLEAN,
        "description": ref("Formattable"), "statusExplanation": ref("Formattable"), "startDate": MAYBE_DATE,
        **stamps}, ["id", "identifier", "name", "active", "public", "description"],
        link_names=("categories", "types", "versions", "memberships", "workPackages", "parent", "status"),
        link_lists=("ancestors",))
    project_reference = resource("Project", {"id": ID, "identifier": STRING, "name": STRING},
                                 ["id", "identifier", "name"])
    project_status = resource("ProjectStatus", {"id": {"enum": list(ProjectStatusCode.values)}, "name": STRING},
                              ["id", "name"])
    user = resource("User", {
        "id": ID, "name": STRING, "login": nullable("string"), "firstName": STRING, "lastName": STRING,
        "email": nullable("string"), "admin": BOOLEAN, "status": {"enum": ["active", "locked"]}, "language": STRING,
        "avatar": STRING, **stamps}, ["id", "name", "admin", "status"], link_names=("memberships", "showUser"))
    group = resource("Group", {"id": ID, "name": STRING, **stamps}, ["id", "name"],
                     link_names=("memberships", "parent"), link_lists=("members",),
                     embedded=obj({"members": array(ref("User"))}))
    membership = resource("Membership", {"id": ID, **stamps}, ["id"],
                          link_names=("schema", "project", "principal"), link_lists=("roles",),
                          required_links=("self", "project", "principal", "roles"),
                          embedded=obj({"project": ref("ProjectReference"), "principal": ref("Principal"),
                                        "roles": array(ref("Role"))}))
    work_package = resource("WorkPackage", {
        "id": ID, "lockVersion": INTEGER, "subject": STRING, "description": ref("Formattable"),
        "scheduleManually": BOOLEAN, "startDate": MAYBE_DATE, "dueDate": MAYBE_DATE, "date": MAYBE_DATE,
        "duration": nullable("string", pattern="^P[0-9]+D$"), "derivedStartDate": MAYBE_DATE,
        "derivedDueDate": MAYBE_DATE, "ignoreNonWorkingDays": BOOLEAN, "estimatedTime": nullable("string"),
        "remainingTime": nullable("string"), "spentTime": STRING,
        "percentageDone": nullable("integer", minimum=0, maximum=100),
        "readonly": BOOLEAN, **stamps}, ["id", "lockVersion", "subject", "description", "scheduleManually"],
        link_names=("schema", "project", "type", "status", "priority", "author", "assignee", "responsible",
                    "version", "category", "parent", "relations", "availableAssignees", "timeEntries", "logTime"),
        link_lists=("ancestors", "children"), required_links=("self", "project", "type", "status"))
    relation = resource("Relation", {
        "id": ID, "name": STRING, "type": STRING, "reverseType": STRING, "description": nullable("string"),
        "lag": nullable("integer")}, ["id", "name", "type", "reverseType"],
        link_names=("from", "to"), required_links=("self", "from", "to"),
        embedded=obj({"from": ref("WorkPackage"), "to": ref("WorkPackage")}))
    custom_option = resource("CustomOption", {"id": ID, "value": STRING}, ["id", "value"])
    schema = obj({"_type": {"const": "Schema"}, "_dependencies": {"type": "array"}, "_links": links()},
                 ["_type", "_links"])
    form = obj({"_type": {"const": "Form"},
                "_embedded": obj({"payload": {"type": "object"}, "schema": ref("Schema"),
                                  "validationErrors": obj(additionalProperties=ref("Error"))},
                                 ["payload", "schema", "validationErrors"]),
                "_links": links("validate", "commit")}, ["_type", "_embedded", "_links"])
    root = resource("Root", {"instanceName": STRING, "coreVersion": STRING}, ["instanceName", "coreVersion"],
                    link_names=("memberships", "priorities", "relations", "statuses", "types", "user",
                                "workPackages", "projects", "configuration", "userPreferences"),
                    required_links=("self", "configuration", "userPreferences"))
    schemas = {
        "Link": link, "Formattable": formattable, "Error": error, "Root": root, "Status": status, "Type": type_,
        "Priority": priority, "Role": role, "Version": version, "Category": category, "WeekDay": week_day,
        "NonWorkingDay": non_working_day, "Day": day, "Project": project, "ProjectReference": project_reference,
        "ProjectStatus": project_status, "User": user, "Group": group,
        "Principal": {"anyOf": [ref("User"), ref("Group")]}, "Membership": membership,
        "WorkPackage": work_package, "Relation": relation, "CustomOption": custom_option, "Schema": schema,
        "Form": form,
    }
    for name in ("Status", "Type", "Priority", "Role", "Version", "Category", "WeekDay", "NonWorkingDay", "Day",
                 "ProjectStatus", "Project"):
        schemas[f"{name}List"] = collection_of(ref(name), paged=False)
    for name in ("Project", "Version", "User", "Group", "Principal", "Membership", "Relation"):
        schemas[f"{name}Page"] = collection_of(ref(name), paged=True)
    schemas["ProjectReferencePage"] = collection_of(ref("ProjectReference"), paged=True)
    schemas["WorkPackagePage"] = collection_of(ref("WorkPackage"), paged=True, kind="WorkPackageCollection")
    schemas.update(_time_entry_components())
    schemas.update(_configuration_components())
    schemas.update(_bodies())
    return schemas


def _configuration_components() -> dict:
    """The instance configuration, with the caller's preferences (only ``timeZone``: all Keelplan keeps)."""
    preferences = resource("UserPreferences", {"timeZone": nullable("string", minLength=1, maxLength=64)},
                           ["timeZone"], link_names=("user", "updateImmediately"),
                           required_links=("self", "user", "updateImmediately"))
    configuration = resource("Configuration", {
        "hostName": STRING, "perPageOptions": array({"type": "integer", "minimum": 1}, minItems=1),
        "durationFormat": {"enum": ["hours_only", "days_and_hours"]}, "dateFormat": nullable("string"),
        "timeFormat": nullable("string"), "startOfWeek": nullable("integer", minimum=1, maximum=7),
        "activeFeatureFlags": array(STRING)},
        ["hostName", "perPageOptions", "durationFormat", "dateFormat", "timeFormat", "startOfWeek",
         "activeFeatureFlags"], link_names=("userPreferences",), required_links=("self", "userPreferences"),
        embedded=obj({"userPreferences": ref("UserPreferences")}, ["userPreferences"]))
    return {"Configuration": configuration, "UserPreferences": preferences}


def _time_entry_components() -> dict:
    """A time entry (``hours`` as ``PT1H30M``), a page of them and a time entry activity."""
    entry = resource("TimeEntry", {
        "id": ID, "lockVersion": INTEGER, "comment": ref("Formattable"), "spentOn": DATE,
        "hours": {"type": "string", "pattern": "^PT([0-9]+H)?([0-9]+M)?$"}, "ongoing": {"const": False},
        "createdAt": MAYBE_DATETIME, "updatedAt": MAYBE_DATETIME},
        ["id", "lockVersion", "comment", "spentOn", "hours", "ongoing"],
        link_names=("schema", "project", "entity", "workPackage", "user", "activity"),
        required_links=("self", "project", "entity", "user", "activity"))
    activity = resource("TimeEntriesActivity", {
        "id": ID, "name": STRING, "position": INTEGER, "default": BOOLEAN,
        "_embedded": obj({"projects": array(ref("Project"))}, ["projects"])},
        ["id", "name", "position", "default", "_embedded"], link_lists=("projects",),
        required_links=("self", "projects"))
    return {"TimeEntry": entry, "TimeEntryPage": collection_of(ref("TimeEntry"), paged=True),
            "TimeEntriesActivity": activity}


# ---------------------------------------------------------------- request bodies

def link_to(kind: str, *, null: bool = True) -> dict:
    """A link a body sets: ``{"href": "/api/v3/<kind>/<id>"}`` (or a null href, where the link may be empty)."""
    target = {"type": "string", "pattern": f"^{API}/{kind}/[0-9]{{1,18}}$"}
    return obj({"href": nullable("string", pattern=target["pattern"]) if null else target}, ["href"])


def body(properties: dict, required=(), link_properties: dict | None = None, required_links=()) -> dict:
    """A JSON object body: the properties a view reads, any others ignored."""
    props = dict(properties)
    out_required = list(required)
    if link_properties is not None:
        props["_links"] = obj(link_properties, required_links)
        if required_links:
            out_required.append("_links")
    return obj(props, out_required, additionalProperties=True)


FORMATTABLE_IN = obj({"raw": nullable("string")})


def _bodies() -> dict:
    version = {"name": {"type": "string", "minLength": 1, "maxLength": 255}, "description": FORMATTABLE_IN,
               "startDate": MAYBE_DATE, "endDate": MAYBE_DATE, "status": {"enum": list(VersionStatus.values)},
               "sharing": {"enum": list(VersionSharing.values)}}
    project = {"name": {"type": "string", "minLength": 1, "maxLength": 255},
               "identifier": {"type": "string", "pattern": IDENTIFIER_PATTERN}, "public": BOOLEAN,
               "active": BOOLEAN, "startDate": DATE, "description": FORMATTABLE_IN,
               "statusExplanation": FORMATTABLE_IN}
    project_links = {"parent": link_to("projects"),
                     "status": obj({"href": nullable("string", pattern=f"^{API}/project_statuses/[a-z_]+$")},
                                   ["href"])}
    work_package = {
        "subject": {"type": "string", "minLength": 1, "maxLength": 255}, "description": FORMATTABLE_IN,
        "scheduleManually": BOOLEAN, "startDate": MAYBE_DATE, "dueDate": MAYBE_DATE, "date": MAYBE_DATE,
        "duration": nullable("string", pattern="^P[0-9]{1,4}D$"),
        "estimatedTime": nullable("string", pattern="^PT[0-9]{1,4}H$"),
        "remainingTime": nullable("string", pattern="^PT[0-9]{1,4}H$"),
        "percentageDone": {"type": "integer", "minimum": 0, "maximum": 100},
    }
    work_package_links = {"type": link_to("types", null=False), "status": link_to("statuses", null=False),
                          "priority": link_to("priorities", null=False), "assignee": link_to("users"),
                          "responsible": link_to("users"), "parent": link_to("work_packages"),
                          "version": link_to("versions"), "category": link_to("categories")}
    relation = {"type": {"enum": ["relates", "duplicates", "duplicated", "blocks", "blocked", "precedes", "follows",
                                  "includes", "partof", "requires", "required", "requiredby"]},
                "description": nullable("string"), "lag": {"type": "integer", "minimum": -2000, "maximum": 2000}}
    user = {"login": {"type": "string", "minLength": 1, "maxLength": 150}, "password": STRING, "firstName": STRING,
            "lastName": STRING, "email": {"type": "string", "format": "email"}, "admin": BOOLEAN,
            "status": {"enum": ["active", "locked"]}, "language": STRING}
    membership_links = {"project": link_to("projects", null=False),
                        "principal": obj({"href": {"type": "string",
                                                   "pattern": f"^{API}/(users|groups)/[0-9]{{1,18}}$"}}, ["href"]),
                        "roles": array(link_to("roles", null=False), minItems=1)}
    lock = {"lockVersion": {"type": "integer", "minimum": 0}}
    return {
        "VersionCreate": body(version, ["name"], {"definingProject": link_to("projects", null=False)},
                              ["definingProject"]),
        "VersionUpdate": body({**version, **lock}, (), {"definingProject": link_to("projects", null=False)}),
        "ProjectCreate": body(project, ["name"], project_links),
        "ProjectUpdate": body({**project, **lock}, (), project_links),
        "WorkPackageCreate": body(work_package, ["subject"],
                                  {**work_package_links, "project": link_to("projects", null=False)}, ["project"]),
        "WorkPackageCreateInProject": body(work_package, ["subject"], work_package_links),
        "WorkPackageForm": body({**work_package, **lock}, (),
                                {**work_package_links, "project": link_to("projects", null=False)}),
        "WorkPackageUpdate": body({**work_package, **lock}, ["lockVersion"], work_package_links),
        "RelationCreate": body(relation, ["type"], {"from": link_to("work_packages", null=False),
                                                    "to": link_to("work_packages", null=False)}, ["from", "to"]),
        "RelationCreateFrom": body(relation, ["type"], {"to": link_to("work_packages", null=False)}, ["to"]),
        "RelationUpdate": body(relation),
        "UserCreate": body(user, ["login"]),
        "UserUpdate": body({**user, "firstName": {"type": "string", "maxLength": 127},
                            "lastName": {"type": "string", "maxLength": 127},
                            "email": {"anyOf": [{"type": "string", "format": "email", "maxLength": 254},
                                                {"const": ""}]}}),
        "UserPreferencesUpdate": body({"timeZone": nullable("string", maxLength=64)}),
        "GroupCreate": body({"name": {"type": "string", "minLength": 1, "maxLength": 255}}, ["name"],
                            {"members": array(link_to("users", null=False)), "parent": link_to("groups")}),
        "GroupUpdate": body({"name": {"type": "string", "minLength": 1, "maxLength": 255}}, (),
                            {"members": array(link_to("users", null=False)), "parent": link_to("groups")}),
        "MembershipCreate": body({}, (), membership_links, ["project", "principal", "roles"]),
        "MembershipUpdate": body({}, (), {"roles": membership_links["roles"]}),
        "MembershipForm": body({}, (), membership_links),
        **_time_entry_bodies(lock),
    }


def _time_entry_bodies(lock: dict) -> dict:
    entry = {"hours": {"type": "string", "pattern": "^PT[0-9]{1,2}H([0-9]{1,2}M)?$"}, "spentOn": DATE,
             "comment": {"anyOf": [FORMATTABLE_IN, nullable("string")]}, "ongoing": {"const": False}}
    entry_links = {"workPackage": link_to("work_packages"), "entity": link_to("work_packages"),
                   "project": link_to("projects"), "user": link_to("users"),
                   "activity": obj({"href": nullable("string", pattern=f"^{API}/time_entries/activit(y|ies)/"
                                                                       "[0-9]{1,18}$")}, ["href"])}
    return {"TimeEntryCreate": body(entry, ["hours"], entry_links),
            "TimeEntryUpdate": body({**entry, **lock}, (), entry_links)}


# ---------------------------------------------------------------- parameters

def _parameters() -> dict:
    def in_path(name: str, schema: dict, description: str) -> dict:
        return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}

    def json_query(name: str, schema: dict, description: str) -> dict:
        return {"name": name, "in": "query", "required": False, "description": description,
                "content": {JSON: {"schema": schema}}}

    identifier = {"type": "string", "pattern": IDENTIFIER_PATTERN, "not": {"enum": list(PROJECT_SUBPATHS)}}
    filter_entry = obj(minProperties=1, maxProperties=1, additionalProperties=obj(
        {"operator": {"type": "string", "minLength": 1}, "values": nullable("array", items=STRING)},
        ["operator"]))
    return {
        "id": in_path("id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "A row id (at most 18 digits)."),
        "project": in_path("project", {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_ID}, identifier]},
                           "A project's id or identifier."),
        "user": in_path("id", {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_ID}, {"const": "me"}]},
                        "A person's id, or `me` for the caller."),
        "projectId": in_path("projectId", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "A project id."),
        "typeId": in_path("typeId", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "A type id."),
        "weekDay": in_path("day", {"type": "integer", "minimum": 1, "maximum": 7}, "ISO week day, Monday = 1."),
        "date": in_path("date", DATE, "A date."),
        "projectStatus": in_path("id", {"enum": list(ProjectStatusCode.values)}, "A project status code."),
        "offset": {"name": "offset", "in": "query", "required": False, "description": "The page, from 1.",
                   "schema": {"type": "integer", "minimum": 1, "maximum": 2**31}},
        "pageSize": {"name": "pageSize", "in": "query", "required": False,
                     "description": f"Elements per page; -1 or more than {MAX_PAGE_SIZE} means {MAX_PAGE_SIZE}.",
                     "schema": {"type": "integer", "minimum": -1, "maximum": 2**31}},
        "filters": json_query("filters", array(filter_entry, maxItems=10),
                              'Filters, ANDed: `[{"name": {"operator": "=", "values": ["1"]}}]`.'),
    }


def sort_by(*names: str) -> dict:
    pair = {"type": "array", "prefixItems": [{"enum": list(names)}, {"enum": ["asc", "desc"]}], "minItems": 2,
            "maxItems": 2}
    return {"name": "sortBy", "in": "query", "required": False, "description": "Sort criteria, in turn.",
            "content": {JSON: {"schema": array(pair, maxItems=5)}}}


def param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


PAGED = (param("offset"), param("pageSize"))


# ---------------------------------------------------------------- operations

ERROR_TEXT = {
    400: "The query or the body cannot be read (InvalidQuery, InvalidRequestBody).",
    401: "No credentials, or wrong ones (Unauthenticated).",
    403: "The resource is visible but the caller may not do this (MissingPermission).",
    404: "No such resource, or one the caller may not see (NotFound).",
    409: "The resource changed meanwhile or the write clashes with its state (UpdateConflict).",
    413: "The body is larger than the server reads.",
    415: "The body is neither application/json nor application/hal+json (TypeNotSupported).",
    422: "A property breaks a rule (PropertyConstraintViolation and the like, or MultipleErrors).",
    429: "Too many heavy requests at once; see Retry-After.",
}
SUCCESS_TEXT = {200: "OK.", 201: "Created.", 202: "Accepted: removed.", 204: "Deleted."}


def operation(summary: str, ok: dict, errors=(), *, parameters=(), request: str | None = None,
              write: bool = False, tag: str) -> dict:
    """One operation: ``ok`` maps success statuses to a schema name (None: no body); ``errors`` the error
    statuses besides 401. A write may also answer 406 (no Content-Type), 413 and 429, and one with a body 400
    and 415."""
    codes = set(errors) | {401}
    if write:
        codes |= {400, 413, 429}
    if request is not None:
        codes |= {400, 415}
    responses: dict = {}
    for code, schema in ok.items():
        responses[str(code)] = ({"description": SUCCESS_TEXT[code]} if schema is None else
                                {"description": SUCCESS_TEXT[code], "content": {HAL: {"schema": ref(schema)}}})
    for code in sorted(codes):
        responses[str(code)] = {"$ref": f"#/components/responses/{code}"}
    if write:
        responses["406"] = {"$ref": "#/components/responses/406"}
    out = {"summary": summary, "tags": [tag], "responses": dict(sorted(responses.items()))}
    if parameters:
        out["parameters"] = list(parameters)
    if request is not None:
        content_schema = {"schema": ref(request)}
        out["requestBody"] = {"required": True, "content": {JSON: content_schema, HAL: content_schema}}
    return out


def _paths() -> dict:
    v3 = API
    project, ident, user = param("project"), param("id"), param("user")
    wp_sort = sort_by("id", "subject", "created_at", "updated_at", "parent", "status", "priority", "type", "position")
    project_sort = sort_by("id", "name", "typeahead", "created_at", "public", "latest_activity_at")
    filters = param("filters")
    missing = (404,)
    domain_write = (403, 404, 409, 422)

    def get(summary, schema, errors=(), parameters=(), tag="Reference"):
        return operation(summary, {200: schema}, errors, parameters=parameters, tag=tag)

    paths = {
        v3: {"get": get("The API root: links to the collections a client starts from.", "Root", tag="Root")},
        f"{v3}/configuration": {"get": get("The instance's configuration, the caller's preferences embedded.",
                                           "Configuration", tag="Root")},
        f"{v3}/my_preferences": {
            "get": get("The caller's preferences.", "UserPreferences", tag="Principals"),
            "patch": operation("Change the caller's preferences (`timeZone`: an IANA name, or null for none).",
                               {200: "UserPreferences"}, (422,), request="UserPreferencesUpdate", write=True,
                               tag="Principals"),
        },
        f"{v3}/spec.json": {"get": {
            "summary": "This document.", "tags": ["Root"], "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1.", "content": {JSON: {"schema": obj(
                {"openapi": {"type": "string", "pattern": "^3\\.1\\."}, "paths": {"type": "object"}},
                ["openapi", "info", "paths"])}}}}}},
        # reference data
        f"{v3}/statuses": {"get": get("Every work package status.", "StatusList")},
        f"{v3}/statuses/{{id}}": {"get": get("One status.", "Status", missing, [ident])},
        f"{v3}/types": {"get": get("Every work package type.", "TypeList")},
        f"{v3}/types/{{id}}": {"get": get("One type.", "Type", missing, [ident])},
        f"{v3}/priorities": {"get": get("Every priority.", "PriorityList")},
        f"{v3}/priorities/{{id}}": {"get": get("One priority.", "Priority", missing, [ident])},
        f"{v3}/roles": {"get": get("Keelplan's five project roles (ids are their values).", "RoleList")},
        f"{v3}/roles/{{id}}": {"get": get("One role.", "Role", missing, [ident])},
        f"{v3}/versions": {
            "get": get("The versions the caller may see.", "VersionPage", (400,), [*PAGED, filters]),
            "post": operation("Create a version in its defining project.", {201: "Version"}, domain_write,
                              request="VersionCreate", write=True, tag="Reference"),
        },
        f"{v3}/versions/{{id}}": {
            "parameters": [ident],
            "get": get("One version.", "Version", missing),
            "patch": operation("Change a version.", {200: "Version"}, domain_write, request="VersionUpdate",
                               write=True, tag="Reference"),
            "delete": operation("Delete a version.", {204: None}, domain_write, write=True, tag="Reference"),
        },
        f"{v3}/versions/{{id}}/projects": {"get": get("The projects that may use a version.", "ProjectList",
                                                      missing, [ident])},
        f"{v3}/categories/{{id}}": {"get": get("One category.", "Category", missing, [ident])},
        f"{v3}/days/week": {"get": get("The seven week days, working or not.", "WeekDayList")},
        f"{v3}/days/week/{{day}}": {"get": get("One week day.", "WeekDay", missing, [param("weekDay")])},
        f"{v3}/days/non_working": {"get": get(
            "Non-working days: filter `date` with `<>d` and two dates; the current year without one.",
            "NonWorkingDayList", (400,), [filters])},
        f"{v3}/days/non_working/{{date}}": {"get": get("One non-working day.", "NonWorkingDay", missing,
                                                       [param("date")])},
        f"{v3}/days": {"get": get(
            "Days, working or not: filter `date` with `<>d` and two dates (this month and the next without one), "
            "`working` with `=` and `t` or `f`.", "DayList", (400,), [filters])},
        f"{v3}/days/{{date}}": {"get": get("One day, working or not, and why not.", "Day", missing,
                                           [param("date")])},
        f"{v3}/custom_options/{{id}}": {"get": get("One option of a list custom field.", "CustomOption", missing,
                                                   [ident])},
        # projects
        f"{v3}/projects": {
            "get": get("The projects the caller may see.", "ProjectPage", (400,), [*PAGED, filters, project_sort],
                       tag="Projects"),
            "post": operation("Create a project; the caller becomes its Owner.", {201: "Project"}, domain_write,
                              request="ProjectCreate", write=True, tag="Projects"),
        },
        f"{v3}/projects/form": {"post": operation(
            "Validate a project create body without writing it.", {200: "Form"}, (403, 404, 409, 422),
            request="ProjectCreate", write=True, tag="Projects")},
        f"{v3}/projects/schema": {"get": get("What a project has and which properties a client writes.", "Schema",
                                             tag="Projects")},
        f"{v3}/projects/available_parent_projects": {"get": get(
            "The projects where the caller may add subprojects.", "ProjectPage", (400,), PAGED, tag="Projects")},
        f"{v3}/projects/{{project}}": {
            "parameters": [project],
            "get": get("One project.", "Project", missing, tag="Projects"),
            "patch": operation("Change a project.", {200: "Project"}, domain_write, request="ProjectUpdate",
                               write=True, tag="Projects"),
            "delete": operation("Delete a project.", {204: None}, domain_write, write=True, tag="Projects"),
        },
        f"{v3}/projects/{{project}}/form": {"post": operation(
            "Validate a project update body without writing it.", {200: "Form"}, (403, 404, 409, 422),
            parameters=[project], request="ProjectUpdate", write=True, tag="Projects")},
        f"{v3}/projects/{{project}}/types": {"get": get("The types a project's work packages may have.", "TypeList",
                                                        missing, [project])},
        f"{v3}/projects/{{project}}/versions": {"get": get("The versions a project's work packages may use.",
                                                           "VersionList", missing, [project])},
        f"{v3}/projects/{{project}}/categories": {"get": get("A project's categories.", "CategoryList", missing,
                                                             [project])},
        f"{v3}/projects/{{project}}/available_assignees": {"get": get(
            "The active people with a membership of the project.", "UserPage", (400, 404), [project, *PAGED],
            tag="Principals")},
        f"{v3}/projects/{{project}}/work_packages": {
            "parameters": [project],
            "get": get("A project's work packages (open ones unless `filters` says otherwise).", "WorkPackagePage",
                       (400, 404), [*PAGED, filters, wp_sort], tag="Work packages"),
            "post": operation("Create a work package in the project.", {201: "WorkPackage"}, domain_write,
                              request="WorkPackageCreateInProject", write=True, tag="Work packages"),
        },
        f"{v3}/project_statuses": {"get": get("The project status codes.", "ProjectStatusList", tag="Projects")},
        f"{v3}/project_statuses/{{id}}": {"get": get("One project status.", "ProjectStatus", missing,
                                                     [param("projectStatus")], tag="Projects")},
        # work packages and relations
        f"{v3}/work_packages": {
            "get": get("The work packages the caller may see (open ones unless `filters` says otherwise).",
                       "WorkPackagePage", (400,), [*PAGED, filters, wp_sort], tag="Work packages"),
            "post": operation("Create a work package in the project `_links.project` names.", {201: "WorkPackage"},
                              (403, 409, 422), request="WorkPackageCreate", write=True, tag="Work packages"),
        },
        f"{v3}/work_packages/{{id}}": {
            "parameters": [ident],
            "get": get("One work package.", "WorkPackage", missing, tag="Work packages"),
            "patch": operation("Change a work package (`lockVersion` required).", {200: "WorkPackage"}, domain_write,
                               request="WorkPackageUpdate", write=True, tag="Work packages"),
            "delete": operation("Delete a work package.", {204: None}, domain_write, write=True,
                                tag="Work packages"),
        },
        f"{v3}/work_packages/form": {"post": operation(
            "Validate a work package create body (project from `_links.project`) without writing it.",
            {200: "Form"}, domain_write, request="WorkPackageForm", write=True, tag="Work packages")},
        f"{v3}/projects/{{project}}/work_packages/form": {"post": operation(
            "Validate a work package create body for the project without writing it.", {200: "Form"},
            domain_write, parameters=[project], request="WorkPackageForm", write=True, tag="Work packages")},
        f"{v3}/work_packages/{{id}}/form": {"post": operation(
            "Validate a work package update body without writing it.", {200: "Form"}, domain_write,
            parameters=[ident], request="WorkPackageForm", write=True, tag="Work packages")},
        f"{v3}/work_packages/schemas/{{projectId}}-{{typeId}}": {"get": get(
            "What a work package of a type in a project holds and which values its links allow.", "Schema",
            missing, [param("projectId"), param("typeId")], tag="Work packages")},
        f"{v3}/work_packages/{{id}}/available_assignees": {"get": get(
            "Who the work package may be assigned to.", "UserPage", (400, 404), [ident, *PAGED],
            tag="Work packages")},
        f"{v3}/work_packages/{{id}}/relations": {
            "parameters": [ident],
            "get": get("The relations a work package takes part in.", "RelationPage", (400, 404),
                       [*PAGED, filters, sort_by("id")], tag="Relations"),
            "post": operation("Relate the work package (`from`) to another (`to`).", {201: "Relation"},
                              domain_write, request="RelationCreateFrom", write=True, tag="Relations"),
        },
        f"{v3}/relations": {
            "get": get("The relations the caller may see.", "RelationPage", (400,), [*PAGED, filters, sort_by("id")],
                       tag="Relations"),
            "post": operation("Relate two work packages.", {201: "Relation"}, (403, 409, 422),
                              request="RelationCreate", write=True, tag="Relations"),
        },
        f"{v3}/relations/{{id}}": {
            "parameters": [ident],
            "get": get("One relation.", "Relation", missing, tag="Relations"),
            "patch": operation("Change a relation's type, lag or description.", {200: "Relation"}, domain_write,
                               request="RelationUpdate", write=True, tag="Relations"),
            "delete": operation("Delete a relation.", {204: None}, domain_write, write=True, tag="Relations"),
        },
        **_time_entry_paths(ident, filters, domain_write, get),
        # principals and memberships
        f"{v3}/users": {
            "get": get("The people the caller may see.", "UserPage", (400,), [*PAGED, filters], tag="Principals"),
            "post": operation("Create a person (workspace administrators).", {201: "User"}, (403, 409, 422),
                              request="UserCreate", write=True, tag="Principals"),
        },
        f"{v3}/users/{{id}}": {
            "parameters": [user],
            "get": get("One person.", "User", missing, tag="Principals"),
            "patch": operation("Change a person's login, e-mail, name (their own: name and e-mail) or workspace "
                               "administration (`admin`).", {200: "User"}, domain_write, request="UserUpdate",
                               write=True, tag="Principals"),
            "delete": operation("Refused: deleting users is disabled (lock the account instead).", {}, (403, 404),
                                write=True, tag="Principals"),
        },
        f"{v3}/users/{{id}}/lock": {
            "parameters": [ident],
            "post": operation("Lock a person's account (workspace administrators; 400 for one's own account or "
                              "the last administrator).", {200: "User"}, (400, 403, 404), write=True,
                              tag="Principals"),
            "delete": operation("Unlock a person's account (workspace administrators).", {200: "User"},
                                (400, 403, 404), write=True, tag="Principals"),
        },
        f"{v3}/groups": {
            "get": get("Every group.", "GroupPage", (400,), PAGED, tag="Principals"),
            "post": operation("Create a group (workspace administrators).", {201: "Group"}, (403, 409, 422),
                              request="GroupCreate", write=True, tag="Principals"),
        },
        f"{v3}/groups/{{id}}": {
            "parameters": [ident],
            "get": get("One group.", "Group", missing, tag="Principals"),
            "patch": operation("Change a group's name, parent or members.", {200: "Group"}, domain_write,
                               request="GroupUpdate", write=True, tag="Principals"),
            "delete": operation("Delete a group.", {202: None}, domain_write, write=True, tag="Principals"),
        },
        f"{v3}/principals": {"get": get("People, then groups, as one list.", "PrincipalPage", (400,),
                                        [*PAGED, filters], tag="Principals")},
        f"{v3}/memberships": {
            "get": get("The memberships of the projects the caller may see.", "MembershipPage", (400,),
                       [*PAGED, filters], tag="Memberships"),
            "post": operation("Give a principal a role in a project.", {201: "Membership"}, domain_write,
                              request="MembershipCreate", write=True, tag="Memberships"),
        },
        f"{v3}/memberships/form": {"post": operation(
            "Validate a membership create body without writing it.", {200: "Form"}, (403, 404, 422),
            request="MembershipForm", write=True, tag="Memberships")},
        f"{v3}/memberships/schema": {"get": get("What a membership has.", "Schema", tag="Memberships")},
        f"{v3}/memberships/available_projects": {"get": get(
            "The projects whose members the caller may manage.", "ProjectReferencePage", (400,), PAGED,
            tag="Memberships")},
        f"{v3}/memberships/{{id}}": {
            "parameters": [ident],
            "get": get("One membership.", "Membership", missing, tag="Memberships"),
            "patch": operation("Change a membership's role.", {200: "Membership"}, domain_write,
                               request="MembershipUpdate", write=True, tag="Memberships"),
            "delete": operation("End a membership.", {204: None}, domain_write, write=True, tag="Memberships"),
        },
        f"{v3}/memberships/{{id}}/form": {"post": operation(
            "Validate a membership update body without writing it.", {200: "Form"}, (403, 404, 422),
            parameters=[ident], request="MembershipUpdate", write=True, tag="Memberships")},
    }
    return paths


def _time_entry_paths(ident: dict, filters: dict, domain_write: tuple, get) -> dict:
    v3, tag = f"{API}/time_entries", "Time entries"
    activity = get("One time entry activity (in use in every project the caller sees while active).",
                   "TimeEntriesActivity", (404,), [ident], tag=tag)
    return {
        v3: {
            "get": get("The time entries the caller may see: their own, and all of a project where they are a "
                       "Member or above (`spent_on` ascending by default).", "TimeEntryPage", (400,),
                       [*PAGED, filters, sort_by("id", "hours", "spent_on", "created_at", "updated_at")], tag=tag),
            "post": operation("Log time on the work package `_links.workPackage` (or `entity`) names, or on the "
                              "project `_links.project` names.", {201: "TimeEntry"}, domain_write,
                              request="TimeEntryCreate", write=True, tag=tag),
        },
        f"{v3}/form": {"post": operation("Validate a time entry create body without writing it.", {200: "Form"},
                                         domain_write, request="TimeEntryCreate", write=True, tag=tag)},
        f"{v3}/schema": {"get": get("What a time entry holds and which properties a client writes.", "Schema",
                                    tag=tag)},
        f"{v3}/available_projects": {"get": get("The projects where the caller may log time.", "ProjectPage",
                                                (400,), PAGED, tag=tag)},
        f"{v3}/{{id}}": {
            "parameters": [ident],
            "get": get("One time entry.", "TimeEntry", (404,), tag=tag),
            "patch": operation("Change a time entry (`lockVersion` optional; 409 when stale).", {200: "TimeEntry"},
                               domain_write, request="TimeEntryUpdate", write=True, tag=tag),
            "delete": operation("Delete a time entry.", {204: None}, domain_write, write=True, tag=tag),
        },
        f"{v3}/{{id}}/form": {"post": operation(
            "Validate a time entry update body without writing it.", {200: "Form"}, domain_write,
            parameters=[ident], request="TimeEntryUpdate", write=True, tag=tag)},
        f"{v3}/activities/{{id}}": {"get": activity},
        f"{v3}/activity/{{id}}": {"get": activity},
    }


def _responses() -> dict:
    out = {str(code): {"description": text, "content": {HAL: {"schema": ref("Error")}}}
           for code, text in ERROR_TEXT.items()}
    out["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    out["429"]["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    out["406"] = {"description": "A write without a Content-Type header.",
                  "content": {"text/plain": {"schema": {"type": "string"}}}}
    return out


@cache
def document() -> dict:
    """The OpenAPI 3.1 description of the v3 dialect (built once per process)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{INSTANCE_NAME} API v3 (OpenProject dialect)", "version": core_version(),
                 "description": "Keelplan's work items, projects and people in OpenProject's HAL+JSON API v3. "
                                "Every answer is application/hal+json; errors are OpenProject's Error bodies."},
        "servers": [{"url": "/"}],
        "security": [{"basicApiKey": []}, {"bearerToken": []}],
        "tags": [{"name": name} for name in ("Root", "Projects", "Work packages", "Relations", "Reference",
                                             "Principals", "Memberships", "Time entries")],
        "paths": _paths(),
        "components": {
            "schemas": _components(),
            "parameters": _parameters(),
            "responses": _responses(),
            "securitySchemes": {
                "basicApiKey": {"type": "http", "scheme": "basic",
                                "description": "User name `apikey`, password an API token from `keelplan token`."},
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "An API token from `keelplan token`, or a JWT from /api/token/."},
            },
        },
    }


class SpecJSONRenderer(FastJSONRenderer):
    media_type = JSON


class SpecView(V3View):
    """The document itself: public, plain JSON."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [SpecJSONRenderer]

    def get(self, request):
        return Response(document())


urlpatterns = [
    path("spec.json", SpecView.as_view()),
]
