"""A counterexample's call line is Python that reproduces the call when pasted."""

import numpy as np

from grader.report.fmt import show_call
from grader.sandbox.protocol import Generator


def _pasted(line: str):
    """Evaluate a call line with a function that returns what it was called with."""
    return eval(line, {"np": np, "f": lambda *a, **k: (a, k)})


def test_small_arrays_scalars_and_options_come_back_exactly_when_the_call_line_is_pasted():
    args = (np.array([[0.0, 1.5], [-2.0, 0.1]]), np.array([1, 2], dtype=np.uint8), np.float32(0.3), 0.1 + 0.2)
    kwargs = {"stride": 2, "padding": "same", "bias": None}
    line = show_call("f", args, kwargs)
    assert line.startswith("f(np.array([[0.0, 1.5], [-2.0, 0.1]]), np.array([1, 2], dtype=np.uint8), np.float32(")
    got_args, got_kwargs = _pasted(line)
    for a, b in zip(got_args, args):
        assert np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype
    assert got_kwargs == kwargs


def test_a_seeded_generator_is_written_as_the_call_that_makes_it_and_large_arrays_by_shape():
    line = show_call("dropout", (np.zeros((20, 20)), 0.5), {"rng": Generator(6)})
    assert line == "dropout(<array (20, 20)>, 0.5, rng=np.random.default_rng(6))"
