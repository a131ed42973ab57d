"""Write a class's worth of exercise03 submissions for batch grading: tests and measurements.

    python tests/batch/make_submissions.py OUT [--count 200] [--layout moodle|folders|flat] [--zip]

Every submission is one of ``VARIANTS``: the model solution or a one- or two-line edit of it
with a typical mistake (stride ignored, kernel flipped, padding on one side, channels not
summed, pooling stride 1, …), the same in other styles (vectorised with
``sliding_window_view``, a Jupyter notebook, Windows line endings with a byte-order mark),
submissions that crash, hang, break the "by hand" rule or are not implemented, and folders
where no file or several files could be the exercise (a problem row, not a grade). The
variants are dealt out by fixed weights (``MIX``) in a fixed order, so a set is the same on
every run; the Moodle layout is what "download all submissions" gives:
``Firstname Lastname_123456_assignsubmission_file_/<the student's file name>``.
"""

from __future__ import annotations

import argparse
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "exercise03.py"
EXERCISE = ROOT / "exercises" / "exercise03.py"


@dataclass(frozen=True)
class Variant:
    """How a submission is written: ``kind`` is what grading it should give."""

    name: str
    kind: str  # correct | buggy | crash | hang | rule | not_implemented | problem
    make: object  # (solution text, exercise text) -> {file name: text or bytes}


def _edit(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert text.count(old) == 1, f"the edit's anchor occurs {text.count(old)} times: {old!r}"
        text = text.replace(old, new)
    return text


def _append(text: str, code: str) -> str:
    """A later definition replaces the solution's (as when a student rewrites one function)."""
    return text.rstrip("\n") + "\n\n\n" + code.strip("\n") + "\n"


STRIDE_IGNORED = ("top, left = i * stride, j * stride\n                window = image",
                  "top, left = i, j\n                window = image")
KERNEL_FLIPPED = ("np.sum(window * kernel[f])", "np.sum(window * kernel[f][:, ::-1, ::-1])")
PAD_ONE_SIDE = ("rows = cols = (padding, padding)", "rows = cols = (0, 2 * padding)")
CHANNELS_FIRST_ONLY = ("np.sum(window * kernel[f])", "np.sum(window[0] * kernel[f][0])")
POOL_STRIDE_ONE = ("if stride is None:\n        stride = size", "if stride is None:\n        stride = 1")
SIZE_OFF_BY_ONE = ("return (n + 2 * padding - kernel_size) // stride + 1", "return (n + 2 * padding - kernel_size) // stride")
BIAS_IGNORED = ("if bias.ndim == 0:\n        out += bias", "if bias.ndim == 0:\n        pass")
SAME_SPLIT = ("rows = ((kh - 1) // 2, kh - 1 - (kh - 1) // 2)\n        cols = ((kw - 1) // 2, kw - 1 - (kw - 1) // 2)",
              "rows = (kh - 1 - (kh - 1) // 2, (kh - 1) // 2)\n        cols = (kw - 1 - (kw - 1) // 2, (kw - 1) // 2)")
INTEGER_OUTPUT = ("out = np.zeros((n_filters, out_h, out_w))", "out = np.zeros((n_filters, out_h, out_w), dtype=int)")

VECTORISED = '''
"""Exercise 03 — my vectorised version (sliding windows instead of loops)."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_output_size(n, kernel_size, stride=1, padding=0):
    if padding == "same":
        return n
    p = 0 if padding == "valid" else padding
    return (n + 2 * p - kernel_size) // stride + 1


def _pad(x, kh, kw, padding):
    if padding == "same":
        top, left = (kh - 1) // 2, (kw - 1) // 2
        return np.pad(x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left)))
    p = 0 if padding == "valid" else int(padding)
    return np.pad(x, ((0, 0), (p, p), (p, p)))


def conv2d(image, kernel, bias=0.0, stride=1, padding=0):
    x = np.asarray(image, dtype=float)
    w = np.asarray(kernel, dtype=float)
    single = w.ndim < 4
    w = w[None, None] if w.ndim == 2 else w[None] if w.ndim == 3 else w
    x = x[None] if x.ndim == 2 else x
    kh, kw = w.shape[-2:]
    windows = sliding_window_view(_pad(x, kh, kw, padding), (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    out = np.einsum("chwij,fcij->fhw", windows, KERNEL_VIEW(w))
    b = np.asarray(bias, dtype=float)
    out = out + (b[:, None, None] if b.ndim else b)
    return out[0] if single else out


def KERNEL_VIEW(w):
    return w


def relu(x):
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def max_pool2d(x, size=2, stride=None):
    stride = STRIDE_DEFAULT(size) if stride is None else stride
    x = np.asarray(x, dtype=float)
    return sliding_window_view(x, (size, size), axis=(-2, -1))[..., ::stride, ::stride, :, :].max(axis=(-2, -1))


def STRIDE_DEFAULT(size):
    return size
'''

HANGING_POOL = '''
def max_pool2d(x, size=2, stride=None):
    x = np.asarray(x, dtype=np.float64)
    step = size if stride is None else stride
    h, w = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + ((h - size) // step + 1, (w - size) // step + 1))
    i = 0
    while i < out.shape[-2]:
        j = 0
        while j < out.shape[-1]:
            out[..., i, j] = x[..., i * step:i * step + size, j * step:j * step + size].max(axis=(-2, -1))
            if stride is None:
                j += 1
        i += 1
    return out
'''

SCIPY_CONV = '''
def conv2d(image, kernel, bias=0.0, stride=1, padding=0):
    from scipy.signal import correlate
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if padding == "same":
        return correlate(image, kernel, mode="same") + bias
    p = 0 if padding == "valid" else padding
    if image.ndim == 2:
        image = np.pad(image, p)
    out = correlate(image, kernel, mode="valid")
    return out[..., ::stride, ::stride] + bias
'''

RELU_PYTHON_MAX = ("return np.where(x > 0, x, 0.0)", "return max(x, 0)")

SEGFAULT_POOL = '''
def max_pool2d(x, size=2, stride=None):
    import ctypes
    if np.ndim(x) == 3:
        ctypes.string_at(0)  # "optimised" with ctypes, reads address 0 for 3-D inputs
    x = np.asarray(x, dtype=np.float64)
    stride = size if stride is None else stride
    h = (x.shape[-2] - size) // stride + 1
    w = (x.shape[-1] - size) // stride + 1
    return np.array([[x[..., i * stride:i * stride + size, j * stride:j * stride + size].max()
                      for j in range(w)] for i in range(h)])
'''


def _notebook(code_cells: list[str], crlf: bool = False) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Exercise 3: convolution\n", "My solution."]}]
    for code in code_cells:
        lines = code.strip("\n").split("\n")
        cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                      "source": [line + "\n" for line in lines[:-1]] + lines[-1:]})
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1)


