"""Readable text for student values: small arrays as arrays, not as repr dumps."""

from __future__ import annotations

import numpy as np

from ..sandbox.protocol import Handle, RemoteArraySubclass, TensorData

MAX_ELEMENTS = 64  # arrays larger than this are summarised


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
    """Return ``f(a, b, key=value)`` with short renderings of scalar arguments."""
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        return f"<array {value.shape}>" if value.size > 1 or value.ndim else show(value)
    text = show(value)
    return text if len(text) <= 40 and "\n" not in text else "…"
