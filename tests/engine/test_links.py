"""Hand-checked link arithmetic: every link type x lag kind x lag unit over several calendar situations.

January 2026: Mon 5, Tue 6, Wed 7, Thu 8, Fri 9, Sat 10, Sun 11, Mon 12, Tue 13, Wed 14, Thu 15, Fri 16.
In every case the predecessor A lasts 3 days and is held to start on Wed 7 (SNET), so on a Monday-to-Friday
calendar it runs Wed 7 .. Fri 9; the successor B lasts 2 days and has no other reason to move. Conventions
(cpm.py): FS 0 = next working day after the predecessor's finish, SS 0 = same start, FF 0 = finish no earlier
than the predecessor's finish day, SF 0 = finish no earlier than the predecessor's start day; a lag counts
working days of the *successor's* calendar ('wd'), every day ('ed'), or a share of the predecessor's duration
rounded half up and then counted as working days ('pct').
"""

from __future__ import annotations

import pytest

from keelplan.engine import Calendar, CalendarException, Link, Task

from .helpers import MON, SEVEN, SIX, STD, D, dates, holiday, run

HOL = Calendar("hol", exceptions=(holiday(D(2026, 1, 12)),))                      # Mon 12 is a holiday
SATWORK = Calendar("satwork", exceptions=(CalendarException(D(2026, 1, 10), D(2026, 1, 10), working=True),))

CALS = (STD, SIX, SEVEN, HOL, SATWORK)


def schedule_pair(kind, lag, unit, *, a_cal=None, b_cal=None, default="std", a_days=3, start=MON):
    tasks = [Task("A", a_days, calendar=a_cal, constraint="SNET", constraint_date=D(2026, 1, 7)),
             Task("B", 2, calendar=b_cal)]
    return run(tasks, [Link("A", "B", kind, lag, unit)], calendars=CALS, calendar=default, start=start)


# (type, lag, unit, expected B start, expected B finish, reasoning)
WEEKEND = [
    ("FS", 0, "wd", D(2026, 1, 12), D(2026, 1, 13), "A ends Fri 9; next working day is Mon 12"),
    ("FS", 2, "wd", D(2026, 1, 14), D(2026, 1, 15), "lag days Mon 12, Tue 13; start Wed 14"),
    ("FS", -2, "wd", D(2026, 1, 8), D(2026, 1, 9), "lead: two working days ending by Fri 9 are Thu 8, Fri 9"),
    ("FS", 2, "ed", D(2026, 1, 12), D(2026, 1, 13), "end of Fri 9 + 2 days = end of Sun 11; next working Mon 12"),
    ("FS", 3, "ed", D(2026, 1, 13), D(2026, 1, 14), "end of Fri 9 + 3 days = end of Mon 12; start Tue 13"),
    ("FS", -2, "ed", D(2026, 1, 8), D(2026, 1, 9), "end of Fri 9 - 2 days = end of Wed 7; start Thu 8"),
    ("FS", 50, "pct", D(2026, 1, 14), D(2026, 1, 15), "50% of 3 = 1.5 -> 2 wd, as FS +2 wd"),
    ("FS", -50, "pct", D(2026, 1, 8), D(2026, 1, 9), "-50% of 3 -> -2 wd, as FS -2 wd"),
    ("SS", 0, "wd", D(2026, 1, 7), D(2026, 1, 8), "same start Wed 7"),
    ("SS", 2, "wd", D(2026, 1, 9), D(2026, 1, 12), "lag Wed 7, Thu 8; start Fri 9, 2nd day over the weekend Mon 12"),
    ("SS", -2, "wd", D(2026, 1, 5), D(2026, 1, 6), "two working days before Wed 7: Mon 5"),
    ("SS", 3, "ed", D(2026, 1, 12), D(2026, 1, 13), "Wed 7 + 3 = Sat 10; next working Mon 12"),
    ("SS", -2, "ed", D(2026, 1, 5), D(2026, 1, 6), "Wed 7 - 2 = Mon 5"),
    ("SS", 50, "pct", D(2026, 1, 9), D(2026, 1, 12), "2 wd, as SS +2 wd"),
    ("FF", 0, "wd", D(2026, 1, 8), D(2026, 1, 9), "finish no earlier than Fri 9"),
    ("FF", 2, "wd", D(2026, 1, 12), D(2026, 1, 13), "finish two working days after Fri 9: Tue 13"),
    ("FF", -2, "wd", D(2026, 1, 6), D(2026, 1, 7), "finish two working days before Fri 9: Wed 7"),
    ("FF", -1, "wd", D(2026, 1, 7), D(2026, 1, 8), "finish one working day before Fri 9: Thu 8 (not Fri 9 as FF 0)"),
    ("FF", 1, "ed", D(2026, 1, 9), D(2026, 1, 12), "Fri 9 + 1 = Sat 10; first working finish Mon 12"),
    ("FF", -2, "ed", D(2026, 1, 6), D(2026, 1, 7), "Fri 9 - 2 = Wed 7"),
    ("FF", -34, "pct", D(2026, 1, 7), D(2026, 1, 8), "34% of 3 = 1.02 -> 1 wd lead: finish Thu 8"),
    ("SF", 0, "wd", D(2026, 1, 6), D(2026, 1, 7), "finish no earlier than A's start day Wed 7"),
    ("SF", 1, "wd", D(2026, 1, 7), D(2026, 1, 8), "one working day after Wed 7: Thu 8 (not Wed 7 as SF 0)"),
    ("SF", 2, "wd", D(2026, 1, 8), D(2026, 1, 9), "two working days after Wed 7: Fri 9"),
    ("SF", -1, "wd", D(2026, 1, 5), D(2026, 1, 6), "one working day before Wed 7: Tue 6"),
    ("SF", 3, "ed", D(2026, 1, 9), D(2026, 1, 12), "Wed 7 + 3 = Sat 10; first working finish Mon 12"),
    ("SF", -1, "ed", D(2026, 1, 5), D(2026, 1, 6), "Wed 7 - 1 = Tue 6"),
    ("SF", 100, "pct", D(2026, 1, 9), D(2026, 1, 12), "100% of 3 = 3 wd after Wed 7: Thu, Fri, Mon 12"),
]

