"""Find a student's submission and turn it into code cells the worker can run.

A submission is one ``.py`` file or one ``.ipynb`` notebook, found in a folder by one rule
for ``grade EXERCISE`` and ``grade batch`` (``best_candidates``). Notebooks are read by
nbformat (any version) and run cell by cell in one namespace (as "Run All" would, but
carrying on after a failing cell); IPython's own input transformers turn each cell into
Python, and its magics and shell lines are then neutralised. Windows line endings, tabs,
UTF-8 with or without a byte-order mark and UTF-16 with one are all fine; other encodings
are a one-line error. Nothing here executes student code.

Everything a student hands in is read as a regular file only, and only after copying it into
a private staging folder (``staged``): a symbolic link beside the submission may point at a
classmate's weights or at ``/etc/passwd``, a FIFO would block the grader, ``/dev/zero`` never
ends, and a file of gigabytes would fill memory or disk. Each file and a student's total are
size-capped.
"""

from __future__ import annotations

import ast
import codecs
import errno
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import stat
import tempfile
import tokenize
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

if TYPE_CHECKING:
    from .registry import ExerciseInfo

MAX_SOURCE_BYTES = 20 << 20  # a .py or .ipynb read into memory (a notebook's size is mostly its outputs)
MAX_FILE_BYTES = 64 << 20  # any file handed in (exercise11's weights are ~5 MB; its check allows 64 MB)
MAX_TOTAL_BYTES = 256 << 20  # everything one student hands in
STAGING_PREFIX = "grade-staged-"


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
            except (ValueError, MemoryError, RecursionError) as e:  # NUL bytes; nested too deeply for the parser
                errors.append(f"{c.filename}: {e if isinstance(e, ValueError) else 'nested too deeply to compile'}")
        return errors


CODE_SUFFIXES = (".py", ".ipynb")
EXERCISE_WORDS = r"(?:exercises?|excercise|exercice|ex|exc|ue|uebung|übung|aufgabe|blatt|sheet|hw|homework|" \
                 r"assignment|lab|task|tp|a)"


def exercise_rank(path: Path, exercise: ExerciseInfo) -> int:
    """0: named exactly like the exercise; 1: its id, number or an alias in the name; 2: other."""
    stem = path.stem.lower()
    if stem == exercise.id:
        return 0
    number = int(re.sub(r"\D", "", exercise.id) or -1)
    flat = re.sub(r"[\s_\-.()]+", " ", stem)
    if exercise.id in stem.replace(" ", "").replace("_", "") \
            or re.search(rf"(?:^|[^a-z]){EXERCISE_WORDS} ?0*{number}(?!\d)", flat) \
            or re.fullmatch(rf"0*{number}", flat.strip()) \
            or any(re.search(rf"(?:^|[^a-z]){re.escape(a)}", flat) for a in exercise.aliases):
        return 1
    return 2


def best_candidates(files: Iterable[Path], exercise: ExerciseInfo, *, named: bool = False) -> list[Path]:
    """The ``.py`` and ``.ipynb`` files among ``files`` that could be ``exercise``: those named most
    like it (``exercise_rank``), sorted by name. One file is the submission; several are for
    the student to settle. With ``named`` a file must be named like the exercise (a working
    folder holds other exercises too); else any is a candidate (a student's own folder)."""
    code = [f for f in files if f.suffix.lower() in CODE_SUFFIXES]
    ranks = {f: exercise_rank(f, exercise) for f in code}
    best = min((r for r in ranks.values() if r < 2 or not named), default=None)
    return sorted((f for f, r in ranks.items() if r == best), key=lambda f: f.name)


