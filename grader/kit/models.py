"""Helpers for the checks of torch models that stay in the worker (exercise02, exercise11).

A student's ``nn.Module`` never crosses to the grader: it comes back as a ``Handle``, and the
worker-side probes (``grader/sandbox/probes.py``) describe and run it. The probes run in the
untrusted worker, so everything they return is validated here before a check uses it. A
failure raises ``Mismatch`` with the model's handle as ``got``: the counterexample then shows
the call that built the model.
"""

from __future__ import annotations

import math

import numpy as np

from .expect import Mismatch, type_name
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


# --------------------------------------------------------------------------- weights files, read by the grader

BATCHNORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


class WeightsFileError(ValueError):
    """A weights file whose tensors cannot be listed (the message completes "<file> …")."""


def tensor_shapes(data: bytes, kind: str) -> dict[str, tuple[int, ...]]:
    """Return {name: shape} of the tensors in a weights file, read here in the grader without
    torch and without running anything from the file: a safetensors header is JSON; a ``.pt``
    state dict is a zip whose pickle is read with an unpickler that builds nothing but shapes.

    The structure of a trained model is judged from these, never from the student's objects,
    whose ``parameters()`` or ``modules()`` could say anything.
    """
    return _safetensors_shapes(data) if kind == "safetensors" else _pt_shapes(data)


def _safetensors_shapes(data: bytes) -> dict[str, tuple[int, ...]]:
    import json
    import struct

    if len(data) < 8:
        raise WeightsFileError("is too short to be a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > min(len(data) - 8, 100 << 20):
        raise WeightsFileError("is not a safetensors file (its header length is wrong)")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError:
        raise WeightsFileError("is not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise WeightsFileError("is not a safetensors file")
    shapes = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
            raise WeightsFileError(f"has a malformed entry for {str(name)[:60]}")
        shapes[str(name)] = tuple(shape)
    return shapes


class _Shape:
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(int(d) for d in shape)


def _rebuild_tensor(storage, offset, size, *rest):
    return _Shape(size)


def _rebuild_parameter(data, *rest):
    return data


def _unpickle_shapes(raw: bytes):
    """Read a torch.save'd state dict's pickle, knowing only the globals such a file uses: every
    tensor becomes its shape, storages are never read, anything else is refused."""
    import collections
    import io
    import pickle

    known = {("collections", "OrderedDict"): collections.OrderedDict,
             ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
             ("torch._utils", "_rebuild_parameter"): _rebuild_parameter}

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) in known:
                return known[module, name]
            if module == "torch" and (name.endswith("Storage") or name in _TORCH_DTYPES):
                return name
            raise pickle.UnpicklingError(f"Unsupported global: GLOBAL {module}.{name}")

        def persistent_load(self, pid):
            return None

    return Unpickler(io.BytesIO(raw)).load()


_TORCH_DTYPES = {"float16", "bfloat16", "float32", "float64", "half", "float", "double", "int8", "uint8", "int16",
                 "int32", "int64", "bool", "long", "int", "short", "complex64", "complex128"}


def _pt_shapes(data: bytes) -> dict[str, tuple[int, ...]]:
    import io
    import pickle
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = [n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            if len(names) != 1 or z.getinfo(names[0]).file_size > 16 << 20:
                raise WeightsFileError("is not a torch.save'd state dict (no single data.pkl inside)")
            raw = z.read(names[0])
    except (zipfile.BadZipFile, OSError, EOFError):
        raise WeightsFileError("is not a torch.save'd state dict (not a zip archive)") from None
    try:
        state = _unpickle_shapes(raw)
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise WeightsFileError(f"is not a state dict of tensors ({str(e)[:200]})") from None
    if not isinstance(state, dict) or not all(isinstance(v, _Shape) for v in state.values()):
        raise WeightsFileError("holds something else than a state dict of tensors")
    return {str(k): v.shape for k, v in state.items()}


def structure_of(shapes: dict[str, tuple[int, ...]]) -> dict:
    """Parameters (every tensor but batchnorm's running statistics) and batchnorm layers (a
    prefix with running_mean and running_var), counted from a weights file's tensor shapes."""
    params = sum(math.prod(s) for name, s in shapes.items() if name.rsplit(".", 1)[-1] not in BATCHNORM_BUFFERS)
    prefixes = {name.rsplit(".", 1)[0] for name in shapes if name.endswith(".running_mean")}
    batchnorms = sum(1 for p in prefixes if f"{p}.running_var" in shapes)
    return {"params": int(params), "batchnorms": batchnorms}
