"""Compare two folders of graded results written with ``GRADER_SNAPSHOT_DIR`` (tests/conftest.py).

    GRADER_SNAPSHOT_DIR=/tmp/before python -m pytest tests/checks      # on the old commit
    GRADER_SNAPSHOT_DIR=/tmp/after python -m pytest tests/checks       # on the new one
    python tests/compare_snapshots.py /tmp/before /tmp/after [--noise /tmp/before-again]

Prints how many gradings are identical (timings, the grader's version and pytest's temporary
folders aside), and for each that is not, the test and the first differing lines; exits 1 if
any differs. ``--noise`` is a second run of the old commit: a grading that differs between two
runs of the same code (a submission that ignores the seeded generator it is given draws
different numbers every time, by design) is counted apart, not as a difference. Gradings of
tests that exist on one side only are listed and not counted.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

TMP = re.compile(r"/tmp/pytest-of-[^/]+/pytest-\d+/")


def load(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads(TMP.sub("<tmp>/", p.read_text())) for p in sorted(folder.glob("*.json"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--noise", type=Path, default=None, help="a second run of the old commit")
    args = parser.parse_args()
    before, after = load(args.before), load(args.after)
    again = load(args.noise) if args.noise else {}
    same, differ, noisy = 0, [], []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is None or b is None:
            print(f"only {'after' if a is None else 'before'}: {(a or b)['test']}")
            continue
        if a == b:
            same += 1
            continue
        if name in again and again[name] != a:
            noisy.append(a["test"])
            continue
        differ.append(name)
        test = a["test"]
        lines = difflib.unified_diff(json.dumps(a, indent=1, sort_keys=True).splitlines(),
                                     json.dumps(b, indent=1, sort_keys=True).splitlines(), lineterm="", n=1)
        print(f"DIFFERENT: {test} #{a['index']}\n  " + "\n  ".join(list(lines)[2:14]))
    for test in noisy:
        print(f"differs between two runs of the old commit too: {test}")
    print(f"{same} of {same + len(differ)} gradings identical" + (f"; {len(noisy)} not reproducible on the old "
                                                                   "commit either" if noisy else ""))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
