"""Tests of the exercise09 reference (early stopping, augmentation) and of its model solution."""

import doctest
import importlib.util
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.reference import exercise09 as ref

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_PATH = ROOT / "solutions" / "exercise09.py"


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_09", SOLUTION_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()


# --- oracles --------------------------------------------------------------------------------


class KerasEarlyStopping:
    """A transcription of keras.callbacks.EarlyStopping.on_epoch_end (Keras 3), without weights."""

    def __init__(self, patience, min_delta, mode):
        self.patience = patience
        self.min_delta = abs(min_delta)
        self.monitor_op = (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)
        if mode == "min":
            self.min_delta *= -1
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stop_training = False

    def on_epoch_end(self, epoch, current):
        self.wait += 1
        if self.monitor_op(current - self.min_delta, self.best):
            self.best = current
            self.best_epoch = epoch
            self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stop_training = True


def _keras_run(values, patience, min_delta, mode):
    """Like model.fit: (epochs run, best, best_epoch) for a curve of monitored values."""
    cb = KerasEarlyStopping(patience, min_delta, mode)
    for epoch, value in enumerate(values):
        cb.on_epoch_end(epoch, value)
        if cb.stop_training:
            return epoch + 1, cb.best, cb.best_epoch
    return len(values), cb.best, cb.best_epoch


def _run(module, values, patience, min_delta, mode):
    stopper = module.EarlyStopping(patience=patience, min_delta=min_delta, mode=mode)
    for epoch, value in enumerate(values):
        if stopper.step(value):
            return epoch + 1, stopper.best, stopper.best_epoch
    return len(values), stopper.best, stopper.best_epoch


def _random_curves(n_cases=60, seed=0):
    """Noisy learning curves, rounded to 2 decimals so that ties (plateaus) occur."""
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        n = int(rng.integers(1, 30))
        mode = str(rng.choice(["min", "max"]))
        trend = np.exp(-np.arange(n) / rng.uniform(2, 10))
        noise = rng.normal(size=n) * rng.uniform(0, 0.2)
        values = np.round(trend + noise if mode == "min" else 1 - trend + noise, 2)
        patience = int(rng.integers(0, 6))
        min_delta = float(rng.choice([0.0, 0.013, 0.057]))  # off the 0.01 grid: no float ties
        yield values.tolist(), patience, min_delta, mode


def _shift_oracle(image, dy, dx, pad):
    """Zero-padded crop: out[..., i, j] = image[..., i - dy, j - dx] (0 outside)."""
    h, w = image.shape[-2:]
    widths = [(0, 0)] * (image.ndim - 2) + [(pad, pad), (pad, pad)]
    padded = np.pad(image, widths)
    return padded[..., pad - dy : pad - dy + h, pad - dx : pad - dx + w]


def _identify_shift(original, shifted, max_shift):
    matches = [
        (dy, dx)
        for dy, dx in itertools.product(range(-max_shift, max_shift + 1), repeat=2)
        if np.array_equal(_shift_oracle(original, dy, dx, max_shift), shifted)
    ]
    return matches


# --- early stopping: worked numbers ---------------------------------------------------------


def test_keras_example_patience_3_loss_never_improves_after_epoch_1_runs_4_epochs():
    stopper = ref.EarlyStopping(patience=3)
    decisions = [stopper.step(loss) for loss in [1.0, 1.5, 2.0, 2.5]]
    assert decisions == [False, False, False, True]
    assert stopper.best == 1.0 and stopper.best_epoch == 0
    assert _run(ref, [1.0] * 10, 3, 0.0, "min")[0] == 4  # a flat loss is no improvement either


def test_early_stopping_defaults_are_patience_3_min_delta_0_mode_min():
    stopper = ref.EarlyStopping()
    assert (stopper.patience, stopper.min_delta, stopper.mode) == (3, 0.0, "min")
    assert stopper.best is None and stopper.best_epoch is None


def test_early_stopping_resets_the_wait_counter_on_improvement():
    stopper = ref.EarlyStopping(patience=2)
    assert [stopper.step(v) for v in [5, 6, 4, 6, 7, 3, 9]] == [False, False, False, False, True, False, False]
    assert (stopper.best, stopper.best_epoch) == (3.0, 5)


def test_early_stopping_min_delta_requires_a_gain_larger_than_it():
    stopper = ref.EarlyStopping(patience=1, min_delta=0.1)
    assert stopper.step(1.0) is False
    assert stopper.step(0.95) is True  # a gain of 0.05 <= 0.1 is no improvement
    assert stopper.step(0.85) is False  # 0.85 < 1.0 - 0.1
    assert (stopper.best, stopper.best_epoch) == (0.85, 2)
    stopper = ref.EarlyStopping(patience=1, min_delta=0.1, mode="max")
    assert [stopper.step(v) for v in [0.5, 0.55, 0.7]] == [False, True, False]
    assert (stopper.best, stopper.best_epoch) == (0.7, 2)


