"""The slides' CIFAR-10 ladder on the real data (about 30 minutes on 2 cores): `pytest -m slow`.

What the course's table must show, reproduced in PyTorch on the course's splits: the forest
near 0.39, the CNN on /255 input well above it and above the same CNN on raw 0-255 input, and
the best of dropout / batchnorm / augmentation above the plain CNN and at least 0.60.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

ZIP = Path(__file__).resolve().parents[3] / "shared" / "data" / "cifar10-jpg.zip"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not ZIP.is_file(), reason=f"needs the course's CIFAR-10 copy {ZIP} (not present)")]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    from grader.reference import ladder

    out = tmp_path_factory.mktemp("ladder") / "cifar10-ladder.json"
    return ladder.run(ZIP.parent, threads=2, out=out)


def _acc(table, name):
    return next(r["test_accuracy"] for r in table["rows"] if r["name"] == name)


def test_the_random_forest_lands_near_the_slides_0_39(table):
    assert 0.36 <= _acc(table, "random_forest") <= 0.42


def test_the_cnn_on_scaled_input_reaches_0_55_and_beats_raw_input(table):
    assert _acc(table, "cnn") >= 0.55
    assert _acc(table, "cnn_raw") < _acc(table, "cnn")


def test_the_best_trick_reaches_0_60_and_beats_the_plain_cnn(table):
    best = max(_acc(table, name) for name in ("cnn_dropout", "cnn_batchnorm", "cnn_augment"))
    assert best >= 0.60
    assert best > _acc(table, "cnn")


def test_the_ladder_fits_in_an_hour(table):
    assert table["total_seconds"] < 3600
