"""The cycle finder over links and the WBS: worked cases, then a property test against a reference."""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings, strategies as st

from keelplan.planning.graph import find_cycle


# ---------------------------------------------------------------- a reference written for the test

def expanded_edges(task_ids, parent_of, links):
    """The documented expansion: every task has an entry and an exit node; a leaf joins them; a summary's
    entry leads to its children's entries and its children's exits lead to its exit; a link joins the
    predecessor's exit to the successor's entry."""
    children = {}
    for child, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    edges = []
    for t in task_ids:
        if t in children:
            edges += [((t, "in"), (c, "in")) for c in children[t]]
            edges += [((c, "out"), (t, "out")) for c in children[t]]
        else:
            edges.append(((t, "in"), (t, "out")))
    edges += [((p, "out"), (s, "in")) for p, s in links]
    return edges


def is_acyclic(task_ids, parent_of, links) -> bool:
    """Kahn's algorithm: a graph is acyclic exactly when repeatedly removing sources empties it."""
    edges = expanded_edges(task_ids, parent_of, links)
    nodes = {(t, side) for t in task_ids for side in ("in", "out")}
    nodes |= {n for edge in edges for n in edge}
    indegree = dict.fromkeys(nodes, 0)
    successors = {n: [] for n in nodes}
    for a, b in edges:
        successors[a].append(b)
        indegree[b] += 1
    ready = deque(n for n, d in indegree.items() if d == 0)
    removed = 0
    while ready:
        node = ready.popleft()
        removed += 1
        for nxt in successors[node]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return removed == len(nodes)


def is_real_cycle(cycle, task_ids, parent_of, links) -> bool:
    """Whether ``cycle`` (first id repeated last) is a closed walk of the expanded graph, read one task at a
    time: each step to the next task is a link (exit -> entry), a step down to a child (entry -> entry) or up
    to a parent (exit -> exit); while on one task the walk may only cross that task's own edges (a leaf's
    entry -> exit, a self-link's exit -> entry)."""
    if len(cycle) < 2 or cycle[0] != cycle[-1] or not set(cycle) <= set(task_ids):
        return False
    summaries = {p for p in parent_of.values() if p is not None}
    link_set = set(links)

    def steps(a, b):
        found = []
        if (a, b) in link_set:
            found.append(("out", "in"))
        if parent_of.get(b) == a:
            found.append(("in", "in"))
        if parent_of.get(a) == b:
            found.append(("out", "out"))
        return found

    def stays(t, arrive):
        reach, frontier = {arrive}, [arrive]
        while frontier:
            side = frontier.pop()
            nxt = []
            if side == "in" and t not in summaries:
                nxt.append("out")
            if side == "out" and (t, t) in link_set:
                nxt.append("in")
            for n in nxt:
                if n not in reach:
                    reach.add(n)
                    frontier.append(n)
        return reach

    ring = cycle[:-1]
    for start in ("in", "out"):
        states = {start}
        for i, a in enumerate(ring):
            b = ring[(i + 1) % len(ring)]
            states = {arrive for s in states for depart, arrive in steps(a, b) if depart in stays(a, s)}
        if start in states:
            return True
    return False


# ---------------------------------------------------------------- worked cases

def test_empty_and_linkless_graphs_are_acyclic():
    assert find_cycle([], {}, []) is None
    assert find_cycle([1, 2, 3], {}, []) is None


def test_a_chain_is_acyclic():
    assert find_cycle([1, 2, 3, 4], {}, [(1, 2), (2, 3), (3, 4), (1, 4)]) is None


def test_a_loop_is_reported_from_its_smallest_id():
    assert find_cycle([5, 7, 9], {}, [(9, 5), (7, 9), (5, 7)]) == [5, 7, 9, 5]


def test_two_tasks_linked_both_ways():
    assert find_cycle([3, 8], {}, [(8, 3), (3, 8)]) == [3, 8, 3]


def test_a_task_linked_to_itself():
    assert find_cycle([4, 6], {}, [(6, 6)]) == [6, 6]