HOLIDAY = [  # Mon 12 is a holiday on the default calendar
    ("FS", 0, "wd", D(2026, 1, 13), D(2026, 1, 14), "weekend and holiday Mon 12 skipped: Tue 13"),
    ("FS", 1, "wd", D(2026, 1, 14), D(2026, 1, 15), "lag day Tue 13 (Mon 12 is off); start Wed 14"),
    ("FS", -1, "wd", D(2026, 1, 9), D(2026, 1, 13), "start Fri 9; 2nd working day is Tue 13"),
    ("FS", 3, "ed", D(2026, 1, 13), D(2026, 1, 14), "end of Mon 12 (a holiday, elapsed lag ignores it); Tue 13"),
    ("FS", 34, "pct", D(2026, 1, 14), D(2026, 1, 15), "34% of 3 -> 1 wd: as FS +1 wd"),
    ("SS", 2, "wd", D(2026, 1, 9), D(2026, 1, 13), "start Fri 9; second day Tue 13"),
    ("SS", -1, "wd", D(2026, 1, 6), D(2026, 1, 7), "Tue 6"),
    ("SS", 4, "ed", D(2026, 1, 13), D(2026, 1, 14), "Wed 7 + 4 = Sun 11; next working Tue 13"),
    ("FF", 0, "wd", D(2026, 1, 8), D(2026, 1, 9), "finish Fri 9"),
    ("FF", 1, "wd", D(2026, 1, 9), D(2026, 1, 13), "first working day after Fri 9 is Tue 13"),
    ("FF", -1, "wd", D(2026, 1, 7), D(2026, 1, 8), "Thu 8"),
    ("FF", 1, "ed", D(2026, 1, 9), D(2026, 1, 13), "Sat 10; first working finish Tue 13"),
    ("SF", 0, "wd", D(2026, 1, 6), D(2026, 1, 7), "finish Wed 7"),
    ("SF", 3, "wd", D(2026, 1, 9), D(2026, 1, 13), "Wed 7 + 3 wd: Thu 8, Fri 9, Tue 13"),
    ("SF", -1, "ed", D(2026, 1, 5), D(2026, 1, 6), "Tue 6"),
]

