"""Heavy slots: at most N per user and M in all, across the threads of a process and across processes (a lock
held by another process counts; its death frees it), nothing held after a refusal, and release is idempotent."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest
from django.db import connection, connections

from keelplan.core import slots
from keelplan.core.slots import HeavySlotsBusy, heavy_slots_acquire, slots_held_here

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _slot_files_of_this_test(settings, tmp_path):
    # Lock files live in the data folder; a folder per test keeps runs apart.
    settings.DATA_DIR = tmp_path


def test_a_user_holds_at_most_per_user_slots_and_others_are_not_affected():
    first = heavy_slots_acquire(user_id=1, per_user=2, server=0)
    second = heavy_slots_acquire(user_id=1, per_user=2, server=0)
    with pytest.raises(HeavySlotsBusy) as refused:
        heavy_slots_acquire(user_id=1, per_user=2, server=0)
    assert (refused.value.code, refused.value.scope, refused.value.limit) == ("too_many_heavy_requests", "user", 2)
    with heavy_slots_acquire(user_id=2, per_user=2, server=0):
        pass
    first.release()
    third = heavy_slots_acquire(user_id=1, per_user=2, server=0)
    for held in (second, third):
        held.release()
    assert slots_held_here() == set()


def test_the_server_bound_counts_every_user():
    held = [heavy_slots_acquire(user_id=n, per_user=1, server=2) for n in (1, 2)]
    with pytest.raises(HeavySlotsBusy) as refused:
        heavy_slots_acquire(user_id=3, per_user=1, server=2)
    assert refused.value.scope == "server"
    held[0].release()
    heavy_slots_acquire(user_id=3, per_user=1, server=2).release()
    held[1].release()


def test_a_refusal_keeps_nothing_not_even_the_user_slot_it_got():
    blocker = heavy_slots_acquire(user_id=9, per_user=0, server=1)
    with pytest.raises(HeavySlotsBusy):
        heavy_slots_acquire(user_id=1, per_user=1, server=1)
    assert slots_held_here() == {"heavy:server:0"}
    blocker.release()
    with heavy_slots_acquire(user_id=1, per_user=1, server=1) as held:
        assert sorted(held.names) == ["heavy:server:0", "heavy:user:1:0"]


def test_a_bound_of_zero_is_no_bound_and_release_twice_is_harmless():
    held = [heavy_slots_acquire(user_id=1, per_user=0, server=0) for _ in range(5)]
    assert all(h.names == [] for h in held)
    one = heavy_slots_acquire(user_id=1, per_user=1, server=1)
    one.release()
    one.release()
    assert slots_held_here() == set()


def test_a_slot_held_by_another_thread_is_taken():
    holding, done = threading.Event(), threading.Event()
    failures = []

    def hold():
        try:
            with heavy_slots_acquire(user_id=1, per_user=1, server=1):
                holding.set()
                done.wait(30)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            holding.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(30)
        with pytest.raises(HeavySlotsBusy) as refused:
            heavy_slots_acquire(user_id=1, per_user=1, server=1)
        assert refused.value.scope == "user"
        with pytest.raises(HeavySlotsBusy) as refused:
            heavy_slots_acquire(user_id=2, per_user=1, server=1)
        assert refused.value.scope == "server"
    finally:
        done.set()
        thread.join(30)
    assert not failures
    heavy_slots_acquire(user_id=2, per_user=1, server=1).release()


def _holder_script() -> str:
    """A process that takes the slot named in argv[1] the backend's way, says so, and keeps it until stdin closes."""
    if connection.vendor == "postgresql":
        params = connection.settings_dict
        return textwrap.dedent(f"""
            import sys, psycopg
            conn = psycopg.connect(host={params['HOST'] or '127.0.0.1'!r}, port={str(params['PORT'] or 5432)!r},
                                   user={params['USER']!r}, password={params['PASSWORD'] or None!r},
                                   dbname={params['NAME']!r}, autocommit=True)
            conn.execute("SELECT pg_advisory_lock(%s)", [int(sys.argv[1])])
            print("held", flush=True)
            sys.stdin.read()
        """)
    return textwrap.dedent("""
        import fcntl, os, sys
        fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("held", flush=True)
        sys.stdin.read()
    """)


def _hold_in_another_process(name: str) -> subprocess.Popen:
    if connection.vendor == "postgresql":
        target = str(slots.slot_key_number(name))
    else:
        path = slots.slot_file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        target = str(path)
    holder = subprocess.Popen([sys.executable, "-c", _holder_script(), target], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_slot_held_by_another_process_is_taken_until_that_process_ends():
    holder = _hold_in_another_process("heavy:user:1:0")
    try:
        with pytest.raises(HeavySlotsBusy) as refused:
            heavy_slots_acquire(user_id=1, per_user=1, server=0)
        assert refused.value.scope == "user"
        with heavy_slots_acquire(user_id=1, per_user=2, server=0) as held:
            assert held.names == ["heavy:user:1:1"]
    finally:
        holder.stdin.close()
        assert holder.wait(30) == 0
    with heavy_slots_acquire(user_id=1, per_user=1, server=0) as held:
        assert held.names == ["heavy:user:1:0"]


def test_a_killed_holder_gives_its_server_slot_back():
    holder = _hold_in_another_process("heavy:server:0")
    with pytest.raises(HeavySlotsBusy):
        heavy_slots_acquire(user_id=1, per_user=0, server=1)
    holder.kill()
    holder.wait(30)
    holder.stdin.close()
    # PostgreSQL ends the dead client's session (and its locks) as soon as it reads the closed socket, which
    # is not quite at once: wait for it, boundedly.
    deadline = time.monotonic() + 30
    while True:
        try:
            held = heavy_slots_acquire(user_id=1, per_user=0, server=1)
            break
        except HeavySlotsBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    with held:
        assert held.names == ["heavy:server:0"]


def test_file_locks_conflict_between_two_opens_in_one_process(tmp_path):
    # The SQLite backend's own guarantee, checked on every database: flock belongs to the open file.
    locks = slots._FileLocks()
    first = locks.try_lock("heavy:server:0")
    assert first is not None
    assert locks.try_lock("heavy:server:0") is None
    locks.unlock(first)
    again = locks.try_lock("heavy:server:0")
    assert again is not None
    locks.unlock(again)