def test_the_reported_cycle_skips_tasks_off_the_loop():
    cycle = find_cycle([1, 2, 3, 4, 5], {}, [(1, 2), (2, 3), (3, 4), (4, 2), (4, 5)])
    assert cycle == [2, 3, 4, 2]


def test_summary_linked_to_its_own_child_either_way():
    assert find_cycle([1, 2], {2: 1}, [(1, 2)]) == [1, 2, 1]
    assert find_cycle([1, 2], {2: 1}, [(2, 1)]) == [1, 2, 1]


def test_summary_linked_to_a_grandchild():
    cycle = find_cycle([1, 2, 3], {2: 1, 3: 2}, [(3, 1)])
    assert cycle is not None and is_real_cycle(cycle, [1, 2, 3], {2: 1, 3: 2}, [(3, 1)])
    assert set(cycle) == {1, 2, 3}


def test_links_between_siblings_under_one_summary_are_fine():
    assert find_cycle([1, 2, 3], {2: 1, 3: 1}, [(2, 3)]) is None


def test_summary_linked_to_unrelated_tasks_is_fine():
    assert find_cycle([1, 2, 3, 4], {2: 1}, [(4, 1), (1, 3), (2, 3)]) is None


def test_crossing_links_between_two_summaries_loop():
    # Phase A (1) precedes phase B (3), so all of A's work precedes all of B's; a link from B's child (4)
    # back to A's child (2) contradicts that.
    parent_of = {2: 1, 4: 3}
    links = [(1, 3), (4, 2)]
    cycle = find_cycle([1, 2, 3, 4], parent_of, links)
    assert cycle is not None
    assert is_real_cycle(cycle, [1, 2, 3, 4], parent_of, links)
    assert set(cycle) == {1, 2, 3, 4}


def test_a_summary_following_its_child_via_a_sibling_loops():
    # 2 and 3 are children of 1; 2 -> 4 -> 1 means the phase waits for one of its own children's successors.
    parent_of = {2: 1, 3: 1}
    links = [(2, 4), (4, 1)]
    cycle = find_cycle([1, 2, 3, 4], parent_of, links)
    assert cycle is not None and is_real_cycle(cycle, [1, 2, 3, 4], parent_of, links)


def test_links_into_a_nested_summary_from_outside_are_fine():
    assert find_cycle([1, 2, 3, 4], {2: 1, 3: 2}, [(4, 2), (4, 3), (4, 1)]) is None


def test_a_link_out_of_a_nested_child_back_into_its_phase_loops():
    parent_of, links = {2: 1, 3: 2}, [(3, 4), (4, 2)]
    cycle = find_cycle([1, 2, 3, 4], parent_of, links)
    assert cycle is not None and is_real_cycle(cycle, [1, 2, 3, 4], parent_of, links)


def test_the_reference_agrees_on_the_worked_cases():
    assert not is_acyclic([1, 2], {2: 1}, [(1, 2)])
    assert is_acyclic([1, 2, 3], {2: 1, 3: 1}, [(2, 3)])
    assert not is_real_cycle([1, 2, 1], [1, 2], {2: 1}, [])  # up and down alone never close a loop


# ---------------------------------------------------------------- the property

@st.composite
def project_graphs(draw):
    """A forest of tasks with random (not ordered) ids and arbitrary links between them, self-links included."""
    ids = draw(st.lists(st.integers(1, 60), min_size=1, max_size=9, unique=True))
    parent_of = {}
    for i, task in enumerate(ids):
        parent_of[task] = draw(st.one_of(st.none(), st.sampled_from(ids[:i]))) if i else None
    pair = st.tuples(st.sampled_from(ids), st.sampled_from(ids))
    links = draw(st.lists(pair, max_size=12))
    return ids, parent_of, links


@settings(max_examples=200, deadline=None, database=None)
@given(project_graphs())
def test_find_cycle_matches_the_reference(graph):
    task_ids, parent_of, links = graph
    cycle = find_cycle(task_ids, parent_of, links)
    assert (cycle is None) == is_acyclic(task_ids, parent_of, links)
    if cycle is not None:
        assert is_real_cycle(cycle, task_ids, parent_of, links), cycle
        assert cycle[0] == min(cycle)
