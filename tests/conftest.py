"""Shared fixtures: grade a source text, the solutions' texts, one-line mutations."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
# official grading's secret (grader.secret): the tests' own, never the machine user's file
os.environ.setdefault("GRADER_SECRET", "the project's tests")


def pytest_collection_modifyitems(config, items):
    """Mark tests that need ../shared/data and skip them cleanly when it is absent."""
    for item in items:
        if "shared_data" in item.keywords and not SHARED_DATA.is_dir():
            item.add_marker(pytest.mark.skip(reason=f"needs the course data in {SHARED_DATA} (not present)"))


@pytest.fixture(scope="session", autouse=True)
def warm_workers():
    """The suite grades the same exercises hundreds of times in one process, as batch grading
    does: its workers are forked by warm parents (torch imported once per parent, not per
    grading). tests/sandbox holds the fresh workers of a student's own run to everything, and
    tests/sandbox/test_warm.py and test_attacks.py the warm ones."""
    from grader.sandbox import process

    process.keep_warm(True)
    yield
    process.keep_warm(False)


@pytest.fixture(scope="session")
def official():
    """``run_batch`` keywords for official grading on this machine: none with the full sandbox; where
    it is missing (no bubblewrap), the explicit override, so batch tests also cover the reduced mode
    (tests/sandbox/test_attacks.py holds the refusal itself)."""
    from grader.sandbox.process import isolation

    return {} if isolation().real else {"allow_unsafe_sandbox": True}


@pytest.fixture(scope="session")
def official_args(official):
    """The same for the command line: [] or ["--allow-unsafe-sandbox"]."""
    return ["--allow-unsafe-sandbox"] if official else []


@pytest.fixture
def saturated():
    """Both cores (and one more) kept busy by other processes while the test runs."""
    import subprocess
    import sys

    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        yield
    finally:
        for p in busy:
            p.kill()
            p.wait()


@pytest.fixture
def within():
    """Return ``within(seconds)``, a context manager that raises TimeoutError in this (the main)
    thread when its block runs longer: a test of something that used to hang fails instead."""
    import contextlib
    import signal

    @contextlib.contextmanager
    def bound(seconds: float):
        def expired(signum, frame):
            raise TimeoutError(f"still running after {seconds:g} s")

        previous = signal.signal(signal.SIGALRM, expired)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    return bound


@pytest.fixture
def solution_text():
    """Return a function giving the text of solutions/<exercise>.py."""
    return lambda exercise: (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")


@pytest.fixture
def exercise_text():
    """Return a function giving the text of the released exercises/<exercise>.py."""
    return lambda exercise: (ROOT / "exercises" / f"{exercise}.py").read_text(encoding="utf-8")


@pytest.fixture
def mutate():
    """Return a function replacing exactly one occurrence of ``old`` by ``new`` (asserting it is there)."""
    def apply(text: str, old: str, new: str) -> str:
        assert text.count(old) == 1, f"the mutation's anchor occurs {text.count(old)} times: {old!r}"
        return text.replace(old, new)
    return apply


def _snapshot(folder: str, test: str, index: int, result) -> None:
    """Write a grading's JSON without timings to ``folder`` (``GRADER_SNAPSHOT_DIR``), named after
    the test and the grading's number in it: two runs of the suite compare file by file
    (``python tests/compare_snapshots.py BEFORE AFTER``), the proof that a refactoring changed
    no verdict, message or counterexample."""
    import hashlib
    import json

    data = result.to_dict()
    data.pop("duration", None)
    data.pop("grader_version", None)
    for c in data.get("checks", []):
        c.pop("duration", None)
    name = hashlib.sha256(f"{test}#{index}".encode()).hexdigest()[:16]
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / f"{name}.json").write_text(json.dumps({"test": test, "index": index, "result": data},
                                                         sort_keys=True, indent=1, default=str))


@pytest.fixture
def grade_text(tmp_path, request):
    """Return ``run(exercise, text, functions=None, files=None, **grade_kwargs) -> ExerciseResult``.

    ``functions`` restricts grading to the checks about those functions (fast mistake tests);
    ``files`` ({name: bytes}) are handed in beside the file (exercise11's weights). With
    ``GRADER_SNAPSHOT_DIR`` set, every result is also written there (``_snapshot``).
    """
    import os

    from grader.engine import grade

    counter = iter(range(10_000))
    snapshots = iter(range(10_000))

    def run(exercise: str, text: str, *, functions=None, suffix: str = ".py", files=None, **kwargs):
        folder = tmp_path / f"s{next(counter)}"
        folder.mkdir()
        path = folder / f"{getattr(exercise, 'id', exercise)}{suffix}"
        path.write_text(text, encoding="utf-8")
        for name, data in (files or {}).items():
            (folder / name).write_bytes(data)
        only = None
        if functions is not None:
            wanted = set(functions)
            only = lambda spec: bool(wanted & set(spec.functions))  # noqa: E731
        result = grade(exercise, path, only=only, **kwargs)
        if os.environ.get("GRADER_SNAPSHOT_DIR"):
            _snapshot(os.environ["GRADER_SNAPSHOT_DIR"], request.node.nodeid, next(snapshots), result)
        return result

    return run


@pytest.fixture
def assert_mistake_diagnosed(grade_text, solution_text, mutate):
    """Return ``check(exercise, edits, function, mistake)``: apply the one-line edits to the
    solution, grade only ``function``'s checks, and assert points are lost and ``mistake`` is named."""
    def check(exercise: str, edits, function: str, mistake: str):
        text = solution_text(exercise)
        for old, new in edits:
            text = mutate(text, old, new)
        result = grade_text(exercise, text, functions=[function])
        assert result.score < result.max_score
        assert mistake in diagnoses(result), [(c.name, c.message, c.diagnosis) for c in result.checks if not c.passed]
        return result
    return check


def diagnoses(result) -> set[str]:
    """Return the names of all mistakes diagnosed in a result."""
    return {c.diagnosis.name for c in result.checks if c.diagnosis is not None}


def _canonical_json(result) -> str:
    """Return the result's Gradescope JSON without its timings (what must be identical across runs)."""
    import json

    from grader.report import gradescope

    d = gradescope.to_json_dict(result)
    d.pop("execution_time")
    d["extra_data"].pop("duration")
    for t in d["tests"]:
        t["extra_data"].pop("duration")
    return json.dumps(d, sort_keys=True)


@pytest.fixture
def canonical_json():
    return _canonical_json


CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_learnable_cifar(folder: Path, *, n_train: int = 1000, n_test: int = 500, seed: int = 0) -> Path:
    """Write ``folder/cifar-10-batches-py`` (official layout, Python 3 pickles) whose classes a
    small CNN or a forest learns in seconds: class c is a colour and a stripe direction, plus
    noise and a random brightness, so chance is 0.1 and a trained model gets close to 1.

    ``n_train`` images are spread over the five training batches; ``n_test`` go to test_batch.
    """
    import pickle

    import numpy as np

    rng = np.random.default_rng(seed)
    palette = rng.integers(40, 216, size=(10, 3))                          # (10, 3) a colour per class
    yy, xx = np.mgrid[0:32, 0:32]
    stripes = [np.sin((xx * np.cos(a) + yy * np.sin(a)) * 0.8) for a in np.linspace(0, np.pi, 10, endpoint=False)]

    def images(n):
        labels = rng.integers(0, 10, size=n)
        x = palette[labels][:, :, None, None] + 30 * np.stack([stripes[c] for c in labels])[:, None]  # (n, 3, 32, 32)
        x = x * rng.uniform(0.8, 1.2, size=(n, 1, 1, 1)) + rng.normal(0, 12, size=x.shape)
        return np.clip(x, 0, 255).astype(np.uint8).reshape(n, 3072), [int(v) for v in labels]

    out = folder / "cifar-10-batches-py"
    out.mkdir(parents=True)
    sizes = [n_train // 5 + (i < n_train % 5) for i in range(5)]
    for name, n in [(f"data_batch_{i + 1}", s) for i, s in enumerate(sizes)] + [("test_batch", n_test)]:
        data, labels = images(n)
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                 b"filenames": [f"{name}_{j}.png".encode() for j in range(n)]}
        (out / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"num_cases_per_batch": sizes[0], b"label_names": [c.encode() for c in CIFAR_CLASSES], b"num_vis": 3072}
    (out / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return out


@pytest.fixture(scope="session")
def learnable_cifar(tmp_path_factory) -> Path:
    """A data folder holding a small learnable CIFAR-10 (see ``write_learnable_cifar``)."""
    folder = tmp_path_factory.mktemp("learnable-cifar")
    write_learnable_cifar(folder)
    return folder


@pytest.fixture(scope="session")
def fakefaces():
    """The generator of face-like data and team submissions for the project (``tests/fakefaces.py``)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("fakefaces", Path(__file__).resolve().parent / "fakefaces.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def fake_lfw8(tmp_path_factory, fakefaces) -> Path:
    """A data folder holding a generated lfw8-gray.zip (LFW-8's people and proportions, a fifth as many)."""
    folder = tmp_path_factory.mktemp("fake-lfw8")
    fakefaces.write_fake_lfw8(folder)
    return folder
