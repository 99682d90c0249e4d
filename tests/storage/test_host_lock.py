"""The cross-host model lock: one holder at a time, refusals that name the holder's host and
pid, stale locks (a dead pid on this host, an expired lease from another) taken over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lexitui.files.host_lock import HOST_ENV, LockHeld, acquire, read_holder, this_host

# Each process waits for the "go" file, then tries the lock and holds it a while.
RACER = """
import os, sys, time
from pathlib import Path
from lexitui.files.host_lock import LockHeld, acquire
lock_path, go = Path(sys.argv[1]), Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
try:
    lock = acquire(lock_path, "tiny", "download")
except LockHeld as held:
    print("refused", held)
    sys.exit(0)
print("won", os.getpid(), flush=True)
time.sleep(3)
lock.release()
"""


def write_lock(path: Path, **fields: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"host": "gpu2", "pid": 4312, "purpose": "download", "token": "t0", **fields}
    path.write_text(json.dumps(record))


def test_two_processes_race_for_one_lock_and_one_is_refused_by_name(tmp_path: Path) -> None:
    lock_path, go = tmp_path / "locks" / "tiny.lock", tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(lock_path), str(go)],
            env={**os.environ, HOST_ENV: host},
            stdout=subprocess.PIPE,
            text=True,
        )
        for host in ("hosta", "hostb")
    ]
    go.touch()
    outs = [r.communicate(timeout=60)[0].strip() for r in racers]
    winners = [(i, o) for i, o in enumerate(outs) if o.startswith("won")]
    losers = [o for o in outs if o.startswith("refused")]
    assert len(winners) == 1 and len(losers) == 1, outs
    index, won = winners[0]
    host, pid = ("hosta", "hostb")[index], won.split()[1]
    assert f"tiny is being downloaded by {host} (pid {pid}) since " in losers[0]
    assert not lock_path.exists()  # the winner let go


def test_a_held_lock_is_refused_with_host_pid_and_time(tmp_path: Path) -> None:
    path = tmp_path / "m.lock"
    started = time.time()
    write_lock(path, started=started, heartbeat=started)
    with pytest.raises(LockHeld) as held:
        acquire(path, "m", "delete")
    since = time.strftime("%H:%M", time.localtime(started))
    assert str(held.value) == f"m is being downloaded by gpu2 (pid 4312) since {since}"
    assert read_holder(path) is not None  # left alone


def test_a_lock_of_a_dead_process_on_this_host_is_taken_over(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    path = tmp_path / "m.lock"
    write_lock(path, host=this_host(), pid=gone.pid, started=time.time(), heartbeat=time.time())
    with acquire(path, "m", "download") as lock:
        assert lock.took_over is not None and lock.took_over.pid == gone.pid
        holder = read_holder(path)
        assert holder is not None and holder.pid == os.getpid()
    assert not path.exists()


def test_a_live_process_on_this_host_keeps_its_lock(tmp_path: Path) -> None:
    path = tmp_path / "m.lock"
    old = time.time() - 3600  # however old its heartbeat: on this host the pid decides
    write_lock(path, host=this_host(), pid=os.getpid(), started=time.time(), heartbeat=old)
    os.utime(path, (old, old))
    with pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
        acquire(path, "m", "download", lease=60)


def test_another_hosts_lock_is_taken_over_only_after_its_lease(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "m.lock"
    beat = time.time() - 90
    write_lock(path, started=beat - 600, heartbeat=beat)
    os.utime(path, (beat, beat))
    with pytest.raises(LockHeld, match="gpu2 \\(pid 4312\\)"):
        acquire(path, "m", "download", lease=120)  # 90 s without a heartbeat: still in its lease
    with acquire(path, "m", "download", lease=60) as lock:
        assert lock.took_over is not None and lock.took_over.host == "gpu2"
        assert lock.still_ours()
    leftovers = [p.name for p in path.parent.iterdir()]
    assert leftovers == []  # no temp file, no moved-aside copy


def test_the_holder_beats_so_its_lock_outlives_the_lease(tmp_path: Path) -> None:
    path = tmp_path / "m.lock"
    with acquire(path, "m", "download", host="hosta", lease=3):
        time.sleep(4.5)  # longer than the lease: only the heartbeats keep it
        with pytest.raises(LockHeld, match="hosta"):
            acquire(path, "m", "download", host="hostb", lease=3)


def test_an_unreadable_lock_is_held_until_its_lease_runs_out(tmp_path: Path) -> None:
    path = tmp_path / "m.lock"
    path.write_text("{not json")
    with pytest.raises(LockHeld, match="an unknown host"):
        acquire(path, "m", "download", lease=60)
    old = time.time() - 120
    os.utime(path, (old, old))
    with acquire(path, "m", "download", lease=60) as lock:
        assert lock.took_over is not None and lock.took_over.host == "an unknown host"