def test_early_stopping_with_patience_0_stops_at_the_first_non_improvement():
    stopper = ref.EarlyStopping(patience=0)
    assert [stopper.step(v) for v in [3, 2, 1, 1]] == [False, False, False, True]


def test_nan_never_improves():
    stopper = ref.EarlyStopping(patience=2)
    assert [stopper.step(v) for v in [1.0, float("nan"), float("nan")]] == [False, False, True]
    assert stopper.best == 1.0 and stopper.best_epoch == 0
    stopper = ref.EarlyStopping(patience=2, mode="max")
    assert [stopper.step(v) for v in [float("nan"), 0.3, float("nan"), 0.2]] == [False, False, False, True]
    assert stopper.best == 0.3 and stopper.best_epoch == 1


def test_step_accepts_numpy_and_torch_scalars():
    stopper = ref.EarlyStopping(patience=1)
    assert stopper.step(np.float32(0.5)) is False
    assert stopper.step(torch.tensor(0.7)) is True
    assert isinstance(stopper.best, float)


# --- early stopping against the Keras transcription -----------------------------------------


def test_early_stopping_equals_keras_on_random_curves():
    for values, patience, min_delta, mode in _random_curves():
        assert _run(ref, values, patience, min_delta, mode) == _keras_run(values, patience, min_delta, mode)


# --- random_flip ----------------------------------------------------------------------------


def _random_images(rng, shape, dtype=np.float64):
    if dtype == np.uint8:
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.normal(size=shape).astype(dtype)


def test_flips_are_involutions_for_the_same_seed():
    rng = np.random.default_rng(1)
    for shape in [(10, 3, 4, 5), (7, 6, 6), (1, 1, 1, 1)]:
        x = _random_images(rng, shape)
        for horizontal, vertical in [(True, False), (False, True), (True, True)]:
            once = ref.random_flip(x, np.random.default_rng(2), horizontal, vertical)
            twice = ref.random_flip(once, np.random.default_rng(2), horizontal, vertical)
            np.testing.assert_array_equal(twice, x)


def test_flips_keep_the_multiset_of_pixels_of_every_image():
    rng = np.random.default_rng(3)
    x = _random_images(rng, (20, 3, 5, 4), np.uint8)
    out = ref.random_flip(x, rng, vertical=True)
    np.testing.assert_array_equal(np.sort(out.reshape(20, -1), axis=1), np.sort(x.reshape(20, -1), axis=1))


def test_each_image_is_itself_or_its_torch_flip_and_about_half_are_flipped():
    rng = np.random.default_rng(4)
    x = _random_images(rng, (2000, 2, 3, 4))
    t = torch.from_numpy(x)
    out = ref.random_flip(x, rng)
    same = np.all(out == x, axis=(1, 2, 3))
    flipped = np.all(out == torch.flip(t, dims=[-1]).numpy(), axis=(1, 2, 3))
    assert np.all(same ^ flipped)
    assert abs(flipped.mean() - 0.5) <= 5 * math.sqrt(0.25 / len(x))


def test_vertical_and_horizontal_flips_are_independent():
    rng = np.random.default_rng(5)
    x = _random_images(rng, (2000, 3, 4))  # (N, H, W)
    t = torch.from_numpy(x)
    out = ref.random_flip(x, rng, horizontal=True, vertical=True)
    variants = [t, torch.flip(t, dims=[-1]), torch.flip(t, dims=[-2]), torch.flip(t, dims=[-2, -1])]
    which = np.stack([np.all(out == v.numpy(), axis=(1, 2)) for v in variants])  # (4, N)
    assert np.all(which.sum(axis=0) == 1)
    for frac in which.mean(axis=1):
        assert abs(frac - 0.25) <= 5 * math.sqrt(0.25 * 0.75 / len(x))
    only_vertical = ref.random_flip(x, rng, horizontal=False, vertical=True)
    assert np.all(np.all(only_vertical == x, axis=(1, 2)) ^ np.all(only_vertical == variants[2].numpy(), axis=(1, 2)))
    np.testing.assert_array_equal(ref.random_flip(x, rng, horizontal=False), x)


def test_flip_returns_a_new_array_of_the_same_shape_and_dtype():
    rng = np.random.default_rng(6)
    for shape, dtype in [((8, 3, 4, 4), np.uint8), ((8, 4, 4), np.float32), ((8, 1, 2, 2), np.float64)]:
        x = _random_images(rng, shape, dtype)
        before = x.copy()
        out = ref.random_flip(x, rng, vertical=True)
        assert out.shape == x.shape and out.dtype == x.dtype
        assert not np.shares_memory(out, x)
        np.testing.assert_array_equal(x, before)
    assert ref.random_flip(x).shape == x.shape  # rng=None


