"""Hand-checked constraints, deadlines, milestones, summaries and progress (Monday-to-Friday calendar).

January 2026: Mon 5 .. Fri 9, Mon 12 .. Fri 16, Mon 19 .. Fri 23. The project starts Mon 5.
"""

from __future__ import annotations

import pytest

from keelplan.engine import CyclicDependencyError, Link, Task

from .helpers import D, dates, late, run

# ------------------------------------------------------------------ constraints


def test_asap_is_the_default():
    r = run([("A", 3), ("B", 2)], [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 8), D(2026, 1, 9))  # A Mon 5..Wed 7, B Thu 8..Fri 9
    assert r["B"].total_float == 0 and r["B"].is_critical


def test_alap_moves_as_late_as_successors_allow():
    # A(5) Mon 5..Fri 9 -> C(2) Mon 12..Tue 13; B(2) ALAP -> C would be Mon 5..Tue 6 ASAP,
    # ALAP it finishes Fri 9, the day before C starts: Thu 8..Fri 9.
    r = run([("A", 5), Task("B", 2, constraint="ALAP"), ("C", 2)], [("A", "C"), ("B", "C")])
    assert dates(r, "B") == (D(2026, 1, 8), D(2026, 1, 9))
    assert late(r, "B") == (D(2026, 1, 8), D(2026, 1, 9))
    assert r["B"].total_float == 0


def test_alap_keeps_each_successors_early_dates_by_link_type():
    # C(5) Mon 5..Fri 9 -> D(2) Mon 12..Tue 13 set the finish. A(2) ALAP -FS-> B(1): B starts Wed 7 after A's
    # Mon 5..Tue 6, and ALAP may not move B, so A stays. E(3) ALAP -SS-> F(2) (F after C, Mon 12..Tue 13): E may
    # start as late as F starts but must finish with the project: Fri 9, Mon 12, Tue 13.
    r = run([("C", 5), ("D", 2), Task("A", 2, constraint="ALAP"), ("B", 1), Task("E", 3, constraint="ALAP"), ("F", 2)],
            [("C", "D"), ("A", "B"), ("C", "F"), ("E", "F", "SS")])
    assert dates(r, "B") == (D(2026, 1, 7), D(2026, 1, 7))
    assert dates(r, "A") == (D(2026, 1, 5), D(2026, 1, 6))
    assert dates(r, "E") == (D(2026, 1, 9), D(2026, 1, 13))
    assert r.project_finish == D(2026, 1, 13)


def test_alap_without_successors_finishes_with_the_project():
    # A(5) Mon 5..Fri 9 sets the finish; B(2) ALAP with no successor moves to Thu 8..Fri 9.
    r = run([("A", 5), Task("B", 2, constraint="ALAP")])
    assert dates(r, "B") == (D(2026, 1, 8), D(2026, 1, 9))
    assert r.project_finish == D(2026, 1, 9)


def test_mso_later_than_logic_pins_both_passes():
    # A(3) Mon 5..Wed 7 -> B(2) MSO Wed 14: B sits Wed 14..Thu 15 early and late.
    r = run([("A", 3), Task("B", 2, constraint="MSO", constraint_date=D(2026, 1, 14))], [("A", "B")])
    assert dates(r, "B") == late(r, "B") == (D(2026, 1, 14), D(2026, 1, 15))
    assert r["B"].total_float == 0
    # A may finish as late as Tue 13: Thu 8, Fri 9, Mon 12, Tue 13 = 4 days of float.
    assert late(r, "A") == (D(2026, 1, 9), D(2026, 1, 13))
    assert r["A"].total_float == 4 and r["A"].free_float == 4


def test_mso_against_logic_keeps_the_date_and_gives_negative_float():
    # A(3) ends Wed 7 but B must start Tue 6: B stays Tue 6..Wed 7 (logic broken); A would have to finish
    # Mon 5 (the day before B), two working days before Wed 7 -> total float -2.
    r = run([("A", 3), Task("B", 2, constraint="MSO", constraint_date=D(2026, 1, 6))], [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 6), D(2026, 1, 7))
    assert r["A"].late_finish == D(2026, 1, 5)
    assert r["A"].total_float == -2 and r["A"].is_critical


