"""Measure batch grading of a torch exercise with warm parents against fresh workers.

    python tests/batch/measure_warm.py [--count 40] [--workers 2] [--rounds 2] [--exercise exercise02]

Writes ``--count`` submissions of the exercise (the model solution and one-line typical
mistakes of it, dealt out in a fixed order), grades them with ``grade batch`` as it is (each
sandboxed worker forked by a warm parent that imported torch once) and with
``--fresh-workers`` (each worker imports torch itself), alternating which goes first, and
prints both side by side: wall time, submissions per minute, and whether the two gradebooks
hold the same rows (status, score, message and result JSON without timings). (CPU time is not
shown: the sandboxed workers' is not counted by the kernel's accounting of reaped children,
since bubblewrap's and the warm parents' processes reap them.)
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# one-line typical mistakes of exercise02 (tests/checks/test_exercise02.py has them all)
EDITS = {
    "exercise02": [
        ("W = W2 @ W1", "W = W1.T @ W2.T"),
        ("b = W2 @ b1 + b2", "b = b2"),
        ("out[n] = flat[permutation].reshape(images.shape[1:])",
         "out[n] = flat[np.argsort(permutation)].reshape(images.shape[1:])"),
    ],
}


def write_class(folder: Path, exercise: str, count: int) -> None:
    solution = (ROOT / "solutions" / f"{exercise}.py").read_text()
    variants = [solution] + [solution.replace(old, new) for old, new in EDITS.get(exercise, [])]
    for i in range(count):
        student = folder / f"student{i:03d}"
        student.mkdir(parents=True)
        (student / f"{exercise}.py").write_text(variants[i % len(variants)])


def run(exercise: str, folder: Path, out: Path, workers: int, warm: bool) -> dict:
    cmd = [sys.executable, "-m", "grader", "batch", exercise, str(folder), "--out", str(out), "--workers",
           str(workers), "--no-progress", "--no-similarity", *([] if warm else ["--fresh-workers"])]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"grade batch failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return {"wall": wall, "rows": rows(out / "gradebook.sqlite", exercise)}


def rows(book: Path, exercise: str) -> dict[str, tuple]:
    def canonical(text: str | None) -> str:
        if not text:
            return ""
        result = json.loads(text)
        result.pop("duration", None)
        for check in result.get("checks", []):
            check.pop("duration", None)
        return json.dumps(result, sort_keys=True)

    with sqlite3.connect(book) as db:
        return {r[0]: (r[1], r[2], r[3], canonical(r[4])) for r in db.execute(
            "SELECT student, status, score, message, result FROM submissions WHERE exercise = ?", (exercise,))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--exercise", default="exercise02")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="measure-warm-") as tmp:
        folder = Path(tmp) / "class"
        write_class(folder, args.exercise, args.count)
        results: dict[str, list[dict]] = {"warm parents": [], "fresh workers": []}
        for r in range(args.rounds):
            order = [True, False] if r % 2 == 0 else [False, True]
            for warm in order:
                name = "warm parents" if warm else "fresh workers"
                results[name].append(run(args.exercise, folder, Path(tmp) / f"out-{r}-{name[0]}", args.workers, warm))
        print(f"{args.count} {args.exercise} submissions, --workers {args.workers}, {args.rounds} rounds "
              "(alternating order)")
        print(f"{'':16}{'wall s':>24}{'subs/min':>12}")
        for name, runs in results.items():
            walls = " / ".join(f"{x['wall']:.1f}" for x in runs)
            best = min(x["wall"] for x in runs)
            print(f"{name:16}{walls:>24}{60 * args.count / best:>12.1f}")
        warm_wall = min(x["wall"] for x in results["warm parents"])
        fresh_wall = min(x["wall"] for x in results["fresh workers"])
        print(f"warm / fresh wall time: {warm_wall / fresh_wall:.2f}")
        reference = results["fresh workers"][0]["rows"]
        same = all(run["rows"] == reference for runs in results.values() for run in runs)
        scores: dict = {}
        for status, score, _, _ in reference.values():
            scores[(status, score)] = scores.get((status, score), 0) + 1
        print(f"gradebook rows identical in every run: {same} ({len(reference)} rows; status, score: "
              + ", ".join(f"{s} {sc}: {n}" for (s, sc), n in sorted(scores.items(), key=str)) + ")")
        if not same:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
