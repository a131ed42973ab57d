"""Readable text for student values: small arrays as arrays, not as repr dumps."""

from __future__ import annotations

import numpy as np

from ..sandbox.protocol import Handle, RemoteArraySubclass, TensorData

MAX_ELEMENTS = 64  # arrays larger than this are summarised
MAX_SHOWN = 4_000  # characters of one value (a message, an input, a note) in any report


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    """Return ``text`` cut to ``limit`` characters, saying how much was left out: whatever a
    submission makes the grader say (a 20 MB error message), a report stays readable and small."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def clip_all(value, limit: int = MAX_SHOWN):
    """``clip`` every string in a JSON-ready value (dicts, lists) — for the JSON report."""
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, dict):
        return {k: clip_all(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clip_all(v, limit) for v in value]
    return value


def _array(arr: np.ndarray) -> str:
    if arr.size > MAX_ELEMENTS:
        flat = arr.astype(np.float64, copy=False).ravel() if arr.dtype.kind in "biuf" else arr.ravel()
        stats = ""
        if arr.dtype.kind in "biuf" and arr.size:
            stats = f", min {flat.min():.4g}, max {flat.max():.4g}, mean {flat.mean():.4g}"
        return f"array of shape {arr.shape}, dtype {arr.dtype}{stats}"
    with np.printoptions(precision=4, suppress=True, linewidth=72, floatmode="maxprec"):
        body = np.array2string(arr, separator=", ")
    suffix = "" if arr.dtype == np.float64 else f"  # dtype {arr.dtype}"
    if arr.ndim >= 2 or arr.size == 0:
        suffix = f"  # shape {arr.shape}" + (f", dtype {arr.dtype}" if arr.dtype != np.float64 else "")
    return body + suffix


def show(value, depth: int = 0) -> str:
    """Return a short, readable rendering of a value sent to or received from a submission."""
    if depth > 4:
        return "…"
    if isinstance(value, RemoteArraySubclass):
        return f"{_array(value.array)}  # a {value.subclass} (ndarray subclass)"
    if isinstance(value, TensorData):
        return f"tensor {_array(value.array)}  # {value.dtype}"
    if isinstance(value, Handle):
        return f"<{value.type}>"
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, np.generic):
        return f"{value.item()!r}  # numpy.{type(value).__name__}"
    if isinstance(value, float):
        return repr(round(value, 10)) if np.isfinite(value) else repr(value)
    if isinstance(value, (list, tuple)):
        items = [show(v, depth + 1) for v in value[:12]]
        if len(value) > 12:
            items.append(f"… ({len(value)} items)")
        inner = ", ".join(items)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {show(v, depth + 1)}" for k, v in list(value.items())[:12]) + "}"
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "…"


def show_call(function: str, args: tuple, kwargs: dict) -> str:
    """Return ``f(a, b, key=value)`` as Python that reproduces the call when pasted after
    ``import numpy as np``: small arrays as ``np.array([...])`` literals, exact values; a large
    array (or anything without a literal) as ``<array (N, M)>``."""
    parts = [_literal(a) for a in args] + [f"{k}={_literal(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


MAX_LITERAL = 16  # array elements written out in a call line


def _literal(value) -> str:
    if isinstance(value, np.ndarray):
        if value.size > MAX_LITERAL or value.dtype.kind not in "biuf":
            return f"<array {value.shape}>"
        dtype = "" if value.dtype == np.float64 else f", dtype=np.{value.dtype.name}"
        return f"np.array({value.tolist()!r}{dtype})"
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return f"np.{value.dtype.name}({value.item()!r})"
    if isinstance(value, (bool, int, float, str, type(None))):
        text = repr(value)
        return text if len(text) <= 60 else "…"
    if isinstance(value, (list, tuple)) and len(value) <= MAX_LITERAL:
        inner = ", ".join(_literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    text = show(value)
    return text if len(text) <= 40 and "\n" not in text else "…"


# --------------------------------------------------------------------------- the closing lines of a report


def points(x: float) -> str:
    """Return points as they read best: 17, 2.5."""
    return f"{x:g}"


def not_implemented(result) -> list[str]:
    """Return the functions still to do: one line for them all, not one failure per check."""
    todo = [c for c in result.checks if c.outcome == "not_implemented"]
    return sorted({f for c in todo for f in c.functions[:1]} or {c.title for c in todo})


def failed_checks(result) -> list:
    """Return the failed checks worth a detailed explanation (all but the "not implemented yet" ones)."""
    return [c for c in result.checks if not c.passed and c.outcome != "not_implemented"]


SHARED_CAUSES = ("crash", "timeout", "rule", "missing", "error", "data_missing")


def _cause(c) -> tuple | None:
    """What a failed check failed of, when other checks can fail of the very same thing: the same
    typical mistake of the same function, or the same crash, timeout, rule or missing data."""
    if c.diagnosis is not None:
        return ("mistake", c.functions[:1], c.diagnosis.name)
    if c.outcome in SHARED_CAUSES:
        return ("outcome", str(c.outcome), c.message)
    return None


def failure_groups(result) -> list[tuple]:
    """Return the failed checks as (shown, others): one explanation per cause, with the other
    checks it cost. The shown one is the check with the smallest input to read (a shrunk one
    first). A syntax error or a flipped kernel is explained once, not once per check."""
    groups: dict = {}
    order: list = []
    for c in failed_checks(result):
        key = _cause(c) or ("alone", c.name)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(c)
    out = []
    for key in order:
        checks = groups[key]
        shown = min(checks, key=_reading_cost)
        out.append((shown, [c for c in checks if c is not shown]))
    return out


def also_costs(shown, others) -> str:
    """One line naming what else a cause cost (the table above lists the checks themselves)."""
    lost = sum(o.max_score - o.score for o in others)
    n = len(others)
    what = "mistake" if shown.diagnosis is not None else "cause"
    return (f"the same {what} also costs the {n} other check{'s' * (n != 1)} marked ✘ above "
            f"({points(lost)} point{'s' * (lost != 1)})")


def _reading_cost(c) -> tuple:
    ce = c.counterexample
    if ce is None:
        return (1, 0)
    size = sum(len(v) for v in ce.inputs.values()) + len(ce.expected or "") + len(ce.got or "")
    return (0 if ce.shrunk else 1, size)


def all_passed(result) -> str:
    """Return "all checks passed", or "all public checks passed" when the run left hidden checks out:
    full marks in a student's run are not yet the grade."""
    return "all public checks passed" if result.hidden_skipped else "all checks passed"


def verdict(result) -> str:
    """Return the report's last line: the score, and whether every check passed."""
    score = f"{points(result.score)}/{points(result.max_score)} points"
    return f"{all_passed(result)}: {score}" if result.passed else f"score: {score}"


def hidden_line(result) -> str | None:
    """Return the line announcing the hidden checks a student's run left out (their number, never their names)."""
    n = result.hidden_skipped
    if not n:
        return None
    worth = f"{points(result.hidden_points_skipped)} point{'' if result.hidden_points_skipped == 1 else 's'}"
    return (f"{n} hidden check{'' if n == 1 else 's'} ({worth}) {'is' if n == 1 else 'are'} run when your "
            "instructor grades")


def also_explains(diagnosis) -> list[str]:
    """Lines naming the other typical mistakes that give the same result on the evidence shown
    (a small input can make two mistakes look alike): said, instead of picking one silently."""
    if not diagnosis.also:
        return []
    return [f"or: {message}" for message in diagnosis.also] + [
        "(on the input shown these mistakes give the same result; the hint is for the first)"]