def test_mfo_later_than_logic():
    # B(2) must finish Fri 16 -> Thu 15..Fri 16; A(3) can finish as late as Wed 14: float 5 (Thu 8 .. Wed 14).
    r = run([("A", 3), Task("B", 2, constraint="MFO", constraint_date=D(2026, 1, 16))], [("A", "B")])
    assert dates(r, "B") == late(r, "B") == (D(2026, 1, 15), D(2026, 1, 16))
    assert r["A"].total_float == 5


def test_mfo_against_logic_gives_negative_float():
    # B(2) MFO Wed 7 -> Tue 6..Wed 7 although A(3) ends Wed 7; A must finish Mon 5: -2.
    r = run([("A", 3), Task("B", 2, constraint="MFO", constraint_date=D(2026, 1, 7))], [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 6), D(2026, 1, 7))
    assert r["A"].total_float == -2


def test_snet_raises_early_dates_only():
    # A(3) Mon 5..Wed 7 -> B(2) SNET Mon 12: B Mon 12..Tue 13 (A can slip Thu 8, Fri 9: free float 2).
    r = run([("A", 3), Task("B", 2, constraint="SNET", constraint_date=D(2026, 1, 12))], [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 12), D(2026, 1, 13))
    assert r["A"].free_float == 2 and r["A"].total_float == 2
    assert r["B"].driving_predecessors == ()
    # An SNET earlier than logic does nothing.
    r = run([("A", 3), Task("B", 2, constraint="SNET", constraint_date=D(2026, 1, 6))], [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 8), D(2026, 1, 9))


def test_snet_on_a_weekend_moves_to_the_next_working_day():
    r = run([Task("A", 1, constraint="SNET", constraint_date=D(2026, 1, 10))])
    assert dates(r, "A") == (D(2026, 1, 12), D(2026, 1, 12))


def test_snlt_met_caps_the_late_start():
    # C(10) Mon 5..Fri 16 sets the finish. A(3) -> B(2): B Thu 8..Fri 9 early. Without a constraint B could
    # finish Fri 16 (float 5); SNLT Mon 12 caps its late start: Mon 12..Tue 13, float 2.
    tasks = [("A", 3), Task("B", 2, constraint="SNLT", constraint_date=D(2026, 1, 12)), ("C", 10)]
    r = run(tasks, [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 8), D(2026, 1, 9))
    assert late(r, "B") == (D(2026, 1, 12), D(2026, 1, 13))
    assert r["B"].total_float == 2 and r["A"].total_float == 2
    assert run([("A", 3), ("B", 2), ("C", 10)], [("A", "B")])["B"].total_float == 5


def test_snlt_missed_wins_over_logic_with_negative_float():
    # Logic says B starts Thu 8, SNLT Tue 6 holds it there: B Tue 6..Wed 7; A must finish Mon 5: -2.
    r = run([("A", 3), Task("B", 2, constraint="SNLT", constraint_date=D(2026, 1, 6))], [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 6), D(2026, 1, 7))
    assert r["A"].total_float == -2


def test_fnet_raises_the_early_finish():
    # A(1) Mon 5 -> B(2) would be Tue 6..Wed 7; FNET Fri 9 gives Thu 8..Fri 9.
    r = run([("A", 1), Task("B", 2, constraint="FNET", constraint_date=D(2026, 1, 9))], [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 8), D(2026, 1, 9))
    assert r["A"].free_float == 2


def test_fnlt_met_caps_the_late_finish():
    # C(10) to Fri 16; A(3) -> B(2) Thu 8..Fri 9; FNLT Wed 14: late finish Wed 14, float 3 (Mon 12..Wed 14).
    tasks = [("A", 3), Task("B", 2, constraint="FNLT", constraint_date=D(2026, 1, 14)), ("C", 10)]
    r = run(tasks, [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 8), D(2026, 1, 9))
    assert r["B"].late_finish == D(2026, 1, 14)
    assert r["B"].total_float == 3 and r["A"].total_float == 3