# --- random_shift ---------------------------------------------------------------------------


def test_shift_by_zero_is_the_identity():
    rng = np.random.default_rng(7)
    x = _random_images(rng, (5, 3, 4, 4), np.uint8)
    out = ref.random_shift(x, 0, rng)
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)


def test_shifts_move_a_single_pixel_by_at_most_max_shift():
    rng = np.random.default_rng(8)
    for max_shift in [1, 2, 3]:
        x = np.zeros((300, 9, 9))
        x[:, 4, 4] = 1.0
        out = ref.random_shift(x, max_shift, rng)
        for image in out:
            (ys, xs) = np.nonzero(image)
            assert len(ys) == 1
            assert abs(ys[0] - 4) <= max_shift and abs(xs[0] - 4) <= max_shift


def test_every_image_is_a_zero_filled_shift_with_all_shifts_about_equally_likely():
    rng = np.random.default_rng(9)
    max_shift = 2
    x = rng.integers(1, 256, size=(1000, 2, 6, 7)).astype(np.uint8)  # no zeros: shifts identifiable
    out = ref.random_shift(x, max_shift, rng)
    counts = {}
    for original, shifted in zip(x, out):
        matches = _identify_shift(original, shifted, max_shift)
        assert len(matches) == 1
        counts[matches[0]] = counts.get(matches[0], 0) + 1
    assert set(counts) == set(itertools.product(range(-max_shift, max_shift + 1), repeat=2))  # endpoints included
    expected = len(x) / (2 * max_shift + 1) ** 2
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 60  # 24 degrees of freedom; p < 1e-5 beyond


def test_shift_larger_than_the_image_leaves_zeros_and_does_not_wrap():
    rng = np.random.default_rng(10)
    x = rng.integers(1, 256, size=(200, 3, 3)).astype(np.uint8)
    out = ref.random_shift(x, 4, rng)
    for original, shifted in zip(x, out):
        assert _identify_shift(original, shifted, 4)  # some zero-filled shift (never a roll)
    assert np.any(np.all(out == 0, axis=(1, 2)))


def test_shift_is_deterministic_keeps_shape_dtype_and_input():
    rng = np.random.default_rng(11)
    for shape, dtype in [((6, 3, 5, 5), np.uint8), ((6, 5, 4), np.float32)]:
        x = _random_images(rng, shape, dtype)
        before = x.copy()
        a = ref.random_shift(x, 2, np.random.default_rng(12))
        b = ref.random_shift(x, 2, np.random.default_rng(12))
        np.testing.assert_array_equal(a, b)
        assert a.shape == x.shape and a.dtype == x.dtype
        np.testing.assert_array_equal(x, before)
        assert ref.random_shift(x, 1).shape == x.shape  # rng=None


# --- the model solution ---------------------------------------------------------------------


def test_solution_early_stopping_equals_the_reference():
    for values, patience, min_delta, mode in _random_curves(seed=13):
        assert _run(sol, values, patience, min_delta, mode) == _run(ref, values, patience, min_delta, mode)
        s = sol.EarlyStopping(patience=patience, min_delta=min_delta, mode=mode)
        r = ref.EarlyStopping(patience=patience, min_delta=min_delta, mode=mode)
        for v in values + [float("nan")] + values[::-1]:
            assert s.step(v) == r.step(v)
            assert (s.best, s.best_epoch) == (r.best, r.best_epoch)


@pytest.mark.parametrize("horizontal, vertical", [(True, False), (False, True), (True, True), (False, False)])
def test_solution_random_flip_equals_the_reference_for_the_same_seed(horizontal, vertical):
    rng = np.random.default_rng(14)
    for shape, dtype in [((9, 3, 4, 5), np.uint8), ((9, 4, 4), np.float32), ((1, 1, 1, 1), np.float64)]:
        x = _random_images(rng, shape, dtype)
        got = sol.random_flip(x, np.random.default_rng(15), horizontal=horizontal, vertical=vertical)
        expected = ref.random_flip(x, np.random.default_rng(15), horizontal=horizontal, vertical=vertical)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_solution_random_shift_equals_the_reference_for_the_same_seed():
    rng = np.random.default_rng(16)
    for shape, dtype, max_shift in [((9, 3, 6, 5), np.uint8, 2), ((9, 4, 4), np.float32, 1), ((5, 1, 3, 3), np.float64, 5), ((4, 2, 2), np.float64, 0)]:
        x = _random_images(rng, shape, dtype)
        got = sol.random_shift(x, max_shift, np.random.default_rng(17))
        expected = ref.random_shift(x, max_shift, np.random.default_rng(17))
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_solution_docstring_examples_pass():
    result = doctest.testmod(sol, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
