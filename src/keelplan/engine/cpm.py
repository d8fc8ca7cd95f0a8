"""The critical-path method: a forward and a backward pass over the whole network.

How a schedule is computed (day granularity, like MS Project with whole-day durations):

* **Dates are inclusive working days.** A 3-day task starting Monday finishes Wednesday. A milestone
  (duration 0) sits on one day: the finish day of what drives it, or the project start.
* **Links.** FS lag 0 starts the successor on the next working day after the predecessor finishes; SS lag 0 on
  the same day it starts; FF lag 0 finishes it no earlier than the predecessor's finish day; SF lag 0 finishes it
  no earlier than the predecessor's start day. Lags count working days of the *successor's* calendar (or every
  day when elapsed, or a percentage of the predecessor's duration); a negative lag is a lead.
* **Summaries.** A task with children takes no part in the passes: a link to or from it acts as the same link
  to or from every task under it, and its dates are rolled up (earliest start, latest finish). Its own
  duration, constraint and progress are ignored.
* **Constraints**, applied after logic in the forward pass and before it in the backward pass:
  SNET and FNET raise the early dates; SNLT and FNLT cap them (the constraint wins over logic) and cap the late
  dates; MSO and MFO pin both; ALAP moves a task as late as its successors' early dates allow. A deadline caps
  the late finish only. Late dates capped below the early ones give negative total float.
* **Progress.** A task with an actual finish sits on its actual dates. A started task keeps its actual start and
  schedules its remaining work (duration x (1 - percent complete), rounded up) from the status date or the end
  of its done part, whichever is later, and no earlier than its predecessors allow. Work not started is not
  scheduled before the status date.
* **Floats** are in working days of the task's own calendar: total float = late finish - early finish; free
  float is how far the task can slip before it moves any successor's early dates (or the project finish, for a
  task with no successor), never more than its total float. A task is critical when its total float is zero or
  less and it is not finished.
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
>>> r.critical_path
('A', 'B')

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
"""

from __future__ import annotations