def test_fnlt_missed_holds_the_task_and_gives_negative_float():
    # A(5) Mon 5..Fri 9 -> B(5) would end Fri 16; FNLT Wed 14 holds it to Thu 8..Wed 14; A is 2 days late.
    r = run([("A", 5), Task("B", 5, constraint="FNLT", constraint_date=D(2026, 1, 14))], [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 8), D(2026, 1, 14))
    assert r["A"].total_float == -2 and r["A"].is_critical


# ------------------------------------------------------------------ deadlines


def test_deadline_lowers_float_of_a_non_critical_task_without_moving_it():
    # C(10) to Fri 16; A(3) -> B(2) Thu 8..Fri 9, float 5; a deadline Tue 13 leaves float 2 (Mon 12, Tue 13).
    tasks = [("A", 3), Task("B", 2, deadline=D(2026, 1, 13)), ("C", 10)]
    r = run(tasks, [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 8), D(2026, 1, 9))
    assert r["B"].late_finish == D(2026, 1, 13)
    assert r["B"].total_float == 2 and r["A"].total_float == 2


def test_missed_deadline_gives_negative_float_and_does_not_move_the_task():
    # B ends Fri 9; deadline Wed 7 -> float -2; dates unchanged.
    r = run([("A", 3), Task("B", 2, deadline=D(2026, 1, 7)), ("C", 10)], [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 8), D(2026, 1, 9))
    assert r["B"].total_float == -2 and r["B"].is_critical
    assert r.project_finish == D(2026, 1, 16)


def test_deadline_after_a_critical_task_leaves_it_unchanged():
    r = run([("A", 3), Task("B", 2, deadline=D(2026, 1, 20))], [("A", "B")])
    assert r["B"].total_float == 0 and r["B"].is_critical


# ------------------------------------------------------------------ milestones


def test_milestone_sits_on_the_day_after_its_predecessor_and_its_successor_starts_the_day_after():
    # A task occupies at least its start day (TruePPM): A(5) Mon 5..Fri 9 -> M(0) on Mon 12 -> B(1) on Tue 13.
    r = run([("A", 5), ("M", 0), ("B", 1)], [("A", "M"), ("M", "B")])
    assert dates(r, "M") == (D(2026, 1, 12), D(2026, 1, 12))
    assert dates(r, "B") == (D(2026, 1, 13), D(2026, 1, 13))
    assert r.critical_path == ("A", "M", "B")
    assert r["M"].total_float == 0 and r["M"].driving_predecessors == ("A",)


def test_milestone_at_the_project_start():
    # M(0) with no predecessor sits on Mon 5; an FS successor starts the next working day.
    r = run([("M", 0), ("B", 2)], [("M", "B")])
    assert dates(r, "M") == (D(2026, 1, 5), D(2026, 1, 5))
    assert dates(r, "B") == (D(2026, 1, 6), D(2026, 1, 7))


def test_milestone_at_a_weekend_project_start_moves_to_monday():
    r = run([("M", 0), ("B", 1)], [("M", "B")], start=D(2026, 1, 10))
    assert dates(r, "M") == (D(2026, 1, 12), D(2026, 1, 12))
    assert dates(r, "B") == (D(2026, 1, 13), D(2026, 1, 13))


def test_milestone_project_finish():
    # A(3) Mon 5..Wed 7 -> M on Thu 8, which is the project finish.
    r = run([("A", 3), ("M", 0)], [("A", "M")])
    assert r.project_finish == D(2026, 1, 8)
    assert r["M"].total_float == 0 and r["M"].is_critical


