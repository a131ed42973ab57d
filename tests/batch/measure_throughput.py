"""Measure ``grade batch`` on a generated class, kill a run halfway and resume it.

    python tests/batch/measure_throughput.py [--count 200] [--workers 2] [--compare] [--keep DIR]

1. writes ``--count`` exercise03 submissions (Moodle layout, ``make_submissions.MIX``);
2. grades them uninterrupted with ``--workers``: wall time, submissions per minute, the
   grading processes' CPU time (the sandboxed workers' is not counted: bubblewrap reaps
   them), the load average of the machine meanwhile, and the mean time per variant;
3. grades them again into a new gradebook, SIGKILLs the run when half the students are in,
   starts it again, and checks: exactly ``--count`` rows, nothing finished graded twice, the
   same scores as the uninterrupted run;
4. with ``--compare``: grades one student of every variant with ``engine.grade`` in this
   process and checks that the batch's result JSON is the same (timings aside).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_submissions  # noqa: E402


def run(folder: Path, out: Path, workers: int, kill_at: int | None = None) -> dict:
    cmd = [sys.executable, "-m", "grader", "batch", "exercise03", str(folder), "--out", str(out),
           "--workers", str(workers), "--no-progress"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    killed_with = None
    if kill_at is not None:
        while proc.poll() is None:
            rows = count(out / "gradebook.sqlite")
            if rows >= kill_at:
                proc.send_signal(signal.SIGKILL)
                killed_with = rows
                break
            time.sleep(0.05)
    stdout, stderr = proc.communicate()
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"wall": wall, "cpu": cpu, "load_before": load, "load_after": os.getloadavg()[0], "code": proc.returncode,
            "stdout": stdout, "stderr": stderr, "killed_with": killed_with}


def count(book: Path) -> int:
    try:
        with sqlite3.connect(book) as db:
            return db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    except sqlite3.Error:
        return 0


def rows(book: Path) -> dict[str, tuple]:
    with sqlite3.connect(book) as db:
        return {s: (status, score, at, dur) for s, status, score, at, dur in
                db.execute("SELECT student, status, score, graded_at, duration FROM submissions")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="write the class and outputs here (kept)")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="batch-measure-"))
    folder = base / "class"
    students = make_submissions.write_set(folder, args.count, "moodle")
    kinds = defaultdict(int)
    for v in students.values():
        kinds[make_submissions.VARIANTS[v].kind] += 1
    print(f"{args.count} submissions in {folder}: " + ", ".join(f"{n} {k}" for k, n in kinds.items()))

    full = run(folder, base / "uninterrupted", args.workers)
    assert full["code"] == 0, full["stderr"]
    graded = rows(base / "uninterrupted" / "gradebook.sqlite")
    rate = args.count / full["wall"] * 60
    print(f"uninterrupted, {args.workers} workers: {full['wall']:.1f} s wall = {rate:.0f} submissions/min; "
          f"grading CPU {full['cpu']:.0f} s ({full['cpu'] / args.count:.2f} s per submission, sandboxed workers "
          f"not counted); load average {full['load_before']:.1f} before, {full['load_after']:.1f} after")
    per_variant = defaultdict(list)
    for sid, (status, score, at, dur) in graded.items():
        per_variant[students[sid]].append(dur)
    for variant, durations in sorted(per_variant.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {variant:38s} {len(durations):3d} × {sum(durations) / len(durations):5.2f} s")

    half = args.count // 2
    killed = run(folder, base / "resumed", args.workers, kill_at=half)
    at_kill = rows(base / "resumed" / "gradebook.sqlite")
    resumed = run(folder, base / "resumed", args.workers)
    assert resumed["code"] == 0, resumed["stderr"]
    final = rows(base / "resumed" / "gradebook.sqlite")
    same_rows = {s: final[s] for s in at_kill} == at_kill
    same_scores = {s: r[1] for s, r in final.items()} == {s: r[1] for s, r in graded.items()}
    print(f"killed (SIGKILL) with {killed['killed_with']} rows after {killed['wall']:.1f} s; the restart graded "
          f"{len(final) - len(at_kill)} in {resumed['wall']:.1f} s: {len(final)} rows (expected {args.count}), "
          f"rows finished before the kill unchanged: {same_rows}, scores as uninterrupted: {same_scores}")
    assert len(final) == args.count and same_rows and same_scores

    if args.compare:
        compare(folder, students, base / "uninterrupted" / "gradebook.sqlite")


def compare(folder: Path, students: dict[str, str], book: Path) -> None:
    from grader.engine import grade

    def canonical(d: dict) -> str:
        d = json.loads(json.dumps(d))
        d.pop("duration", None)
        for c in d["checks"]:
            c.pop("duration", None)
        return json.dumps(d, sort_keys=True)

    with sqlite3.connect(book) as db:
        stored = {s: (f, r) for s, f, r in db.execute("SELECT student, file, result FROM submissions")}
    seen, same = set(), 0
    for sid, variant in students.items():
        if variant in seen or stored[sid][1] is None:
            continue
        seen.add(variant)
        alone = grade("exercise03", folder / stored[sid][0], instructor=True).to_dict()
        ok = canonical(alone) == canonical(json.loads(stored[sid][1]))
        same += ok
        print(f"  {'same' if ok else 'DIFFERENT'}: {variant}")
    print(f"batch JSON equals `grade --instructor` JSON for {same} of {len(seen)} variants")
    assert same == len(seen)


if __name__ == "__main__":
    main()
