"""Write the student files in exercises/ from the model solutions in solutions/.

Each exercise is written once, as a solution with markers (the Otter-Grader convention):

- ``# BEGIN SOLUTION`` … ``# END SOLUTION``: the block becomes ``raise NotImplementedError``
  at the block's indentation (``# BEGIN SOLUTION NO PROMPT`` drops the block without a trace);
- a line ending in ``# SOLUTION``: ``x = <expr>  # SOLUTION`` becomes ``x = ...``, any other
  such line becomes ``...``;
- ``# BEGIN PROMPT`` … ``# END PROMPT``: commented-out lines that the student should see as
  code; the markers go and the lines are uncommented.

Everything else (imports, docstrings with the task text, helpers) is kept as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

_BEGIN = re.compile(r"^(\s*)#\s*BEGIN SOLUTION(\s+NO PROMPT)?\s*$")
_END = re.compile(r"^\s*#\s*END SOLUTION\s*$")
_PROMPT_BEGIN = re.compile(r"^\s*#\s*BEGIN PROMPT\s*$")
_PROMPT_END = re.compile(r"^\s*#\s*END PROMPT\s*$")
_LINE = re.compile(r"^(\s*)(.*?)\s*#\s*SOLUTION\s*$")
_ASSIGN = re.compile(r"^([A-Za-z_][\w\s,.\[\]]*?)\s*(=|\+=|-=|\*=|/=)\s*(?!=)")


class MarkerError(ValueError):
    """A solution file whose markers do not pair up."""


def release_source(source: str, name: str = "<solution>") -> str:
    """Return the student version of a solution's source text."""
    out: list[str] = []
    in_solution = in_prompt = False
    for lineno, line in enumerate(source.splitlines(), start=1):
        if m := _BEGIN.match(line):
            if in_solution or in_prompt:
                raise MarkerError(f"{name}:{lineno}: BEGIN SOLUTION inside another block")
            in_solution = True
            if not m.group(2):
                out.append(f"{m.group(1)}raise NotImplementedError")
        elif _END.match(line):
            if not in_solution:
                raise MarkerError(f"{name}:{lineno}: END SOLUTION without BEGIN SOLUTION")
            in_solution = False
        elif in_solution:
            continue
        elif _PROMPT_BEGIN.match(line):
            if in_prompt:
                raise MarkerError(f"{name}:{lineno}: BEGIN PROMPT inside a prompt")
            in_prompt = True
        elif _PROMPT_END.match(line):
            if not in_prompt:
                raise MarkerError(f"{name}:{lineno}: END PROMPT without BEGIN PROMPT")
            in_prompt = False
        elif in_prompt:
            out.append(re.sub(r"^(\s*)# ?", r"\1", line, count=1))
        elif m := _LINE.match(line):
            indent, code = m.groups()
            assign = _ASSIGN.match(code)
            out.append(f"{indent}{assign.group(1)} {assign.group(2)} ..." if assign else f"{indent}...")
        else:
            out.append(line)
    if in_solution or in_prompt:
        raise MarkerError(f"{name}: a BEGIN marker is never closed")
    return "\n".join(out) + "\n"


def release(solutions: Path, exercises: Path, *, check: bool = False) -> list[Path]:
    """Write (or with ``check``, compare) every exercise file; return the files out of date."""
    stale = []
    for src in sorted(solutions.glob("exercise*.py")):
        text = release_source(src.read_text(encoding="utf-8"), name=str(src))
        dst = exercises / src.name
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            stale.append(dst)
            if not check:
                dst.write_text(text, encoding="utf-8")
    return stale


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    for path in release(root / "solutions", root / "exercises"):
        print(f"wrote {path}")
