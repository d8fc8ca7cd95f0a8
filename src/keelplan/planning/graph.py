"""Cycle detection on a project's scheduling graph, summaries included.

A link to or from a summary applies to all of its children, so each summary is split into an entry node
(links into it, then down to each child) and an exit node (each child, then the links out of it). A cycle
in that graph is a cycle the scheduler could not resolve, such as a summary linked to its own child.
"""

from __future__ import annotations

from collections.abc import Iterable


def find_cycle(
    task_ids: Iterable[int], parent_of: dict[int, int | None], links: Iterable[tuple[int, int]]
) -> list[int] | None:
    """The task ids on a cycle (first repeated last), or None if the graph is acyclic.

    >>> find_cycle([1, 2, 3], {}, [(1, 2), (2, 3)]) is None
    True
    >>> find_cycle([1, 2, 3], {}, [(1, 2), (2, 3), (3, 1)])
    [1, 2, 3, 1]
    >>> find_cycle([1, 2], {2: 1}, [(1, 2)])  # a summary linked to its own child
    [1, 2, 1]
    """
    task_ids = list(task_ids)
    # Node 2*t is t's entry, 2*t+1 its exit. For a leaf the two are joined by an internal edge.
    adjacency: dict[int, list[int]] = {}
    children: dict[int, list[int]] = {}
    for tid, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(tid)
    for tid in task_ids:
        kids = children.get(tid)
        if kids:
            adjacency.setdefault(2 * tid, []).extend(2 * k for k in kids)
            for k in kids:
                adjacency.setdefault(2 * k + 1, []).append(2 * tid + 1)
        else:
            adjacency.setdefault(2 * tid, []).append(2 * tid + 1)
    for pred, succ in links:
        adjacency.setdefault(2 * pred + 1, []).append(2 * succ)

    WHITE, GREY, BLACK = 0, 1, 2
    colour: dict[int, int] = {}
    for start in sorted(adjacency):
        if colour.get(start, WHITE) != WHITE:
            continue
        stack = [(start, iter(adjacency.get(start, ())))]
        path = [start]
        colour[start] = GREY
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                colour[node] = BLACK
                continue
            state = colour.get(nxt, WHITE)
            if state == GREY:
                cycle_nodes = path[path.index(nxt):] + [nxt]
                tasks: list[int] = []
                for n in cycle_nodes:
                    t = n // 2
                    if not tasks or tasks[-1] != t:
                        tasks.append(t)
                if len(tasks) == 1:  # a leaf linked to itself: its entry, exit and entry again
                    return [tasks[0], tasks[0]]
                if tasks[0] != tasks[-1]:
                    tasks.append(tasks[0])
                return _rotate_to_smallest(tasks)
            if state == WHITE:
                colour[nxt] = GREY
                path.append(nxt)
                stack.append((nxt, iter(adjacency.get(nxt, ()))))
    return None


def _rotate_to_smallest(cycle: list[int]) -> list[int]:
    ring = cycle[:-1]
    i = ring.index(min(ring))
    ring = ring[i:] + ring[:i]
    return ring + [ring[0]]
