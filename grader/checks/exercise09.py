"""Checks for exercise09 — early stopping and data augmentation.

The oracle is ``reference.exercise09``. ``EarlyStopping`` is the student's class: it stays in
the worker (``sub.EarlyStopping(...)`` returns a ``Handle``), the checks call
``sub.method(h, "step", value)`` once per epoch and read ``best`` and ``best_epoch`` after
every step, and compare all three with the reference (Keras semantics) on hypothesis-drawn
loss curves: random walks on a 0.01 grid (min_delta off the grid, so that no comparison is
decided by rounding) and adversarial curves on a 1/8 grid (exact in binary floating point:
plateaus, ties with the best, gains of exactly min_delta, NaN — also as the first value —
and patience 0).

The augmentation functions are random: they get a generator the grader seeds
(``rng=np.random.default_rng(SEED)``, created in the worker, see ``grader.kit.worker_rng``), so
the verdict is the same on every grading. They are checked by properties (every output
image is its input, flipped or zero-fill shifted within ±max_shift; shape and dtype kept) and
statistically (flip and shift frequencies); a student may draw differently from the
reference (another sign convention for shifts, dx before dy), so nothing is compared with
the reference's random output.

Soundness: each frequency test rejects a correct solution with probability at most
``ALPHA`` = 1e-8 (Hoeffding with a union bound, see the checks' docstrings).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grader.kit import (
    ALPHA, check, expect, given, Handle, hoeffding, Mismatch, Mistake, st, type_name, worker_rng)

from grader.reference import exercise09 as ref


TITLE = "Early stopping and data augmentation"
ALIASES = ("early-stopping", "earlystopping", "augmentation")
MAX_EXAMPLES = 25

SEED = 9
THEN_STEP = "then step"  # the key under which a run's values appear in its summary call


# --------------------------------------------------------------------------- EarlyStopping (5 points)


@dataclass
class Curve:
    values: list
    patience: int = 3
    min_delta: float = 0.0
    mode: str = "min"

    def kwargs(self) -> dict:
        return {"patience": self.patience, "min_delta": self.min_delta, "mode": self.mode}


def _trajectory(stopper, values) -> list[tuple]:
    """Run ``stopper`` (a local EarlyStopping) over values: [(stop, best, best_epoch) after each step]."""
    out = []
    for v in values:
        stop = bool(stopper.step(v))
        best = None if stopper.best is None else float(stopper.best)
        out.append((stop, best, None if stopper.best_epoch is None else int(stopper.best_epoch)))
    return out


def _same_best(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))


def _same_steps(got: list, expected: list) -> bool:
    return len(got) == len(expected) and all(
        g[0] == e[0] and _same_best(g[1], e[1]) and g[2] == e[2] for g, e in zip(got, expected))


def _read_best(sub, h, what: str):
    best = sub.attribute(h, "best")
    if best is None:
        return None
    if isinstance(best, bool) or not isinstance(best, (int, float, np.integer, np.floating)):
        raise Mismatch(what, "type", f".best must be a number (or None before the first improvement), "
                                     f"got {type_name(best)}", got=best)
    return float(best)


def _read_best_epoch(sub, h, what: str):
    epoch = sub.attribute(h, "best_epoch")
    if epoch is None:
        return None
    if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, (int, np.integer)):
        raise Mismatch(what, "type", f".best_epoch must be an int (or None before the first improvement), "
                                     f"got {type_name(epoch)} {epoch!r}", got=epoch)
    return int(epoch)


def _explain(stopper: ref.EarlyStopping, value: float, improved: bool) -> str:
    """Why the reference stopped or went on at this step (after its step)."""
    if improved:
        return f"{value} is an improvement, and training never stops on an improving epoch"
    since = f"since the best value {stopper.best} at epoch {stopper.best_epoch}" if stopper.best is not None \
        else "and no value has improved yet"
    verdict = "so training stops" if stopper.wait >= stopper.patience else "so training goes on"
    return (f"{value} is no improvement: {stopper.wait} epoch(s) without improvement {since}, "
            f"patience {stopper.patience}, {verdict}")


def _show(v) -> str:
    return "None" if v is None else repr(v)


def run_stopper(sub, curve: Curve) -> list[tuple]:
    """Drive the student's EarlyStopping over the curve, comparing every step with the reference.

    On the first difference, the run so far is logged as one summary call
    ``EarlyStopping(patience=…, min_delta=…, mode=…, then step=[values so far])`` whose result
    is the list of (step's return, best, best_epoch) after each step — the evidence the
    typical mistakes are matched against — and a Mismatch is raised.
    """
    kw = curve.kwargs()
    head = f"EarlyStopping(patience={curve.patience}, min_delta={curve.min_delta}, mode={curve.mode!r})"
    h = sub.EarlyStopping(**kw)
    expect(isinstance(h, Handle), head, f"EarlyStopping(...) should create an object, got {type_name(h)}", got=h)
    reference = ref.EarlyStopping(**kw)
    got, expected = [], []
    for i, value in enumerate(curve.values):
        what = f"{head}, step {i + 1} (epoch {i}): step({value})"
        stop = sub.method(h, "step", value)
        if not isinstance(stop, (bool, np.bool_)):
            raise Mismatch(what, "type", f"step must return True or False, got {type_name(stop)} {stop!r}", got=stop)
        before = reference.best_epoch
        e_stop = reference.step(value)
        improved = reference.best_epoch == i and before != i
        got.append((bool(stop), _read_best(sub, h, what), _read_best_epoch(sub, h, what)))
        expected.append((bool(e_stop), reference.best, reference.best_epoch))
        g, e = got[-1], expected[-1]
        if g[0] != e[0]:
            detail = f"returned {g[0]}, expected {e[0]} — {_explain(reference, value, improved)}"
        elif not _same_best(g[1], e[1]):
            detail = f"afterwards .best is {_show(g[1])}, expected {_show(e[1])}"
        elif g[2] != e[2]:
            detail = f"afterwards .best_epoch is {_show(g[2])}, expected {_show(e[2])} (epochs count from 0)"
        else:
            continue
        sub.evidence("EarlyStopping", **{**kw, THEN_STEP: list(curve.values[: i + 1])}, result=got)
        raise Mismatch(what, "value", detail + "  [each step: (step's return, best, best_epoch)]",
                       expected=expected, got=got)
    return got


KERAS_EXAMPLE = Curve([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], patience=3)
DOC_EXAMPLES = [Curve([0.5, 0.6, 0.7, 0.5, 0.4], patience=3), Curve([3.0, 2.0, 2.0], patience=0),
                Curve([0.80, 0.85], patience=1, min_delta=0.1, mode="max")]


@check(points=1, functions=("EarlyStopping",))
def early_stopping_runs_4_epochs_in_the_keras_example(sub):
    """Patience 3 and a loss that never improves after the first epoch: step returns True at the 4th epoch."""
    steps = run_stopper(sub, KERAS_EXAMPLE)  # every step compared with the reference, explained on a difference
    epochs = next(i for i, (stop, _, _) in enumerate(steps) if stop) + 1
    assert epochs == 4, "the reference itself must run 4 epochs here"
    for curve in DOC_EXAMPLES:
        run_stopper(sub, curve)


@st.composite
def random_curves(draw):
    """Return a Curve: a random walk of ≤ 12 values on a 0.01 grid, min_delta off the grid."""
    n = draw(st.integers(1, 12))
    mode = draw(st.sampled_from(["min", "max"]))
    sign = 1 if mode == "min" else -1  # the walk trends towards better values
    level = draw(st.integers(50, 150))
    values = [level]
    for step in draw(st.lists(st.integers(-3, 2), min_size=n - 1, max_size=n - 1)):
        values.append(values[-1] - sign * step)
    return Curve([round(v / 100, 2) for v in values], patience=draw(st.integers(0, 4)),
                 min_delta=draw(st.sampled_from([0.0, 0.005, 0.015, 0.025])), mode=mode)


@check(points=2, functions=("EarlyStopping",))
@given(curve=random_curves())
def early_stopping_matches_keras_on_random_loss_curves(sub, curve):
    """step's answers, best and best_epoch equal the reference (Keras) on random curves, both modes, with min_delta."""
    run_stopper(sub, curve)


@st.composite
def adversarial_curves(draw):
    """Return a Curve on a 1/8 grid built from plateaus, ties, gains of exactly min_delta and NaN."""
    mode = draw(st.sampled_from(["min", "max"]))
    better = 1 if mode == "min" else -1  # a better value is value - better·gain
    min_delta = draw(st.sampled_from([0.0, 0.125, 0.25]))
    values: list[float] = []
    best = None
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["plateau", "tie", "exact delta", "improve", "worse", "nan"]))
        last = values[-1] if values and not math.isnan(values[-1]) else 4.0
        if kind == "nan":
            new = [math.nan] * draw(st.integers(1, 2))
        elif kind == "plateau":
            new = [last] * draw(st.integers(2, 4))
        elif kind == "tie":
            new = [4.0 if best is None else best]
        elif kind == "exact delta":
            new = [(4.0 if best is None else best) - better * min_delta]
        elif kind == "improve":
            new = [(4.0 if best is None else best) - better * (min_delta + 0.125 * draw(st.integers(1, 3)))]
        else:
            new = [last + better * 0.125 * draw(st.integers(1, 3))]
        for v in new:
            values.append(v)
            if not math.isnan(v) and (best is None or (v - best) * better < 0):
                best = v
    return Curve(values[:12], patience=draw(st.integers(0, 2)), min_delta=min_delta, mode=mode)