@pytest.mark.parametrize("kind,lag,unit,m_day,b_day", [
    # A(3) Mon 5..Wed 7 -> M -> B(1) with the same link type and lag on both links.
    ("FS", 0, "wd", D(2026, 1, 8), D(2026, 1, 9)),     # M Thu 8; B the working day after M: Fri 9
    ("SS", 0, "wd", D(2026, 1, 5), D(2026, 1, 5)),     # both start with A
    ("FF", 0, "wd", D(2026, 1, 7), D(2026, 1, 7)),     # M finishes with A on Wed 7, so does B
    ("SF", 0, "wd", D(2026, 1, 5), D(2026, 1, 5)),     # M finishes no earlier than A starts: Mon 5
    ("FS", 2, "ed", D(2026, 1, 12), D(2026, 1, 15)),   # Thu 8 + 2 = Sat 10 -> Mon 12; Tue 13 + 2 = Thu 15
    ("FS", 1, "wd", D(2026, 1, 9), D(2026, 1, 13)),    # one working day of lag after Wed 7 and after Fri 9
    ("SS", 3, "ed", D(2026, 1, 8), D(2026, 1, 12)),    # Mon 5 + 3 = Thu 8; Thu 8 + 3 = Sun 11 -> Mon 12
    ("FF", -1, "wd", D(2026, 1, 6), D(2026, 1, 5)),    # a lead of one working day before A's and M's finish
])
def test_links_to_and_from_a_milestone_count_its_day(kind, lag, unit, m_day, b_day):
    r = run([("A", 3), ("M", 0), ("B", 1)], [("A", "M", kind, lag, unit), ("M", "B", kind, lag, unit)])
    assert dates(r, "M") == (m_day, m_day)
    assert dates(r, "B") == (b_day, b_day)


def test_milestone_with_a_constraint_and_a_deadline():
    # SNET Sat 10 moves M to Mon 12; a deadline on Fri 9 it cannot meet gives it one day of negative float.
    r = run([Task("M", 0, constraint="SNET", constraint_date=D(2026, 1, 10), deadline=D(2026, 1, 9))])
    assert dates(r, "M") == (D(2026, 1, 12), D(2026, 1, 12))
    assert late(r, "M") == (D(2026, 1, 9), D(2026, 1, 9))
    assert r["M"].total_float == -1 and r["M"].is_critical


def test_milestone_floats_count_like_a_one_day_task():
    # A(5) Mon 5..Fri 9 sets the finish; M after X(1) sits on Tue 6 and may slip to Fri 9: three days of float.
    r = run([("A", 5), ("X", 1), ("M", 0)], [("X", "M")])
    assert dates(r, "M") == (D(2026, 1, 6), D(2026, 1, 6))
    assert late(r, "M") == (D(2026, 1, 9), D(2026, 1, 9))
    assert r["M"].total_float == r["M"].free_float == 3
    assert r["X"].total_float == 3 and r["X"].free_float == 0


# ------------------------------------------------------------------ summaries

SUMMARY = [Task("S"), Task("C1", 2, parent="S"), Task("C2", 3, parent="S")]


def test_summary_rolls_up_its_children():
    r = run([*SUMMARY, ("X", 1)])
    assert dates(r, "S") == (D(2026, 1, 5), D(2026, 1, 7))  # C1 Mon 5..Tue 6, C2 Mon 5..Wed 7
    assert r["S"].is_summary and not r["C1"].is_summary


def test_link_into_a_summary_delays_every_child():
    # X(2) Mon 5..Tue 6 -> S: both children start Wed 7.
    r = run([*SUMMARY, ("X", 2)], [("X", "S")])
    assert dates(r, "C1") == (D(2026, 1, 7), D(2026, 1, 8))
    assert dates(r, "C2") == (D(2026, 1, 7), D(2026, 1, 9))
    assert dates(r, "S") == (D(2026, 1, 7), D(2026, 1, 9))
    assert r["C1"].driving_predecessors == ("X",)


def test_link_out_of_a_summary_waits_for_every_child():
    # C2 ends Wed 7 -> Y(1) Thu 8; C1 (ends Tue 6) has one day of float.
    r = run([*SUMMARY, ("Y", 1)], [("S", "Y")])
    assert dates(r, "Y") == (D(2026, 1, 8), D(2026, 1, 8))
    assert r["C1"].total_float == 1 and r["C2"].total_float == 0
    assert r.critical_path == ("C2", "Y")


