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

import numpy as np

from keelplan.engine.calendars import MAX_DAY, MIN_DAY, CalendarTable, SpanOverflow, day_number
from keelplan.engine.errors import CyclicDependencyError, DateRangeError
from keelplan.engine.inputs import ConstraintType, LagUnit, LinkType, ProjectInput
from keelplan.engine.results import ScheduleResult

FS, SS, FF, SF = 0, 1, 2, 3
_TYPE_CODE = {LinkType.FS: FS, LinkType.SS: SS, LinkType.FF: FF, LinkType.SF: SF}
_UNIT_CODE = {LagUnit.WORKING_DAYS: 0, LagUnit.ELAPSED_DAYS: 1, LagUnit.PERCENT: 2}
INF = 2**62
NEG = -(2**62)


class _Network:
    """The task graph as flat arrays: one node per leaf task, plus zero-length hub nodes that stand in for a
    summary's links (a hub gathers the links into or out of a summary and fans them out to its leaves)."""

    def __init__(self, project: ProjectInput):
        tasks = project.tasks
        count = len(tasks)
        index = project._index
        parent = [-1 if t.parent is None else index[t.parent] for t in tasks]
        parent_a = np.array(parent, dtype=np.int64)
        summary_a = np.zeros(count, dtype=bool)
        summary_a[parent_a[parent_a >= 0]] = True
        if summary_a.any():
            _check_parent_cycles(project, parent)
        leaves_a = np.flatnonzero(~summary_a)
        node_a = np.full(count, -1, dtype=np.int64)
        node_a[leaves_a] = np.arange(leaves_a.size)
        self.parent = parent
        self.is_summary = summary_a
        leaves = leaves_a.tolist()
        self.leaves = leaves
        self.node_of_task = node_a.tolist()
        self.n_leaves = len(leaves)
        owner = list(leaves)
        hubs: dict = {}

        def hub(summary: int, kind: int) -> int:
            key = (summary, kind)
            node = hubs.get(key)
            if node is None:
                node = hubs[key] = len(owner)
                owner.append(summary)
            return node

        links = project.links
        # The link columns were gathered when the input was validated; here they become arrays.
        pred_list, succ_list, kind_list, lag_list, unit_list = project._link_columns
        count_links = len(links)
        preds = np.fromiter(pred_list, dtype=np.int64, count=count_links)
        succs = np.fromiter(succ_list, dtype=np.int64, count=count_links)
        kinds_a = np.fromiter(map(_TYPE_CODE.__getitem__, kind_list), dtype=np.int64, count=count_links)
        lags_a = np.fromiter(lag_list, dtype=np.int64, count=count_links)
        unit_codes = np.fromiter(map(_UNIT_CODE.__getitem__, unit_list), dtype=np.int64, count=count_links)
        pct = unit_codes == 2
        if pct.any():
            durations = np.array([t.duration for t in tasks], dtype=np.int64)
            amount = np.floor(durations[preds[pct]] * np.abs(lags_a[pct]) / 100 + 0.5).astype(np.int64)
            lags_a[pct] = np.where(lags_a[pct] >= 0, amount, -amount)
        # A working-day lag moves a *finish* bound by whole days too: the lag functions end a lead at the start of
        # a day and a lag at the end of one, which for a finish bound loses a day (FF -1 acted like FF 0 and
        # SF +1 like SF 0). One more day in those two cases makes them agree with elapsed lags on a 7-day week.
        shift = (unit_codes != 1) & (((kinds_a == FF) & (lags_a < 0)) | ((kinds_a == SF) & (lags_a > 0)))
        if shift.any():
            lags_a[shift] += np.sign(lags_a[shift])
        P_a, S_a = node_a[preds], node_a[succs]
        if summary_a.any() and preds.size:
            for k in np.flatnonzero(summary_a[preds] | summary_a[succs]).tolist():
                p, s, code = int(preds[k]), int(succs[k]), int(kinds_a[k])
                # Hub kinds: 0 = into a summary's starts, 1 = into its finishes, 2 = out of starts, 3 = out of finishes.
                if summary_a[p]:
                    P_a[k] = hub(p, 2 if code in (SS, SF) else 3)
                if summary_a[s]:
                    S_a[k] = hub(s, 0 if code in (FS, SS) else 1)
        self.link_count = len(links)
        self.hubs = hubs
        self._leaf_cache: dict = {}
        children: dict[int, list[int]] = {}
        if hubs:
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
        self.n = len(owner)
        self.owner = owner
        extra = len(extra_p)
        self.P = np.concatenate([P_a, np.array(extra_p, dtype=np.int64)]) if extra else P_a
        self.S = np.concatenate([S_a, np.array(extra_s, dtype=np.int64)]) if extra else S_a
        self.T = np.concatenate([kinds_a, np.array(extra_t, dtype=np.int64)]) if extra else kinds_a
        self.LAG = np.concatenate([lags_a, np.zeros(extra, dtype=np.int64)]) if extra else lags_a
        self.ELAPSED = np.concatenate([unit_codes == 1, np.zeros(extra, dtype=bool)]) if extra else unit_codes == 1
        # Per node, its outgoing links as (successor, pred-finish?, succ-finish?, lag, elapsed?) tuples.
        order = np.argsort(self.P, kind="stable")
        t_sorted = self.T[order]
        pred_finish = (t_sorted == FS) | (t_sorted == FF)   # the predecessor's finish is the reference
        succ_finish = (t_sorted == FF) | (t_sorted == SF)   # the successor's finish is constrained
        rows = list(zip(self.S[order].tolist(), pred_finish.tolist(), succ_finish.tolist(), self.LAG[order].tolist(),
                        self.ELAPSED[order].tolist()))
        ptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.P, minlength=self.n), out=ptr[1:])
        bounds = ptr.tolist()
        self.out = [rows[a:b] for a, b in zip(bounds, bounds[1:])]
        self.indegree = np.bincount(self.S, minlength=self.n).tolist()

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
                        out.append(self.node_of_task[ch])
            cached = self._leaf_cache[summary] = sorted(out)
        return cached

    def find_cycle(self, project: ProjectInput, done: list[bool]) -> list:
        """Task ids on a cycle among the nodes the topological sort could not reach."""
        adjacency: dict[int, list[int]] = {}
        for p, s in zip(self.P.tolist(), self.S.tolist()):
            if not done[p] and not done[s]:
                adjacency.setdefault(p, []).append(s)
        node = min(adjacency)
        seen_at: dict[int, int] = {}
        path = []
        while node not in seen_at:  # every unreached node has an unreached predecessor, so walking forward loops
            seen_at[node] = len(path)
            path.append(node)
            node = min(adjacency[node])
        ids: list = []
        for nd in path[seen_at[node]:] + [node]:
            tid = project.tasks[self.owner[nd]].id
            if not ids or ids[-1] != tid:
                ids.append(tid)
        if len(ids) > 1 and ids[0] != ids[-1]:
            ids.append(ids[0])
        return ids


