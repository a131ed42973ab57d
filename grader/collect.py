"""Find a student's submission and turn it into code cells the worker can run.

A submission is one ``.py`` file or one ``.ipynb`` notebook. Notebooks are run cell by cell
in one namespace (as "Run All" would, but carrying on after a failing cell), with IPython
magics and shell lines neutralised so that plain Python can run them. Windows line endings,
a UTF-8 byte-order mark and tabs are all fine. Nothing here executes student code.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path


class SubmissionError(Exception):
    """The submission cannot be found or read (a usage error: exit status 2)."""


@dataclass
class Cell:
    """A piece of code to run: the whole .py file, or one notebook code cell."""

    code: str
    filename: str  # what tracebacks show, e.g. "exercise03.ipynb, cell 4"
    cell: int | None = None  # 1-based position in the notebook

    def to_wire(self) -> dict:
        return {"code": self.code, "filename": self.filename, "cell": self.cell}


@dataclass
class Source:
    """A submission read from disk."""

    path: Path
    kind: str  # "py" or "ipynb"
    cells: list[Cell]
    sha256: str
    notes: list[str] = field(default_factory=list)  # things the student should know (magics removed …)

    @property
    def text(self) -> str:
        """All code as one module (for static analysis)."""
        return "\n\n".join(c.code for c in self.cells)

    def syntax_errors(self) -> list[str]:
        """Return one line per cell that does not compile (compiling runs nothing)."""
        errors = []
        for c in self.cells:
            try:
                compile(c.code, c.filename, "exec", dont_inherit=True)
            except SyntaxError as e:
                errors.append(f"{c.filename}, line {e.lineno}: SyntaxError: {e.msg}"
                              + (f"\n    {e.text.strip()}" if e.text else ""))
            except ValueError as e:  # e.g. NUL bytes in the source
                errors.append(f"{c.filename}: {e}")
        return errors


def find_submission(exercise_id: str, folder: Path) -> Path:
    """Return the one ``exerciseNN*.py`` or ``exerciseNN*.ipynb`` in ``folder``."""
    candidates = sorted(p for p in folder.glob(f"{exercise_id}*")
                        if p.suffix in (".py", ".ipynb") and p.is_file() and ".ipynb_checkpoints" not in p.parts)
    if not candidates:
        raise SubmissionError(f"no {exercise_id}*.py or {exercise_id}*.ipynb in {folder} — "
                              f"run `grade start {exercise_id}` or pass --submission PATH")
    if len(candidates) > 1:
        exact = [p for p in candidates if p.stem == exercise_id]
        if len(exact) == 1:
            return exact[0]
        names = ", ".join(p.name for p in candidates)
        raise SubmissionError(f"several candidate files for {exercise_id} ({names}) — pick one with --submission PATH")
    return candidates[0]


def read_submission(path: Path) -> Source:
    """Read a ``.py`` or ``.ipynb`` file into cells; raise SubmissionError if impossible."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"submission file not found: {path}")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    notes: list[str] = []
    text = _decode(raw, notes)
    if path.suffix == ".ipynb":
        cells = _notebook_cells(text, path.name, notes)
        return Source(path, "ipynb", cells, digest, notes)
    if path.suffix != ".py":
        raise SubmissionError(f"{path.name}: a submission must be a .py file or a .ipynb notebook")
    return Source(path, "py", [Cell(text, path.name)], digest, notes)


def _decode(raw: bytes, notes: list[str]) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        notes.append("the file is not UTF-8; it was read as Latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


_CELL_MAGICS_KEEP = {"time", "timeit", "capture", "prun", "debug"}  # the cell's code still runs
_LINE_NEUTRAL = re.compile(r"^(\s*)(?:[%!].*|[\w.\[\], ]+\s*=\s*[%!].*|[\w.]+\?\??)$")


def _notebook_cells(text: str, name: str, notes: list[str]) -> list[Cell]:
    try:
        nb = json.loads(text)
        raw_cells = nb["cells"]
    except (ValueError, KeyError, TypeError):
        raise SubmissionError(f"{name} is not a valid Jupyter notebook (could not read its cells)") from None
    cells, neutralised, dropped = [], 0, []
    for index, cell in enumerate(raw_cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        src = src.replace("\r\n", "\n").replace("\r", "\n")
        lines = src.split("\n")
        first = lines[0].strip() if lines else ""
        if first.startswith("%%"):
            magic = first[2:].split()[0] if first[2:].split() else ""
            if magic not in _CELL_MAGICS_KEEP:
                dropped.append(index)
                continue
            lines[0] = ""
        out = []
        for line in lines:
            m = _LINE_NEUTRAL.match(line)
            if m and line.strip():
                out.append(f"{m.group(1)}pass  # (removed: {line.strip()[:60]})")
                neutralised += 1
            else:
                out.append(line)
        cells.append(Cell("\n".join(out), f"{name}, cell {index}", index))
    if neutralised:
        notes.append(f"{neutralised} IPython magic or shell line(s) were skipped")
    if dropped:
        notes.append("cell(s) " + ", ".join(map(str, dropped)) + " use a cell magic (%%…) and were skipped")
    if not cells:
        raise SubmissionError(f"{name} has no code cells")
    return cells
