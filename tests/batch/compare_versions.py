"""Measure this checkout's grading speed beside an earlier commit's, on the same machine, in turns.

    python tests/batch/compare_versions.py --baseline 4975025 [--runs 8] [--count 200] [--rounds 2]

1. latency: ``grade exercise03 --submission F`` for the model solution and for a typical
   bug (the flipped kernel), the two versions taking turns, ``--runs`` times each: median
   wall time per version and their ratio;
2. throughput: ``grade batch exercise03`` on one generated class of ``--count``
   submissions (Moodle layout, ``make_submissions.MIX``) with 2 workers, taking turns,
   ``--rounds`` times each: submissions per minute per version and their ratio.

Each version runs as ``python -m grader`` from its own checkout (the baseline as a git
worktree in a temporary folder), so both use this interpreter and its packages. Taking
turns spreads the machine's drift over both; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import make_submissions  # noqa: E402


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} in {cwd} exited with {proc.returncode}: {proc.stderr[-500:]}")
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="the git commit to compare with")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="compare-versions-"))
    old = base / "baseline"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.baseline], check=True,
                   capture_output=True)
    trees = {"baseline": old, "this checkout": ROOT}
    try:
        solution = (ROOT / "solutions" / "exercise03.py").read_text(encoding="utf-8")
        files = {"solution": base / "solution" / "exercise03.py", "kernel flipped": base / "flipped" / "exercise03.py"}
        files["solution"].parent.mkdir()
        files["solution"].write_text(solution)
        files["kernel flipped"].parent.mkdir()
        files["kernel flipped"].write_text(make_submissions._edit(solution, make_submissions.KERNEL_FLIPPED))
        for what, path in files.items():
            times = {name: [] for name in trees}
            for _ in range(args.runs):
                for name, tree in trees.items():
                    times[name].append(timed([sys.executable, "-m", "grader", "exercise03", "--submission", str(path),
                                              "--format", "json"], tree))
            medians = {name: statistics.median(t) for name, t in times.items()}
            print(f"grade exercise03, {what}: " + ", ".join(f"{n} {m:.2f} s" for n, m in medians.items())
                  + f" (median of {args.runs}); ratio {medians['this checkout'] / medians['baseline']:.2f}")
        folder = base / "class"
        make_submissions.write_set(folder, args.count, "moodle")
        rates = {name: [] for name in trees}
        for r in range(args.rounds):
            for name, tree in trees.items():
                out = base / f"graded-{name.replace(' ', '-')}-{r}"
                wall = timed([sys.executable, "-m", "grader", "batch", "exercise03", str(folder), "--out", str(out),
                              "--workers", "2", "--no-progress"], tree)
                rates[name].append(args.count / wall * 60)
        per = {name: statistics.mean(v) for name, v in rates.items()}
        print(f"grade batch exercise03, {args.count} submissions, 2 workers: "
              + ", ".join(f"{n} {' / '.join(f'{x:.0f}' for x in rates[n])} per min" for n in trees)
              + f"; ratio {per['this checkout'] / per['baseline']:.2f}")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], capture_output=True)


if __name__ == "__main__":
    main()
