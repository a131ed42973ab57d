"""Independently written exercise03 solutions, and near-copies of some: for the similarity check.

    python tests/batch/make_similar.py OUT [--count 40] [--copies 3]

Each student's file is put together from their own choices: how the inputs are shaped, how
the image is padded (a helper with ``np.pad``, zeros and a slice, ``np.pad`` inline), how the
convolution is computed (four loops, two loops and ``tensordot``, sliding windows and
``einsum``, im2col and a matrix product), how the bias is added and the result returned,
one of four ``conv_output_size``, five ``relu`` and three ``max_pool2d`` (all correct), their
own names for every variable, their own comments, and the functions in their own order. A
near-copy takes another student's choices and changes only what a copier changes: every
name, the comments and the order of the functions. Seeded: the same set on every run.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

NAMES = {
    "x": ["x", "img", "inp", "arr", "data", "image_arr", "src", "a"],
    "w": ["w", "k", "kern", "weights", "filt", "kernels", "K", "wts"],
    "single": ["single", "one_filter", "squeeze", "was_single", "no_bank", "flat_out"],
    "kh": ["kh", "k_h", "kr", "fh", "hk", "rows_k"],
    "kw": ["kw", "k_w", "kc", "fw", "wk", "cols_k"],
    "xp": ["xp", "padded", "x_pad", "img_p", "big", "framed"],
    "out": ["out", "res", "result", "y", "fmap", "output"],
    "oh": ["oh", "out_h", "h_out", "n_rows", "H2", "height"],
    "ow": ["ow", "out_w", "w_out", "n_cols", "W2", "width"],
    "i": ["i", "r", "row", "y0", "ii", "p"],
    "j": ["j", "c", "col", "x0", "jj", "q"],
    "f": ["f", "n", "filt_i", "o", "m", "u"],
    "patch": ["patch", "window", "win", "region", "piece", "sub"],
    "b": ["b", "bias_arr", "bb", "offset", "beta", "shift"],
    "pt": ["pt", "top", "p_top", "t"], "pl": ["pl", "left", "p_left", "l"],
    "pb": ["pb", "bottom", "p_bot", "bo"], "pr": ["pr", "right", "p_right", "ri"],
    "win": ["win", "views", "windows", "stack", "tiles", "blocks"],
    "cols": ["cols", "columns", "rows_list", "flat", "vecs", "mat"],
    "pad": ["_pad", "pad_input", "zero_pad", "add_border", "padded_copy", "surround"],
}
COMMENTS = ["# loop over every output position", "# TODO: make faster?", "# cross-correlation, no flip!",
            "# shapes: (C, H, W) and (F, C, kh, kw)", "# this took me a while", "# from the lecture slides",
            "# works for the doctests", "# handle the 2D case too", "# careful with the stride", "# simple version",
            "# numpy does the heavy lifting", "# pad first, then slide"]

OUTPUT_SIZE = [
    '''def conv_output_size(n, kernel_size, stride=1, padding=0):
    if padding == "same":
        return n
    if padding == "valid":
        padding = 0
    return (n + 2 * padding - kernel_size) // stride + 1''',
    '''def conv_output_size(n, kernel_size, stride=1, padding=0):
    if padding == "same":
        return n
    p = 0 if padding == "valid" else padding
    return int(np.floor((n + 2 * p - kernel_size) / stride)) + 1''',
    '''def conv_output_size(n, kernel_size, stride=1, padding=0):
    p = 0 if padding == "valid" else padding
    if p == "same":
        return n
    span = n + 2 * p - kernel_size
    return span // stride + 1''',
    '''def conv_output_size(n, kernel_size, stride=1, padding=0):
    pads = {{"valid": 0, "same": None}}
    p = pads.get(padding, padding) if isinstance(padding, str) else padding
    if p is None:
        return n
    count = 1
    while (count * stride) + kernel_size <= n + 2 * p:
        count += 1
    return count''',
]
RELU = [
    '''def relu(x):
    return np.maximum(np.asarray(x, dtype=float), 0.0)''',
    '''def relu(x):
    {a} = np.array(x, dtype=float)
    {a}[{a} < 0] = 0
    return {a}''',
    '''def relu(x):
    {a} = np.asarray(x, dtype=float)
    return np.where({a} > 0, {a}, 0.0)''',
    '''def relu(x):
    {a} = np.asarray(x, dtype=np.float64)
    return {a} * ({a} > 0)''',
    '''def relu(x):
    return np.clip(np.asarray(x, dtype=float), 0, None)''',
]
POOL = [
    '''def max_pool2d(x, size=2, stride=None):
    if stride is None:
        stride = size
    {a} = np.asarray(x, dtype=float)
    {single} = {a}.ndim == 2
    if {single}:
        {a} = {a}[None]
    {oh} = ({a}.shape[1] - size) // stride + 1
    {ow} = ({a}.shape[2] - size) // stride + 1
    {out} = np.zeros(({a}.shape[0], {oh}, {ow}))
    for {f} in range({a}.shape[0]):
        for {i} in range({oh}):
            for {j} in range({ow}):
                {out}[{f}, {i}, {j}] = {a}[{f}, {i} * stride:{i} * stride + size, {j} * stride:{j} * stride + size].max()
    return {out}[0] if {single} else {out}''',
    '''def max_pool2d(x, size=2, stride=None):
    from numpy.lib.stride_tricks import sliding_window_view
    stride = size if stride is None else stride
    {a} = np.asarray(x, dtype=float)
    {win} = sliding_window_view({a}, (size, size), axis=(-2, -1))
    return {win}[..., ::stride, ::stride, :, :].max(axis=(-2, -1))''',
    '''def max_pool2d(x, size=2, stride=None):
    stride = stride or size
    {a} = np.asarray(x, dtype=np.float64)
    {oh} = ({a}.shape[-2] - size) // stride + 1
    {ow} = ({a}.shape[-1] - size) // stride + 1
    {out} = np.empty({a}.shape[:-2] + ({oh}, {ow}))
    for {i} in range({oh}):
        for {j} in range({ow}):
            {patch} = {a}[..., {i} * stride:{i} * stride + size, {j} * stride:{j} * stride + size]
            {out}[..., {i}, {j}] = {patch}.max(axis=(-2, -1))
    return {out}''',
]
PREPARE = [
    '''    {x} = np.asarray(image, dtype=float)
    {w} = np.asarray(kernel, dtype=float)
    {single} = {w}.ndim < 4
    if {x}.ndim == 2:
        {x} = {x}[np.newaxis]
    if {w}.ndim == 2:
        {w} = {w}[np.newaxis, np.newaxis]
    elif {w}.ndim == 3:
        {w} = {w}[np.newaxis]''',
    '''    {x} = np.array(image, float)
    {w} = np.array(kernel, float)
    {single} = len({w}.shape) != 4
    {x} = {x}.reshape((1,) * (3 - {x}.ndim) + {x}.shape)
    {w} = {w}.reshape((1,) * (4 - {w}.ndim) + {w}.shape)''',
    '''    {x} = np.asarray(image).astype(np.float64)
    {w} = np.asarray(kernel).astype(np.float64)
    {single} = {w}.ndim in (2, 3)
    while {x}.ndim < 3:
        {x} = np.expand_dims({x}, 0)
    while {w}.ndim < 4:
        {w} = np.expand_dims({w}, 0)''',
]
PAD_HELPER = '''def {pad}(x, kh, kw, padding):
    if padding == "same":
        {pt}, {pl} = (kh - 1) // 2, (kw - 1) // 2
        return np.pad(x, ((0, 0), ({pt}, kh - 1 - {pt}), ({pl}, kw - 1 - {pl})))
    p = 0 if padding == "valid" else int(padding)
    return np.pad(x, ((0, 0), (p, p), (p, p)))'''
PAD = [
    '''    {xp} = {pad}({x}, {kh}, {kw}, padding)''',
    '''    if padding == "same":
        {pt}, {pl} = ({kh} - 1) // 2, ({kw} - 1) // 2
        {pb}, {pr} = {kh} - 1 - {pt}, {kw} - 1 - {pl}
    else:
        {pt} = {pl} = {pb} = {pr} = 0 if padding == "valid" else int(padding)
    {xp} = np.zeros(({x}.shape[0], {x}.shape[1] + {pt} + {pb}, {x}.shape[2] + {pl} + {pr}))
    {xp}[:, {pt}:{pt} + {x}.shape[1], {pl}:{pl} + {x}.shape[2]] = {x}''',
    '''    if padding == "valid":
        padding = 0
    if padding == "same":
        {pt} = ({kh} - 1) // 2
        {pl} = ({kw} - 1) // 2
        {xp} = np.pad({x}, [(0, 0), ({pt}, {kh} - 1 - {pt}), ({pl}, {kw} - 1 - {pl})], mode="constant")
    else:
        {xp} = np.pad({x}, [(0, 0), (padding, padding), (padding, padding)], mode="constant")''',
]
SIZES = '''    {oh} = ({xp}.shape[1] - {kh}) // stride + 1
    {ow} = ({xp}.shape[2] - {kw}) // stride + 1'''
CORE = [
    SIZES + '''
    {out} = np.zeros(({w}.shape[0], {oh}, {ow}))
    for {f} in range({w}.shape[0]):
        for {i} in range({oh}):
            for {j} in range({ow}):
                {patch} = {xp}[:, {i} * stride:{i} * stride + {kh}, {j} * stride:{j} * stride + {kw}]
                {out}[{f}, {i}, {j}] = np.sum({patch} * {w}[{f}])''',
    SIZES + '''
    {out} = np.empty(({w}.shape[0], {oh}, {ow}))
    for {i} in range({oh}):
        {pt} = {i} * stride
        for {j} in range({ow}):
            {pl} = {j} * stride
            {out}[:, {i}, {j}] = np.tensordot({w}, {xp}[:, {pt}:{pt} + {kh}, {pl}:{pl} + {kw}], axes=3)''',
    '''    from numpy.lib.stride_tricks import sliding_window_view
    {win} = sliding_window_view({xp}, ({kh}, {kw}), axis=(1, 2))[:, ::stride, ::stride]
    {out} = np.einsum("chwij,fcij->fhw", {win}, {w})''',
    SIZES + '''
    {cols} = []
    for {i} in range({oh}):
        for {j} in range({ow}):
            {cols}.append({xp}[:, {i} * stride:{i} * stride + {kh}, {j} * stride:{j} * stride + {kw}].ravel())
    {out} = ({w}.reshape({w}.shape[0], -1) @ np.array({cols}).T).reshape({w}.shape[0], {oh}, {ow})''',
]
BIAS = [
    '''    {b} = np.asarray(bias, dtype=float)
    if {b}.ndim == 0:
        {out} = {out} + {b}
    else:
        {out} = {out} + {b}[:, None, None]''',
    '''    {out} = {out} + np.reshape(bias, (-1, 1, 1))''',
    '''    {out} += np.array(bias, dtype=float).reshape(-1, 1, 1) if np.ndim(bias) else float(bias)''',
]
RETURN = [
    '''    return {out}[0] if {single} else {out}''',
    '''    if {single}:
        return {out}[0]
    return {out}''',
    '''    return {out}.squeeze(0) if {single} else {out}''',
]


# equivalent spellings a student picks without thinking, one choice per occurrence
HABITS = [
    (r"dtype=float\b", ["dtype=float", "dtype=np.float64", 'dtype="float64"']),
    (r"for (\{\w+\}) in range\(([^()]+)\):", [r"for \1 in range(\2):", r"for \1 in range(0, \2):",
                                                 r"for \1 in np.arange(\2):", r"for \1 in list(range(\2)):"]),
    (r"(\{\w+\}|\w+)\.shape\[(\d)\]", [r"\1.shape[\2]", r"np.shape(\1)[\2]"]),
    (r"\) // stride \+ 1", [") // stride + 1", ") // stride + 1  # windows that fit", ") // int(stride) + 1"]),
    (r"np\.zeros\(\(", ["np.zeros((", "np.zeros(shape=(", "0.0 * np.ones(("]),
    (r"np\.empty\(", ["np.empty(", "np.zeros(", "np.full(fill_value=0.0, shape="]),
    (r"\.max\(\)", [".max()", ".max(initial=-np.inf)", ".flatten().max()"]),
    (r"np\.sum\(([^()]+)\)", [r"np.sum(\1)", r"(\1).sum()", r"float(np.sum(\1))"]),
]
STATEMENTS = ['    assert stride >= 1, "stride must be positive"', "    stride = int(stride)",
              '    if padding not in ("valid", "same") and not isinstance(padding, int):\n'
              '        raise ValueError("bad padding")', "    # print(image.shape, kernel.shape)",
              "    np.seterr(all='ignore')"]


def choices(rng: random.Random) -> dict:
    """One student's way of writing the exercise: the variants, and a seed for their habits."""
    return {"size": rng.randrange(len(OUTPUT_SIZE)), "relu": rng.randrange(len(RELU)), "pool": rng.randrange(len(POOL)),
            "prepare": rng.randrange(len(PREPARE)), "pad": rng.randrange(len(PAD)), "core": rng.randrange(len(CORE)),
            "bias": rng.randrange(len(BIAS)), "ret": rng.randrange(len(RETURN)), "habits": rng.randrange(1 << 30),
            "checks": rng.sample(range(len(STATEMENTS)), rng.randrange(0, 3))}