@check(points=2, functions=("EarlyStopping",))
@given(curve=adversarial_curves())
def early_stopping_handles_plateaus_ties_nan_and_patience_0(sub, curve):
    """Equal values and gains of exactly min_delta are no improvement, NaN never improves, patience 0 stops at once."""
    run_stopper(sub, curve)


# --------------------------------------------------------------------------- augmentation helpers


def _expect_batch(got, images: np.ndarray, what: str) -> np.ndarray:
    """Expect a numpy array with the images' shape and dtype."""
    expect(isinstance(got, np.ndarray), what, f"expected a numpy array, got {type_name(got)}", got=got)
    expect(got.shape == images.shape, what, f"expected shape {images.shape} (the input's), got {got.shape}",
           expected=images.shape, got=got)
    expect(got.dtype == images.dtype, what, f"expected dtype {images.dtype} (the input's), got {got.dtype}",
           expected=str(images.dtype), got=got)
    return got


def _per_image_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) booleans: image i of a equals image i of b."""
    return np.all((a == b).reshape(len(a), -1), axis=1)


FLIPS = {"none": (False, False), "horizontal": (True, False), "vertical": (False, True), "both": (True, True)}


def _flipped(images: np.ndarray, horizontal: bool, vertical: bool) -> np.ndarray:
    out = images[..., ::-1] if horizontal else images
    return out[..., ::-1, :] if vertical else out


def _flip_variants(got: np.ndarray, images: np.ndarray) -> dict[str, np.ndarray]:
    """For each of the 4 flips, (N,) booleans: image i of got is image i flipped that way."""
    return {name: _per_image_equal(got, _flipped(images, h, v)) for name, (h, v) in FLIPS.items()}


def _allowed_flips(horizontal: bool, vertical: bool) -> list[str]:
    return [name for name, (h, v) in FLIPS.items() if (horizontal or not h) and (vertical or not v)]


def _describe_flips(horizontal: bool, vertical: bool) -> str:
    names = {("none",): "the image itself", ("none", "horizontal"): "the image or its left-right mirror",
             ("none", "vertical"): "the image or its upside-down mirror"}
    return names.get(tuple(_allowed_flips(horizontal, vertical)), "the image, mirrored left-right and/or upside down")


def _flip_kwargs(horizontal: bool, vertical: bool) -> dict:
    kw = {}
    if not horizontal:
        kw["horizontal"] = False
    if vertical:
        kw["vertical"] = True
    return kw


def _flip_what(kw: dict, rng: str) -> str:
    return "random_flip(images" + "".join(f", {k}={v}" for k, v in kw.items()) + f", rng={rng})"


def _expect_flips(got: np.ndarray, images: np.ndarray, horizontal: bool, vertical: bool, what: str) -> dict:
    variants = _flip_variants(got, images)
    ok = np.zeros(len(images), bool)
    for name in _allowed_flips(horizontal, vertical):
        ok |= variants[name]
    if not ok.all():
        i = int(np.argmin(ok))
        raise Mismatch(what, "value", f"image {i} of the result is not {_describe_flips(horizontal, vertical)}",
                       got=got)
    return variants


def _image_batches(*, max_n: int = 4, max_side: int = 4):
    """Return a strategy for batches (N, H, W) or (N, C, H, W), uint8 or float64."""
    @st.composite
    def batches(draw):
        lead = (draw(st.integers(1, max_n)),) + draw(st.sampled_from([(), (1,), (2,), (3,)]))
        shape = lead + (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
        dtype = draw(st.sampled_from([np.uint8, np.float64]))
        values = draw(st.lists(st.integers(0, 255), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        return np.array(values, dtype=dtype).reshape(shape)
    return batches()


# --------------------------------------------------------------------------- random_flip (3 points)


@check(points=1, functions=("random_flip",))
@given(images=_image_batches(), horizontal=st.booleans(), vertical=st.booleans())
def random_flip_returns_each_image_or_its_mirror(sub, images, horizontal, vertical):
    """Every output image is its input or its mirror (horizontal: the width axis, the last one); shape and dtype kept."""
    kw = _flip_kwargs(horizontal, vertical)
    what = _flip_what(kw, f"np.random.default_rng({SEED})")
    got = _expect_batch(sub.random_flip(images, rng=worker_rng(sub, "random_flip", SEED), **kw), images, what)
    _expect_flips(got, images, horizontal, vertical, what)


FLIP_N = 4000
OUTCOME = {"none": "unflipped", "horizontal": "mirrored left-right only", "vertical": "mirrored upside down only",
           "both": "mirrored both ways"}


def _flip_frequency_failure(got, images, variants, horizontal, vertical, what):
    """Return the Mismatch for flip frequencies that are off (or None)."""
    names = _allowed_flips(horizontal, vertical)
    share = 1.0 / len(names)
    t = hoeffding(len(images), ALPHA / len(names))
    name = max(names, key=lambda n: abs(float(variants[n].mean()) - share))  # the worst outcome
    frac = float(variants[name].mean())
    if abs(frac - share) > t:
        return Mismatch(what, "value", f"{frac:.1%} of the {len(images)} images came back {OUTCOME[name]}; "
                        f"each image is flipped with probability 1/2 per direction, independently, so "
                        f"{share:.0%} ± {t:.1%} (a correct random_flip is outside that range with probability "
                        f"≤ 1e-8)", expected=share, got=got)
    return None


@check(points=1, functions=("random_flip",))
def random_flip_flips_each_image_independently_with_probability_one_half(sub):
    """Each image is flipped with probability 1/2, independently of the others and of the other direction.

    4,000 copies of [[1, 2], [3, 4]] (for horizontal, vertical and both; as 3 different channels of an
    (N, C, H, W) batch for horizontal and for vertical), ``rng=np.random.default_rng(9)``:
    each allowed outcome (k = 2 or 4 of them) must have frequency 1/k ± t, t = √(ln(2k/α)/8000)
    (0.050 or 0.051). For a correct solution the count of each outcome is Binomial(4000, 1/k), so
    by Hoeffding and a union bound over the k outcomes each configuration fails with probability
    ≤ α = 1e-8 (4e-8 for the check). Caught: one coin for the whole batch (0 % or 100 %), every
    image flipped, a vertical flip that depends on the horizontal one.
    """
    for layout, horizontal, vertical in (((FLIP_N, 3, 2, 2), True, False), ((FLIP_N, 2, 2), True, True),
                                         ((FLIP_N, 2, 2), False, True), ((FLIP_N, 3, 2, 2), False, True)):
        # three channels that differ, so a flip of the channel axis is seen, not taken for no flip
        base = np.array([[1, 2], [3, 4]], dtype=np.uint8) + (10 * np.arange(layout[1], dtype=np.uint8)[:, None, None]
                                                             if len(layout) == 4 else 0)
        images = np.broadcast_to(base, layout).copy()
        kw = _flip_kwargs(horizontal, vertical)
        failure = None
        for seed in range(SEED, SEED + 5):  # a degenerate batch is looked at with more seeds before judging
            what = _flip_what(kw, f"np.random.default_rng({seed})")
            got = _expect_batch(sub.random_flip(images, rng=worker_rng(sub, "random_flip", seed), **kw), images, what)
            variants = _expect_flips(got, images, horizontal, vertical, what)
            failure = _flip_frequency_failure(got, images, variants, horizontal, vertical, what)
            common = [name for name, hit in variants.items() if hit.all()]
            if failure is None or not common or common[0] != _allowed_flips(horizontal, vertical)[-1]:
                break  # a batch without flips (one coin) is evidence enough
        if failure is not None:
            raise failure


@check(points=1, functions=("random_flip",))
def random_flip_draws_from_rng_and_undoes_itself(sub):
    """The same seed gives the same flips, so flipping twice with it gives back the batch; rng=None draws fresh coins.

    Two calls with rng=None flip the same 64 images alike with probability 2^-64 (one coin per image).
    """
    images = np.arange(8 * 3 * 4, dtype=np.uint8).reshape(8, 1, 3, 4)
    for horizontal, vertical in ((True, False), (True, True)):
        kw = _flip_kwargs(horizontal, vertical)
        what = _flip_what(kw, "np.random.default_rng(5)")
        once = _expect_batch(sub.random_flip(images, rng=worker_rng(sub, "random_flip", 5), **kw), images, what)
        _expect_flips(once, images, horizontal, vertical, what)
        again = _expect_batch(sub.random_flip(images, rng=worker_rng(sub, "random_flip", 5), **kw), images, what)
        expect(np.array_equal(once, again), what, "two calls with generators seeded alike flipped different "
               "images: draw the coins from `rng` (not from np.random or a new default_rng())", got=again)
        twice = _expect_batch(sub.random_flip(once, rng=worker_rng(sub, "random_flip", 5), **kw), images, what)
        expect(np.array_equal(twice, images), what.replace("images", "random_flip(images, …)", 1),
               "flipping the flipped batch with the same seed should give back the original images "
               "(a flip is its own inverse)", expected=images, got=twice)
        what = _flip_what(kw, "None")
        _expect_flips(_expect_batch(sub.random_flip(images, **kw), images, what), images, horizontal, vertical, what)
    many = np.arange(64 * 2, dtype=np.uint8).reshape(64, 1, 1, 2)  # 64 images that a horizontal flip changes
    what = _flip_what({}, "None").replace("images", "images of shape (64, 1, 1, 2)", 1)
    first, second = (_expect_batch(sub.random_flip(many), many, what) for _ in range(2))
    expect(not np.array_equal(first, second), what, "two calls with rng=None flipped the same images: without an "
           "rng, draw fresh randomness (np.random.default_rng() with no seed), not a fixed seed", got=second)


# --------------------------------------------------------------------------- random_shift (4 points)


def _shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Zero-fill shift of every image of the batch by (dy, dx) (content moves down / right)."""
    return ref._shift(images, dy, dx)