def find_submission(exercise: str | ExerciseInfo, folder: Path) -> Path:
    """Return the file in ``folder`` that ``grade EXERCISE`` grades: the one named most like the
    exercise (``exercise03.py``, else ``Exercise 3.ipynb``, ``ex3.py``, ``convolution.py``), by
    the rule ``grade batch`` applies to a student's folder. None or several: SubmissionError."""
    if isinstance(exercise, str):
        from .registry import find_exercise

        exercise = find_exercise(exercise)
    name = exercise.id
    files = [p for p in Path(folder).iterdir() if not p.name.startswith(".") and p.is_file()] \
        if Path(folder).is_dir() else []
    chosen = best_candidates(files, exercise, named=True)
    if not chosen:
        raise SubmissionError(f"no {name}.py or {name}.ipynb (nor a file named like {name}) in {folder} — "
                              f"run `grade start {name}` or pass --submission PATH")
    if len(chosen) > 1:
        raise SubmissionError(f"several candidate files could be {name}: {', '.join(p.name for p in chosen)} — "
                              "pick one with --submission PATH")
    return chosen[0]


def read_submission(path: Path) -> Source:
    """Read a ``.py`` or ``.ipynb`` file into cells; raise SubmissionError if impossible.

    Only a regular file of at most MAX_SOURCE_BYTES is read (its size is checked before reading).
    """
    path = Path(path)
    raw = read_regular(path, MAX_SOURCE_BYTES, what="submission file")
    digest = hashlib.sha256(raw).hexdigest()
    notes: list[str] = []
    text = _decode(raw, path.name, cookie=path.suffix == ".py")
    if path.suffix == ".ipynb":
        cells = _notebook_cells(text, path.name, notes)
        return Source(path, "ipynb", cells, digest, notes)
    if path.suffix != ".py":
        raise SubmissionError(f"{path.name}: a submission must be a .py file or a .ipynb notebook")
    return Source(path, "py", [Cell(text, path.name)], digest, notes)


