"""exercise09's checks judged against the project itself: solution, exercise file, mistakes."""


import pytest


EX = "exercise09"


# (edits of the solution: (anchor, replacement) pairs, function, the mistake's name in MISTAKES)
MIN = "improved = value < self.best - self.min_delta"
MAX = "improved = value > self.best + self.min_delta"
LOOP = "\n        for i in range(n):\n            if flip[i]:\n                out[i] = np.flip(out[i], axis="
H_COIN = "flip = rng.random(n) < 0.5" + LOOP + "-1)"
V_COIN = "flip = rng.random(n) < 0.5" + LOOP + "-2)"
SHIFTS = "shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))"
MISTAKE_EDITS = [
    ([(MIN, "improved = value <= self.best - self.min_delta"), (MAX, "improved = value >= self.best + self.min_delta")],
     "EarlyStopping", "non-strict comparison"),
    ([("return self.wait >= self.patience", "return self.wait > self.patience")], "EarlyStopping",
     "stopping one epoch late"),
    ([("self.best_epoch = epoch\n            self.wait = 0", "self.best_epoch = epoch\n            pass")],
     "EarlyStopping", "wait counter not reset"),
    ([(MIN, "improved = value < self.best"), (MAX, "improved = value > self.best")], "EarlyStopping",
     "min_delta ignored"),
    ([(MIN, "improved = value < self.best + self.min_delta"), (MAX, "improved = value > self.best - self.min_delta")],
     "EarlyStopping", "min_delta with the wrong sign"),
    ([('elif self.mode == "min":', "elif True:")], "EarlyStopping", "mode ignored"),
    ([("self.best_epoch = epoch\n", "self.best_epoch = epoch + 1\n")], "EarlyStopping", "best_epoch counted from 1"),
    ([(MIN, "improved = value < self._prev - self.min_delta"), (MAX, "improved = value > self._prev + self.min_delta"),
      ("epoch = self.epoch\n", "self._prev, epoch = value, self.epoch\n")], "EarlyStopping",
     "compared with the previous epoch"),
    ([("self.best = None", "self.best = 0.0")], "EarlyStopping", "best starts at 0"),
    ([("if math.isnan(value):", "if False:")], "EarlyStopping", "NaN becomes best"),
    ([(H_COIN, H_COIN.replace("rng.random(n) < 0.5", "np.full(n, rng.random() < 0.5)")),
      (V_COIN, V_COIN.replace("rng.random(n) < 0.5", "np.full(n, rng.random() < 0.5)"))],
     "random_flip", "one coin for the whole batch"),
    ([("axis=-1)", "axis=TMP)"), ("axis=-2)", "axis=-1)"), ("axis=TMP)", "axis=-2)")], "random_flip",
     "horizontal and vertical swapped"),
    ([(H_COIN, H_COIN.replace("rng.random(n) < 0.5", "np.ones(n, dtype=bool)")),
      (V_COIN, V_COIN.replace("rng.random(n) < 0.5", "np.ones(n, dtype=bool)"))], "random_flip",
     "every image flipped"),
    ([("out = images.copy()", "out = images.astype(float)")], "random_flip", "dtype changed"),
    # image[::-1] is the vertical flip of an (H, W) image, and a flip of the channels of a (C, H, W) one
    ([("axis=-2)", "axis=0)")], "random_flip", "channel axis flipped"),
    ([("if 0 <= y + dy < h and 0 <= x + dx < w:", "if True:"),
      ("out[i, ..., y + dy, x + dx] = images[i, ..., y, x]",
       "out[i, ..., (y + dy) % h, (x + dx) % w] = images[i, ..., y, x]")], "random_shift",
     "wrap-around instead of zero fill"),
    ([(SHIFTS, "shifts = rng.integers(-max_shift, max_shift, size=(n, 2))")], "random_shift", "one end excluded"),
    ([(SHIFTS, "shifts = np.repeat(rng.integers(-max_shift, max_shift + 1, size=(1, 2)), n, axis=0)")],
     "random_shift", "one shift for the whole batch"),
    ([("dy, dx = int(shifts[i, 0]), int(shifts[i, 1])", "dy = dx = int(shifts[i, 0])")], "random_shift",
     "the same shift on both axes"),
    ([("out = np.zeros_like(images)", "out = np.zeros(images.shape)")], "random_shift", "dtype changed"),
]


@pytest.mark.parametrize("edits, function, mistake", MISTAKE_EDITS,
                         ids=[f"{m[1]}: {m[2]}" for m in MISTAKE_EDITS])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, edits, function, mistake):
    assert_mistake_diagnosed(EX, edits, function, mistake)


def test_the_keras_example_explains_a_late_stop_step_by_step(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), "return self.wait >= self.patience", "return self.wait > self.patience")
    result = grade_text(EX, text, functions=["EarlyStopping"])
    check = next(c for c in result.checks if c.name == "early_stopping_runs_4_epochs_in_the_keras_example")
    assert check.outcome == "failed"
    assert "step 4 (epoch 3): step(0.8)" in check.message and "returned False, expected True" in check.message
    assert "3 epoch(s) without improvement" in check.message
    assert check.counterexample.call.startswith("EarlyStopping(patience=3, min_delta=0.0, mode='min', then step=")


def test_a_stub_class_is_not_implemented(grade_text, exercise_text):
    result = grade_text(EX, exercise_text(EX), functions=["EarlyStopping"])
    assert [c.outcome for c in result.checks] == ["not_implemented"] * 3


def test_augmentation_that_ignores_rng_fails(grade_text, solution_text, mutate):
    text = solution_text(EX).replace("    if rng is None:\n        rng = np.random.default_rng()\n",
                                     "    rng = np.random.default_rng()\n")
    result = grade_text(EX, text, functions=["random_flip", "random_shift"])
    failed = {c.name for c in result.checks if not c.passed}
    assert {"random_flip_draws_from_rng_and_undoes_itself", "random_shift_draws_from_rng_and_moves_channels_together"} <= failed


def test_a_vectorized_solution_with_the_opposite_shift_convention_scores_full_marks(grade_text, solution_text):
    text = solution_text(EX).split("def random_flip")[0] + '''
def random_flip(images, rng=None, horizontal=True, vertical=False):
    images = np.asarray(images)
    rng = np.random.default_rng() if rng is None else rng
    out = images.copy()
    n = len(images)
    coins = rng.integers(0, 2, size=(n, 2)).astype(bool)  # both coins at once
    if horizontal:
        out[coins[:, 0]] = out[coins[:, 0]][..., ::-1]
    if vertical:
        out[coins[:, 1]] = out[coins[:, 1]][..., ::-1, :]
    return out


def random_shift(images, max_shift, rng=None):
    images = np.asarray(images)
    rng = np.random.default_rng() if rng is None else rng
    h, w = images.shape[-2:]
    out = np.zeros_like(images)
    for i in range(len(images)):
        dx, dy = rng.integers(-max_shift, max_shift, size=2, endpoint=True)  # dx first, content moves up/left
        padded = np.pad(images[i], [(0, 0)] * (images.ndim - 3) + [(max_shift, max_shift)] * 2)
        out[i] = padded[..., max_shift + dy: max_shift + dy + h, max_shift + dx: max_shift + dx + w]
    return out
'''
    result = grade_text(EX, text)
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]