def _all_shifts(m: int):
    return [(dy, dx) for dy in range(-m, m + 1) for dx in range(-m, m + 1)]


def _identify_shifts(got: np.ndarray, images: np.ndarray, m: int, move=_shifted) -> np.ndarray:
    """(N, 2): for each image the first (dy, dx) within ±m with got[i] == move(images[i]); (m+1, m+1) if none."""
    found = np.full((len(images), 2), m + 1)
    todo = np.ones(len(images), bool)
    for dy, dx in sorted(_all_shifts(m), key=lambda s: (abs(s[0]) + abs(s[1]), s)):
        hit = todo & _per_image_equal(got, move(images, dy, dx))
        found[hit] = (dy, dx)
        todo &= ~hit
    return found


def _expect_shifts(got: np.ndarray, images: np.ndarray, m: int, what: str) -> np.ndarray:
    shifts = _identify_shifts(got, images, m)
    bad = shifts[:, 0] > m
    if bad.any():
        i = int(np.argmax(bad))
        raise Mismatch(what, "value", f"image {i} of the result is not image {i} of the input moved by at most "
                       f"{m} pixel(s) in each direction with zeros filled in", got=got)
    return shifts


def _shift_what(m, rng: str) -> str:
    return f"random_shift(images, {m}, rng={rng})"