def test_nested_summaries():
    # X(3) Mon 5..Wed 7 -> S1 ⊃ S2 ⊃ L(2): L Thu 8..Fri 9; S1 -> Y: Y Mon 12.
    tasks = [("X", 3), Task("S1"), Task("S2", parent="S1"), Task("L", 2, parent="S2"), Task("K", 1, parent="S1"),
             ("Y", 1)]
    r = run(tasks, [("X", "S1"), ("S1", "Y")])
    assert dates(r, "L") == (D(2026, 1, 8), D(2026, 1, 9))
    assert dates(r, "K") == (D(2026, 1, 8), D(2026, 1, 8))
    assert dates(r, "S2") == dates(r, "S1") == (D(2026, 1, 8), D(2026, 1, 9))
    assert dates(r, "Y") == (D(2026, 1, 12), D(2026, 1, 12))


def test_summary_own_duration_and_constraint_are_ignored():
    tasks = [Task("S", 50, constraint="MSO", constraint_date=D(2026, 3, 2)), Task("C", 2, parent="S")]
    r = run(tasks)
    assert dates(r, "S") == dates(r, "C") == (D(2026, 1, 5), D(2026, 1, 6))


def test_link_from_a_summary_to_its_own_child_is_a_cycle():
    with pytest.raises(CyclicDependencyError) as err:
        run(SUMMARY, [("S", "C1")])
    assert err.value.cycle[0] == err.value.cycle[-1]
    assert "C1" in err.value.cycle


def test_link_from_a_child_to_its_own_summary_is_a_cycle():
    with pytest.raises(CyclicDependencyError):
        run(SUMMARY, [("C1", "S")])


# ------------------------------------------------------------------ progress


def test_finished_task_sits_on_its_actuals_and_is_not_critical():
    # A finished Mon 5..Thu 8 (one day over its 3); B(2) not started, status Wed 14: B Wed 14..Thu 15.
    tasks = [Task("A", 3, actual_start=D(2026, 1, 5), actual_finish=D(2026, 1, 8), percent_complete=100),
             Task("B", 2)]
    r = run(tasks, [("A", "B")], status_date=D(2026, 1, 14))
    assert dates(r, "A") == (D(2026, 1, 5), D(2026, 1, 8))
    assert not r["A"].is_critical
    assert dates(r, "B") == (D(2026, 1, 14), D(2026, 1, 15))


def test_finished_task_after_the_status_date_still_on_actuals():
    tasks = [Task("A", 3, actual_start=D(2026, 1, 12), actual_finish=D(2026, 1, 14)), Task("B", 1)]
    r = run(tasks, [("A", "B")], status_date=D(2026, 1, 7))
    assert dates(r, "A") == (D(2026, 1, 12), D(2026, 1, 14))
    assert dates(r, "B") == (D(2026, 1, 15), D(2026, 1, 15))


def test_in_progress_task_schedules_remaining_work_from_the_status_date():
    # A(4) started Mon 5, 50% done -> 2 days left, from the status date Wed 14: Wed 14, Thu 15. Its early dates
    # are those of the work left (TruePPM's reading).
    tasks = [Task("A", 4, actual_start=D(2026, 1, 5), percent_complete=50), Task("B", 1)]
    r = run(tasks, [("A", "B")], status_date=D(2026, 1, 14))
    assert dates(r, "A") == (D(2026, 1, 14), D(2026, 1, 15))
    assert dates(r, "B") == (D(2026, 1, 16), D(2026, 1, 16))


def test_in_progress_remaining_work_starts_at_the_status_date_not_after_the_done_part():
    # A(10) started Mon 5, 30% done: 7 days left, laid from the status date Tue 6: Tue 6 .. Wed 14.
    r = run([Task("A", 10, actual_start=D(2026, 1, 5), percent_complete=30)], status_date=D(2026, 1, 6))
    assert dates(r, "A") == (D(2026, 1, 6), D(2026, 1, 14))