import gc
import math
from collections.abc import Sequence
from operator import attrgetter

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
        dur[: self.n_leaves] = task_cols.duration[leaves_a]
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
    # The passes allocate hundreds of thousands of small lists and tuples and free none of them in cycles;
    # pausing the cyclic collector for the call saves it scanning them over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _schedule(project)
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
        self.alap: list[int] = []
        self._load_rules(unusual)

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
            # Work not started waits for the status date; only tasks that are not plain can have started.
            self.floor[: self.net.n_leaves] = [status_t] * self.net.n_leaves
            for i in unusual:
                if tasks[i].actual_start is not None and node_of_task[i] >= 0:
                    self.floor[int(node_of_task[i])] = self.start_t
        for i in unusual:
            node = int(node_of_task[i])
            if node < 0:  # a summary: its own rules do not apply
                continue
            t = tasks[i]
            d = t.duration
            rule: dict = {}
            if t.actual_start is not None and (t.actual_finish is not None or t.percent_complete >= 100 or d == 0):
                a = 2 * rel(t.actual_start)
                if t.actual_finish is not None:
                    f = 2 * rel(t.actual_finish) + 1
                elif d == 0:
                    f = a + 1
                else:
                    f = self._place(node, d, a)[1]
                rule["fixed"] = (f if d == 0 else a, f)
                rule["pin"] = True
                self.complete.append(node)
                self.special[node] = rule
                continue
            if t.actual_start is not None:
                left = max(1, math.ceil(d * (100 - t.percent_complete) / 100 - 1e-9))
                a = 2 * rel(t.actual_start)
                done = d - left
                floor = a if done == 0 else self._place(node, done, a)[1]
                if status_t is not None:
                    floor = max(floor, status_t)
                rule.update(progress=a, remaining=left, rem_floor=floor)
            elif t.percent_complete > 0 and d > 0:
                rule["remaining"] = max(1, math.ceil(d * (100 - t.percent_complete) / 100 - 1e-9))
            if t.manual_start is not None and "progress" not in rule:
                rule["fixed"] = (2 * rel(t.manual_start), 2 * rel(t.manual_finish) + 1)
                rule["manual"] = True
            elif "progress" not in rule:
                ct, cd = t.constraint, t.constraint_date
                dd = rule.get("remaining", d)
                if ct is ConstraintType.MSO:
                    rule["fixed"] = self._place(node, dd, 2 * rel(cd))
                    rule["pin"] = True
                elif ct is ConstraintType.MFO:
                    rule["fixed"] = self._place_late(node, dd, 2 * rel(cd) + 1)
                    rule["pin"] = True
                elif ct is ConstraintType.SNET:
                    self.floor[node] = max(self.floor[node], 2 * rel(cd))
                elif ct is ConstraintType.FNET:
                    rule["finish_floor"] = 2 * rel(cd) + 1
                elif ct is ConstraintType.SNLT:
                    rule["cap"] = self._place_late(node, dd, INF, 2 * rel(cd) + (1 if dd == 0 else 0))
                elif ct is ConstraintType.FNLT:
                    rule["cap"] = self._place_late(node, dd, 2 * rel(cd) + 1)
                elif ct is ConstraintType.ALAP:
                    self.alap.append(node)
                if "cap" in rule:
                    self.cap_lf[node] = min(self.cap_lf[node], rule["cap"][1])
            if t.deadline is not None:
                self.cap_lf[node] = min(self.cap_lf[node], self._place_late(node, rule.get("remaining", d),
                                                                             2 * rel(t.deadline) + 1)[1])
            if rule:
                self.special[node] = rule

    # ------------------------------------------------------------ passes

    def run(self) -> ScheduleResult:
        net = self.net
        early, resumes = self._forward()
        finish_t = max(early[1: 2 * net.n_leaves: 2]) if net.n_leaves else self.start_t
        late = self._backward(early, finish_t)
        if self.alap:
            self._shift_alap(early, resumes, late, finish_t)
        return self._results(early, late, resumes, finish_t)

    def _forward(self) -> tuple[list[int], dict[int, int]]:
        """Early start and finish instants (flat, see the class), and for a started task whose remaining work
        starts later than its early start, that later start (node -> instant): its predecessors' free float is
        measured against it."""
        net = self.net
        ranks, works = self.ranks, self.works
        cal, dur, special, floor = self.cal, self.dur, self.special, self.floor
        refs, hows = net.into_ref, net.into_how
        early = [0] * (2 * net.n)
        resumes: dict[int, int] = {}
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
                s_t, f_t, resume = self._forward_special(i, cs, cf)
                if resume != s_t:
                    resumes[i] = resume
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
            else:  # a milestone or a hub: the first instant at or after both bounds that starts or ends a day
                t = cs if cs > cf else cf
                x = t >> 1
                s_t = f_t = t if r[x + 1] - r[x] else 2 * w[r[x + (t & 1)]]
            early[2 * i] = s_t
            early[2 * i + 1] = f_t
        return early, resumes

    def _forward_special(self, i, cs, cf):
        rule = self.special[i]
        d = rule.get("remaining", self.dur[i])
        if "progress" in rule:
            s_t, f_t = self._place(i, d, max(cs, rule["rem_floor"]), cf)
            return rule["progress"], f_t, s_t
        if "fixed" in rule:
            s_t, f_t = rule["fixed"]
            return s_t, f_t, s_t
        s_t, f_t = self._place(i, d, cs, max(cf, rule.get("finish_floor", NEG)))
        cap = rule.get("cap")
        if cap is not None and s_t > cap[0]:
            s_t, f_t = cap
        return s_t, f_t, s_t

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
        if rule.get("pin"):
            return early[2 * i], early[2 * i + 1]
        d = rule.get("remaining", self.dur[i])
        s_t, f_t = self._place_late(i, d, bf, bs)
        if rule.get("manual"):  # a manual task keeps its own span; only its position floats
            return early[2 * i] + (f_t - early[2 * i + 1]), f_t
        return s_t, f_t

    def _shift_alap(self, early, resumes, late, finish_t):
        """Move ALAP tasks as late as their successors' early dates allow, successors first."""
        position = self.net.visit_position
        # What a successor's link reads here: where its work starts (or resumes) and its early finish.
        ref = list(early)
        for node, resume in resumes.items():
            ref[2 * node] = resume
        links = self.net.links_from(self.alap)
        for i in sorted(self.alap, key=position.__getitem__, reverse=True):
            bf, bs = self._bounds_from_successors(links[i], ref)
            bf = min(bf, late[2 * i + 1], finish_t)
            s_t, f_t = self._place_late(i, self.dur[i], bf, bs)
            if s_t > early[2 * i]:  # (an ALAP task has no progress, so it resumes nowhere else)
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

    def _results(self, early, late, resumes, finish_t) -> ScheduleResult:
        net, tab = self.net, self.tab
        n = net.n
        cal = net.cal_a
        early_a = np.fromiter(early, dtype=np.int64, count=2 * n)
        late_a = np.fromiter(late, dtype=np.int64, count=2 * n)
        es_a, ef_a, ls_a, lf_a = early_a[0::2], early_a[1::2], late_a[0::2], late_a[1::2]
        # Where each node's work starts or resumes: what its predecessors' links are measured against.
        drive_a = es_a.copy()
        if resumes:
            drive_a[list(resumes)] = list(resumes.values())
        complete = np.zeros(n, dtype=bool)
        complete[self.complete] = True
        total = tab.completed(cal, lf_a) - tab.completed(cal, ef_a)
        P = net.P
        if P.size:
            # What a link reads of its successor: where its work starts (or resumes) and its early finish.
            reads = early_a.copy()
            reads[0::2] = drive_a
            # Driving: the link's requirement meets the successor's date (in the successor's calendar).
            cs = net.succ_cal
            u = tab.lag_forward(cs, early_a[net.pred_ref], net.LAG, net.ELAPSED)
            # A finish bound at instant u allows the first working day whose end is at or after u, so compare the
            # working days before the finish day with those before the bound's day (u even or odd alike).
            target = reads[net.succ_ref] - net.succ_finish
            u -= net.succ_finish
            driving = tab.completed(cs, target) - tab.completed(cs, u) <= 0
            slack = self._free_slack(early_a, reads, finish_t)
        else:
            driving = np.zeros(0, dtype=bool)
            slack = np.zeros(0, dtype=np.int64)
        free = np.full(n, INF, dtype=np.int64)
        if slack.size:
            np.minimum.at(free, P, slack)
        lonely = free == INF
        free[lonely] = (tab.completed(cal, np.full(n, finish_t, dtype=np.int64)) - tab.completed(cal, ef_a))[lonely]
        free = np.minimum(free, total)
        critical = (total <= 0) & ~complete
        return self._assemble(es_a, ef_a, ls_a, lf_a, total, free, critical, driving, finish_t)

    def _free_slack(self, early_a, reads, finish_t):
        """Per link, how many working days (predecessor's calendar) the predecessor can slip before the link
        moves its successor's early dates; through a summary's hub, up to what the hub's own links allow.
        ``reads``: the successor instants a link reads (flat, see the class)."""
        net, tab = self.net, self.tab
        ref_a = reads
        if net.hubs:
            ref_a = reads.copy()
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
        return latest - tab.completed(cp, own)

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
        path = self._critical_path(ef_a, critical, driving, finish_t)
        return ScheduleResult(
            project_start=self.p.start, project_finish=tab.date(finish_t // 2), ids=list(map(_task_id, tasks)),
            columns=cols, is_summary=np.array(net.is_summary, dtype=bool), drivers=drivers,
            critical_path=tuple(path), index=self.p._index,
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

    def _critical_path(self, ef_a, critical, driving, finish_t) -> list:
        """One unbroken chain of critical tasks through driving links, from a start to the project finish."""
        net, tasks = self.net, self.p.tasks
        n_leaves = net.n_leaves
        ends = np.flatnonzero(critical[:n_leaves] & (ef_a[:n_leaves] == finish_t))
        if not ends.size:
            return []
        on_path = critical | (np.arange(critical.size) >= n_leaves)
        useful = np.flatnonzero(driving & on_path[net.P] & on_path[net.S])
        # Driving predecessors of each node, grouped by successor (walked from the finish back to a start).
        by_succ = useful[np.argsort(net.S[useful], kind="stable")]
        succ_sorted = net.S[by_succ]
        preds_sorted = net.P[by_succ]
        node = int(ends.min())
        chain, seen = [node], {node}
        while True:
            a, b = np.searchsorted(succ_sorted, [node, node + 1])
            preds = [p for p in preds_sorted[a:b].tolist() if p not in seen]
            if not preds:
                break
            node = max(preds, key=lambda q: (int(ef_a[q]), -q))
            seen.add(node)
            chain.append(node)
        return [tasks[net.leaves[x]].id for x in reversed(chain) if x < n_leaves]



class _LazyDrivers:
    """Task id -> driving predecessors, worked out on first use (most callers never ask)."""

    def __init__(self, solver: _Solver, driving):
        self._solver, self._driving, self._map = solver, driving, None

    def get(self, task_id, default=()):
        if self._map is None:
            self._map = self._solver.drivers(self._driving)
            self._solver = self._driving = None
        return self._map.get(task_id, default)