SIX_DAY_SUCCESSOR = [  # A on Monday-to-Friday, B on Monday-to-Saturday: lags count B's working days
    ("FS", 0, "wd", D(2026, 1, 10), D(2026, 1, 12), "B works Saturday: Sat 10, then Mon 12"),
    ("FS", 1, "wd", D(2026, 1, 12), D(2026, 1, 13), "lag day is Sat 10 on B's calendar (A's would give Tue 13)"),
    ("FS", -1, "wd", D(2026, 1, 9), D(2026, 1, 10), "start Fri 9, then Sat 10"),
    ("FS", 1, "ed", D(2026, 1, 12), D(2026, 1, 13), "end of Sat 10; Sun is off; Mon 12"),
    ("SS", 3, "wd", D(2026, 1, 10), D(2026, 1, 12), "lag Wed, Thu, Fri; start Sat 10"),
    ("SS", -2, "ed", D(2026, 1, 5), D(2026, 1, 6), "Mon 5"),
    ("FF", 0, "wd", D(2026, 1, 8), D(2026, 1, 9), "finish Fri 9"),
    ("FF", 1, "wd", D(2026, 1, 9), D(2026, 1, 10), "finish Sat 10"),
    ("FF", -1, "ed", D(2026, 1, 7), D(2026, 1, 8), "finish Thu 8"),
    ("SF", 3, "wd", D(2026, 1, 9), D(2026, 1, 10), "Wed 7 + 3 wd of B: Thu, Fri, Sat 10"),
    ("SF", -34, "pct", D(2026, 1, 5), D(2026, 1, 6), "-1 wd: Tue 6"),
]

SEVEN_DAY_SUCCESSOR = [
    ("FS", 0, "wd", D(2026, 1, 10), D(2026, 1, 11), "Sat 10, Sun 11"),
    ("FS", 1, "wd", D(2026, 1, 11), D(2026, 1, 12), "lag Sat 10; Sun 11, Mon 12"),
    ("FF", 2, "wd", D(2026, 1, 10), D(2026, 1, 11), "finish two days after Fri 9: Sun 11"),
    ("SS", 3, "ed", D(2026, 1, 10), D(2026, 1, 11), "Sat 10"),
    ("SF", -1, "wd", D(2026, 1, 5), D(2026, 1, 6), "Tue 6"),
]

SATURDAY_WORKS = [  # default calendar is Monday-to-Friday with Sat 10 made a working day
    ("FS", 0, "wd", D(2026, 1, 10), D(2026, 1, 12), "Sat 10 works"),
    ("FS", 1, "wd", D(2026, 1, 12), D(2026, 1, 13), "lag Sat 10"),
    ("SS", 3, "wd", D(2026, 1, 10), D(2026, 1, 12), "lag Wed, Thu, Fri; start Sat 10"),
    ("FF", 1, "wd", D(2026, 1, 9), D(2026, 1, 10), "finish Sat 10"),
]


def _ids(cases):
    return [f"{k}{lag:+d}{unit}" for k, lag, unit, *_ in cases]


# Links that place B but do not drive it (TruePPM's reading: A could slip a working day and B would not move),
# because an elapsed lag lands on a day off and B waits for the next working day anyway.
SLACK = {
    "weekend SS+3ed": "A starting Thu 8 gives Sun 11, still Mon 12",
    "weekend SF+3ed": "A starting Thu 8 gives Sun 11, still a Mon 12 finish",
    "holiday SS+4ed": "A starting Thu 8 gives Mon 12 (the holiday), still Tue 13",
}


def driving(situation, kind, lag, unit):
    return () if f"{situation} {kind}{lag:+d}{unit}" in SLACK else ("A",)


@pytest.mark.parametrize("kind,lag,unit,start,finish,why", WEEKEND, ids=_ids(WEEKEND))
def test_weekend(kind, lag, unit, start, finish, why):
    r = schedule_pair(kind, lag, unit)
    assert dates(r, "A") == (D(2026, 1, 7), D(2026, 1, 9))
    assert dates(r, "B") == (start, finish), why
    assert r["B"].driving_predecessors == driving("weekend", kind, lag, unit)