@check(points=1, functions=("random_shift",))
@given(images=_image_batches())
def random_shift_with_max_shift_0_returns_the_images(sub, images):
    """random_shift(images, 0) returns the images unchanged, with their shape and dtype (uint8 stays uint8)."""
    what = _shift_what(0, f"np.random.default_rng({SEED})")
    got = _expect_batch(sub.random_shift(images, 0, rng=worker_rng(sub, "random_shift", SEED)), images, what)
    expect(np.array_equal(got, images), what, "with max_shift 0 every image must come back unchanged", got=got)


@check(points=1, functions=("random_shift",))
@given(images=_image_batches(max_side=5), m=st.integers(1, 3))
def random_shift_moves_each_image_by_at_most_max_shift_with_zero_fill(sub, images, m):
    """Every output image is its input moved by (dy, dx), |dy|, |dx| ≤ max_shift, all channels together, zeros filled in."""
    what = _shift_what(m, f"np.random.default_rng({SEED})")
    got = _expect_batch(sub.random_shift(images, m, rng=worker_rng(sub, "random_shift", SEED)), images, what)
    _expect_shifts(got, images, m, what)


SHIFT_N = 3000


@check(points=1, functions=("random_shift",))
def random_shift_draws_dy_and_dx_uniformly_from_minus_to_plus_max_shift(sub):
    """dy and dx are uniform on −max_shift … max_shift (both ends), independently per image and per axis.

    3,000 copies of a (2m + 1)×(2m + 1) image with distinct non-zero pixels (so each shift is
    identified exactly), m = 1 and 2, ``rng=np.random.default_rng(9)``. Tests: the frequency of
    each value of dy and of dx is 1/(2m + 1) ± t, and so is the frequency of dy = dx, with
    t = √(ln(2k/α)/6000), k = 2(2m + 1) + 1 tests (t = 0.059 for m = 1, 0.060 for m = 2). For a
    correct solution each count is binomial, so by Hoeffding and a union bound over the k tests
    each m fails with probability ≤ α = 1e-8 (2e-8 for the check). Caught: the upper end
    excluded (dy = +m never drawn), one shift for the whole batch, the same shift on both axes
    (dy = dx always).
    """
    for m in (1, 2):
        side = 2 * m + 1
        images = np.tile(np.arange(1, side * side + 1, dtype=np.uint8).reshape(1, 1, side, side), (SHIFT_N, 1, 1, 1))
        what = _shift_what(m, f"np.random.default_rng({SEED})")
        got = _expect_batch(sub.random_shift(images, m, rng=worker_rng(sub, "random_shift", SEED)), images, what)
        shifts = _expect_shifts(got, images, m, what)
        tests = [(f"dy = {v}", shifts[:, 0] == v) for v in range(-m, m + 1)]
        tests += [(f"dx = {v}", shifts[:, 1] == v) for v in range(-m, m + 1)]
        tests += [("dy = dx", shifts[:, 0] == shifts[:, 1])]
        t = hoeffding(SHIFT_N, ALPHA / len(tests))
        label, hits = max(tests, key=lambda test: abs(float(test[1].mean()) - 1 / side))  # the worst one
        frac = float(hits.mean())
        expect(abs(frac - 1 / side) <= t, what,
               f"{label} in {frac:.1%} of the {SHIFT_N} images; with dy and dx drawn uniformly and independently "
               f"from {-m} … {m} that is 1/{side} = {1 / side:.1%} ± {t:.1%} (a correct random_shift is "
               f"outside that range with probability ≤ 1e-8)", expected=1 / side, got=got)