def _habits(text: str, rng: random.Random) -> str:
    """``text`` with each habit's occurrences spelled one of its ways."""
    for pattern, options in HABITS:
        text = re.sub(pattern, lambda m: m.expand(rng.choice(options)), text)
    return text


def render(choice: dict, rng: random.Random) -> str:
    """The file: ``choice``'s code with names, comments and function order drawn from ``rng``."""
    names = {key: rng.choice(options) for key, options in NAMES.items()}
    names["a"] = rng.choice(["a", "v", "arr", "z", "vals", "t"])
    while len({names[k] for k in ("x", "w", "xp", "out", "b", "win", "cols", "patch")}) < 8:
        names["patch"] = rng.choice(NAMES["patch"]) + "_"
    comment = lambda: rng.choice(COMMENTS) if rng.random() < 0.5 else None  # noqa: E731
    habits = random.Random(choice["habits"])  # the student's own: a copy keeps them
    parts = [*(STATEMENTS[k] for k in choice["checks"]), PREPARE[choice["prepare"]], "    {kh}, {kw} = {w}.shape[-2:]",
             PAD[choice["pad"]], CORE[choice["core"]], BIAS[choice["bias"]], RETURN[choice["ret"]]]
    conv = ["def conv2d(image, kernel, bias=0.0, stride=1, padding=0):"]
    for part in parts:
        if (c := comment()) is not None:
            conv.append("    " + c)
        conv.append(_habits(part, habits))
    functions = [_habits(OUTPUT_SIZE[choice["size"]], habits), "\n".join(conv), _habits(RELU[choice["relu"]], habits),
                 _habits(POOL[choice["pool"]], habits)]
    if choice["pad"] == 0:
        functions.append(_habits(PAD_HELPER, habits))
    rng.shuffle(functions)
    header = rng.choice(['"""Exercise 03."""', '"""Convolution by hand — my solution."""', "# exercise 3",
                         '"""Deep learning, exercise 3: convolution, ReLU, max-pooling."""'])
    body = "\n\n\n".join(f.format(**names) for f in functions)
    return f"{header}\nimport numpy as np\n\n\n{body}\n"


def write_class(out: Path, count: int = 40, copies: int = 3, seed: int = 2026) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Write ``count`` students' folders (``student01/exercise03.py`` …) into ``out``, the last
    ``copies`` near-copies of earlier ones; return {student: code} and the planted pairs."""
    rng = random.Random(seed)
    ways = [choices(rng) for _ in range(count - copies)]
    codes = {f"student{i + 1:03d}": render(way, rng) for i, way in enumerate(ways)}
    planted = []
    for k in range(copies):
        original = f"student{rng.randrange(1, count - copies + 1):03d}"
        while any(original in pair for pair in planted):
            original = f"student{rng.randrange(1, count - copies + 1):03d}"
        copy = f"student{count - copies + k + 1:03d}"
        codes[copy] = render(ways[int(original[7:]) - 1], rng)  # the same choices, new names, comments and order
        planted.append((original, copy))
    for student, code in codes.items():
        (out / student).mkdir(parents=True, exist_ok=True)
        (out / student / "exercise03.py").write_text(code, encoding="utf-8")
    return codes, planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--copies", type=int, default=3)
    args = parser.parse_args()
    _, planted = write_class(args.out, args.count, args.copies)
    print("planted pairs:", planted)


if __name__ == "__main__":
    main()
