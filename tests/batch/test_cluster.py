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

from grader.batch import run_batch  # noqa: E402


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
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(n, timeout=limit)


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


def test_a_class_graded_on_dask_workers_gets_the_rows_of_a_local_run(tmp_path, generator, cluster, official):
    address, _ = cluster
    folder, students = generator.write_variants(tmp_path / "class", generator.CHEAP * 2 + ["two candidate files"])
    on_dask = run_batch("exercise03", folder, out=tmp_path / "dask", progress=False, similarity=False,
                        scheduler=address, **official)
    here = run_batch("exercise03", folder, out=tmp_path / "local", workers=2, progress=False, similarity=False,
                     **official)
    assert on_dask.graded == here.graded == len(students) - 1  # the two-candidates folder is a problem row
    assert _rows(on_dask.gradebook) == _rows(here.gradebook)
    scores = {s: score for s, (_, score, _) in _rows(on_dask.gradebook).items()}
    assert scores[next(s for s, v in students.items() if v == "solution")] == 18.0


def test_a_dask_worker_killed_in_the_middle_loses_no_submission_and_grades_none_twice(tmp_path, generator, cluster,
                                                                                     official_args):
    address, workers = cluster
    folder, students = generator.write_variants(tmp_path / "class", generator.CHEAP * 4)
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "grader", "batch", "exercise03", str(folder), "--out", str(out),
                            "--scheduler", address, "--no-progress", "--no-similarity", *official_args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
    from click.testing import CliRunner

    from grader.cli import main

    folder, _ = generator.write_variants(tmp_path / "class", ["solution"])
    result = CliRunner().invoke(main, ["batch", "exercise03", str(folder), "--out", str(tmp_path / "out"),
                                       "--scheduler", f"tcp://127.0.0.1:{_free_port()}", "--no-progress",
                                       *official_args])
    assert result.exit_code == 2, result.output
    assert "no Dask scheduler answers there" in result.output and "Traceback" not in result.output