@check(points=1, functions=("random_shift",))
def random_shift_draws_from_rng_and_moves_channels_together(sub):
    """The same seed gives the same shifts; all channels of an image move together; rng=None works."""
    images = (np.arange(6 * 3 * 5 * 5) % 250 + 1).astype(np.uint8).reshape(6, 3, 5, 5)
    what = _shift_what(2, "np.random.default_rng(5)")
    once = _expect_batch(sub.random_shift(images, 2, rng=worker_rng(sub, "random_shift", 5)), images, what)
    _expect_shifts(once, images, 2, what)
    again = _expect_batch(sub.random_shift(images, 2, rng=worker_rng(sub, "random_shift", 5)), images, what)
    expect(np.array_equal(once, again), what, "two calls with generators seeded alike gave different shifts: draw "
           "them from `rng` (not from np.random or a new default_rng())", got=again)
    what = _shift_what(2, "None")
    _expect_shifts(_expect_batch(sub.random_shift(images, 2), images, what), images, 2, what)


# --------------------------------------------------------------------------- typical mistakes: EarlyStopping


class StopperNonStrict(ref.EarlyStopping):
    def _is_improvement(self, value):
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value <= self.best - self.min_delta
        return value >= self.best + self.min_delta


class StopperOneLate(ref.EarlyStopping):
    def step(self, value):
        super().step(value)
        return self.wait > self.patience


