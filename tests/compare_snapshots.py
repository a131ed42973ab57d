"""Compare two folders of graded results written with ``GRADER_SNAPSHOT_DIR`` (tests/conftest.py).

    GRADER_SNAPSHOT_DIR=/tmp/before python -m pytest tests/checks      # on the old commit
    GRADER_SNAPSHOT_DIR=/tmp/after python -m pytest tests/checks       # on the new one
    python tests/compare_snapshots.py /tmp/before /tmp/after

Prints how many gradings are identical (timings and the grader's version aside), and for
each that is not, the test and the first differing lines; exits 1 if any differs or is missing.
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path


def load(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def main() -> int:
    before, after = (load(Path(a)) for a in sys.argv[1:3])
    same, differ = 0, []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is not None and b is not None and a == b:
            same += 1
            continue
        differ.append(name)
        test = (a or b)["test"]
        if a is None or b is None:
            print(f"only {'after' if a is None else 'before'}: {test}")
            continue
        lines = difflib.unified_diff(json.dumps(a, indent=1, sort_keys=True).splitlines(),
                                     json.dumps(b, indent=1, sort_keys=True).splitlines(), lineterm="", n=1)
        print(f"DIFFERENT: {test} #{a['index']}\n  " + "\n  ".join(list(lines)[2:14]))
    print(f"{same} of {same + len(differ)} gradings identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