@pytest.mark.parametrize("kind,lag,unit,start,finish,why", HOLIDAY, ids=_ids(HOLIDAY))
def test_holiday(kind, lag, unit, start, finish, why):
    r = schedule_pair(kind, lag, unit, default="hol")
    assert dates(r, "B") == (start, finish), why
    assert r["B"].driving_predecessors == driving("holiday", kind, lag, unit)


@pytest.mark.parametrize("kind,lag,unit,start,finish,why", SIX_DAY_SUCCESSOR, ids=_ids(SIX_DAY_SUCCESSOR))
def test_successor_on_six_day_calendar(kind, lag, unit, start, finish, why):
    r = schedule_pair(kind, lag, unit, b_cal="six")
    assert dates(r, "B") == (start, finish), why
    assert r["B"].driving_predecessors == ("A",)


@pytest.mark.parametrize("kind,lag,unit,start,finish,why", SEVEN_DAY_SUCCESSOR, ids=_ids(SEVEN_DAY_SUCCESSOR))
def test_successor_on_seven_day_calendar(kind, lag, unit, start, finish, why):
    r = schedule_pair(kind, lag, unit, b_cal="seven")
    assert dates(r, "B") == (start, finish), why


@pytest.mark.parametrize("kind,lag,unit,start,finish,why", SATURDAY_WORKS, ids=_ids(SATURDAY_WORKS))
def test_working_day_exception_on_a_weekend(kind, lag, unit, start, finish, why):
    r = schedule_pair(kind, lag, unit, default="satwork")
    assert dates(r, "B") == (start, finish), why


def test_task_spans_a_working_saturday():
    # 4 days from Thu 8 on the Saturday-works calendar: Thu 8, Fri 9, Sat 10, Mon 12.
    r = run([Task("A", 4, constraint="SNET", constraint_date=D(2026, 1, 8))], calendars=CALS, calendar="satwork")
    assert dates(r, "A") == (D(2026, 1, 8), D(2026, 1, 12))


@pytest.mark.parametrize("kind,lag,start,finish", [
    # A on the 7-day calendar runs Wed 7 .. Sat 10; B is on Monday-to-Friday.
    ("FS", 0, D(2026, 1, 12), D(2026, 1, 13)),   # after Sat 10: Mon 12
    ("FS", -1, D(2026, 1, 9), D(2026, 1, 12)),   # one of B's working days ending by Sat 10 is Fri 9
    ("FF", 0, D(2026, 1, 9), D(2026, 1, 12)),    # finish on the first of B's working days from Sat 10: Mon 12
])
def test_predecessor_finishing_on_a_day_the_successor_does_not_work(kind, lag, start, finish):
    r = schedule_pair(kind, lag, "wd", a_cal="seven", a_days=4)
    assert dates(r, "A") == (D(2026, 1, 7), D(2026, 1, 10))
    assert dates(r, "B") == (start, finish)


@pytest.mark.parametrize("kind", ["FS", "SS", "FF", "SF"])
@pytest.mark.parametrize("lag", [-3, -2, -1, 1, 2, 3])
def test_working_and_elapsed_lags_agree_on_a_seven_day_week(kind, lag):
    # With every day working, a lag of n working days and one of n elapsed days must give the same dates,
    # and each lag value must differ from its neighbour (no lag is swallowed).
    def b(lag, unit):
        # (project start a week earlier, so leads never meet it)
        return dates(schedule_pair(kind, lag, unit, a_cal="seven", b_cal="seven", default="seven",
                                   start=D(2025, 12, 29)), "B")
    assert b(lag, "wd") == b(lag, "ed")
    assert b(lag, "wd") != b(lag - 1, "wd")


def test_lag_rounds_percent_half_up():
    # 50% of a 3-day predecessor is 1.5 days -> 2; 49% is 1.47 -> 1.
    assert dates(schedule_pair("FS", 50, "pct"), "B") == dates(schedule_pair("FS", 2, "wd"), "B")
    assert dates(schedule_pair("FS", 49, "pct"), "B") == dates(schedule_pair("FS", 1, "wd"), "B")
