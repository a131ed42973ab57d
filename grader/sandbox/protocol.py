"""The wire format between the grader and the worker: plain data only, never pickle.

A frame is a JSON header plus binary blobs: an array's raw bytes in C order, its dtype and
shape in the header (``dt``, ``shape``), rebuilt with ``np.frombuffer`` after checking that
the dtype is numeric and the byte count matches; parsing an ``.npy`` header took a third of
the worker's time per call. (A blob without ``dt`` is read as ``.npy`` with
``allow_pickle=False``.) Values are encoded as a JSON tree with a few tags:

    {"$tuple": [...]}                     a tuple
    {"$dict": [[key, value], ...]}        a dict (keys may be any encodable scalar)
    {"$nd": i, "dt": "<f8", "shape": [2, 3], "subclass": "mod.Name"}
                                          a numeric ndarray (blob i); subclass set if not exact
    {"$np": "<f8", "v": 1.5}              a numpy scalar with its exact dtype
    {"$tensor": i, "dtype": "torch.float32", "requires_grad": false, "subclass": ...}
    {"$handle": 7, "type": "mod.Name", "repr": "..."}   an object that stays in the worker
    {"$float": "nan" | "inf" | "-inf"}    non-finite floats (kept out of JSON's grammar)
    {"$rng": 6}                           np.random.default_rng(6), built where it is decoded

This module is shared by the grader and the worker, so it imports only the standard library
and numpy. The worker side may be tampered with by student code; the grader side therefore
validates everything it decodes (sizes, tags, dtypes) and trusts nothing else.

Sizes are bounded on both sides: a frame's JSON (MAX_HEADER) and arrays (MAX_BLOBS), one
string (MAX_STRING characters) and the values in one frame (MAX_NODES). The worker's
``encode`` and ``pack`` refuse a reply beyond them, so that a function returning a 20 MB
string fails that call with a clear message ("too large to grade"); the grader's
``FrameReader`` and ``decode`` enforce them whatever the worker sends.
"""

from __future__ import annotations

import io
import json
import math
import struct

import numpy as np

MAX_HEADER = 16 * 1024 * 1024  # bytes of JSON a peer may send in one frame (arrays go as blobs)
MAX_BLOBS = 256 * 1024 * 1024  # bytes of array data a peer may send in one frame
MAX_STRING = 100_000  # characters of one string in a value
MAX_NODES = 2_000_000  # values (list items, numbers, strings, …) in one frame's value tree
NUMERIC_KINDS = "biufc"  # bool, int, uint, float, complex: no object, string or void arrays


class ProtocolError(Exception):
    """A frame that is malformed, too large, or holds something other than plain data."""


class ValueTooLarge(ProtocolError):
    """A well-formed value too large to grade (a long string, millions of list items): the call
    fails with this message, and the channel is intact."""


def _string(text: str) -> str:
    if len(text) > MAX_STRING:
        raise ValueTooLarge(f"too large to grade: a string of {len(text):,} characters (at most {MAX_STRING:,})")
    return text


