"""A random function called with rng=None draws fresh randomness every call: a fixed default seed
(the same dropout mask, the same weights, the same flips every step) loses its rng check."""

import pytest

FIXED_DEFAULT = [
    ("exercise06", "dropout", "dropout_draws_its_masks_from_rng",
     "    if rng is None:\n        rng = np.random.default_rng()\n"),
    ("exercise08", "init_dense", "init_dense_glorot_uniform_is_uniform_within_the_limit",
     "    if rng is None:\n        rng = np.random.default_rng()\n"),
    ("exercise09", "random_flip", "random_flip_draws_from_rng_and_undoes_itself",
     "    if rng is None:\n        rng = np.random.default_rng()\n    out = images.copy()\n"),
]


@pytest.mark.parametrize("exercise, function, check, anchor", FIXED_DEFAULT, ids=[f[1] for f in FIXED_DEFAULT])
def test_a_fixed_default_seed_loses_the_rng_check(grade_text, solution_text, mutate, exercise, function, check,
                                                  anchor):
    text = mutate(solution_text(exercise), anchor, anchor.replace("default_rng()", "default_rng(1234)"))
    result = grade_text(exercise, text, functions=[function])
    by_name = {c.name: c for c in result.checks}
    assert by_name[check].score == 0, by_name[check].message
    assert "two calls with rng=None" in by_name[check].message and "not a fixed seed" in by_name[check].message