def _split_functions(text: str) -> list[str]:
    """Cut a module into cells: the header, then one cell per top-level function."""
    parts, current = [], []
    for line in text.split("\n"):
        if line.startswith("def ") and current:
            parts.append("\n".join(current))
            current = []
        current.append(line)
    parts.append("\n".join(current))
    return parts


def _as_notebook(text: str) -> str:
    cells = _split_functions(text)
    cells[0] = "%matplotlib inline\n" + cells[0]
    cells.append("print(conv2d(np.ones((4, 4)), np.ones((3, 3))))\n!pip list | grep numpy")
    return _notebook(cells)


def _crlf_bom(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")


def _only_stubbed(exercise: str, solution: str, keep: tuple[str, ...]) -> str:
    """The exercise file with the solution's version of the functions in ``keep``."""
    defs = {}
    for part in _split_functions(solution)[1:]:
        defs[part.split("(")[0].removeprefix("def ")] = part
    text = exercise
    for name in keep:
        text = _append(text, defs[name])
    return text


VARIANTS = {v.name: v for v in [
    Variant("solution", "correct", lambda s, e: {"exercise03.py": s}),
    Variant("solution with demo prints", "correct",
            lambda s, e: {"exercise03.py": s + "\nprint('conv2d of ones:', conv2d(np.ones((5, 5)), np.ones((3, 3))))\n"}),
    Variant("solution, CRLF and BOM", "correct", lambda s, e: {"Exercise03_final.py": _crlf_bom(s)}),
    Variant("solution as a notebook", "correct", lambda s, e: {"exercise03.ipynb": _as_notebook(s)}),
    Variant("vectorised", "correct", lambda s, e: {"ex3.py": VECTORISED, "notes.txt": "I used sliding windows."}),
    Variant("stride ignored", "buggy", lambda s, e: {"exercise03.py": _edit(s, STRIDE_IGNORED)}),
    Variant("kernel flipped", "buggy", lambda s, e: {"exercise03.py": _edit(s, KERNEL_FLIPPED)}),
    Variant("kernel flipped, vectorised", "buggy",
            lambda s, e: {"convolution.py": _edit(VECTORISED, ("return w\n", "return w[..., ::-1, ::-1]\n"))}),
    Variant("padding on one side", "buggy", lambda s, e: {"exercise03.py": _edit(s, PAD_ONE_SIDE)}),
    Variant("channels not summed", "buggy", lambda s, e: {"exercise03.py": _edit(s, CHANNELS_FIRST_ONLY)}),
    Variant("pooling stride 1", "buggy", lambda s, e: {"exercise03.py": _edit(s, POOL_STRIDE_ONE)}),
    Variant("pooling stride 1, vectorised", "buggy",
            lambda s, e: {"ex3.py": _edit(VECTORISED, ("def STRIDE_DEFAULT(size):\n    return size",
                                                       "def STRIDE_DEFAULT(size):\n    return 1"))}),
    Variant("output size off by one", "buggy", lambda s, e: {"exercise03.py": _edit(s, SIZE_OFF_BY_ONE)}),
    Variant("bias ignored", "buggy", lambda s, e: {"exercise03.py": _edit(s, BIAS_IGNORED)}),
    Variant("same padding split the wrong way", "buggy", lambda s, e: {"exercise03.py": _edit(s, SAME_SPLIT)}),
    Variant("integer output", "buggy", lambda s, e: {"exercise03.py": _edit(s, INTEGER_OUTPUT)}),
    Variant("stride ignored and pooling stride 1", "buggy",
            lambda s, e: {"exercise03.py": _edit(s, STRIDE_IGNORED, POOL_STRIDE_ONE)}),
    Variant("kernel flipped, notebook", "buggy", lambda s, e: {"Exercise 3.ipynb": _as_notebook(_edit(s, KERNEL_FLIPPED))}),
    Variant("relu with python max", "crash", lambda s, e: {"exercise03.py": _edit(s, RELU_PYTHON_MAX)}),
    Variant("segfault in max_pool2d", "crash", lambda s, e: {"exercise03.py": _append(s, SEGFAULT_POOL)}),
    Variant("sys.exit at the end", "crash", lambda s, e: {"exercise03.py": s + "\nimport sys\nsys.exit(0)\n"}),
    Variant("syntax error", "crash", lambda s, e: {"exercise03.py": _edit(s, ("def relu(x):", "def relu(x)"))}),
    Variant("endless loop in max_pool2d", "hang", lambda s, e: {"exercise03.py": _append(s, HANGING_POOL)}),
    Variant("scipy for conv2d", "rule", lambda s, e: {"exercise03.py": _append(s, SCIPY_CONV)}),
    Variant("not implemented", "not_implemented", lambda s, e: {"exercise03.py": e}),
    Variant("half done", "not_implemented",
            lambda s, e: {"exercise03.py": _only_stubbed(e, s, ("conv_output_size", "relu"))}),
    Variant("two candidate files", "problem", lambda s, e: {"conv_v1.py": s, "conv_v2.py": _edit(s, KERNEL_FLIPPED)}),
    Variant("no python file", "problem", lambda s, e: {"exercise03.pdf": b"%PDF-1.4 not a python file\n"}),
]}

# how many of every 100 submissions are of each variant: 36 correct, 47 with a typical mistake,
# 5 crashing, 1 hanging, 1 breaking the rule, 8 unfinished, 2 with no usable file
MIX = {
    "solution": 17, "solution with demo prints": 5, "solution, CRLF and BOM": 4, "solution as a notebook": 5,
    "vectorised": 5,
    "stride ignored": 5, "kernel flipped": 7, "kernel flipped, vectorised": 2, "padding on one side": 5,
    "channels not summed": 5, "pooling stride 1": 5, "pooling stride 1, vectorised": 2, "output size off by one": 5,
    "bias ignored": 3, "same padding split the wrong way": 2, "integer output": 2,
    "stride ignored and pooling stride 1": 2, "kernel flipped, notebook": 2,
    "relu with python max": 2, "segfault in max_pool2d": 1, "sys.exit at the end": 1, "syntax error": 1,
    "endless loop in max_pool2d": 1, "scipy for conv2d": 1, "not implemented": 4, "half done": 4,
    "two candidate files": 1, "no python file": 1,
}
assert sum(MIX.values()) == 100 and set(MIX) == set(VARIANTS)

# variants that grade in about a second (no long shrinking): for tests that grade whole classes
CHEAP = ["solution", "not implemented", "half done", "pooling stride 1", "output size off by one"]

FIRST = ["Anna", "Ben", "Chiara", "David", "Elif", "Felix", "Greta", "Hamid", "Ines", "Jonas", "Kira", "Luca",
         "Mia", "Noah", "Olga", "Paul", "Quynh", "Rosa", "Sami", "Tara"]
LAST = ["Schmidt", "Okafor", "Rossi", "Nguyen", "Yılmaz", "Weber", "Kowalski", "Haddad", "Fischer", "Larsen"]


def deal(count: int) -> list[str]:
    """Return ``count`` variant names in ``MIX``'s proportions, interleaved in a fixed order."""
    names = []
    for i in range(count):
        # the variant whose share is furthest behind its target (a deterministic round robin)
        done = {n: names.count(n) for n in MIX}
        names.append(max(MIX, key=lambda n: (MIX[n] * (i + 1) / 100 - done[n], MIX[n])))
    return names


def write_set(out: Path, count: int = 200, layout: str = "moodle") -> dict[str, str]:
    """Write ``count`` submissions in ``MIX``'s proportions into ``out``; return {student id: variant name}."""
    return write_variants(out, deal(count), layout)[1]


def write_variants(out: Path, variants: list[str], layout: str = "moodle") -> tuple[Path, dict[str, str]]:
    """Write one submission per entry of ``variants`` into ``out``; return (out, {student id: variant})."""
    solution = SOLUTION.read_text(encoding="utf-8")
    exercise = EXERCISE.read_text(encoding="utf-8")
    out.mkdir(parents=True, exist_ok=True)
    students = {}
    for i, name in enumerate(variants):
        files = VARIANTS[name].make(solution, exercise)
        person = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST) + i) % len(LAST)]}"
        if layout == "moodle":
            sid = str(100001 + i * 7)
            folder = out / f"{person}_{sid}_assignsubmission_file_"
        elif layout == "folders":
            sid = f"student{i + 1:03d}"
            folder = out / sid
        elif layout == "flat":
            sid = f"student{i + 1:03d}"
            first = next(iter(files))
            files = {f"{sid}{Path(first).suffix}": files[first]}
            folder = out
        else:
            raise ValueError(f"unknown layout {layout!r}")
        folder.mkdir(exist_ok=True)
        for fname, content in files.items():
            if isinstance(content, str) and fname.endswith(".py"):
                content = f"# {person}, {sid}\n" + content  # as students do: every file differs
            path = folder / fname
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        students[sid] = name
    return out, students


def zip_folder(folder: Path, target: Path) -> Path:
    """Zip ``folder``'s contents (as Moodle's "download all submissions" does)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--layout", choices=["moodle", "folders", "flat"], default="moodle")
    parser.add_argument("--zip", action="store_true", help="also write OUT.zip")
    args = parser.parse_args()
    students = write_set(args.out, args.count, args.layout)
    if args.zip:
        zip_folder(args.out, args.out.with_suffix(".zip"))
    counts = {n: list(students.values()).count(n) for n in MIX}
    kinds = {}
    for n, c in counts.items():
        kinds[VARIANTS[n].kind] = kinds.get(VARIANTS[n].kind, 0) + c
    print(f"wrote {len(students)} submissions to {args.out}: " + ", ".join(f"{c} {k}" for k, c in kinds.items()))


if __name__ == "__main__":
    main()