# --------------------------------------------------------------------------- regular files only


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, for a message (from ``os.lstat``'s mode)."""
    kinds = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    return next((text for test, text in kinds if test(mode)), "not a regular file")


def size_text(size: int) -> str:
    """A size for a message: "600 bytes", "5.1 MB", "300 MB"."""
    if size < 1 << 20:
        return f"{size:,} bytes"
    return f"{size / (1 << 20):,.{0 if size >= 10 << 20 else 1}f} MB"


def open_regular(path: Path, max_bytes: int, *, what: str = "file") -> int:
    """Open ``path`` for reading if it is a regular file of at most ``max_bytes``; return the fd.

    The name is looked at with ``lstat`` first (a link, FIFO, socket or device is never
    opened), opened with O_NOFOLLOW and O_NONBLOCK (a file swapped for a link or a FIFO in
    between neither leads elsewhere nor blocks) and checked again with ``fstat``. Raises
    SubmissionError saying what the file is instead.
    """
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise SubmissionError(f"{what} not found: {path}") from None
    if not stat.S_ISREG(mode):
        raise SubmissionError(f"{path.name} is {kind_of(mode)}, not a regular file")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        why = "a symbolic link, not a regular file" if e.errno == errno.ELOOP else f"unreadable ({e.strerror})"
        raise SubmissionError(f"{path.name} is {why}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
        os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(f"{path.name} is {kind_of(info.st_mode)}, not a regular file")
        raise SubmissionError(_too_large(path, info.st_size, max_bytes, what))
    return fd


def _too_large(path: Path, size: int | None, max_bytes: int, what: str) -> str:
    hint = " — clear the notebook's outputs, save it and hand it in again" if path.suffix == ".ipynb" else ""
    how_big = f"is {size_text(size)}" if size is not None else "grew while it was read"
    return f"{path.name} {how_big}, more than the {size_text(max_bytes)} a {what} may have{hint}"


def read_chunks(path: Path, max_bytes: int, *, what: str = "file") -> Iterator[bytes]:
    """The bytes of ``path``, a regular file of at most ``max_bytes`` (see ``open_regular``), in
    chunks of 1 MiB; SubmissionError when it grows beyond ``max_bytes`` while it is read."""
    fd = open_regular(path, max_bytes, what=what)
    try:
        total = 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > max_bytes:
                raise SubmissionError(_too_large(path, None, max_bytes, what))
            yield chunk
    finally:
        os.close(fd)


def read_regular(path: Path, max_bytes: int, *, what: str = "file") -> bytes:
    """Return the bytes of ``path``, a regular file of at most ``max_bytes`` (see ``open_regular``)."""
    return b"".join(read_chunks(path, max_bytes, what=what))


def copy_regular(path: Path, dest: Path, max_bytes: int, *, what: str = "file") -> int:
    """Copy the regular file ``path`` to the new file ``dest`` (mode 0600); return its size.

    Raises SubmissionError (and leaves no ``dest``) when ``path`` is no regular file or is
    larger than ``max_bytes``: at most ``max_bytes`` are ever written.
    """
    chunks = read_chunks(path, max_bytes, what=what)
    size = 0
    try:
        first = next(chunks, b"")  # the source is opened and checked before ``dest`` exists
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            with open(out, "wb") as f:
                for chunk in itertools.chain([first], chunks):
                    f.write(chunk)
                    size += len(chunk)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
    finally:
        chunks.close()
    return size


def stage(files: Iterable[Path], into: Path, *, max_file_bytes: int = MAX_FILE_BYTES,
          max_total_bytes: int = MAX_TOTAL_BYTES, notes: list[str] | None = None) -> list[Path]:
    """Copy the regular ones of ``files`` into the folder ``into`` (made with mode 0700) under
    their own names; return the copies. Everything else is left aside with a line in ``notes``:
    a link, FIFO, socket, device or folder, a file over ``max_file_bytes``, what no longer fits
    in ``max_total_bytes``, a second file of the same name.
    """
    notes = [] if notes is None else notes
    into.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged: list[Path] = []
    total = 0
    for path in files:
        dest = into / path.name
        if dest in staged:
            notes.append(f"{path.name}: a second file of that name, not read")
            continue
        room = max_total_bytes - total
        try:
            info = os.lstat(path)
        except OSError:
            info = None  # copy_regular says what is wrong
        if info is not None and stat.S_ISREG(info.st_mode) and max_file_bytes >= info.st_size > room:
            notes.append(f"{path.name} ({size_text(info.st_size)}) does not fit in the {size_text(max_total_bytes)} "
                         "all files together may have: not read")
            continue
        try:
            total += copy_regular(path, dest, min(max_file_bytes, room))
        except SubmissionError as e:
            notes.append(f"{e}: not read")
            continue
        staged.append(dest)
    return staged


def companions(path: Path, stems: Iterable[str] = ()) -> list[Path]:
    """The other entries beside ``path`` named like it or like one of ``stems`` (exercise11's
    weights: ``exercise11.safetensors`` beside ``exercise11.py``), of whatever type: ``stage``
    copies the regular files among them and says what it left aside."""
    wanted = {path.stem, *stems}
    with os.scandir(path.parent) as entries:
        return sorted(path.parent / e.name for e in entries if e.name != path.name and Path(e.name).stem in wanted)


@contextmanager
def staged(path: Path, *, stems: Iterable[str] = (), parent: Path | None = None) -> Iterator[Source]:
    """Copy the submission ``path`` and its ``companions`` into a new private folder (in
    ``parent``, else the system's temporary folder) and yield the copy, read; the folder is
    removed afterwards. Nothing the student controls is followed or read in place: the
    checks see only the copies (``Source.path`` is the copy, under the student's file name).
    """
    path = Path(path)
    folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
    try:
        size = copy_regular(path, folder / path.name, MAX_SOURCE_BYTES, what="submission file")
        notes: list[str] = []
        stage(companions(path, stems), folder, max_total_bytes=MAX_TOTAL_BYTES - size, notes=notes)
        source = read_submission(folder / path.name)
        source.notes += notes
        yield source
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- text and notebooks


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # UTF-32's LE mark starts like UTF-16's


def _decode(raw: bytes, name: str, *, cookie: bool = False) -> str:
    """The text of a file: UTF-8 (with or without a byte-order mark), or UTF-16 or UTF-32 with
    one (Windows editors save so), or with ``cookie`` the encoding a Python file declares in
    its first lines (``# -*- coding: latin-1 -*-``, PEP 263); anything else is a one-line
    SubmissionError. Line endings become ``\n``."""
    encoding = next((enc for bom, enc in _BOMS if raw.startswith(bom)), None)
    try:
        if encoding is None:
            encoding = tokenize.detect_encoding(io.BytesIO(raw).readline)[0] if cookie else "utf-8"
        text = raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):  # a declared encoding Python does not know; bad bytes
        text = None
    if text is None or "\0" in text:  # NUL bytes: UTF-16 without a mark, or no text at all
        raise SubmissionError(f"{name} is not UTF-8 text: save it as UTF-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


NOTEBOOK_MODULES = ("IPython.core.inputtransformer2", "nbformat")  # imported only to read a notebook (~0.25 s)
_CELL_MAGICS_KEEP = {"time", "timeit", "capture", "prun", "debug"}  # the cell's code still runs
_IPYTHON_CALLS = {"run_line_magic": "%", "system": "!", "getoutput": "!!", "magic": "%"}
# Lines IPython's transformers may change: an escape (%magic, !shell, ?help, /autocall, ,;) or a
# prompt (>>>, In [1]:) at the start, x = %magic or x = !shell, a ? anywhere (help: obj?).
_TRANSFORMABLE = re.compile(r"^[ \t]*(?:[%!?/,;]|>>>|\.\.\.|In \[)|=[ \t]*[%!]|\?", re.M)
_ESCAPES = re.compile(r"^[ \t]*[%!?/,;]|=[ \t]*[%!]|\?[ \t]*$", re.M)  # each is one pass of IPython's over the cell
TRANSFORM_LIMIT = 500  # more, and IPython gives up on the cell (TRANSFORM_LOOP_LIMIT): Jupyter cannot run it either


def _notebook_cells(text: str, name: str, notes: list[str]) -> list[Cell]:
    """The code cells of a notebook, turned into plain Python by IPython's own input
    transformers (as Jupyter does before running a cell): a magic or shell line becomes
    ``pass`` (inside an expression: ``None``), a cell magic other than ``%%time`` and its
    like drops the cell. The transformers tokenize the cell, so a continuation line that
    starts with ``%`` or ``!=`` stays Python."""
    cells, neutralised, dropped = [], 0, []
    for index, cell_type, src in _notebook_sources(text, name):
        if cell_type != "code":
            continue
        code, count = _plain_python(src.replace("\r\n", "\n").replace("\r", "\n"))
        if code is None:
            dropped.append(index)
            continue
        neutralised += count
        cells.append(Cell(code, f"{name}, cell {index}", index))
    if neutralised:
        notes.append(f"{neutralised} IPython magic or shell line(s) were skipped")
    if dropped:
        notes.append("cell(s) " + ", ".join(map(str, dropped)) + " use a cell magic (%%…) and were skipped")
    if not cells:
        raise SubmissionError(f"{name} has no code cells")
    return cells


def _plain_python(src: str, depth: int = 0) -> tuple[str | None, int]:
    """A cell's code as plain Python and how many magic or shell lines were neutralised; None
    for a cell whose cell magic does not run its code (``%%bash``). Line numbers stay."""
    lines = src.split("\n")
    blank = next((i for i, line in enumerate(lines) if line.strip()), len(lines))  # IPython drops them: kept here
    cell = "\n".join(lines[blank:])
    if not (_TRANSFORMABLE.search(cell) or cell[:1] in (" ", "\t")) or len(_ESCAPES.findall(cell)) > TRANSFORM_LIMIT:
        return src, 0  # nothing IPython would change (fast for a long cell), or more than it would
    from IPython.core.inputtransformer2 import TransformerManager  # see NOTEBOOK_MODULES

    try:
        code = TransformerManager().transform_cell(cell)
    except Exception:  # IPython gave up on it (a tokenize error): Python reports what is wrong
        return src, 0
    tree = _parse(code)
    if tree is None:
        return "\n" * blank + code, 0
    if len(tree.body) == 1 and (magic := _ipython_call(tree.body[0])) and magic[0] == "run_cell_magic":
        if _arg(magic[1], 0) not in _CELL_MAGICS_KEEP or depth >= 10:
            return None, 0
        body, count = _plain_python(_arg(magic[1], 2), depth + 1)
        return (None, 0) if body is None else ("\n" * (blank + 1) + body, count)  # the %%time line: blank now
    code, count = _neutralise(code, tree)
    return "\n" * blank + code, count


def _parse(code: str):
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # compiled again later, with the message
        return None


def _ipython_call(node: ast.AST) -> tuple[str, list[ast.expr]] | None:
    """``("system", args)`` for ``get_ipython().system(...)`` and its like (the call itself, or
    a statement that is only the call), else None."""
    call = node.value if isinstance(node, ast.Expr) else node
    if isinstance(call, ast.Call) and isinstance(func := call.func, ast.Attribute) \
            and isinstance(owner := func.value, ast.Call) and isinstance(owner.func, ast.Name) \
            and owner.func.id == "get_ipython" and not owner.args \
            and (func.attr in _IPYTHON_CALLS or func.attr == "run_cell_magic"):
        return func.attr, call.args
    return None


def _arg(args: list[ast.expr], i: int) -> str:
    return str(args[i].value) if len(args) > i and isinstance(args[i], ast.Constant) else ""


def _neutralise(code: str, tree: ast.Module) -> tuple[str, int]:
    """Replace each IPython call in ``code`` by ``pass  # (removed: %magic …)`` when it is a
    statement of its own on its line, else (``x = !ls``) by ``None``; line numbers stay."""
    lines = code.split("\n")
    edits = {}  # the call's id: (line, column, end line, end column, replacement); columns in UTF-8 bytes, as ast's
    for node in ast.walk(tree):
        found = _ipython_call(node)
        if found is None or found[0] not in _IPYTHON_CALLS:
            continue
        if isinstance(node, ast.Expr):
            if lines[node.lineno - 1].encode()[:node.col_offset].strip() \
                    or lines[node.end_lineno - 1].encode()[node.end_col_offset:].strip():
                continue  # another statement on its line: the call alone becomes None
            shown = " ".join((_IPYTHON_CALLS[found[0]] + " ".join(_arg(found[1], i) for i in range(len(found[1])))).split())
            edits[id(node.value)] = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset,
                                     f"pass  # (removed: {shown[:60]})")
        else:
            edits.setdefault(id(node), (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, "None"))
    for first, col, last, end_col, new in sorted(edits.values(), reverse=True):  # right to left
        head, tail = lines[first - 1].encode()[:col].decode(), lines[last - 1].encode()[end_col:].decode()
        lines[first - 1:last] = [head + new + tail] + [""] * (last - first)
    return "\n".join(lines), len(edits)


NOT_A_NOTEBOOK = "is not a valid Jupyter notebook"
SAVE_AGAIN = "hand in the .ipynb file as Jupyter saves it"


def _notebook_sources(text: str, name: str) -> list[tuple[int, str, str]]:
    """(number, cell type, source) of each cell of a notebook, read by nbformat and converted
    to nbformat 4 as Jupyter opens it (nbformat 2's and 3's worksheets too).

    Our own reading comes first, for its one-line messages (where the JSON is broken, which
    cell is no cell) and for a notebook nbformat cannot convert although its cells are
    clear (hand-made, without ``metadata``): its cells are then read as they are. nbformat's
    validation is left out: Jupyter opens a notebook it warns about, and so do we.
    """
    nb, raw = _raw_cells(text, name)
    cells = [(i, c.get("cell_type"), _cell_source(c, f"{name}, cell {i}") if c.get("cell_type") == "code" else "")
             for i, c in enumerate(raw, start=1)]
    converted = _nbformat_cells(nb)
    if converted is None or len(converted) != len(cells):
        return cells
    return [(i, cell_type, src if cell_type == "code" else "") for i, (cell_type, src) in enumerate(converted, start=1)]


def _nbformat_cells(nb: dict) -> list[tuple[str, str]] | None:
    """(cell type, source) of each cell, as nbformat converts the notebook to version 4 (what
    ``nbformat.reads(text, as_version=4)`` does, from the parsed JSON); None when it cannot."""
    import warnings

    import nbformat  # see NOTEBOOK_MODULES

    major = nb.get("nbformat")
    if type(major) is not int or major not in nbformat.versions:
        major = 4 if isinstance(nb.get("cells"), list) else 3
    minor = nb.get("nbformat_minor") if type(nb.get("nbformat_minor")) is int else 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            node = nbformat.versions[major].to_notebook_json(dict(nb, nbformat=major, nbformat_minor=minor), minor=minor)
            node = nbformat.convert(node, 4)
            out = [(cell.get("cell_type"), cell.get("source", "")) for cell in node.cells]
    except Exception:  # a notebook nbformat cannot convert (its own errors, KeyError, AttributeError …)
        return None
    return out if all(isinstance(src, str) for _, src in out) else None


def _raw_cells(text: str, name: str) -> tuple[dict, list[dict]]:
    """The notebook and its cells as JSON objects: nbformat 4's ``cells``, or the ``cells`` of
    nbformat 3's ``worksheets``. Anything Jupyter could not open either is a one-line
    SubmissionError."""
    try:
        nb = json.loads(text)
    except ValueError as e:
        where = f" at line {e.lineno}, column {e.colno}" if isinstance(e, json.JSONDecodeError) else ""
        raise SubmissionError(f"{name} {NOT_A_NOTEBOOK}: its JSON is broken{where} — {SAVE_AGAIN}") from None
    except RecursionError:
        raise SubmissionError(f"{name} {NOT_A_NOTEBOOK}: its JSON is nested too deeply — {SAVE_AGAIN}") from None
    if isinstance(nb, dict) and isinstance(nb.get("cells"), list):
        cells = nb["cells"]
    elif isinstance(nb, dict) and isinstance(nb.get("worksheets"), list):  # nbformat 3
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) and isinstance(ws.get("cells"), list)
                 for c in ws["cells"]]
    else:
        raise SubmissionError(f"{name} {NOT_A_NOTEBOOK} (could not read its cells)")
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise SubmissionError(f"{name} {NOT_A_NOTEBOOK}: cell {index} is {_json_type(cell)}, not a cell — "
                                  f"{SAVE_AGAIN}")
    return nb, cells


def _cell_source(cell: dict, where: str) -> str:
    """A code cell's text: a string or a list of strings (nbformat 3 calls it ``input``)."""
    src = cell.get("source", cell.get("input", ""))
    if isinstance(src, list) and all(isinstance(line, str) for line in src):
        return "".join(src)
    if not isinstance(src, str):
        raise SubmissionError(f"{where}: its source is {_json_type(src)}, not text — {SAVE_AGAIN}")
    return src


def _json_type(value) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true or false", int: "a number",
             float: "a number", type(None): "null"}
    if isinstance(value, list):
        odd = [v for v in value if not isinstance(v, str)]
        return f"a list with {_json_type(odd[0])} in it" if odd else "a list"
    return names.get(type(value), type(value).__name__)
