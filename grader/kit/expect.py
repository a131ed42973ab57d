"""Expectations: is what the student's function returned the expected value?

The ``expect_*`` helpers check the exact type first, then shape and dtype, then the values,
and raise ``Mismatch`` with what was expected and what came back. They never trust the
value they are given: it is plain data decoded from the worker, but its type may still be
anything the protocol allows. ``what`` names the call for the report; left out, the engine
names the call that returned the value.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from grader.sandbox.protocol import Handle, RemoteArraySubclass, TensorData


class Mismatch(AssertionError):
    """The student's value is not the expected one (type, shape, dtype or values)."""

    def __init__(self, what: str | None, reason: str, detail: str, *, expected: Any = None, got: Any = None):
        self.what, self.reason, self.detail, self.expected, self.got = what, reason, detail, expected, got
        super().__init__(f"{what}: {detail}" if what else detail)


# --------------------------------------------------------------------------- type names


def type_name(value) -> str:
    """Return a short, student-readable name of a value's type."""
    if isinstance(value, RemoteArraySubclass):
        return f"{value.subclass} (a subclass of numpy.ndarray)"
    if isinstance(value, TensorData):
        return f"torch.Tensor ({value.dtype})"
    if isinstance(value, Handle):
        return value.type
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray ({value.dtype})"
    if isinstance(value, np.generic):
        return f"numpy.{type(value).__name__}"
    return type(value).__name__


def _as_numeric_array(value) -> np.ndarray | None:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            return None
        return arr if arr.dtype.kind in "biuf" else None
    if isinstance(value, (numbers.Real, np.generic)) and not isinstance(value, bool):
        return np.asarray(value)
    return None


# --------------------------------------------------------------------------- expectations

FLOAT_RTOL = {np.dtype(np.float16): 2e-3, np.dtype(np.float32): 1e-5}


def expect_array(got, expected=None, *, what: str | None = None, shape: tuple | None = None, rtol: float = 1e-7,
                 atol=0.0, kinds: str = "iuf", allow_list: bool = False) -> np.ndarray:
    """Expect a numpy array equal to ``expected`` (shape exact, values within tolerance).

    ``kinds`` are the accepted dtype kinds ("f" float, "i"/"u" integers, "b" bool);
    ``allow_list`` also accepts nested lists/tuples of numbers. The tolerance is relative to
    the largest expected magnitude, and looser for float32/float16 results. Without
    ``expected``, only the structure is checked: the type, the dtype's kind and ``shape``
    (``None`` in it matches any size), for results with no single right value. ``atol`` (a
    number or an array of ``expected``'s shape) widens the bound where rounding is amplified
    (see ``expect_oracle``).
    """
    if expected is None:
        if shape is None:
            raise TypeError("expect_array needs expected or shape")
        return _expect_shape(_typed_array(got, None, what, kinds, allow_list), tuple(shape), what)
    expected = np.asarray(expected)
    got = _typed_array(got, expected, what, kinds, allow_list)
    if got.shape != expected.shape:
        raise Mismatch(what, "shape", f"expected shape {expected.shape}, got shape {got.shape}",
                       expected=expected, got=got)
    exp = expected.astype(np.float64)
    g = got.astype(np.float64)
    if np.isfinite(exp).all() and not np.isfinite(g).all():
        bad = "nan" if np.isnan(g).any() else "inf"
        raise Mismatch(what, "value", f"the result contains {bad}", expected=expected, got=got)
    rtol = max(rtol, FLOAT_RTOL.get(got.dtype, 0.0))
    scale = max(1.0, float(np.max(np.abs(exp)))) if exp.size else 1.0
    err = np.abs(g - exp)
    if exp.size and not np.all(err <= rtol * scale + rtol * np.abs(exp) + np.asarray(atol, dtype=np.float64)):
        idx = np.unravel_index(int(np.argmax(err)), err.shape)
        at = f" at index {tuple(int(i) for i in idx)}" if exp.ndim else ""
        raise Mismatch(what, "value", f"values differ: largest difference {err[idx]:.4g}{at} "
                                      f"(expected {exp[idx]:.6g}, got {g[idx]:.6g})", expected=expected, got=got)
    return got