def test_percent_complete_shortens_remaining_work():
    # Status Mon 12. Started Mon 5: 0% -> 10 days from Mon 12 (to Fri 23); 30% -> 7 days (to Tue 20).
    base = {"actual_start": D(2026, 1, 5)}
    r0 = run([Task("A", 10, **base)], status_date=D(2026, 1, 12))
    r30 = run([Task("A", 10, percent_complete=30, **base)], status_date=D(2026, 1, 12))
    assert dates(r0, "A") == (D(2026, 1, 12), D(2026, 1, 23))
    assert dates(r30, "A") == (D(2026, 1, 12), D(2026, 1, 20))


def test_days_done_are_truncated():
    # 10 days at 25% done: 2 whole days done (2.5 truncated), 8 left: Mon 5 .. Wed 14.
    r = run([Task("A", 10, percent_complete=25)])
    assert dates(r, "A") == (D(2026, 1, 5), D(2026, 1, 14))


def test_actual_start_floors_the_early_start():
    # A finished Mon 5..Tue 6; B started Mon 12 (later than A allows), 50% of 4 done: 2 days from Mon 12.
    tasks = [Task("A", 2, actual_start=D(2026, 1, 5), actual_finish=D(2026, 1, 6)),
             Task("B", 4, actual_start=D(2026, 1, 12), percent_complete=50)]
    r = run(tasks, [("A", "B")])
    assert dates(r, "B") == (D(2026, 1, 12), D(2026, 1, 13))
    assert r["B"].driving_predecessors == ()


def test_actual_start_on_a_day_off_stands_as_the_first_day():
    # B(3) started Sat 10: Sat 10 is its first day, then Mon 12 and Tue 13.
    r = run([Task("B", 3, actual_start=D(2026, 1, 10))])
    assert dates(r, "B") == (D(2026, 1, 10), D(2026, 1, 13))


def test_actual_finish_without_an_actual_start():
    # A(5) finished Tue 13, start not recorded: it is placed at its full duration ending then, Wed 7 .. Tue 13,
    # even before the project start; B follows on Wed 14.
    tasks = [Task("A", 5, actual_finish=D(2026, 1, 13)), Task("B", 2)]
    r = run(tasks, [("A", "B")], start=D(2026, 1, 12))
    assert dates(r, "A") == (D(2026, 1, 7), D(2026, 1, 13))
    assert dates(r, "B") == (D(2026, 1, 14), D(2026, 1, 15))
    assert not r["A"].is_critical and r["A"].total_float == 0


def test_complete_by_percent_alone_keeps_its_logic_and_bounds_nothing_back():
    # A(3) at 100% with no actuals is placed by logic after X (Tue 6..Thu 8); it is finished, so its late dates
    # are its early ones and X is not held by it: X floats to the project finish set by C(10).
    tasks = [("X", 1), Task("A", 3, percent_complete=100), ("C", 10)]
    r = run(tasks, [("X", "A")])
    assert dates(r, "A") == (D(2026, 1, 6), D(2026, 1, 8))
    assert late(r, "A") == dates(r, "A") and not r["A"].is_critical
    assert r["X"].total_float == r["C"].total_float + 9
    assert r["X"].free_float == r["X"].total_float


def test_complete_by_percent_alone_is_not_held_to_the_status_date():
    # Finished work is history: a 100% task with no actuals is placed from the project start, unfloored by the
    # status date that holds work still to do.
    r = run([Task("A", 3, percent_complete=100), ("B", 2)], status_date=D(2026, 1, 12))
    assert dates(r, "A") == (D(2026, 1, 5), D(2026, 1, 7))
    assert dates(r, "B") == (D(2026, 1, 12), D(2026, 1, 13))


def test_out_of_sequence_actuals_give_no_negative_float():
    # B finished before A (its predecessor) started: both sit on their actuals, nothing critical, floats 0.
    tasks = [Task("A", 5, actual_start=D(2026, 1, 12), actual_finish=D(2026, 1, 16)),
             Task("B", 3, actual_start=D(2026, 1, 5), actual_finish=D(2026, 1, 7))]
    r = run(tasks, [("A", "B")])
    for tid in "AB":
        assert r[tid].total_float == r[tid].free_float == 0 and not r[tid].is_critical
    assert r.critical_path == () and r.link_driving.tolist() == [False]


