"""The critical-path method: a forward and a backward pass over the whole network.

How a schedule is computed. The conventions are TruePPM's (its engine's conformance vectors and random networks
are the reference; see tests/engine_cli), extended to what TruePPM does not have (working-day and percent lags,
seven more constraint types, deadlines, summaries, manual dates):

* **A task occupies at least its start day.** Dates are inclusive working days: a 3-day task starting Monday
  finishes Wednesday. A **milestone** (duration 0) sits *on* one day and takes part in links as a one-day task
  does: it sits on the first working day its predecessors allow, so after an FS predecessor it sits on the
  working day after that predecessor's finish, and an FS successor of a milestone starts the working day after
  the milestone's day. (MS Project instead puts a milestone at the instant its predecessor ends, so that an FS
  chain through it loses no day; TruePPM and OpenProject put it on a day, and so does Keelplan.)
* **Links.** FS lag 0 starts the successor on the next working day after the predecessor finishes; SS lag 0 on
  the same day it starts; FF lag 0 finishes it no earlier than the predecessor's finish day; SF lag 0 finishes it
  no earlier than the predecessor's start day. An elapsed lag (TruePPM's only kind) moves that day by whole
  calendar days, FS counting from the day after the finish, then takes the successor's next working day; a
  working-day lag counts working days of the *successor's* calendar; a percent lag is a share of the
  predecessor's duration. A negative lag is a lead. Lags to and from a milestone count from and to its day, as
  for any one-day task.
* **Summaries.** A task with children takes no part in the passes: a link to or from it acts as the same link
  to or from every task under it, and its dates are rolled up (earliest start, latest finish). Its own
  duration, constraint and progress are ignored.
* **Constraints**, applied after logic in the forward pass and before it in the backward pass:
  SNET (TruePPM's ``planned_start``) and FNET raise the early dates; SNLT and FNLT cap them (the constraint wins
  over logic) and cap the late dates; MSO and MFO pin both; ALAP moves a task as late as its successors' early
  dates allow. A deadline caps the late finish only. Late dates capped below the early ones give negative total
  float.
* **Progress** (TruePPM's reading). A task is *finished* when it has an actual finish or is 100 % complete.
  A finished task with actual dates sits on them at its full duration, out of the network's logic (even before a
  predecessor): a missing actual start is its duration back from the actual finish, a missing actual finish its
  duration on from the actual start, and a recorded day counts as one of its days even when it is not a working
  day. A task complete by percent alone is placed by logic at its full duration from the project start. Either
  way its late dates are its early ones, it is never critical, and it bounds nothing before it: a finished
  successor imposes no late date on its predecessors. Work not finished is not scheduled before the status date.
  A task under way keeps only its remaining work, ``duration - floor(duration x percent / 100)`` days, placed
  from the latest of the status date, its predecessors' logic and its actual start (a start recorded on a day
  off stands as its first day); its early dates are those of that remaining work. Once started, a task keeps
  its SNET/FNET dates and its FNLT date and deadline as late caps; other constraints no longer move it.
* **Floats** are in working days of the task's own calendar: total float is from the early to the late finish;
  free float is how far the task can slip before any successor's early dates move (through every link type,
  ignoring finished successors), never more than the total float nor below zero. A milestone's floats count
  its day as a one-day task's do. A task is critical when its total float is zero or less and it is not
  finished.
* **Driving links**: a link drives when its predecessor cannot slip one working day without moving the
  successor's early date (zero relationship free float). A successor pinned to its dates (finished, MSO, MFO,
  manual) is driven by no link.
* **The critical path** lists every critical task, in TruePPM's order: a topological order of the network that,
  of the tasks whose predecessors are all listed, always takes the one with the earliest (early start, id)
  next. It is the same whatever order the tasks and links were given in, and it ends at a task that finishes
  with the project (on the last of its own working days by the project finish).
* **No task starts before the project start**, except where an actual date, a manual date or an MSO/MFO
  constraint puts it there.

Worked example: A (3 days) then B (2 days), and C (1 day) after A with a 1-day lag.

>>> import datetime as dt
>>> from keelplan.engine import Link, ProjectInput, Task, schedule
>>> p = ProjectInput(start=dt.date(2026, 1, 5), tasks=[Task("A", 3), Task("B", 2), Task("C", 1)],
...                  links=[Link("A", "B"), Link("A", "C", lag=1)])
>>> r = schedule(p)
>>> r["B"].early_start, r["B"].early_finish        # Thursday and Friday
(datetime.date(2026, 1, 8), datetime.date(2026, 1, 9))
>>> r["C"].early_start, r["C"].total_float, r["C"].is_critical
(datetime.date(2026, 1, 9), 0, True)
>>> r.critical_path                                 # every critical task; B and C tie on Friday's finish
('A', 'B', 'C')

A milestone sits on a day: after A (Monday 5 .. Wednesday 7) it sits on Thursday 8, and its FS successor starts
on Friday 9. Lags count from and to its day like any task's:

>>> p = ProjectInput(start=dt.date(2026, 1, 5), tasks=[Task("A", 3), Task("M", 0), Task("B", 1), Task("L", 1)],
...                  links=[Link("A", "M"), Link("M", "B"), Link("M", "L", lag=2, lag_unit="ed")])
>>> r = schedule(p)
>>> r["M"].early_start, r["M"].early_finish
(datetime.date(2026, 1, 8), datetime.date(2026, 1, 8))
>>> r["B"].early_start                               # the working day after the milestone's day
datetime.date(2026, 1, 9)
>>> r["L"].early_start                               # Friday 9 + 2 elapsed days is Sunday: Monday 12
datetime.date(2026, 1, 12)
>>> r.project_finish                                 # L sets the finish
datetime.date(2026, 1, 12)
>>> r["M"].total_float                               # on Friday 9, M would still give L Sunday 11: Monday 12
1

A lead (negative lag) overlaps the tasks; weekends are skipped:

>>> p = ProjectInput(start=dt.date(2026, 1, 5), tasks=[Task("A", 5), Task("B", 3)],
...                  links=[Link("A", "B", "FS", lag=-2)])
>>> schedule(p)["B"].early_start                     # A ends Friday 9th; B starts two working days before
datetime.date(2026, 1, 8)

A finish-no-later-than date that logic cannot meet gives negative float up the chain:

>>> p = ProjectInput(start=dt.date(2026, 1, 5),
...                  tasks=[Task("A", 5), Task("B", 5, constraint="FNLT", constraint_date=dt.date(2026, 1, 14))],
...                  links=[Link("A", "B")])
>>> r = schedule(p)
>>> r["B"].early_finish, r["A"].total_float           # B is held to the 14th; A is 2 days late
(datetime.date(2026, 1, 14), -2)

Progress: A (4 days) started Monday 5 and is half done; at the status date Wednesday 14 its two days left run
Wednesday 14 .. Thursday 15, which are its early dates:

>>> p = ProjectInput(start=dt.date(2026, 1, 5), status_date=dt.date(2026, 1, 14),
...                  tasks=[Task("A", 4, actual_start=dt.date(2026, 1, 5), percent_complete=50)])
>>> r = schedule(p)
>>> r["A"].early_start, r["A"].early_finish
(datetime.date(2026, 1, 14), datetime.date(2026, 1, 15))
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from contextlib import contextmanager
from operator import attrgetter, itemgetter

import numpy as np

from keelplan.engine.calendars import MAX_DAY, MIN_DAY, CalendarTable, SpanOverflow, day_number
from keelplan.engine.errors import CyclicDependencyError, DateRangeError
from keelplan.engine.inputs import LAG_UNITS, LINK_TYPES, ConstraintType, LagUnit, LinkType, ProjectInput
from keelplan.engine.results import ScheduleResult

# The integer codes the input columns use for link types and lag units.
FS, SS, FF, SF = map(LINK_TYPES.index, (LinkType.FS, LinkType.SS, LinkType.FF, LinkType.SF))
ELAPSED_UNIT, PERCENT_UNIT = map(LAG_UNITS.index, (LagUnit.ELAPSED_DAYS, LagUnit.PERCENT))
INF = 2**62
NEG = -(2**62)
_task_id = attrgetter("id")


class _Network:
    """The task graph as flat arrays: one node per leaf task, plus zero-length hub nodes that stand in for a
    summary's links (a hub gathers the links into or out of a summary and fans them out to its leaves).

    It also holds what the passes walk: a topological order of the nodes (``order``; only the nodes before a
    cycle when there is one), and the links as flat lists in the order each pass reads them (see _adjacency).
    Everything here follows from the input alone, not from the span of the calendar tables.
    """

    def __init__(self, project: ProjectInput):
        task_cols, link_cols = project._task_columns, project._link_columns
        count = len(project.tasks)
        parent_a = task_cols.parent
        summary_a = np.zeros(count, dtype=bool)
        summary_a[parent_a[parent_a >= 0]] = True
        if summary_a.any():
            _check_parent_cycles(project, parent_a)
        leaves_a = np.flatnonzero(~summary_a)
        node_a = np.full(count, -1, dtype=np.int64)
        node_a[leaves_a] = np.arange(leaves_a.size)
        self.parent = parent_a
        self.is_summary = summary_a
        self.leaves = leaves_a    # node -> task position, for the leaves (nodes 0 .. n_leaves - 1)
        self.node_a = node_a      # task position -> node, -1 for a summary
        self.n_leaves = n_leaves = leaves_a.size
        hubs: dict = {}
        hub_owner: list[int] = []  # the summary of each hub (nodes n_leaves ...)

        def hub(summary: int, kind: int) -> int:
            key = (summary, kind)
            node = hubs.get(key)
            if node is None:
                node = hubs[key] = n_leaves + len(hub_owner)
                hub_owner.append(summary)
            return node

        preds, succs, kinds_a = link_cols.pred, link_cols.succ, link_cols.type
        lags_a, unit_codes = link_cols.lag, link_cols.unit
        pct = unit_codes == PERCENT_UNIT
        if pct.any():
            amount = np.floor(task_cols.duration[preds[pct]] * np.abs(lags_a[pct]) / 100 + 0.5).astype(np.int64)
            lags_a = lags_a.copy()
            lags_a[pct] = np.where(lags_a[pct] >= 0, amount, -amount)
        # A working-day lag moves a *finish* bound by whole days too: the lag functions end a lead at the start of
        # a day and a lag at the end of one, which for a finish bound loses a day (FF -1 acted like FF 0 and
        # SF +1 like SF 0). One more day in those two cases makes them agree with elapsed lags on a 7-day week.
        shift = (unit_codes != ELAPSED_UNIT) & (((kinds_a == FF) & (lags_a < 0)) | ((kinds_a == SF) & (lags_a > 0)))
        if shift.any():
            lags_a = np.where(shift, lags_a + np.sign(lags_a), lags_a)
        P_a, S_a = node_a[preds], node_a[succs]
        if summary_a.any() and preds.size:
            for k in np.flatnonzero(summary_a[preds] | summary_a[succs]).tolist():
                p, s, code = int(preds[k]), int(succs[k]), int(kinds_a[k])
                # Hub kinds: 0 = into a summary's starts, 1 = into its finishes, 2 = out of starts, 3 = out of finishes.
                if summary_a[p]:
                    P_a[k] = hub(p, 2 if code in (SS, SF) else 3)
                if summary_a[s]:
                    S_a[k] = hub(s, 0 if code in (FS, SS) else 1)
        self.link_count = len(preds)
        self.hubs = hubs
        self._leaf_cache: dict = {}
        children: dict[int, list[int]] = {}
        if hubs:
            parent = parent_a.tolist()
            for i in np.flatnonzero(parent_a >= 0).tolist():
                children.setdefault(parent[i], []).append(i)
        self.children = children
        extra_p, extra_s, extra_t = [], [], []
        for (summary, kind), h in hubs.items():
            leaves_of = self.leaf_nodes(summary)
            if kind in (0, 1):  # hub -> every leaf: SS for starts, FF for finishes
                extra_p += [h] * len(leaves_of)
                extra_s += leaves_of
            else:               # every leaf -> hub
                extra_p += leaves_of
                extra_s += [h] * len(leaves_of)
            extra_t += [SS if kind in (0, 2) else FF] * len(leaves_of)
        self.n = n = n_leaves + len(hub_owner)
        self.hub_owner = hub_owner
        extra = len(extra_p)
        self.P = np.concatenate([P_a, np.array(extra_p, dtype=np.int64)]) if extra else P_a
        self.S = np.concatenate([S_a, np.array(extra_s, dtype=np.int64)]) if extra else S_a
        self.T = np.concatenate([kinds_a, np.array(extra_t, dtype=np.int64)]) if extra else kinds_a
        self.LAG = np.concatenate([lags_a, np.zeros(extra, dtype=np.int64)]) if extra else lags_a
        elapsed = unit_codes == ELAPSED_UNIT
        self.ELAPSED = np.concatenate([elapsed, np.zeros(extra, dtype=bool)]) if extra else elapsed
        # Per node, its calendar (a position in project.calendars; hubs use the every-day calendar after them)
        # and its duration in working days.
        cal_index = {c.id: i for i, c in enumerate(project.calendars)}
        task_cal = task_cols.calendar[leaves_a]
        cal = np.full(n, len(project.calendars), dtype=np.int64)
        cal[: self.n_leaves] = np.where(task_cal < 0, cal_index[project.calendar], task_cal)
        dur = np.zeros(n, dtype=np.int64)
        # A task occupies at least its start day: a milestone (duration 0) takes its one day in the passes.
        dur[: self.n_leaves] = np.maximum(task_cols.duration[leaves_a], 1)
        self.cal_a, self.dur_a = cal, dur
        self.cal = cal.tolist()
        self.dur = dur.tolist()
        # Per link: which instant of the predecessor it reads and which of the successor it bounds (as an index
        # into a flat list of start and finish instants, see _adjacency), and the calendars at either end.
        T = self.T
        self.pred_finish = (T == FS) | (T == FF)   # the predecessor's finish is the reference
        self.succ_finish = (T == FF) | (T == SF)   # the successor's finish is constrained
        self.pred_ref = 2 * self.P + self.pred_finish
        self.succ_ref = 2 * self.S + self.succ_finish
        self.pred_cal, self.succ_cal = cal[self.P], cal[self.S]
        self.order = self._topological_order()
        if len(self.order) == n:
            if isinstance(self.order, range):
                self.visit_position = np.arange(n)
            else:
                self.visit_position = np.empty(n, dtype=np.int64)
                self.visit_position[np.array(self.order, dtype=np.int64)] = np.arange(n)
            self._adjacency(cal)

    def _adjacency(self, cal: np.ndarray) -> None:
        """The links as the passes read them: flat lists grouped by successor, in the order ``order`` visits
        the successors; ``into_end[k]`` is where the links into the k-th node visited end. The forward pass
        reads them front to back, each node pulling from its predecessors; the backward pass reads them back to
        front, each node pushing to its predecessors.

        A node's start instant sits at ``2 * node`` of a flat list and its finish at ``2 * node + 1``, so
        ``into_ref`` names the predecessor's instant a link reads (and, going backwards, bounds) as one number.
        The rest of a link is packed into one integer, ``into_how = 4 * lag + 2 * elapsed + at_finish``
        (``at_finish``: the link bounds the successor's finish, else its start), so a link without a lag (most
        of them) reads as 0 or 1. A working-day lag counts on the successor's calendar.
        """
        n, S, LAG = self.n, self.S, self.LAG
        visit = self.visit_position
        by_succ = np.argsort(visit[S], kind="stable")
        self.into_end = np.cumsum(np.bincount(visit[S], minlength=n)).tolist()
        self.into_ref = self.pred_ref[by_succ].tolist()
        into_how = 4 * LAG + 2 * (self.ELAPSED & (LAG != 0)) + self.succ_finish
        self.into_how = into_how[by_succ].tolist()

    def links_from(self, nodes) -> dict[int, list[tuple[int, int, int]]]:
        """The links out of each of ``nodes`` (the few that ask: ALAP tasks, hubs), as (successor's instant,
        ``4 * lag + 2 * elapsed + at_finish`` as in ``into_how`` but with ``at_finish`` for the predecessor's
        finish, successor's calendar) per link."""
        rows = np.flatnonzero(np.isin(self.P, np.fromiter(nodes, dtype=np.int64)))
        how = 4 * self.LAG[rows] + 2 * (self.ELAPSED[rows] & (self.LAG[rows] != 0)) + self.pred_finish[rows]
        out: dict[int, list[tuple[int, int, int]]] = {node: [] for node in nodes}
        for p, link in zip(self.P[rows].tolist(), zip(self.succ_ref[rows].tolist(), how.tolist(),
                                                      self.succ_cal[rows].tolist())):
            out[p].append(link)
        return out

    def _topological_order(self) -> Sequence[int]:
        """The nodes, each after all its predecessors; when the links form a cycle, only the nodes before it."""
        n, P, S = self.n, self.P, self.S
        # Most projects list a task after the tasks it depends on; then the input order (with each hub just
        # before or after its summary's leaves) already is one, and checking that is one array comparison.
        slot = 3 * np.arange(n, dtype=np.int64) + 1
        for (summary, kind), h in self.hubs.items():
            leaves_of = self.leaf_nodes(summary)
            slot[h] = 3 * leaves_of[0] if kind in (0, 1) else 3 * leaves_of[-1] + 2
        if not P.size or (slot[P] < slot[S]).all():
            if not self.hubs:
                return range(n)
            # The leaves stay in order; each hub goes in at its slot (hubs sharing a slot in node order).
            hub_nodes = np.arange(self.n_leaves, n)
            hub_nodes = hub_nodes[np.argsort(slot[self.n_leaves:], kind="stable")]
            at = np.searchsorted(slot[: self.n_leaves], slot[hub_nodes])
            return np.insert(np.arange(self.n_leaves), at, hub_nodes).tolist()
        successors: list[list[int]] = [[] for _ in range(n)]
        for p, s in zip(P.tolist(), S.tolist()):
            successors[p].append(s)
        waiting = np.bincount(S, minlength=n).tolist()
        order = [i for i in range(n) if not waiting[i]]
        for i in order:  # the list grows as it is walked
            for s in successors[i]:
                waiting[s] -= 1
                if not waiting[s]:
                    order.append(s)
        return order

    def leaf_nodes(self, summary: int) -> list[int]:
        cached = self._leaf_cache.get(summary)
        if cached is None:
            out, stack = [], [summary]
            while stack:
                t = stack.pop()
                for ch in self.children.get(t, ()):
                    if self.is_summary[ch]:
                        stack.append(ch)
                    else:
                        out.append(int(self.node_a[ch]))
            cached = self._leaf_cache[summary] = sorted(out)
        return cached

    def find_cycle(self, project: ProjectInput) -> list:
        """Task ids on a cycle among the nodes the topological sort could not reach."""
        done = [False] * self.n
        for i in self.order:
            done[i] = True
        adjacency: dict[int, list[int]] = {}
        predecessors: dict[int, list[int]] = {}
        for p, s in zip(self.P.tolist(), self.S.tolist()):
            if not done[p] and not done[s]:
                adjacency.setdefault(p, []).append(s)
                predecessors.setdefault(s, []).append(p)
        # Nodes merely downstream of a cycle were not reached either; drop those that lead to no cycle, so the
        # walk below cannot end in one of them.
        leading = {p: len(set(succs)) for p, succs in adjacency.items()}
        dead = [s for s in predecessors if s not in leading]
        for s in dead:
            for p in set(predecessors[s]):
                leading[p] -= 1
                if not leading[p]:
                    dead.append(p)
        dead_set = set(dead)
        adjacency = {p: [s for s in succs if s not in dead_set] for p, succs in adjacency.items() if p not in dead_set}
        node = min(adjacency)
        seen_at: dict[int, int] = {}
        path = []
        while node not in seen_at:  # every node left has a successor left, so walking forward loops
            seen_at[node] = len(path)
            path.append(node)
            node = min(adjacency[node])
        ids: list = []
        for nd in path[seen_at[node]:] + [node]:
            tid = project.tasks[self.leaves[nd] if nd < self.n_leaves else self.hub_owner[nd - self.n_leaves]].id
            if not ids or ids[-1] != tid:
                ids.append(tid)
        if len(ids) > 1 and ids[0] != ids[-1]:
            ids.append(ids[0])
        return ids


def _check_parent_cycles(project: ProjectInput, parent_a: np.ndarray) -> None:
    # Pointer jumping: after k rounds every task points 2**k steps up its chain; only tasks on or under a
    # loop still have an ancestor after enough rounds. Only then is the loop looked for, one task at a time.
    up = parent_a
    for _ in range(max(1, up.size).bit_length() + 1):
        up = np.where(up >= 0, up[np.maximum(up, 0)], -1)
        if (up < 0).all():
            return
    parent = parent_a.tolist()
    state = [0] * len(parent)
    for i in range(len(parent)):
        path = []
        j = i
        while j != -1 and state[j] == 0:
            state[j] = 1
            path.append(j)
            j = parent[j]
        if j != -1 and state[j] == 1:
            loop = path[path.index(j):] + [j]
            raise CyclicDependencyError([project.tasks[k].id for k in loop])
        for k in path:
            state[k] = 2


def schedule(project: ProjectInput) -> ScheduleResult:
    """Compute early and late dates, floats, the critical path and the project finish of ``project``.

    Raises :class:`~keelplan.engine.errors.CyclicDependencyError` when the links (summaries expanded) form a
    cycle, and :class:`~keelplan.engine.errors.DateRangeError` when dates would leave the years 1-9999.
    """
    if not project.tasks:
        return ScheduleResult.empty(project.start)
    # The passes allocate hundreds of thousands of small lists and tuples and free none of them in cycles.
    with collector_paused():
        return _schedule(project)


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector for the block (as it was before, after it): for work that makes
    hundreds of thousands of objects and no reference cycles, which the collector would scan over and over."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _schedule(project: ProjectInput) -> ScheduleResult:
    network = _Network(project)
    if len(network.order) < network.n:
        raise CyclicDependencyError(network.find_cycle(project))
    unusual = np.flatnonzero(~project._task_columns.plain).tolist()
    anchors = [day_number(project.start)]
    anchors += [day_number(v) for i in unusual for t in (project.tasks[i],)
                for v in (t.constraint_date, t.deadline, t.manual_start, t.manual_finish, t.actual_start,
                          t.actual_finish) if v is not None]
    if project.status_date is not None:
        anchors.append(day_number(project.status_date))
    lo, hi = min(anchors), max(anchors)
    # Enough days for every task and lag end to end on a one-day-a-week calendar, across any holidays.
    closed = sum((e.end - e.start).days + 1 for c in project.calendars for e in c.exceptions if not e.working)
    work = int(project._task_columns.duration.sum()) + int(np.abs(network.LAG).sum())
    limit = 7 * work + closed + 1000
    # Most projects end well inside a tenth of that; one that runs past the table is rescheduled wider.
    pad = min(limit, 3000 + work // 12)
    while True:
        table = CalendarTable(project.calendars, lo=lo - pad, size=(hi - lo) + 2 * pad + 1)
        try:
            return _Solver(project, network, table, unusual).run()
        except (SpanOverflow, IndexError):
            if (lo - pad <= MIN_DAY and hi + pad >= MAX_DAY) or pad >= limit:
                raise DateRangeError("the schedule runs outside the years 1 to 9999") from None
            pad = min(pad * 8, limit)


class _Solver:
    """One run of the passes over one span of calendar tables.

    The passes keep a node's start instant at ``2 * node`` and its finish at ``2 * node + 1`` of one flat list
    (``early`` and ``late``), which is how the network's link lists name the instant a link reads.
    """

    def __init__(self, project: ProjectInput, net: _Network, table: CalendarTable, unusual: list[int]):
        self.p = project
        self.net = net
        self.tab = table
        n = net.n
        self.cal = net.cal
        self.dur = net.dur
        self.ranks, self.works = table.scalar_tables()
        self.start_t = 2 * table.rel(project.start)
        self.status_t = 2 * table.rel(project.status_date) if project.status_date is not None else None
        # Per node, only where it differs from the plain case: see _load_rules.
        self.special: dict[int, dict] = {}
        self.floor = [self.start_t] * n
        self.cap_lf = [INF] * n
        self.complete: list[int] = []  # nodes of finished tasks
        self.done: set[int] = set()     # the same, as a set (MSO/MFO pins are fixed but not finished)
        self.alap: list[int] = []
        self._load_rules(unusual)
        self.done = set(self.complete)

    # ------------------------------------------------------------ scalar calendar helpers (own calendar)

    def _start_at_or_after(self, node, t):
        r, w = self.ranks[self.cal[node]], self.works[self.cal[node]]
        return w[r[(t + 1) >> 1]]

    def _finish_from_start(self, node, x, d):
        r, w = self.ranks[self.cal[node]], self.works[self.cal[node]]
        return w[r[x] + d - 1]

    def _start_from_finish(self, node, f, d):
        r, w = self.ranks[self.cal[node]], self.works[self.cal[node]]
        j = r[f] - d + 1
        if j < 0:
            raise SpanOverflow
        return w[j]

    def _finish_at_or_before(self, node, t):
        r, w = self.ranks[self.cal[node]], self.works[self.cal[node]]
        j = r[(t + 1) >> 1] - 1
        if j < 0:
            raise SpanOverflow
        return w[j]

    def _finish_at_or_after(self, node, t):
        r, w = self.ranks[self.cal[node]], self.works[self.cal[node]]
        return w[r[t >> 1]]

    def _start_at_or_before(self, node, t):
        r, w = self.ranks[self.cal[node]], self.works[self.cal[node]]
        j = r[(t >> 1) + 1] - 1
        if j < 0:
            raise SpanOverflow
        return w[j]

    def _snap_forward(self, node, t):
        r, w = self.ranks[self.cal[node]], self.works[self.cal[node]]
        x = t >> 1
        if r[x + 1] - r[x]:
            return t
        return 2 * w[r[x + (t & 1)]]

    def _snap_back(self, node, t):
        r, w = self.ranks[self.cal[node]], self.works[self.cal[node]]
        x = t >> 1
        if r[x + 1] - r[x]:
            return t
        j = r[x] - 1
        if j < 0:
            raise SpanOverflow
        return 2 * w[j] + 1

    # ------------------------------------------------------------ static rules per task

    def _place(self, node, d, start_bound, finish_bound=NEG):
        """Early dates for ``d`` days starting at or after ``start_bound`` and finishing at or after
        ``finish_bound`` (instants)."""
        if d == 0:
            t = self._snap_forward(node, max(start_bound, finish_bound))
            return t, t
        x = self._start_at_or_after(node, start_bound)
        if finish_bound > NEG:
            r = self.ranks[self.cal[node]]
            j = r[self._finish_at_or_after(node, finish_bound)] - d + 1
            if j >= 0:
                x = max(x, self.works[self.cal[node]][j])
        return 2 * x, 2 * self._finish_from_start(node, x, d) + 1

    def _place_late(self, node, d, finish_bound, start_bound=INF):
        """Late dates for ``d`` days finishing at or before ``finish_bound`` and starting at or before
        ``start_bound`` (instants)."""
        if d == 0:
            t = self._snap_back(node, min(finish_bound, start_bound))
            return t, t
        f = self._finish_at_or_before(node, finish_bound) if finish_bound < INF else None  # SNLT: start only
        if start_bound < INF:
            g = self._finish_from_start(node, self._start_at_or_before(node, start_bound), d)
            f = g if f is None else min(f, g)
        return 2 * self._start_from_finish(node, f, d), 2 * f + 1

    def _load_rules(self, unusual: list[int]):
        rel = self.tab.rel
        tasks = self.p.tasks
        status_t = self.status_t
        node_of_task = self.net.node_a
        if status_t is not None and status_t > self.start_t:
            # Work not finished waits for the status date (finished work is history: it is not floored by it).
            self.floor[: self.net.n_leaves] = [status_t] * self.net.n_leaves
        for i in unusual:
            node = int(node_of_task[i])
            if node < 0:  # a summary: its own rules do not apply
                continue
            t = tasks[i]
            d = self.dur[node]  # a milestone occupies its day: one day, like TruePPM
            pct = t.percent_complete
            rule: dict = {}
            if t.actual_finish is not None or pct >= 100:
                self.complete.append(node)
                if t.actual_finish is not None or t.actual_start is not None:
                    # Pinned on its actual dates at its full duration, out of the network's logic: a missing end
                    # is derived from the other (the recorded day counts as one of the task's days even when
                    # it is not a working day, as TruePPM counts it).
                    if t.actual_finish is not None:
                        f = rel(t.actual_finish)
                        a = rel(t.actual_start) if t.actual_start is not None else self._first_day(node, f, d)
                    else:
                        a = rel(t.actual_start)
                        f = self._last_day(node, a, d)
                    rule["fixed"] = (2 * a, 2 * f + 1)
                    rule["pin"] = True
                    self.special[node] = rule
                    continue
                # Complete by percent alone: placed by logic at its full duration, from the project start rather
                # than the status date; its late dates are its early ones.
                self.floor[node] = self.start_t
                rule["settled"] = True
            elif pct > 0:
                # The work left: the duration less the whole days done (truncated, as TruePPM counts them).
                left = d - int(d * pct / 100)
                if left != d:
                    rule["remaining"] = left
            started = t.actual_start is not None and "settled" not in rule
            if started:
                # Work under way is floored at its actual start, unsnapped: a start recorded on a day off stands.
                rule["actual_start"] = rel(t.actual_start)
            dd = rule.get("remaining", d)
            ct, cd = t.constraint, t.constraint_date
            if t.manual_start is not None and not started:
                rule["fixed"] = (2 * rel(t.manual_start), 2 * rel(t.manual_finish) + 1)
                rule["manual"] = True
            elif ct is ConstraintType.SNET:
                self.floor[node] = max(self.floor[node], 2 * rel(cd))
            elif ct is ConstraintType.FNET:
                rule["finish_floor"] = 2 * rel(cd) + 1
            elif started:
                # Once work has started, only dates that raise it (above) or cap its late finish apply.
                if ct is ConstraintType.FNLT:
                    self.cap_lf[node] = min(self.cap_lf[node], self._place_late(node, dd, 2 * rel(cd) + 1)[1])
            elif ct is ConstraintType.MSO:
                rule["fixed"] = self._place(node, dd, 2 * rel(cd))
                rule["pin"] = True
            elif ct is ConstraintType.MFO:
                rule["fixed"] = self._place_late(node, dd, 2 * rel(cd) + 1)
                rule["pin"] = True
            elif ct is ConstraintType.SNLT:
                rule["cap"] = self._place_late(node, dd, INF, 2 * rel(cd))
            elif ct is ConstraintType.FNLT:
                rule["cap"] = self._place_late(node, dd, 2 * rel(cd) + 1)
            elif ct is ConstraintType.ALAP and "settled" not in rule:
                self.alap.append(node)
            if "cap" in rule:
                self.cap_lf[node] = min(self.cap_lf[node], rule["cap"][1])
            if t.deadline is not None:
                self.cap_lf[node] = min(self.cap_lf[node], self._place_late(node, dd, 2 * rel(t.deadline) + 1)[1])
            if rule:
                self.special[node] = rule

    def _last_day(self, node, a, d):
        """The last day of ``d`` days from day ``a``, ``a`` counted as the first even when it is not a working
        day of the node's calendar."""
        r, w = self.ranks[self.cal[node]], self.works[self.cal[node]]
        if r[a + 1] - r[a]:  # a working day
            return w[r[a] + d - 1]
        return a if d <= 1 else w[r[a + 1] + d - 2]

    def _first_day(self, node, f, d):
        """The first day of ``d`` days ending on day ``f``, ``f`` counted as the last even when it is not a
        working day of the node's calendar."""
        if d <= 1:
            return f
        r, w = self.ranks[self.cal[node]], self.works[self.cal[node]]
        j = r[f] - d + 1
        if j < 0:
            raise SpanOverflow
        return w[j]

    # ------------------------------------------------------------ passes

    def run(self) -> ScheduleResult:
        net = self.net
        early = self._forward()
        finish_t = max(early[1: 2 * net.n_leaves: 2]) if net.n_leaves else self.start_t
        late = self._backward(early, finish_t)
        if self.alap:
            self._shift_alap(early, late, finish_t)
        return self._results(early, late, finish_t)

    def _forward(self) -> list[int]:
        """Early start and finish instants (flat, see the class). A task under way has its remaining work
        placed: its early start is where that work starts, as in TruePPM."""
        net = self.net
        ranks, works = self.ranks, self.works
        cal, dur, special, floor = self.cal, self.dur, self.special, self.floor
        refs, hows = net.into_ref, net.into_how
        early = [0] * (2 * net.n)
        k = 0
        for i, end in zip(net.order, net.into_end):
            c = cal[i]
            r, w = ranks[c], works[c]
            cs, cf = floor[i], NEG
            while k < end:
                u = early[refs[k]]
                how = hows[k]
                k += 1
                if how > 1 or how < 0:  # a lag (see _Network._adjacency)
                    lag = how >> 2
                    if how & 2:
                        u += 2 * lag
                    elif lag > 0:
                        u = 2 * w[r[(u + 1) >> 1] + lag - 1] + 1
                    else:
                        j = r[(u + 1) >> 1] + lag
                        u = 2 * w[j] if j >= 0 else NEG
                if how & 1:
                    if u > cf:
                        cf = u
                elif u > cs:
                    cs = u
            d = dur[i]
            if i in special:
                s_t, f_t = self._forward_special(i, cs, cf)
            elif d:
                # By working-day number: the first that starts at or after cs, moved later if the finish bound
                # asks (the d-th day must end at or after cf). Day number q is w[q], and r[w[q]] is q again.
                q = r[(cs + 1) >> 1]
                if cf > NEG:
                    j = r[cf >> 1] - d + 1
                    if j > q:
                        q = j
                s_t = 2 * w[q]
                f_t = 2 * w[q + d - 1] + 1
            else:  # a summary's hub: the first instant at or after both bounds that starts or ends a day
                t = cs if cs > cf else cf
                x = t >> 1
                s_t = f_t = t if r[x + 1] - r[x] else 2 * w[r[x + (t & 1)]]
            early[2 * i] = s_t
            early[2 * i + 1] = f_t
        return early

    def _forward_special(self, i, cs, cf):
        rule = self.special[i]
        if "fixed" in rule:
            return rule["fixed"]
        d = rule.get("remaining", self.dur[i])
        cf = max(cf, rule.get("finish_floor", NEG))
        a = rule.get("actual_start")
        if a is not None and a > self._start_at_or_after(i, cs):
            # Work under way starts no earlier than its actual start, even on a day off (a start recorded on a
            # Saturday stands): that day is then its first, and a finish bound can only move it later.
            r = self.ranks[self.cal[i]]
            if r[a + 1] - r[a]:
                return self._place(i, d, 2 * a, cf)
            f = self._last_day(i, a, d)
            bound = self._finish_at_or_after(i, cf) if cf > NEG else f  # a finish bound lands on a working day
            if bound > f:
                return 2 * max(self._start_from_finish(i, bound, d), a), 2 * bound + 1
            return 2 * a, 2 * f + 1
        s_t, f_t = self._place(i, d, cs, cf)
        cap = rule.get("cap")
        if cap is not None and s_t > cap[0]:
            s_t, f_t = cap
        return s_t, f_t

    def _backward(self, early, finish_t) -> list[int]:
        """Late start and finish instants (flat, see the class)."""
        net = self.net
        ranks, works = self.ranks, self.works
        cal, dur, special, cap_lf = self.cal, self.dur, self.special, self.cap_lf
        refs, hows = net.into_ref, net.into_how
        late = [0] * (2 * net.n)
        # Per node, the latest start and finish its successors allow so far (flat, see the class).
        bound = [INF] * (2 * net.n)
        starts = net.into_end[-2::-1] + [0]  # where the links into each node begin, nodes visited backwards
        k = len(refs)
        for i, start in zip(reversed(net.order), starts):
            c = cal[i]
            r, w = ranks[c], works[c]
            bs, bf = bound[2 * i], bound[2 * i + 1]
            if cap_lf[i] < bf:
                bf = cap_lf[i]
            if finish_t < bf:
                bf = finish_t
            d = dur[i]
            if i in special:
                rule = special[i]
                if "pin" in rule or "settled" in rule:
                    # Finished work (or work pinned to its dates) keeps its early dates, and a finished task
                    # bounds nothing before it: its predecessors are not held to dates that are history.
                    late[2 * i] = early[2 * i]
                    late[2 * i + 1] = early[2 * i + 1]
                    if "pin" not in rule or i in self.done:
                        k = start
                        continue
                    s_t, f_t = early[2 * i], early[2 * i + 1]
                else:
                    s_t, f_t = self._backward_special(i, bf, bs, early)
            elif d:
                # By working-day number (day q is w[q]): the last to end by bf, moved earlier if the start
                # bound asks (the first of the d days must start by bs).
                q = r[(bf + 1) >> 1] - 1
                if q < 0:
                    raise SpanOverflow
                if bs < INF:
                    j = r[(bs >> 1) + 1] - 1
                    if j < 0:
                        raise SpanOverflow
                    j += d - 1
                    if j >= len(w):
                        raise SpanOverflow
                    if j < q:
                        q = j
                if q - d + 1 < 0:
                    raise SpanOverflow
                s_t = 2 * w[q - d + 1]
                f_t = 2 * w[q] + 1
            else:  # a milestone or a hub: the last instant at or before both bounds that starts or ends a day
                t = bf if bf < bs else bs
                x = t >> 1
                if r[x + 1] - r[x]:
                    s_t = f_t = t
                else:
                    j = r[x] - 1
                    if j < 0:
                        raise SpanOverflow
                    s_t = f_t = 2 * w[j] + 1
            late[2 * i] = s_t
            late[2 * i + 1] = f_t
            while k > start:  # bound the predecessors: each link's rule, backwards
                k -= 1
                how = hows[k]
                v = f_t if how & 1 else s_t
                if how > 1 or how < 0:  # a lag (see _Network._adjacency)
                    lag = how >> 2
                    if how & 2:
                        v -= 2 * lag
                    elif lag > 0:
                        j = r[(v + 1) >> 1] - lag
                        if j < 0:
                            raise SpanOverflow
                        v = 2 * w[j]
                    else:
                        j = r[(v >> 1) + 1] - 1 - lag
                        v = 2 * w[j] if j < len(w) else INF
                ref = refs[k]
                if v < bound[ref]:
                    bound[ref] = v
        return late

    def _backward_special(self, i, bf, bs, early):
        rule = self.special[i]
        d = rule.get("remaining", self.dur[i])
        s_t, f_t = self._place_late(i, d, bf, bs)
        if rule.get("manual"):  # a manual task keeps its own span; only its position floats
            return early[2 * i] + (f_t - early[2 * i + 1]), f_t
        return s_t, f_t

    def _shift_alap(self, early, late, finish_t):
        """Move ALAP tasks as late as their successors' early dates allow, successors first."""
        position = self.net.visit_position
        ref = list(early)
        links = self.net.links_from(self.alap)
        for i in sorted(self.alap, key=position.__getitem__, reverse=True):
            bf, bs = self._bounds_from_successors(links[i], ref)
            bf = min(bf, late[2 * i + 1], finish_t)
            s_t, f_t = self._place_late(i, self.dur[i], bf, bs)
            if s_t > early[2 * i]:
                early[2 * i] = ref[2 * i] = s_t
                early[2 * i + 1] = ref[2 * i + 1] = f_t

    def _bounds_from_successors(self, links, ref):
        """Latest finish and start instants of a node that keep each successor at the instants in ``ref``
        (flat, see the class), given its ``links`` from _Network.links_from: the backward pass's link rule."""
        bf = bs = INF
        for at, how, c in links:
            v = ref[at]
            lag = how >> 2
            if lag:
                if how & 2:
                    v -= 2 * lag
                else:
                    r, w = self.ranks[c], self.works[c]
                    j = r[(v + 1) >> 1] - lag if lag > 0 else r[(v >> 1) + 1] - 1 - lag
                    if j < 0:
                        raise SpanOverflow
                    v = 2 * w[j] if j < len(w) else INF
            if how & 1:
                bf = min(bf, v)
            else:
                bs = min(bs, v)
        return bf, bs

    # ------------------------------------------------------------ floats, summaries, output

    def _results(self, early, late, finish_t) -> ScheduleResult:
        net, tab = self.net, self.tab
        n = net.n
        cal = net.cal_a
        early_a = np.fromiter(early, dtype=np.int64, count=2 * n)
        late_a = np.fromiter(late, dtype=np.int64, count=2 * n)
        es_a, ef_a, ls_a, lf_a = early_a[0::2], early_a[1::2], late_a[0::2], late_a[1::2]
        complete = np.zeros(n, dtype=bool)
        complete[self.complete] = True
        # Working days from the early to the late finish; for a task that started on a day off (that day its
        # first), from the early to the late start, never below zero on that account (TruePPM's count).
        total = tab.completed(cal, lf_a) - tab.completed(cal, ef_a)
        total = np.minimum(total, np.maximum(tab.completed(cal, ls_a) - tab.completed(cal, es_a), 0))
        P = net.P
        free = total.copy()
        if P.size:
            # Per link, the working days its predecessor can slip before the successor's early dates move. A
            # finished successor is out of the network's logic: its links bound nothing and drive nothing.
            slack = self._free_slack(early_a, finish_t)
            live = ~complete[net.S]
            # Driving, as TruePPM reads it: the predecessor cannot slip a working day without moving the
            # successor's early date (zero relationship free float; a link already overrun counts too). A
            # successor pinned to its dates (finished, MSO, MFO, manual) is driven by no link.
            fixed = np.zeros(n, dtype=bool)
            fixed[[node for node, rule in self.special.items() if "fixed" in rule]] = True
            driving = live & ~fixed[net.S] & (slack <= 0)
            np.minimum.at(free, P[live], np.maximum(slack[live], 0))
        else:
            driving = np.zeros(0, dtype=bool)
        free = np.maximum(np.minimum(free, total), 0)
        critical = (total <= 0) & ~complete
        return self._assemble(es_a, ef_a, ls_a, lf_a, total, free, critical, driving, finish_t)

    def _free_slack(self, early_a, finish_t):
        """Per link, how many working days (predecessor's calendar) the predecessor can slip before the link
        moves its successor's early dates; through a summary's hub, up to what the hub's own links allow."""
        net, tab = self.net, self.tab
        ref_a = early_a
        if net.hubs:
            ref_a = early_a.copy()
            # A hub's latest instant that keeps its successors' early dates, computed successors first.
            hubs = range(net.n_leaves, net.n)
            links = net.links_from(hubs)
            for h in sorted(hubs, key=net.visit_position.__getitem__, reverse=True):
                bf, bs = self._bounds_from_successors(links[h], ref_a)
                ref_a[2 * h] = ref_a[2 * h + 1] = max(min(bf, bs, finish_t), early_a[2 * h + 1])
        bound = tab.lag_backward(net.succ_cal, ref_a[net.succ_ref], net.LAG, net.ELAPSED)
        cp = net.pred_cal
        own = early_a[net.pred_ref]
        if bound.size and bound.min() < 0:
            raise SpanOverflow
        latest = tab.completed(cp, bound)
        # A task with work starts only at the start of one of its working days: when the bound on its start is
        # the end of a day, or a day it does not work (an elapsed lag landing on a weekend), the latest start
        # it can take is the last working day starting at or before the bound, one fewer than completed() counts.
        starts = ~net.pred_finish & (net.dur_a[net.P] > 0)
        if starts.any():
            latest[starts] = tab._rank_clipped(cp[starts], bound[starts] // 2 + 1) - 1
        done = tab.completed(cp, own)
        # A task's slip counts from the day its finish falls on, that day included even when it is a day off (a
        # finish recorded on a Sunday), as TruePPM counts it.
        off = net.pred_finish & (net.P < net.n_leaves)
        if off.any():
            done[off] = tab.completed(cp[off], own[off] - 1) + 1
        return latest - done

    def _assemble(self, es_a, ef_a, ls_a, lf_a, total, free, critical, driving, finish_t) -> ScheduleResult:
        net, tasks, tab = self.net, self.p.tasks, self.tab
        count = len(tasks)
        leaf_nodes = net.node_a
        is_leaf = leaf_nodes >= 0
        idx = np.where(is_leaf, leaf_nodes, 0)
        cols = {
            "es": np.where(is_leaf, es_a[idx] // 2, 0), "ef": np.where(is_leaf, ef_a[idx] // 2, 0),
            "ls": np.where(is_leaf, ls_a[idx] // 2, 0), "lf": np.where(is_leaf, lf_a[idx] // 2, 0),
            "tf": np.where(is_leaf, total[idx], 0), "ff": np.where(is_leaf, free[idx], 0),
            "crit": np.where(is_leaf, critical[idx], False),
        }
        if not is_leaf.all():
            self._roll_up(cols, is_leaf)
        for key in ("es", "ef", "ls", "lf"):
            cols[key] = cols[key] + tab.lo
        low = min(int(cols["es"].min()), int(cols["ls"].min()))
        high = max(int(cols["ef"].max()), int(cols["lf"].max()))
        if low < MIN_DAY or high > MAX_DAY:
            raise DateRangeError("the schedule runs outside the years 1 to 9999")
        drivers = _LazyDrivers(self, driving)
        ids = list(map(_task_id, tasks))
        path = self._critical_path(es_a, critical, ids)
        return ScheduleResult(
            project_start=self.p.start, project_finish=tab.date(finish_t // 2), ids=ids,
            columns=cols, is_summary=np.array(net.is_summary, dtype=bool), drivers=drivers,
            critical_path=tuple(path), index=self.p._index, link_driving=driving[: net.link_count].copy(),
        ) if count else ScheduleResult.empty(self.p.start)

    def _roll_up(self, cols, is_leaf):
        """Summary dates and floats from their children, deepest summaries first."""
        parent = self.net.parent
        depth = np.zeros(parent.size, dtype=np.int64)
        up = parent.copy()
        while (up >= 0).any():  # one round per WBS level
            depth += up >= 0
            up = np.where(up >= 0, parent[np.maximum(up, 0)], -1)
        summaries = ~is_leaf
        for key, init in (("es", INF), ("ls", INF), ("tf", INF), ("ff", INF)):
            cols[key] = np.where(summaries, init, cols[key])
        for key in ("ef", "lf"):
            cols[key] = np.where(summaries, NEG, cols[key])
        cols["crit"] = np.where(summaries, False, cols["crit"])
        for d in range(int(depth.max()), 0, -1):
            kids = np.flatnonzero(depth == d)
            par = parent[kids]
            for key in ("es", "ls", "tf", "ff"):
                np.minimum.at(cols[key], par, cols[key][kids])
            for key in ("ef", "lf"):
                np.maximum.at(cols[key], par, cols[key][kids])
            np.logical_or.at(cols["crit"], par, cols["crit"][kids])

    def drivers(self, driving) -> dict:
        """Task id -> ids of the predecessors whose links drive its early dates (through summaries too)."""
        net, tasks, links = self.net, self.p.tasks, self.p.links
        out: dict = {}
        hub_drivers: dict[int, list] = {}
        for e in np.flatnonzero(driving[: net.link_count]).tolist():
            link = links[e]
            s = int(net.S[e])
            out.setdefault(link.successor, []).append(link.predecessor)
            if s >= net.n_leaves:
                hub_drivers.setdefault(s, []).append(link.predecessor)
        if hub_drivers:
            for e in np.flatnonzero(driving[net.link_count:]).tolist():
                e += net.link_count
                h, leaf = int(net.P[e]), int(net.S[e])
                if h in hub_drivers and leaf < net.n_leaves:
                    tid = tasks[net.leaves[leaf]].id
                    out.setdefault(tid, []).extend(hub_drivers[h])
        return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}

    def _critical_path(self, es_a, critical, ids) -> list:
        """Every critical task, in the order TruePPM lists them: a topological order of the network that, of
        the tasks whose predecessors are all listed, always takes the one with the earliest (early start, id)
        next. A summary's hubs take no turn of their own: a hub is passed as soon as all before it are."""
        net = self.net
        nl, n = net.n_leaves, net.n
        crit = np.flatnonzero(critical[:nl])
        if not crit.size:
            return []
        # pos: each node's key in that (early start, id) order, one number (the day, then the id's rank among
        # the ids); hubs before every task.
        ranks = self.p.id_ranks()
        pos = np.empty(n, dtype=np.int64)
        pos[:nl] = (es_a[:nl] >> 1) * len(ranks) + (ranks[net.leaves] if nl < len(ranks) else ranks)
        pos[nl:] = np.arange(nl - n, 0)
        order = net.leaves[self._walk(pos, crit)].tolist()
        return [ids[order[0]]] if len(order) == 1 else list(itemgetter(*order)(ids))

    def _walk(self, pos: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """``nodes`` in the order of the walk that always takes, of the nodes whose predecessors have all been
        taken, the one with the least ``pos``.

        Walking nodes in ``pos`` order, a node whose predecessors are not all taken waits, and is taken right
        after the last of them: its place in the walk is the largest ``pos`` over it and everything before it
        (``reach``). Nodes taken at one place go first the node the walk reached there, then those that waited
        for it, and those, among themselves, in the same kind of walk over the links between them: one round
        per level of waiting, each with a few array operations over the links still in play.
        """
        P, S = self.net.P, self.net.S
        keys = []
        active = np.ones(pos.size, dtype=bool)
        while True:
            reach = _reach(pos, P, S)
            waits = active & (reach != pos)
            keys += [reach, waits]
            keep = waits[P] & waits[S] & (reach[P] == reach[S])
            if not keep.any():
                break
            P, S, active = P[keep], S[keep], waits
        return nodes[np.lexsort([pos[nodes]] + [k[nodes] for k in reversed(keys)])]

def _reach(pos: np.ndarray, P: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Per node, the largest ``pos`` over it and every node before it along the links ``P -> S``."""
    reach = pos.copy()
    for _ in range(32):  # each round carries a larger value one link further
        late = reach[P] > reach[S]
        if not late.any():
            return reach
        np.maximum.at(reach, S[late], reach[P[late]])
    # A long chain of such links: settle it in topological order of the links' own graph.
    succ: dict[int, list[int]] = {}
    waiting: dict[int, int] = {}
    for p, q in zip(P.tolist(), S.tolist()):
        succ.setdefault(p, []).append(q)
        waiting[q] = waiting.get(q, 0) + 1
    values = reach.tolist()
    ready = [v for v in succ if v not in waiting]
    for v in ready:  # the list grows as it is walked
        for q in succ.get(v, ()):
            if values[v] > values[q]:
                values[q] = values[v]
            waiting[q] -= 1
            if not waiting[q]:
                ready.append(q)
    return np.array(values, dtype=np.int64)


class _LazyDrivers:
    """Task id -> driving predecessors, worked out on first use (most callers never ask)."""

    def __init__(self, solver: _Solver, driving):
        self._solver, self._driving, self._map = solver, driving, None

    def get(self, task_id, default=()):
        if self._map is None:
            self._map = self._solver.drivers(self._driving)
            self._solver = self._driving = None
        return self._map.get(task_id, default)
