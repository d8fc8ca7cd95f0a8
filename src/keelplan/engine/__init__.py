"""Keelplan's scheduling engine: the critical-path method over validated plain inputs, with no Django.

``schedule(ProjectInput) -> ScheduleResult`` is the one entry point; see :mod:`keelplan.engine.cpm` for the
conventions, with worked examples.
"""

from keelplan.engine.cpm import schedule
from keelplan.engine.errors import (
    CyclicDependencyError, DateRangeError, InvalidInput, SchedulingError, UnknownTaskError,
)
from keelplan.engine.inputs import (
    Calendar, CalendarException, ConstraintType, LagUnit, Link, LinkType, ProjectInput, Task,
)
from keelplan.engine.results import ScheduleResult, TaskResult

__all__ = [
    "Calendar", "CalendarException", "ConstraintType", "CyclicDependencyError", "DateRangeError", "InvalidInput",
    "LagUnit", "Link", "LinkType", "ProjectInput", "ScheduleResult", "SchedulingError", "Task", "TaskResult",
    "UnknownTaskError", "schedule",
]