def test_not_started_work_is_not_scheduled_before_the_status_date():
    r = run([("A", 2), ("B", 1)], [("A", "B")], status_date=D(2026, 1, 7))
    assert dates(r, "A") == (D(2026, 1, 7), D(2026, 1, 8))
    assert dates(r, "B") == (D(2026, 1, 9), D(2026, 1, 9))


def test_status_date_on_a_weekend():
    r = run([("A", 1)], status_date=D(2026, 1, 10))
    assert dates(r, "A") == (D(2026, 1, 12), D(2026, 1, 12))


# ------------------------------------------------------------------ floats, drivers, critical path


def test_free_float_versus_total_float():
    # A(2) -> B(2) -> D(1); C(1) -> D; A Mon 5..Tue 6, B Wed 7..Thu 8, D Fri 9; C Mon 5.
    # C can slip 3 days (Tue, Wed, Thu) before D moves: free = total = 3.
    # E(1) -> F(1) -> D: E Mon 5, F Tue 6. E can slip 2 days before the finish moves (total 2) but F
    # starts the day after E, so E's free float is 0; F's free float is 2.
    tasks = [("A", 2), ("B", 2), ("C", 1), ("D", 1), ("E", 1), ("F", 1)]
    r = run(tasks, [("A", "B"), ("B", "D"), ("C", "D"), ("E", "F"), ("F", "D")])
    assert (r["C"].total_float, r["C"].free_float) == (3, 3)
    assert (r["E"].total_float, r["E"].free_float) == (2, 0)
    assert (r["F"].total_float, r["F"].free_float) == (2, 2)
    assert (r["A"].total_float, r["A"].free_float) == (0, 0)


def test_free_float_of_a_task_without_successors_counts_to_the_project_finish():
    r = run([("A", 5), ("B", 2)])
    assert (r["B"].total_float, r["B"].free_float) == (3, 3)


def test_driving_predecessors():
    # B after A(3) and C(1): A drives (B starts Thu 8), C does not.
    r = run([("A", 3), ("C", 1), ("B", 1)], [("A", "B"), ("C", "B")])
    assert r["B"].driving_predecessors == ("A",)
    # Both drive when they end the same day.
    r = run([("A", 3), ("C", 3), ("B", 1)], [("A", "B"), ("C", "B")])
    assert set(r["B"].driving_predecessors) == {"A", "C"}
    assert r["A"].driving_predecessors == ()


def test_critical_path_order_and_project_finish():
    # A(2) -> B(3) -> C(1), and A -> D(1) -> C: critical path A, B, C ending Fri 9... A Mon5-Tue6, B Wed7-Fri9,
    # C Mon 12.
    r = run([("A", 2), ("B", 3), ("C", 1), ("D", 1)], [("A", "B"), ("B", "C"), ("A", "D"), ("D", "C")])
    assert r.critical_path == ("A", "B", "C")
    assert r.project_finish == D(2026, 1, 12)
    assert r["D"].total_float == 2 and not r["D"].is_critical


def test_multi_calendar_tasks():
    # A on 7-day (Sat 10, Sun 11 work) 7 days from Mon 5: Mon 5..Sun 11. B on Monday-to-Friday after it: Mon 12.
    # C on 6-day 6 days from Mon 5: Mon 5..Sat 10.
    r = run([Task("A", 7, calendar="seven"), Task("B", 1), Task("C", 6, calendar="six")], [("A", "B")])
    assert dates(r, "A") == (D(2026, 1, 5), D(2026, 1, 11))
    assert dates(r, "B") == (D(2026, 1, 12), D(2026, 1, 12))
    assert dates(r, "C") == (D(2026, 1, 5), D(2026, 1, 10))
    # C may finish as late as Mon 12 on its own calendar: Sat 10 -> Mon 12 is 1 working day (Sun is off).
    assert r["C"].late_finish == D(2026, 1, 12) and r["C"].total_float == 1


