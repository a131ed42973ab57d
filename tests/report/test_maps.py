"""grader.report.maps: a wrong attribution map is shown as a picture beside the expected one."""

import io

import numpy as np
import pytest
from rich.console import Console

from grader.report import console as report
from grader.report.maps import MAX_SIDE, has_maps, small, write_png

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def no_relu(tmp_path_factory):
    """exercise13 graded with a Grad-CAM that keeps negative values (no ReLU): its grad_cam checks only."""
    from pathlib import Path

    from grader.engine import grade

    text = (Path(__file__).resolve().parents[2] / "solutions" / "exercise13.py").read_text(encoding="utf-8")
    old = "cam = torch.relu((weights * activations).sum(dim=1, keepdim=True))"
    assert text.count(old) == 1
    path = tmp_path_factory.mktemp("no-relu") / "exercise13.py"
    path.write_text(text.replace(old, "cam = (weights * activations).sum(dim=1, keepdim=True)"), encoding="utf-8")
    return grade("exercise13", path, only=lambda spec: "grad_cam" in spec.functions)


def test_a_wrong_map_is_kept_with_the_expected_one(no_relu):
    failed = [c for c in no_relu.checks if not c.passed]
    assert failed and all(has_maps(c.details) for c in failed)
    (m,) = failed[0].details["maps"]
    got, expected = np.array(m["got"]), np.array(m["expected"])
    assert got.shape == expected.shape and got.min() < 0 <= expected.min()  # the ReLU's missing negatives


def test_a_colour_terminal_shows_the_maps_and_a_plain_one_does_not(no_relu):
    colour, plain = io.StringIO(), io.StringIO()
    report.render(no_relu, Console(file=colour, force_terminal=True, color_system="truecolor", width=100))
    report.render(no_relu, Console(file=plain, color_system=None, width=100))
    assert "expected | yours" in colour.getvalue() and "▀▀" in colour.getvalue()
    assert "expected | yours" not in plain.getvalue() and "▀" not in plain.getvalue()


def test_plots_draw_expected_beside_yours(no_relu, tmp_path):
    from PIL import Image

    shown = next(c for c in no_relu.checks if not c.passed)
    path = write_png(shown.details, tmp_path / "map.png", title="exercise13")
    with Image.open(path) as image:
        assert image.width > image.height > 100


def test_a_large_map_is_kept_small():
    a = np.arange(100 * 70, dtype=float).reshape(100, 70)
    rows = small(a)
    assert len(rows) <= MAX_SIDE and len(rows[0]) <= MAX_SIDE and rows[0][0] == 0.0
    assert np.array(small(np.ones((3, 5, 5)))).tolist() == np.full((5, 5), 3.0).tolist()  # channels summed
