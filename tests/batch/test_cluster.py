"""grade batch on Dask: a scheduler and workers started as separate commands, as on a real cluster.

The scheduler and the workers run as their own `dask scheduler` / `dask worker` commands on
this machine (localhost TCP), as they would on a cluster's nodes; the instructor's
``grade batch --scheduler tcp://…`` is the only writer of the gradebook.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="Dask's distributed scheduler is not installed (the cluster extra)")



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker's nanny, its worker process and the warm parents
    except ProcessLookupError:
        pass
    proc.wait()


def _wait_for_workers(address: str, n: int, limit: float = 90) -> None:
    # in a process of its own: a Dask client leaves threads behind, and batch tests fork
    code = (f"from distributed import Client\nwith Client({address!r}, timeout='30s') as c:\n"
            f"    c.wait_for_workers({n}, timeout={limit})")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=limit + 60, capture_output=True)


def _grade(folder: Path, out: Path, *args: str, **popen) -> subprocess.Popen:
    """``grade batch exercise03 FOLDER --out OUT …`` as the instructor types it (its own process: see above)."""
    return subprocess.Popen([sys.executable, "-m", "grader", "batch", "exercise03", str(folder), "--out", str(out),
                             "--no-progress", "--no-similarity", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


@pytest.fixture
def cluster():
    """``tcp://127.0.0.1:PORT`` of a `dask scheduler` with two `dask worker`s (one thread each); and the workers."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
    workers = [_start("worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard") for _ in range(2)]
    try:
        _wait_for_workers(address, 2)
        yield address, workers
    finally:
        for proc in [*workers, scheduler]:
            _stop(proc)


def _rows(book: Path) -> dict[str, tuple[str, float, str]]:
    with sqlite3.connect(book) as db:
        return {s: (status, score, message) for s, status, score, message in
                db.execute("SELECT student, status, score, message FROM submissions")}


def test_a_class_graded_on_dask_workers_gets_the_rows_of_a_local_run(tmp_path, generator, cluster, official_args):
    address, _ = cluster
    folder, students = generator.write_variants(tmp_path / "class", generator.CHEAP * 2 + ["two candidate files"])
    for out, args in ((tmp_path / "dask", ["--scheduler", address]), (tmp_path / "local", ["--workers", "2"])):
        stdout, stderr = _grade(folder, out, *args, *official_args).communicate(timeout=600)
        assert f"graded {len(students) - 1} of {len(students)} students" in stdout, stderr  # one problem row
    on_dask, here = _rows(tmp_path / "dask" / "gradebook.sqlite"), _rows(tmp_path / "local" / "gradebook.sqlite")
    assert on_dask == here
    assert on_dask[next(s for s, v in students.items() if v == "solution")][1] == 18.0
    assert sum(status == "problem" for status, _, _ in on_dask.values()) == 1  # the two-candidates folder


def test_a_dask_worker_killed_in_the_middle_loses_no_submission_and_grades_none_twice(tmp_path, generator, cluster,
                                                                                     official_args):
    address, workers = cluster
    folder, students = generator.write_variants(tmp_path / "class", generator.CHEAP * 4)
    out = tmp_path / "out"
    run = _grade(folder, out, "--scheduler", address, *official_args)
    book = out / "gradebook.sqlite"
    deadline = time.monotonic() + 300
    while not (book.exists() and _count(book) >= 3):
        assert run.poll() is None, run.stderr.read()
        assert time.monotonic() < deadline, "no rows after 300 s"
        time.sleep(0.1)
    _stop(workers[0])  # a machine lost mid-run: its running task goes to the other worker
    stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr
    assert f"graded {len(students)} of {len(students)} students" in stdout  # each recorded once, by the client
    expected = {"solution": 18.0, "not implemented": 0.0, "half done": 2.0, "pooling stride 1": 13.0,
                "output size off by one": 16.0}
    rows = _rows(book)
    assert {s: (status, score) for s, (status, score, _) in rows.items()} == \
        {s: ("graded", expected[v]) for s, v in students.items()}


def _count(book: Path) -> int:
    try:
        return len(_rows(book))
    except sqlite3.OperationalError:  # the schema is being created
        return 0


def test_an_unreachable_scheduler_is_a_one_line_usage_error(tmp_path, generator, official_args):
    folder, _ = generator.write_variants(tmp_path / "class", ["solution"])
    run = _grade(folder, tmp_path / "out", "--scheduler", f"tcp://127.0.0.1:{_free_port()}", *official_args)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 2, stdout + stderr
    assert "no Dask scheduler answers there" in stderr and "Traceback" not in stderr