def test_empty_project():
    r = run([])
    assert r.project_finish == D(2026, 1, 5) and r.critical_path == ()


def test_link_via_build_and_summary_input_order_independent():
    # A summary listed after its children behaves the same.
    r = run([Task("C1", 2, parent="S"), Task("S"), ("X", 1)], [Link("X", "S")])
    assert dates(r, "C1") == (D(2026, 1, 6), D(2026, 1, 7))


# ------------------------------------------------------------------ the critical path


def test_critical_path_lists_every_critical_task_earliest_start_then_id():
    # Two parallel chains of equal length: all four are critical; the walk takes the earliest start first, and
    # of two starting together, the lower id.
    r = run([("Z1", 2), ("Z2", 1), ("A1", 1), ("A2", 2)], [("Z1", "Z2"), ("A1", "A2")])
    assert r.critical_path == ("A1", "Z1", "A2", "Z2")


def test_critical_path_waits_for_a_predecessor_with_a_later_start():
    # B (SS -2 from A) starts before A, but is listed only after it: a task comes after its predecessors.
    r = run([("X", 2), Task("A", 3, constraint="SNET", constraint_date=D(2026, 1, 7)), ("B", 5)],
            [("X", "A"), ("A", "B", "SS", -2)])
    assert r["B"].early_start < r["A"].early_start
    assert r.critical_path == ("X", "A", "B")


def test_critical_path_with_ids_of_mixed_types():
    r = run([Task(2, 1), Task("a", 1), Task(1, 1)])
    assert r.critical_path == (1, 2, "a")


# ------------------------------------------------------------------ driving links


@pytest.mark.parametrize("kind,lag,driving", [
    ("FS", 0, True), ("FS", 2, True), ("FS", -2, True),      # B's start follows A's finish (-2: exactly Mon 5)
    ("SS", 0, True), ("SS", 1, True), ("SS", -1, False),     # a lead before the project start: the start holds B
    ("FF", 0, False), ("FF", -1, False), ("FF", 3, True),   # B (Mon 5 - Wed 7) ends after A anyway, unless +3
    ("SF", 0, False), ("SF", 4, True),                       # SF 0: B (3 days) could finish on A's start day
])
def test_a_link_drives_when_its_predecessor_cannot_slip_without_moving_the_successor(kind, lag, driving):
    # A (2 days) Mon 5 - Tue 6; B (3 days).
    r = run([("A", 2), ("B", 3)], [("A", "B", kind, lag)])
    assert r.link_driving.tolist() == [driving]
    assert r["B"].driving_predecessors == (("A",) if driving else ())


def test_a_successor_held_later_by_its_own_constraint_is_not_driven():
    # B's SNET date (Mon 12) places it, not A (which ends Tue 6): A -> B has slack and does not drive.
    r = run([("A", 2), Task("B", 1, constraint="SNET", constraint_date=D(2026, 1, 12))], [("A", "B")])
    assert r.link_driving.tolist() == [False] and r["A"].free_float == 3


def test_a_successor_pinned_to_its_dates_is_driven_by_no_link():
    # MSO Tue 6 pins B where A (ending Wed 7) would push it; the link is broken, not driving.
    for pinned in (Task("B", 1, constraint="MSO", constraint_date=D(2026, 1, 6)),
                   Task("B", 1, actual_start=D(2026, 1, 6), actual_finish=D(2026, 1, 6))):
        r = run([("A", 3), pinned], [("A", "B")])
        assert r.link_driving.tolist() == [False]


def test_a_deadline_on_the_successor_does_not_change_which_link_drives():
    r = run([("A", 3), ("X", 1), Task("B", 2, deadline=D(2026, 1, 8))], [("A", "B"), ("X", "B")])
    assert r.link_driving.tolist() == [True, False]
    assert r["A"].total_float == -1 and r["A"].free_float == 0
