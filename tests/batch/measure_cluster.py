"""Measure ``grade batch --scheduler`` against the local run on the same class, side by side.

    python tests/batch/measure_cluster.py [--count 200] [--workers 2] [--rounds 2]

Writes ``--count`` exercise03 submissions (``make_submissions.MIX``), starts a ``dask scheduler``
and ``--workers`` ``dask worker`` commands (one thread each) on this machine, then grades the
class ``--rounds`` times each way, in the order local, Dask, Dask, local, … so that a drift of
the machine's speed falls on both alike: wall time and submissions per minute of every run,
and whether the gradebooks agree row by row (status, score, message and the result JSON
without its timings).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_submissions  # noqa: E402


def rows(book: Path) -> dict:
    with sqlite3.connect(book) as db:
        out = {}
        for student, status, score, message, result in db.execute(
                "SELECT student, status, score, message, result FROM submissions"):
            r = json.loads(result) if result else None
            if r:
                r.pop("duration", None)
                for c in r.get("checks", []):
                    c.pop("duration", None)
            out[student] = (status, score, message, json.dumps(r, sort_keys=True))
        return out


def grade(folder: Path, out: Path, *args: str) -> float:
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "grader", "batch", "exercise03", str(folder), "--out", str(out),
                    "--no-progress", "--no-similarity", *args], check=True, capture_output=True)
    return time.monotonic() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="measure-cluster-"))
    folder = tmp / "class"
    make_submissions.write_set(folder, args.count, "moodle")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    procs += [subprocess.Popen([*dask, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
              for _ in range(args.workers)]
    try:
        code = (f"from distributed import Client\nwith Client({address!r}) as c:\n"
                f"    c.wait_for_workers({args.workers}, timeout=120)")
        subprocess.run([sys.executable, "-c", code], check=True)
        order = [("local", ["--workers", str(args.workers)]), ("dask", ["--scheduler", address])]
        times: dict[str, list[float]] = {"local": [], "dask": []}
        books: dict[str, Path] = {}
        for r in range(args.rounds):
            for name, extra in (order if r % 2 == 0 else order[::-1]):
                out = tmp / f"{name}-{r}"
                times[name].append(grade(folder, out, *extra))
                books.setdefault(name, out / "gradebook.sqlite")
        a, b = rows(books["local"]), rows(books["dask"])
        same = sum(a[s] == b.get(s) for s in a)
        print(f"{args.count} submissions, {args.workers} workers, {args.rounds} rounds (load average at the end: "
              f"{os.getloadavg()[0]:.2f})")
        for name, ts in times.items():
            print(f"  {name:5s}: " + ", ".join(f"{t:.1f} s ({args.count / t * 60:.0f}/min)" for t in ts))
        ratio = (sum(times["dask"]) / len(times["dask"])) / (sum(times["local"]) / len(times["local"]))
        print(f"  dask / local wall time: {ratio:.2f}")
        print(f"  gradebook rows identical: {same} of {len(a)} (dask has {len(b)})")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


if __name__ == "__main__":
    main()
