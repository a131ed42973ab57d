"""Helpers for the checks of torch models that stay in the worker (exercise02, exercise11).

A student's ``nn.Module`` never crosses to the grader: it comes back as a ``Handle``, and the
worker-side probes (``grader/sandbox/probes.py``) describe and run it. The probes run in the
untrusted worker, so everything they return is validated here before a check uses it. A
failure raises ``Mismatch`` with the model's handle as ``got``: the counterexample then shows
the call that built the model.
"""

from __future__ import annotations

import numpy as np

from grader.check import Mismatch, type_name
from grader.sandbox.protocol import Handle
from grader.sandbox.proxy import StudentError

_COUNTS = ("params", "trainable", "dropouts", "batchnorms")


def expect_module(sub, got, function: str, what: str) -> dict:
    """Expect ``got`` (what the student's ``function`` returned) to be an nn.Module; return its ``module_info``."""
    if not isinstance(got, Handle):
        hint = ""
        if isinstance(got, (list, tuple)):
            hint = " — put the layers into a module: return nn.Sequential(*layers)"
        elif got is None:
            hint = " — did you forget the return statement?"
        raise Mismatch(what, "type", f"{function} should return a torch.nn.Module (for example nn.Sequential(...)), "
                                     f"got {type_name(got)}{hint}", got=got)
    info = sub.probe("module_info", got)
    if not (isinstance(info, dict) and isinstance(info.get("module"), bool) and isinstance(info.get("type"), str)):
        raise Mismatch(what, "type", f"the object {function} returned could not be inspected as a torch.nn.Module",
                       got=got)
    if not info["module"]:
        kind = info["type"]
        hint = ""
        if kind in ("builtins.type", "abc.ABCMeta"):
            hint = " — that is a class; return an instance of it, e.g. nn.Sequential(...) with the parentheses"
        elif kind in ("builtins.function", "builtins.method"):
            hint = " — that is a function; return the model itself"
        raise Mismatch(what, "type", f"{function} should return a torch.nn.Module, got a {kind}{hint}", got=got)
    ok = all(type(info.get(k)) is int for k in _COUNTS) and isinstance(info.get("linears"), list) and all(
        isinstance(row, list) and len(row) == 3 and all(isinstance(v, (int, bool)) for v in row)
        for row in info["linears"])
    if not ok:
        raise Mismatch(what, "type", "the model's parameters could not be inspected", got=got)
    return info


def model_output(sub, probe: str, model: Handle, *args, what: str) -> np.ndarray:
    """The float array a forward probe (``forward``, or ``logits`` with the student's preprocess)
    returns for ``model``; what the student's code raised or returned instead is the Mismatch."""
    try:
        out = sub.probe(probe, model, *args)
    except StudentError as e:
        raise Mismatch(what, "error", f"the model raised {e.error_type}: {e.message}", got=model) from None
    if not (isinstance(out, dict) and len(out) == 1):
        raise Mismatch(what, "type", "the model's output could not be read", got=model)
    if "input" in out:
        raise Mismatch(what, "type", f"preprocess should return a torch tensor (the model's input), got "
                                     f"{str(out['input'])[:100]} — e.g. torch.as_tensor(array)", got=model)
    if "type" in out:
        raise Mismatch(what, "type", f"the model should return a tensor of logits, got {str(out['type'])[:100]}",
                       got=model)
    arr = out.get("tensor")
    if not (isinstance(arr, np.ndarray) and arr.dtype.kind == "f"):
        raise Mismatch(what, "type", "the model should return a float tensor", got=model)
    return arr