class StopperNoReset(ref.EarlyStopping):
    def step(self, value):
        value = float(value)
        epoch, self.epoch = self.epoch, self.epoch + 1
        if self._is_improvement(value):
            self.best, self.best_epoch = value, epoch
            return False
        self.wait += 1
        return self.wait >= self.patience


class StopperIgnoresMinDelta(ref.EarlyStopping):
    def _is_improvement(self, value):
        saved, self.min_delta = self.min_delta, 0.0
        try:
            return super()._is_improvement(value)
        finally:
            self.min_delta = saved


class StopperMinDeltaSign(ref.EarlyStopping):
    def _is_improvement(self, value):
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best + self.min_delta
        return value > self.best - self.min_delta


class StopperAlwaysMin(ref.EarlyStopping):
    def _is_improvement(self, value):
        mode, self.mode = self.mode, "min"
        try:
            return super()._is_improvement(value)
        finally:
            self.mode = mode


class StopperOneBasedEpoch(ref.EarlyStopping):
    def step(self, value):
        value = float(value)
        self.epoch += 1
        if self._is_improvement(value):
            self.best, self.best_epoch, self.wait = value, self.epoch, 0
            return False
        self.wait += 1
        return self.wait >= self.patience


class StopperComparesWithPrevious(ref.EarlyStopping):
    _prev = None

    def _is_improvement(self, value):
        if math.isnan(value):
            improved = False
        elif self.best is None:
            improved = True
        elif self.mode == "min":
            improved = value < self._prev - self.min_delta
        else:
            improved = value > self._prev + self.min_delta
        self._prev = value
        return improved


class StopperBestStartsAtZero(ref.EarlyStopping):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.best = 0.0


class StopperNanBecomesBest(ref.EarlyStopping):
    def _is_improvement(self, value):
        if self.best is None:
            return True
        if math.isnan(self.best) or math.isnan(value):
            return False
        return super()._is_improvement(value)