def expect_oracle(got, oracle, *args, what: str | None = None, rtol: float = 1e-7, kinds: str = "iuf",
                  allow_list: bool = False, **kwargs) -> np.ndarray:
    """Expect the array ``oracle(*args, **kwargs)``, within the rounding error of ``got``'s own precision.

    A correct float32 answer may be far from the float64 oracle where the computation amplifies
    rounding (a constant pixel divided by std + eps); the allowed error per element is measured
    on the oracle itself (``grader.kit.tolerance``), so it follows the result's dtype and the
    computation's conditioning instead of a fixed relative bound.
    """
    from .tolerance import result_dtype, rounding_tolerance

    expected = oracle(*args, **kwargs)
    atol = rounding_tolerance(oracle, args, kwargs, dtype=result_dtype(got), expected=expected)
    return expect_array(got, expected, what=what, rtol=rtol, atol=atol, kinds=kinds, allow_list=allow_list)


def _typed_array(got, expected, what: str | None, kinds: str, allow_list: bool) -> np.ndarray:
    """``got`` as a plain ndarray of one of ``kinds``, or the Mismatch saying what it is instead."""
    if isinstance(got, RemoteArraySubclass):
        raise Mismatch(what, "type", f"returned {type_name(got)}; return a plain numpy.ndarray "
                                     "(np.asarray(result) strips the subclass)", expected=expected, got=got.array)
    if isinstance(got, TensorData):
        raise Mismatch(what, "type", "returned a torch.Tensor; this exercise works with numpy arrays "
                                     "(use .numpy(), or numpy throughout)", expected=expected, got=got.array)
    if not isinstance(got, np.ndarray):
        if allow_list and isinstance(got, (list, tuple)):
            arr = _as_numeric_array(got)
            if arr is None:
                raise Mismatch(what, "type", f"returned a {type_name(got)} that is not a rectangular array of numbers",
                               expected=expected, got=got)
            got = arr
        else:
            raise Mismatch(what, "type", f"expected a numpy.ndarray, got {type_name(got)}", expected=expected, got=got)
    if got.dtype.kind not in kinds:
        wanted = " or ".join({"f": "floats", "i": "integers", "u": "unsigned integers", "b": "booleans"}[k] for k in kinds)
        raise Mismatch(what, "dtype", f"expected an array of {wanted}, got dtype {got.dtype}", expected=expected, got=got)
    return got


def _expect_shape(got: np.ndarray, shape: tuple, what: str | None) -> np.ndarray:
    if got.ndim != len(shape) or any(n is not None and g != n for g, n in zip(got.shape, shape)):
        sizes = ", ".join("any" if n is None else str(n) for n in shape)
        raise Mismatch(what, "shape", f"expected shape ({sizes}{',' * (len(shape) == 1)}), got shape {got.shape}",
                       got=got)
    return got


def expect_int(got, expected: int, *, what: str | None = None) -> int:
    """Expect an integer (Python int or numpy integer) equal to ``expected``."""
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        hint = " (use // or int(...) to return an int)" if isinstance(got, (float, np.floating)) else ""
        raise Mismatch(what, "type", f"expected an int, got {type_name(got)} {got!r}{hint}", expected=expected, got=got)
    if int(got) != int(expected):
        raise Mismatch(what, "value", f"expected {expected}, got {int(got)}", expected=expected, got=got)
    return int(got)


def expect_float(got, expected: float, *, what: str | None = None, rtol: float = 1e-7, atol: float = 1e-9) -> float:
    """Expect a real number (int, float, numpy scalar or 0-d array) close to ``expected``."""
    if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "iuf":
        got = got[()]
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise Mismatch(what, "type", f"expected a number, got {type_name(got)}", expected=expected, got=got)
    value = float(got)
    if np.isfinite(expected) and not np.isfinite(value):
        raise Mismatch(what, "value", f"expected {expected:.6g}, got {value}", expected=expected, got=got)
    if isinstance(got, np.float32):
        rtol = max(rtol, 1e-5)
    if not abs(value - expected) <= atol + rtol * max(1.0, abs(expected)):
        raise Mismatch(what, "value", f"expected {expected:.6g}, got {value:.6g}", expected=expected, got=got)
    return value


def expect(condition: bool, what: str | None, detail: str, *, expected: Any = None, got: Any = None) -> None:
    """Expect a property to hold; ``detail`` says what went wrong when it does not."""
    if not condition:
        raise Mismatch(what, "property", detail, expected=expected, got=got)