def _check_parent_cycles(project: ProjectInput, parent: list[int]) -> None:
    # Pointer jumping: after k rounds every task points 2**k steps up its chain; only tasks on or under a
    # loop still have an ancestor after enough rounds. Only then is the loop looked for, one task at a time.
    up = np.array(parent, dtype=np.int64)
    for _ in range(max(1, len(parent)).bit_length() + 1):
        up = np.where(up >= 0, up[np.maximum(up, 0)], -1)
    if (up < 0).all():
        return
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
    unusual = [i for i, t in enumerate(project.tasks)
               if t.constraint_date is not None or t.deadline is not None or t.manual_start is not None
               or t.actual_start is not None or t.percent_complete or t.constraint is ConstraintType.ALAP]
    anchors = [day_number(project.start)]
    anchors += [day_number(v) for i in unusual for t in (project.tasks[i],)
                for v in (t.constraint_date, t.deadline, t.manual_start, t.manual_finish, t.actual_start,
                          t.actual_finish) if v is not None]
    if project.status_date is not None:
        anchors.append(day_number(project.status_date))
    lo, hi = min(anchors), max(anchors)
    # Enough days for every task and lag end to end on a one-day-a-week calendar, across any holidays.
    closed = sum((e.end - e.start).days + 1 for c in project.calendars for e in c.exceptions if not e.working)
    work = sum(t.duration for t in project.tasks) + int(np.abs(network.LAG).sum())
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
    """One run of the passes over one span of calendar tables."""

    def __init__(self, project: ProjectInput, net: _Network, table: CalendarTable, unusual: list[int]):
        self.p = project
        self.net = net
        self.tab = table
        n = net.n
        tasks = project.tasks
        cal_index = {c.id: i for i, c in enumerate(project.calendars)}
        default_cal = cal_index[project.calendar]
        cal = [table.every_day] * n
        dur = [0] * n
        cal[: net.n_leaves] = [default_cal if t.calendar is None else cal_index[t.calendar]
                               for t in (tasks[i] for i in net.leaves)]
        dur[: net.n_leaves] = [tasks[i].duration for i in net.leaves]
        self.cal = cal
        self.dur = dur
        self.rank_lists, self.work_lists = table.lists()
        self.start_t = 2 * table.rel(project.start)
        self.status_t = 2 * table.rel(project.status_date) if project.status_date is not None else None
        # Per node, only where it differs from the plain case: see _load_rules.
        self.special: dict[int, dict] = {}
        self.floor = [self.start_t] * n
        self.cap_lf = [INF] * n
        self.complete = [False] * n
        self.alap: list[int] = []
        self._load_rules(unusual)

    # ------------------------------------------------------------ scalar calendar helpers (own calendar)

    def _start_at_or_after(self, node, t):
        r, w = self.rank_lists[self.cal[node]], self.work_lists[self.cal[node]]
        return w[r[(t + 1) >> 1]]

    def _finish_from_start(self, node, x, d):
        r, w = self.rank_lists[self.cal[node]], self.work_lists[self.cal[node]]
        return w[r[x] + d - 1]

    def _start_from_finish(self, node, f, d):
        r, w = self.rank_lists[self.cal[node]], self.work_lists[self.cal[node]]
        j = r[f] - d + 1
        if j < 0:
            raise SpanOverflow
        return w[j]

    def _finish_at_or_before(self, node, t):
        r, w = self.rank_lists[self.cal[node]], self.work_lists[self.cal[node]]
        j = r[(t + 1) >> 1] - 1
        if j < 0:
            raise SpanOverflow
        return w[j]

    def _finish_at_or_after(self, node, t):
        r, w = self.rank_lists[self.cal[node]], self.work_lists[self.cal[node]]
        return w[r[t >> 1]]

    def _start_at_or_before(self, node, t):
        r, w = self.rank_lists[self.cal[node]], self.work_lists[self.cal[node]]
        j = r[(t >> 1) + 1] - 1
        if j < 0:
            raise SpanOverflow
        return w[j]

    def _snap_forward(self, node, t):
        r, w = self.rank_lists[self.cal[node]], self.work_lists[self.cal[node]]
        x = t >> 1
        if r[x + 1] - r[x]:
            return t
        return 2 * w[r[x + (t & 1)]]

    def _snap_back(self, node, t):
        r, w = self.rank_lists[self.cal[node]], self.work_lists[self.cal[node]]
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
            r = self.rank_lists[self.cal[node]]
            j = r[self._finish_at_or_after(node, finish_bound)] - d + 1
            if j >= 0:
                x = max(x, self.work_lists[self.cal[node]][j])
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
        if status_t is not None:
            for node, i in enumerate(self.net.leaves):
                if tasks[i].actual_start is None:
                    self.floor[node] = max(self.floor[node], status_t)
        node_of_task = self.net.node_of_task
        for i in unusual:
            node = node_of_task[i]
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
                self.complete[node] = True
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
        n = net.n
        es, ef, drive = [0] * n, [0] * n, [0] * n
        order = self._forward(es, ef, drive)
        self._order_cache = order
        leaf_n = net.n_leaves
        finish_t = max(ef[:leaf_n]) if leaf_n else self.start_t
        ls, lf = [0] * n, [0] * n
        self._backward(order, es, ef, ls, lf, finish_t)
        if self.alap:
            self._shift_alap(order, es, ef, drive, ls, lf, finish_t)
        return self._results(order, es, ef, ls, lf, drive, finish_t)

    def _forward(self, es, ef, drive) -> list[int]:
        net = self.net
        rank_lists, work_lists = self.rank_lists, self.work_lists
        cal, dur, special = self.cal, self.dur, self.special
        out = net.out
        indeg = list(net.indegree)
        cand_s = list(self.floor)
        cand_f = [NEG] * net.n
        stack = [i for i in range(net.n - 1, -1, -1) if indeg[i] == 0]
        order = []
        push = order.append
        while stack:
            i = stack.pop()
            push(i)
            d = dur[i]
            if i in special:
                s_t, f_t, dr = self._forward_special(i, cand_s[i], cand_f[i])
            elif d:
                r, w = rank_lists[cal[i]], work_lists[cal[i]]
                x = w[r[(cand_s[i] + 1) >> 1]]
                cf = cand_f[i]
                if cf > NEG:
                    j = r[w[r[cf >> 1]]] - d + 1
                    if j >= 0 and w[j] > x:
                        x = w[j]
                s_t = dr = 2 * x
                f_t = 2 * w[r[x] + d - 1] + 1
            else:
                s_t = f_t = dr = self._snap_forward(i, max(cand_s[i], cand_f[i]))
            es[i], ef[i], drive[i] = s_t, f_t, dr
            for s, pf, sf, lag, el in out[i]:
                u = f_t if pf else s_t
                if lag:
                    if el:
                        u += 2 * lag
                    else:
                        c = cal[s]
                        r = rank_lists[c]
                        if lag > 0:
                            u = 2 * work_lists[c][r[(u + 1) >> 1] + lag - 1] + 1
                        else:
                            j = r[(u + 1) >> 1] + lag
                            u = 2 * work_lists[c][j] if j >= 0 else NEG
                if sf:
                    if u > cand_f[s]:
                        cand_f[s] = u
                elif u > cand_s[s]:
                    cand_s[s] = u
                indeg[s] -= 1
                if not indeg[s]:
                    stack.append(s)
        if len(order) < net.n:
            done = [False] * net.n
            for i in order:
                done[i] = True
            raise CyclicDependencyError(net.find_cycle(self.p, done))
        return order

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

    def _backward(self, order, es, ef, ls, lf, finish_t):
        net = self.net
        rank_lists, work_lists = self.rank_lists, self.work_lists
        cal, dur, special = self.cal, self.dur, self.special
        out = net.out
        cap_lf = self.cap_lf
        for i in reversed(order):
            bf = cap_lf[i] if cap_lf[i] < finish_t else finish_t
            bs = INF
            for s, pf, sf, lag, el in out[i]:
                v = lf[s] if sf else ls[s]
                if lag:
                    if el:
                        v -= 2 * lag
                    else:
                        c = cal[s]
                        r = rank_lists[c]
                        if lag > 0:
                            j = r[(v + 1) >> 1] - lag
                            if j < 0:
                                raise SpanOverflow
                            v = 2 * work_lists[c][j]
                        else:
                            j = r[(v >> 1) + 1] - 1 - lag
                            w = work_lists[c]
                            v = 2 * w[j] if j < len(w) else INF
                if pf:
                    if v < bf:
                        bf = v
                elif v < bs:
                    bs = v
            d = dur[i]
            if i in special:
                ls[i], lf[i] = self._backward_special(i, bf, bs, es, ef)
            elif d:
                r, w = rank_lists[cal[i]], work_lists[cal[i]]
                j = r[(bf + 1) >> 1] - 1
                if j < 0:
                    raise SpanOverflow
                f = w[j]
                if bs < INF:
                    j = r[(bs >> 1) + 1] - 1
                    if j < 0:
                        raise SpanOverflow
                    f2 = w[r[w[j]] + d - 1]
                    if f2 < f:
                        f = f2
                j = r[f] - d + 1
                if j < 0:
                    raise SpanOverflow
                ls[i] = 2 * w[j]
                lf[i] = 2 * f + 1
            else:
                ls[i] = lf[i] = self._snap_back(i, min(bf, bs))

    def _backward_special(self, i, bf, bs, es, ef):
        rule = self.special[i]
        if rule.get("pin"):
            return es[i], ef[i]
        d = rule.get("remaining", self.dur[i])
        s_t, f_t = self._place_late(i, d, bf, bs)
        if rule.get("manual"):  # a manual task keeps its own span; only its position floats
            return es[i] + (f_t - ef[i]), f_t
        return s_t, f_t

    def _shift_alap(self, order, es, ef, drive, ls, lf, finish_t):
        """Move ALAP tasks as late as their successors' early dates allow, successors first."""
        position = {node: k for k, node in enumerate(order)}
        for i in sorted(self.alap, key=position.__getitem__, reverse=True):
            bf, bs = self._bounds_from_successors(i, drive, ef)
            bf = min(bf, lf[i], finish_t)
            s_t, f_t = self._place_late(i, self.dur[i], bf, bs)
            if s_t > es[i]:
                es[i], ef[i], drive[i] = s_t, f_t, s_t

    def _bounds_from_successors(self, i, start_ref, finish_ref):
        """Latest finish and start instants of node ``i`` that keep each successor at ``start_ref`` /
        ``finish_ref`` (the backward pass's link rule, for one node)."""
        bf = bs = INF
        for s, pf, sf, lag, el in self.net.out[i]:
            v = finish_ref[s] if sf else start_ref[s]
            if lag:
                if el:
                    v -= 2 * lag
                else:
                    r, w = self.rank_lists[self.cal[s]], self.work_lists[self.cal[s]]
                    j = r[(v + 1) >> 1] - lag if lag > 0 else r[(v >> 1) + 1] - 1 - lag
                    if j < 0:
                        raise SpanOverflow
                    v = 2 * w[j] if j < len(w) else INF
            if pf:
                bf = min(bf, v)
            else:
                bs = min(bs, v)
        return bf, bs

    # ------------------------------------------------------------ floats, summaries, output

    def _results(self, order, es, ef, ls, lf, drive, finish_t) -> ScheduleResult:
        net, tab = self.net, self.tab
        n = net.n
        cal = np.array(self.cal, dtype=np.int64)
        es_a, ef_a, ls_a, lf_a, drive_a = (np.fromiter(v, dtype=np.int64, count=n) for v in (es, ef, ls, lf, drive))
        complete = np.array(self.complete, dtype=bool)
        total = tab.completed(cal, lf_a) - tab.completed(cal, ef_a)
        P, S = net.P, net.S
        if P.size:
            # Driving: the link's requirement meets the successor's date (in the successor's calendar).
            cs = cal[S]
            pred_finish = (net.T == FS) | (net.T == FF)
            succ_finish = (net.T == FF) | (net.T == SF)
            u = tab.lag_forward(cs, np.where(pred_finish, ef_a[P], es_a[P]), net.LAG, net.ELAPSED)
            target = np.where(succ_finish, ef_a[S], drive_a[S])
            # A finish bound at instant u allows the first working day whose end is at or after u, so compare the
            # working days before the finish day with those before the bound's day (u even or odd alike).
            target = np.where(succ_finish, target - 1, target)
            u = np.where(succ_finish, u - 1, u)
            driving = tab.completed(cs, target) - tab.completed(cs, u) <= 0
            slack = self._free_slack(cal, es_a, ef_a, drive_a, finish_t, pred_finish, succ_finish)
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

    def _free_slack(self, cal, es_a, ef_a, drive_a, finish_t, pred_finish, succ_finish):
        """Per link, how many working days (predecessor's calendar) the predecessor can slip before the link
        moves its successor's early dates; through a summary's hub, up to what the hub's own links allow."""
        net, tab = self.net, self.tab
        n_leaves = net.n_leaves
        P, S = net.P, net.S
        start_ref = drive_a.copy()
        finish_ref = ef_a.copy()
        hub_nodes = [h for h in range(n_leaves, net.n)]
        if hub_nodes:
            # A hub's latest instant that keeps its successors' early dates, computed successors first.
            position = np.empty(net.n, dtype=np.int64)
            position[np.array(self._order_cache, dtype=np.int64)] = np.arange(net.n)
            for h in sorted(hub_nodes, key=lambda x: -position[x]):
                bf, bs = self._bounds_from_successors(h, start_ref, finish_ref)
                late = min(bf, bs, finish_t)
                start_ref[h] = finish_ref[h] = max(late, ef_a[h])
        cs = cal[S]
        ref = np.where(succ_finish, finish_ref[S], start_ref[S])
        bound = tab.lag_backward(cs, ref, net.LAG, net.ELAPSED)
        cp = cal[P]
        own = np.where(pred_finish, ef_a[P], es_a[P])
        if bound.size and bound.min() < 0:
            raise SpanOverflow
        latest = tab.completed(cp, bound)
        # A task with work starts only at the start of one of its working days: when the bound on its start is
        # the end of a day, or a day it does not work (an elapsed lag landing on a weekend), the latest start
        # it can take is the last working day starting at or before the bound, one fewer than completed() counts.
        dur = np.array(self.dur, dtype=np.int64)
        starts = ~pred_finish & (dur[P] > 0)
        if starts.any():
            latest[starts] = tab._rank_clipped(cp[starts], bound[starts] // 2 + 1) - 1
        return latest - tab.completed(cp, own)

    def _assemble(self, es_a, ef_a, ls_a, lf_a, total, free, critical, driving, finish_t) -> ScheduleResult:
        net, tasks, tab = self.net, self.p.tasks, self.tab
        count = len(tasks)
        leaf_nodes = np.array(net.node_of_task, dtype=np.int64)
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
            project_start=self.p.start, project_finish=tab.date(finish_t // 2), ids=[t.id for t in tasks],
            columns=cols, is_summary=np.array(net.is_summary, dtype=bool), drivers=drivers,
            critical_path=tuple(path), index=self.p._index,
        ) if count else ScheduleResult.empty(self.p.start)

    def _roll_up(self, cols, is_leaf):
        """Summary dates and floats from their children, deepest summaries first."""
        parent = np.array(self.net.parent, dtype=np.int64)
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