def _behaves_like(variant):
    """A predicate: the student's run so far equals the variant's run on the same values."""
    def matches(got, **kwargs):
        values = kwargs.pop(THEN_STEP)
        with np.errstate(all="ignore"):
            return _same_steps(got, _trajectory(variant(**kwargs), values))
    return matches


# --------------------------------------------------------------------------- typical mistakes: augmentation


def _batch_like(got, images) -> bool:
    return isinstance(got, np.ndarray) and got.shape == np.shape(images)


def flip_changes_dtype(got, images, rng=None, horizontal=True, vertical=False):
    return _batch_like(got, images) and got.dtype != np.asarray(images).dtype


def flip_axes_swapped(got, images, rng=None, horizontal=True, vertical=False):
    """Only one direction asked for, and every image is the input or its flip along the *other* axis."""
    images = np.asarray(images)
    if horizontal == vertical or not _batch_like(got, images):
        return False
    v = _flip_variants(got, images)
    other = v["vertical"] if horizontal else v["horizontal"]
    right = v["horizontal"] if horizontal else v["vertical"]
    return bool(np.all(v["none"] | other) and np.any(other & ~right))


def flip_channel_axis(got, images, rng=None, horizontal=True, vertical=False):
    """Some image of an (N, C, H, W) batch came back with its channels in reverse order (axis 1 flipped)."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] < 2 or not _batch_like(got, images):
        return False
    v = _flip_variants(got, images)
    allowed = np.zeros(len(images), bool)
    for name in _allowed_flips(horizontal, vertical):
        allowed |= v[name]
    reversed_channels = np.zeros(len(images), bool)
    for h, w in FLIPS.values():
        reversed_channels |= _per_image_equal(got, _flipped(images[:, ::-1], h, w))
    return bool(np.any(reversed_channels & ~allowed))


def _flip_counts(got, images, horizontal, vertical):
    images = np.asarray(images)
    if len(images) < 20 or not _batch_like(got, images):
        return None
    v = _flip_variants(got, images)
    if not np.all(np.any([v[n] for n in _allowed_flips(horizontal, vertical)], axis=0)):
        return None
    return v


def flip_every_image(got, images, rng=None, horizontal=True, vertical=False):
    v = _flip_counts(got, images, horizontal, vertical)
    return v is not None and (horizontal or vertical) and bool(v[_allowed_flips(horizontal, vertical)[-1]].all())


def flip_one_coin(got, images, rng=None, horizontal=True, vertical=False):
    v = _flip_counts(got, images, horizontal, vertical)
    if v is None:
        return False
    common = [n for n in _allowed_flips(horizontal, vertical) if v[n].all()]
    return bool(common) and common[0] != _allowed_flips(horizontal, vertical)[-1]


def shift_changes_dtype(got, images, max_shift, rng=None):
    return _batch_like(got, images) and got.dtype != np.asarray(images).dtype


def _rolled(images, dy, dx):
    return np.roll(images, (dy, dx), axis=(-2, -1))


def shift_wraps_around(got, images, max_shift, rng=None):
    images = np.asarray(images)
    if not _batch_like(got, images) or max_shift < 1:
        return False
    rolls = _identify_shifts(got, images, max_shift, move=_rolled)
    shifts = _identify_shifts(got, images, max_shift)
    return bool(np.all(rolls[:, 0] <= max_shift) and np.any(shifts[:, 0] > max_shift))


def _shift_counts(got, images, max_shift):
    images = np.asarray(images)
    if len(images) < 20 or max_shift < 1 or not _batch_like(got, images):
        return None
    shifts = _identify_shifts(got, images, max_shift)
    return None if np.any(shifts[:, 0] > max_shift) else shifts


def shift_misses_an_end(got, images, max_shift, rng=None):
    s = _shift_counts(got, images, max_shift)
    if s is None or len(np.unique(s, axis=0)) < 2:
        return False
    ends = [bool(np.any(s == max_shift)), bool(np.any(s == -max_shift))]
    one_end = [bool(np.any(s[:, a] == e)) for a in (0, 1) for e in (max_shift, -max_shift)]
    return ends.count(True) == 1 and one_end.count(True) == 2


def shift_one_for_all(got, images, max_shift, rng=None):
    s = _shift_counts(got, images, max_shift)
    return s is not None and len(np.unique(s, axis=0)) == 1


def shift_diagonal_only(got, images, max_shift, rng=None):
    s = _shift_counts(got, images, max_shift)
    return s is not None and len(np.unique(s, axis=0)) > 1 and bool(np.all(s[:, 0] == s[:, 1]))


def _stopper(name, message, hint, variant):
    return Mistake(name, "EarlyStopping", message, hint, matches=_behaves_like(variant))


MISTAKES = [
    _stopper("non-strict comparison", "your EarlyStopping counts an equal value (or a gain of exactly min_delta) as an "
             "improvement: an improvement must be strictly better than best by more than min_delta",
             "value < self.best - self.min_delta (mode 'min')", StopperNonStrict),
    _stopper("stopping one epoch late", "your EarlyStopping stops one epoch late: it should return True as soon as "
             "the number of epochs without improvement reaches patience (wait >= patience)",
             "return self.wait >= self.patience", StopperOneLate),
    _stopper("wait counter not reset", "your EarlyStopping does not reset its counter on an improvement, so it "
             "counts all non-improving epochs since the start instead of those since the best",
             "self.wait = 0 whenever the value improves", StopperNoReset),
    _stopper("min_delta ignored", "your EarlyStopping ignores min_delta: a gain must be larger than min_delta to "
             "count as an improvement", "value < self.best - self.min_delta", StopperIgnoresMinDelta),
    _stopper("min_delta with the wrong sign", "your EarlyStopping applies min_delta the wrong way round: slightly "
             "*worse* values count as improvements", "mode 'min': value < best - min_delta; 'max': value > best + min_delta",
             StopperMinDeltaSign),
    _stopper("mode ignored", "your EarlyStopping always minimises: with mode='max' (accuracies) larger is better",
             "compare with > best + min_delta when mode == 'max'", StopperAlwaysMin),
    _stopper("best_epoch counted from 1", "your best_epoch counts epochs from 1; the first step is epoch 0",
             "remember the epoch index before incrementing the counter", StopperOneBasedEpoch),
    _stopper("compared with the previous epoch", "your EarlyStopping compares each value with the previous epoch's; "
             "it must compare with the best value so far", "keep self.best and compare with it",
             StopperComparesWithPrevious),
    _stopper("best starts at 0", "your best starts at 0, so positive losses never improve; before the first value "
             "there is no best (None): the first value always improves", "self.best = None in __init__",
             StopperBestStartsAtZero),
    _stopper("NaN becomes best", "your EarlyStopping takes a NaN first value as the best; NaN is never an "
             "improvement (and every comparison with a NaN best is False)", "if math.isnan(value): no improvement",
             StopperNanBecomesBest),
    Mistake("dtype changed", "random_flip", "your random_flip changes the dtype: uint8 images must stay uint8",
            "out = images.copy() keeps the dtype", matches=flip_changes_dtype),
    Mistake("horizontal and vertical swapped", "random_flip",
            "your horizontal flip reverses the height axis: in channels-first (N, C, H, W) images the width is the "
            "last axis (Keras' channels-last habit puts it at axis 2)", "horizontal: image[..., ::-1]",
            matches=flip_axes_swapped),
    Mistake("channel axis flipped", "random_flip",
            "your random_flip reverses the channel axis: in a channels-first (N, C, H, W) batch image[::-1] flips the "
            "channels (RGB becomes BGR), not the rows", "vertical: image[..., ::-1, :], horizontal: image[..., ::-1]",
            matches=flip_channel_axis),
    Mistake("every image flipped", "random_flip",
            "your random_flip flips every image: each one is flipped with probability 1/2",
            "flip = rng.random(N) < 0.5, one coin per image", matches=flip_every_image),
    Mistake("one coin for the whole batch", "random_flip",
            "your random_flip flips all images of a batch or none: each image needs its own coin",
            "flip = rng.random(N) < 0.5, one coin per image", matches=flip_one_coin),
    Mistake("dtype changed", "random_shift", "your random_shift changes the dtype: uint8 images must stay uint8",
            "out = np.zeros_like(images) keeps the dtype", matches=shift_changes_dtype),
    Mistake("wrap-around instead of zero fill", "random_shift",
            "your random_shift wraps the pixels around (np.roll): pixels moved out of the image are lost and the "
            "uncovered border is 0", "copy the overlapping part into np.zeros_like(images)", matches=shift_wraps_around),
    Mistake("one end excluded", "random_shift",
            "your shifts never reach one end of −max_shift … max_shift: both ends are included "
            "(rng.integers' upper bound is exclusive)", "rng.integers(-max_shift, max_shift + 1, size=(N, 2))",
            matches=shift_misses_an_end),
    Mistake("one shift for the whole batch", "random_shift",
            "your random_shift moves every image of the batch by the same (dy, dx): each image gets its own shift",
            "draw shifts of shape (N, 2)", matches=shift_one_for_all),
    Mistake("the same shift on both axes", "random_shift",
            "your random_shift always uses dy = dx (diagonal moves only): draw dy and dx independently",
            "dy, dx = shifts[i, 0], shifts[i, 1]", matches=shift_diagonal_only),
]
