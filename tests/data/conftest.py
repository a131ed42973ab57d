"""Fixtures that generate small datasets in the official formats, and a local HTTP server."""

from __future__ import annotations

import functools
import gzip
import io
import pickle
import struct
import tarfile
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


class Py2StylePickler(pickle._Pickler):
    """Writes pickles as the official CIFAR-10 batches are: Python 2 cPickle, protocol 2.

    Python 2's str is Python 3's bytes, written as BINSTRING (Python 3 would write bytes at
    protocol 2 as a call to _codecs.encode), and numpy's _reconstruct under its numpy 1 name.
    """

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str

    def save_global(self, obj, name=None):
        name = name or obj.__qualname__
        module = pickle.whichmodule(obj, name)
        module = {"numpy._core.multiarray": "numpy.core.multiarray"}.get(module, module)
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode())
        self.memoize(obj)


def pickle_bytes(obj, style: str) -> bytes:
    """``style`` "py2": like the official files; "py3": ``pickle.dumps(obj, protocol=2)``."""
    if style == "py3":
        return pickle.dumps(obj, protocol=2)
    buffer = io.BytesIO()
    Py2StylePickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def write_cifar_batches(folder: Path, *, per_batch: int = 20, style: str = "py2", seed: int = 0) -> dict:
    """Write ``folder/cifar-10-batches-py`` in the official format; return the arrays written.

    Official batches hold 10,000 rows each; fewer keep the tests fast, the format is the same.
    """
    rng = np.random.default_rng(seed)
    out = folder / "cifar-10-batches-py"
    out.mkdir(parents=True)
    written = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = [int(x) for x in rng.integers(0, 10, size=per_batch)]
        label = f"training batch {i + 1} of 5" if name != "test_batch" else "testing batch 1 of 1"
        batch = {b"batch_label": label.encode(), b"labels": labels, b"data": data,
                 b"filenames": [f"img_{i}_{j}.png".encode() for j in range(per_batch)]}
        (out / name).write_bytes(pickle_bytes(batch, style))
        written[name] = (data, labels)
    meta = {b"num_cases_per_batch": per_batch, b"label_names": [c.encode() for c in CIFAR_CLASSES],
            b"num_vis": 3072}
    (out / "batches.meta").write_bytes(pickle_bytes(meta, style))
    return written


def tar_folder(folder: Path, archive: Path) -> Path:
    """``archive`` (.tar.gz) holding ``folder`` under its own name, as the official download does."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def write_idx(path: Path, array: np.ndarray, *, gz: bool) -> Path:
    """An IDX file of unsigned bytes (MNIST's format), gzipped if ``gz``."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture
def cifar_folder(tmp_path):
    """A generated ``cifar-10-batches-py`` in the official (Python 2 pickle) format: (parent folder, arrays)."""
    written = write_cifar_batches(tmp_path / "cifar")
    return tmp_path / "cifar", written


@pytest.fixture
def cifar_archive(tmp_path):
    """A generated ``cifar-10-python.tar.gz`` in the official layout: (path, arrays)."""
    written = write_cifar_batches(tmp_path / "src")
    return tar_folder(tmp_path / "src" / "cifar-10-batches-py", tmp_path / "cifar-10-python.tar.gz"), written


def png_bytes(array: np.ndarray, fmt: str = "PNG") -> bytes:
    """Encode an (H, W) or (H, W, 3) uint8 array as an image file."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def image_tree():
    """A function writing ``{relative path: array}`` as image files into a folder or a zip."""
    def write(target: Path, files: dict[str, np.ndarray]) -> Path:
        encoded = {rel: png_bytes(a, "JPEG" if rel.endswith(".jpg") else "PNG") for rel, a in files.items()}
        if target.suffix == ".zip":
            with zipfile.ZipFile(target, "w") as zf:
                for rel, data in encoded.items():
                    zf.writestr(rel, data)
        else:
            for rel, data in encoded.items():
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                (target / rel).write_bytes(data)
        return target
    return write


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves the folder; ``/cut/NAME`` promises 100,000 bytes, sends 1,000 and hangs up."""

    def do_GET(self):
        if self.path.startswith("/cut/"):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def http_server(tmp_path, monkeypatch):
    """Serve ``tmp_path/www`` on 127.0.0.1 (a free port) from a thread: (folder, base URL)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def make_cifar():
    """``write_cifar_batches(folder, per_batch=20, style="py2"|"py3")`` and ``tar_folder``."""
    return write_cifar_batches, tar_folder


@pytest.fixture
def make_idx():
    """``write_idx(path, array, gz=...)``."""
    return write_idx


@pytest.fixture
def dump_py2():
    """``pickle_bytes(obj, "py2"|"py3")``."""
    return pickle_bytes
