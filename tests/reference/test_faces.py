"""The project's reference: measures (balanced accuracy, macro-F1, NLL, ECE, the deep ensemble),
the augmentation, the models' shapes, the fixed split, and the whole ladder on generated faces
with the tiny stand-in backbone. The real ladder's claims are behind the slow marker."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.reference import faces
from grader.reference.faces_ladder import FROM_SCRATCH, run

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "results" / "faces-ladder.json"


def test_scores_match_scikit_learn_on_an_imbalanced_prediction():
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    rng = np.random.default_rng(0)
    labels = rng.choice(8, size=300, p=[0.4, 0.2, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05])
    predicted = np.where(rng.random(300) < 0.6, labels, rng.integers(0, 8, 300))
    got = faces.scores(labels, predicted)
    assert got["accuracy"] == pytest.approx(accuracy_score(labels, predicted))
    assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(labels, predicted))
    assert got["macro_f1"] == pytest.approx(f1_score(labels, predicted, average="macro"))


def test_nll_and_ece_by_hand():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3]])
    labels = np.array([0, 1, 1, 0])
    assert faces.nll(probs, labels) == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.8, 0.7])))
    # bins of 0.1: 0.9 -> bin 9 (right, conf 0.9); 0.6 -> bin 6 (wrong); 0.8 -> bin 8 (right); 0.7 -> bin 7 (right)
    assert faces.ece(probs, labels) == pytest.approx((0.1 + 0.6 + 0.2 + 0.3) / 4)


def test_an_ensemble_averages_probabilities_and_beats_overconfident_members_on_nll():
    labels = np.array([0, 1, 0, 1])
    a = np.array([[0.99, 0.01], [0.99, 0.01], [0.99, 0.01], [0.01, 0.99]])    # wrong on face 1, very sure
    b = np.array([[0.99, 0.01], [0.01, 0.99], [0.01, 0.99], [0.01, 0.99]])    # wrong on face 2, very sure
    out = faces.ensemble([a, b], labels)
    assert out["k"] == 2 and len(out["members"]) == 2
    assert out["ensemble"]["nll"] < out["mean_member"]["nll"]
    assert out["ensemble"]["nll"] == pytest.approx(faces.nll((a + b) / 2, labels))


def test_jitter_keeps_shape_and_pixels_and_draws_the_same_for_the_same_seed():
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).reshape(2, 1, 8, 8)
    one = faces.jitter(x, torch.Generator().manual_seed(3), max_shift=2)
    two = faces.jitter(x, torch.Generator().manual_seed(3), max_shift=2)
    assert one.shape == x.shape and torch.equal(one, two)
    assert set(one.unique().tolist()) <= set(x.unique().tolist())   # moved and mirrored pixels, no new values


def test_the_models_map_64_by_64_faces_to_8_logits():
    x = torch.rand(3, 1, 64, 64)
    assert faces.fcnn()(x).shape == (3, 8) and faces.cnn()(x).shape == (3, 8)
    from grader.kit.pretrained import tiny_backbone

    net = tiny_backbone()
    assert faces.FineTuned(net.features, net.feature_dim, net.mean, net.std, 32)(x).shape == (3, 8)


def test_the_split_is_stratified_disjoint_and_the_same_on_every_call(fake_lfw8):
    from grader.data import load_split

    parts = [load_split("lfw8", s, fake_lfw8) for s in ("train", "val", "test")]
    again = load_split("lfw8", "test", fake_lfw8)
    assert np.array_equal(parts[2].images, again.images)
    keys = [{img.tobytes() for img in p.images} for p in parts]
    assert all(a.isdisjoint(b) for i, a in enumerate(keys) for b in keys[i + 1:])
    total = sum(p.counts() for p in parts)
    for p, share in zip(parts, (0.6, 0.2, 0.2)):
        assert np.all(np.abs(p.counts() - share * total) <= 1)
    assert parts[0].images.shape[1:] == (1, 64, 64)


def test_the_quick_ladder_on_generated_faces_writes_every_rung_and_the_ensemble(fake_lfw8, tmp_path):
    from grader.kit.pretrained import tiny_backbone
    from rich.console import Console

    out = tmp_path / "ladder.json"
    table = run(fake_lfw8, quick=True, out=out, net=tiny_backbone(), console=Console(file=open("/dev/null", "w")),
                export_solution=tmp_path / "solution.safetensors")
    assert [r["name"] for r in table["rows"]] == ["majority", "logreg", "fcnn", "cnn", "frozen", "finetuned"]
    assert json.loads(out.read_text())["rows"] == table["rows"]
    rows = {r["name"]: r for r in table["rows"]}
    assert rows["majority"]["balanced_accuracy"] == 0.125 and rows["majority"]["accuracy"] > 0.3
    assert rows["logreg"]["balanced_accuracy"] > 0.9          # the generated people are linearly separable
    e = table["ensemble"]
    assert e["k"] == 3 and len(e["members"]) == 3 and {"nll", "ece", "balanced_accuracy"} <= set(e["ensemble"])
    assert e["members"][0]["balanced_accuracy"] == rows["cnn"]["balanced_accuracy"]   # the ladder's CNN is member 1
    assert (tmp_path / "solution.safetensors").is_file()


def test_the_ladder_run_rung_by_rung_merges_into_one_table(fake_lfw8, tmp_path):
    from rich.console import Console

    out, quiet = tmp_path / "ladder.json", Console(file=open("/dev/null", "w"))
    run(fake_lfw8, quick=True, only=("majority",), out=out, console=quiet)
    table = run(fake_lfw8, quick=True, only=("logreg",), out=out, merge=True, console=quiet)
    assert [r["name"] for r in table["rows"]] == ["majority", "logreg"] and table["ensemble"] is None


@pytest.mark.skipif(not TABLE.is_file(), reason="docs/results/faces-ladder.json not written yet")
def test_the_measured_table_shows_fine_tuning_first_and_the_ensemble_better_calibrated_than_its_members():
    """The claims of the committed table (measured on the real faces by `grade reference faces`)."""
    table = json.loads(TABLE.read_text())
    rows = {r["name"]: r for r in table["rows"]}
    assert set(rows) == {"majority", "logreg", "fcnn", "cnn", "frozen", "finetuned"} and not table["quick"]
    assert all(rows["finetuned"]["balanced_accuracy"] > rows[r]["balanced_accuracy"] for r in FROM_SCRATCH)
    e = table["ensemble"]
    assert e["k"] >= 3 and e["ensemble"]["nll"] < e["mean_member"]["nll"]
    assert table["total_seconds"] <= 45 * 60
    from grader.checks import exercise14

    assert exercise14.FCNN_BALANCED_ACCURACY <= rows["fcnn"]["balanced_accuracy"]
    assert exercise14.FINETUNED_BALANCED_ACCURACY <= rows["finetuned"]["balanced_accuracy"]


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT.parent / "shared" / "data" / "lfw8-gray.zip").is_file() or not TABLE.is_file(),
                    reason="needs ../shared/data/lfw8-gray.zip (the real LFW-8 faces) and the committed table")
def test_rerunning_the_fast_rungs_on_the_real_faces_gives_the_committed_figures(tmp_path):
    """Seeded and reproducible: majority, logistic regression and the fcNN again (≈ 20 s), figure for figure."""
    from rich.console import Console

    committed = {r["name"]: r for r in json.loads(TABLE.read_text())["rows"]}
    table = run(ROOT.parent / "shared" / "data", only=("majority", "logreg", "fcnn"), out=tmp_path / "t.json",
                console=Console(file=open("/dev/null", "w")))
    for row in table["rows"]:
        for key in ("accuracy", "balanced_accuracy", "macro_f1", "val_balanced_accuracy", "best_epoch"):
            assert row[key] == committed[row["name"]][key], (row["name"], key)