class _Count:
    """The values one frame may still hold (MAX_NODES), counted down by ``encode`` and ``decode``."""

    __slots__ = ("left",)

    def __init__(self):
        self.left = MAX_NODES

    def take(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise ValueTooLarge(f"too large to grade: more than {MAX_NODES:,} values in lists, tuples and dicts "
                                "(an array is fine)")


class Handle:
    """A reference to an object that lives in the worker (decoded on the grader side)."""

    __slots__ = ("id", "type", "repr")

    def __init__(self, id: int, type: str, repr: str):
        self.id, self.type, self.repr = id, type, repr

    def __repr__(self) -> str:
        return f"<{self.type} object in the worker #{self.id}>"


class Generator:
    """A seeded random generator for the student's function: the worker builds
    ``np.random.default_rng(seed)`` itself (a Generator object is not plain data)."""

    __slots__ = ("seed",)

    def __init__(self, seed: int):
        self.seed = int(seed)

    def __repr__(self) -> str:
        return f"np.random.default_rng({self.seed})"


class TensorData:
    """A torch tensor sent as data: its values as an ndarray plus torch's dtype name."""

    __slots__ = ("array", "dtype", "requires_grad", "subclass")

    def __init__(self, array: np.ndarray, dtype: str, requires_grad: bool, subclass: str | None):
        self.array, self.dtype, self.requires_grad, self.subclass = array, dtype, requires_grad, subclass

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    def __repr__(self) -> str:
        return f"tensor(shape={self.shape}, dtype={self.dtype})"


# --------------------------------------------------------------------------- encoding


def encode(value, blobs: list[bytes], make_handle=None, depth: int = 0, count: _Count | None = None):
    """Return the JSON tree for ``value``, appending array data to ``blobs``.

    ``make_handle(obj) -> dict`` turns anything that is not plain data into a handle; without
    it such values raise ProtocolError. Values over MAX_STRING or MAX_NODES raise ValueTooLarge.
    """
    if depth > 64:
        raise ProtocolError("value nested too deeply")
    count = count or _Count()
    count.take()
    t = type(value)
    if t is str:
        return _string(value)
    if value is None or t is bool:
        return value
    if t is int:
        return value
    if t is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if t is list:
        return [encode(v, blobs, make_handle, depth + 1, count) for v in value]
    if t is tuple:
        return {"$tuple": [encode(v, blobs, make_handle, depth + 1, count) for v in value]}
    if t is dict:
        return {"$dict": [[encode(k, blobs, make_handle, depth + 1, count),
                           encode(v, blobs, make_handle, depth + 1, count)] for k, v in value.items()]}
    if isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS:
        arr = np.asarray(value)  # strips the subclass, keeps the data
        node = _array_node("$nd", arr.view(np.ndarray), blobs)
        if t is not np.ndarray:
            node["subclass"] = _qualname(t)
        return node
    if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
        return {"$np": value.dtype.str, "v": encode(value.item(), blobs, count=count)}
    if _is_tensor(value):
        return _encode_tensor(value, blobs)
    if t is Handle:
        return {"$handle": value.id}
    if t is Generator:
        return {"$rng": value.seed}
    if make_handle is not None:
        return make_handle(value)
    raise ProtocolError(f"cannot send a {_qualname(t)} as plain data")


def _qualname(t: type) -> str:
    return f"{getattr(t, '__module__', '?')}.{getattr(t, '__qualname__', '?')}"


def _is_tensor(value) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _encode_tensor(value, blobs):
    import torch

    t = value.detach().cpu()
    dtype = str(t.dtype)
    if t.dtype == torch.bfloat16:
        t = t.float()
    arr = t.resolve_conj().resolve_neg().numpy()
    node = _array_node("$tensor", arr, blobs)
    node.update(dtype=dtype, requires_grad=bool(value.requires_grad))
    if type(value) is not torch.Tensor and type(value) is not torch.nn.Parameter:
        node["subclass"] = _qualname(type(value))
    return node


def _array_node(tag: str, arr: np.ndarray, blobs: list[bytes]) -> dict:
    blobs.append(arr.tobytes(order="C"))
    return {tag: len(blobs) - 1, "dt": arr.dtype.str, "shape": list(arr.shape)}


# --------------------------------------------------------------------------- decoding


def decode(node, blobs: list[bytes], depth: int = 0, count: _Count | None = None):
    """Return the Python value for a JSON tree made by ``encode`` (validating as it goes).

    Strings over MAX_STRING characters and trees of more than MAX_NODES values raise
    ValueTooLarge, whatever the peer's ``encode`` did.
    """
    if depth > 64:
        raise ProtocolError("value nested too deeply")
    count = count or _Count()
    count.take()
    if isinstance(node, list) and len(node) > count.left:  # before walking millions of items
        count.take(len(node))
    if isinstance(node, str):
        return _string(node)
    if node is None or isinstance(node, (bool, int, float)):
        return node
    if isinstance(node, list):
        return [decode(v, blobs, depth + 1, count) for v in node]
    if not isinstance(node, dict) or len(node) == 0:
        raise ProtocolError("malformed value")
    if "$tuple" in node:
        return tuple(decode(v, blobs, depth + 1, count) for v in _list(node["$tuple"]))
    if "$dict" in node:
        out = {}
        for pair in _list(node["$dict"]):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ProtocolError("malformed dict entry")
            key = decode(pair[0], blobs, depth + 1, count)
            try:
                out[key] = decode(pair[1], blobs, depth + 1, count)
            except TypeError:
                raise ProtocolError("unhashable dict key") from None
        return out
    if "$float" in node:
        if node["$float"] not in ("nan", "inf", "-inf"):
            raise ProtocolError("malformed float")
        return float(node["$float"])
    if "$nd" in node:
        arr = _array(node, "$nd", blobs)
        sub = node.get("subclass")
        return arr if sub is None else RemoteArraySubclass(arr, str(sub)[:200])
    if "$np" in node:
        dtype = np.dtype(str(node["$np"]))
        if dtype.kind not in NUMERIC_KINDS:
            raise ProtocolError("non-numeric numpy scalar")
        v = decode(node["v"], blobs, depth + 1, count)
        if not isinstance(v, (bool, int, float)):
            raise ProtocolError("malformed numpy scalar")
        return dtype.type(v)
    if "$tensor" in node:
        sub = node.get("subclass")
        return TensorData(_array(node, "$tensor", blobs), str(node.get("dtype"))[:40],
                          bool(node.get("requires_grad")), None if sub is None else str(sub)[:200])
    if "$rng" in node:
        if type(node["$rng"]) is not int:
            raise ProtocolError("malformed generator seed")
        return np.random.default_rng(node["$rng"])
    if "$handle" in node:
        hid = node["$handle"]
        if type(hid) is not int:
            raise ProtocolError("malformed handle")
        return Handle(hid, str(node.get("type", "?"))[:200], str(node.get("repr", ""))[:500])
    raise ProtocolError("unknown tag in value")


class RemoteArraySubclass:
    """What the worker returned was an ndarray *subclass*: kept apart so checks reject it."""

    __slots__ = ("array", "subclass")

    def __init__(self, array: np.ndarray, subclass: str):
        self.array, self.subclass = array, subclass

    def __repr__(self) -> str:
        return f"<{self.subclass} (an ndarray subclass) shape={self.array.shape}>"


def _list(v):
    if not isinstance(v, list):
        raise ProtocolError("malformed container")
    return v


def _array(node: dict, tag: str, blobs) -> np.ndarray:
    index = node[tag]
    if type(index) is not int or not 0 <= index < len(blobs):
        raise ProtocolError("malformed array reference")
    if "dt" in node:
        return _raw_array(node, blobs[index])
    try:
        arr = np.load(io.BytesIO(blobs[index]), allow_pickle=False)
    except Exception as e:  # a corrupt blob is the peer's fault, never ours
        raise ProtocolError(f"corrupt array data: {e}") from None
    if type(arr) is not np.ndarray or arr.dtype.kind not in NUMERIC_KINDS:
        raise ProtocolError("array of a non-numeric dtype")
    return arr


def _raw_array(node: dict, blob: bytes) -> np.ndarray:
    """Rebuild an array from its raw bytes, refusing anything but a plain numeric dtype."""
    dt, shape = node["dt"], node.get("shape")
    if type(dt) is not str or len(dt) > 8 or type(shape) is not list or len(shape) > 32 \
            or any(type(n) is not int or n < 0 for n in shape):
        raise ProtocolError("malformed array header")
    try:
        dtype = np.dtype(dt)
    except (TypeError, ValueError):
        raise ProtocolError("malformed array dtype") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError("array of a non-numeric dtype")
    if len(blob) != math.prod(shape) * dtype.itemsize:
        raise ProtocolError("array data does not match its shape")
    return np.frombuffer(blob, dtype=dtype).reshape(shape).copy()  # writable, like any other array


# --------------------------------------------------------------------------- framing


def pack(message: dict, blobs: list[bytes]) -> bytes:
    """Return the bytes of one frame: header length, header JSON, blob count, blobs.

    A reply (it has ``ok``) larger than the grader's FrameReader accepts raises ValueTooLarge
    here, in the worker, so that the call fails with that message instead of the channel.
    """
    header = json.dumps(message, allow_nan=False, separators=(",", ":")).encode()
    if "ok" in message and (len(header) > MAX_HEADER or sum(map(len, blobs)) > MAX_BLOBS):
        raise ValueTooLarge(f"too large to grade: a reply of {len(header) + sum(map(len, blobs)):,} bytes "
                            f"(at most {MAX_HEADER:,} of JSON and {MAX_BLOBS:,} of arrays)")
    parts = [struct.pack(">QI", len(header), len(blobs)), header]
    for b in blobs:
        parts.append(struct.pack(">Q", len(b)))
        parts.append(b)
    return b"".join(parts)


class FrameReader:
    """Incremental parser: feed bytes, take complete frames. Enforces the size limits."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) > MAX_HEADER + MAX_BLOBS + 1024:
            raise ProtocolError("frame too large")

    def take(self):
        """Return (message, blobs) when a whole frame is buffered, else None."""
        buf = self.buf
        if len(buf) < 12:
            return None
        hlen, nblobs = struct.unpack_from(">QI", buf, 0)
        if hlen > MAX_HEADER or nblobs > 100_000:
            raise ProtocolError("frame too large")
        pos = 12 + hlen
        if len(buf) < pos:
            return None
        offsets, total = [], 0
        for _ in range(nblobs):
            if len(buf) < pos + 8:
                return None
            (blen,) = struct.unpack_from(">Q", buf, pos)
            total += blen
            if total > MAX_BLOBS:
                raise ProtocolError("frame too large")
            offsets.append((pos + 8, pos + 8 + blen))
            pos += 8 + blen
        if len(buf) < pos:
            return None
        try:
            message = json.loads(bytes(buf[12:12 + hlen]))
        except (ValueError, RecursionError):  # RecursionError: nested too deeply for the parser
            raise ProtocolError("malformed frame header") from None
        if not isinstance(message, dict):
            raise ProtocolError("malformed frame header")
        blobs = [bytes(buf[a:b]) for a, b in offsets]
        del buf[:pos]
        return message, blobs
