"""The ensemble of the teams' models (``grader.batch.ensemble``): its figures against an
independent computation, a constructed case where it beats every member on NLL, who is left
out and why, and that the grader's side of it imports no torch.

The rows are built here as ``grade batch`` stores them (exercise14's details); the whole batch
on generated faces is in ``test_leaderboard.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, log_loss

from grader.batch import ensemble
from grader.batch.gradebook import Row

CLASSES = [f"person{i}" for i in range(8)]


def team(name: str, details: dict | None, *, status: str = "graded", message: str = "") -> Row:
    """A project team's gradebook row; ``details`` those of its measuring check (None: it crashed before)."""
    checks = [{"name": "read", "title": "", "score": 2, "max_score": 2, "outcome": "passed"},
              {"name": "measure", "title": "", "score": 0 if details is None else 9, "max_score": 18,
               "outcome": "failed" if details is None else "passed", "passed": details is not None,
               "message": message, "details": details or {}}]
    return Row("exercise14", name, name.title(), f"{name}/project.py", "", "v", status, 11, 20, "", {"checks": checks})


def model(name: str, probs: np.ndarray) -> Row:
    return team(name, {"kind": "model", "log_probabilities": np.round(np.log(probs), 4).tolist()})


def independent(probs: np.ndarray, labels: np.ndarray) -> dict:
    """The figures by scikit-learn, and the ECE written out again with numpy's histogram bins."""
    predicted, confidence = probs.argmax(axis=1), probs.max(axis=1)
    edges = np.linspace(0, 1, 11)
    where = np.clip(np.digitize(confidence, edges[1:-1]), 0, 9)
    ece = sum(np.mean(where == b) * abs(np.mean(predicted[where == b] == labels[where == b])
                                        - np.mean(confidence[where == b])) for b in range(10) if np.any(where == b))
    return {"accuracy": accuracy_score(labels, predicted), "balanced_accuracy": balanced_accuracy_score(labels, predicted),
            "macro_f1": f1_score(labels, predicted, average="macro"),
            "nll": log_loss(labels, probs, labels=range(8)), "ece": ece}


def leaning(rng, labels: np.ndarray, strength: float) -> np.ndarray:
    """Random probabilities (N, 8) leaning towards the true class by ``strength`` (Dirichlet rows)."""
    alpha = np.ones((len(labels), 8))
    alpha[np.arange(len(labels)), labels] += strength
    return np.stack([rng.dirichlet(a) for a in alpha])


def test_the_ensembles_and_every_members_figures_equal_an_independent_computation_from_their_probabilities():
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(8), [15, 47, 24, 106, 22, 14, 12, 29])
    members = {name: leaning(rng, labels, strength) for name, strength in (("ann", 6), ("bob", 3), ("cat", 1))}
    built = ensemble.combine([model(n, p) for n, p in members.items()], labels, CLASSES, "exercise14")
    assert built.k == 3 and built.n_images == len(labels) and built.left_out == []
    expected = independent(np.mean(list(members.values()), axis=0), labels)
    for key, value in expected.items():
        assert built.ensemble[key] == pytest.approx(value, abs=2e-4), key
    for m in built.members:
        for key, value in independent(members[m.team], labels).items():
            assert m.figures[key] == pytest.approx(value, abs=2e-4), (m.team, key)
    each = [independent(p, labels) for p in members.values()]
    for key in expected:
        assert built.mean_member[key] == pytest.approx(np.mean([e[key] for e in each]), abs=2e-4), key
    assert [m.team for m in built.members] == ["ann", "bob", "cat"]   # best balanced accuracy first
    assert built.ensemble["nll"] <= built.mean_member["nll"]


def test_two_teams_confidently_wrong_on_different_faces_make_an_ensemble_better_than_either_on_nll():
    """Each model is right with 0.93 on one half of the faces and wrong on the other, 0.72 on a
    wrong person and 0.22 on the right one: members NLL (-ln 0.93 - ln 0.22) / 2 = 0.793 and
    accuracy 0.5; the ensemble gives the right person 0.575 everywhere: NLL -ln 0.575 = 0.553,
    accuracy 1 — and an ECE of 0.425 above the members' 0.395 (it is right but unsure)."""
    labels = np.arange(40) % 8
    wrong = (labels + 1) % 8
    rows = np.arange(40)

    def member(right_on: np.ndarray) -> np.ndarray:
        p = np.full((40, 8), 0.01)
        p[rows, labels] = np.where(right_on, 0.93, 0.22)
        p[rows[~right_on], wrong[~right_on]] = 0.72
        return p                                                                     # (40, 8), rows sum to 1

    first = rows < 20
    built = ensemble.combine([model("a", member(first)), model("b", member(~first))], labels, CLASSES, "exercise14")
    for m in built.members:
        assert m.figures["nll"] == pytest.approx(-(np.log(0.93) + np.log(0.22)) / 2, abs=2e-4)
        assert m.figures["accuracy"] == 0.5 and m.figures["ece"] == pytest.approx(0.395, abs=2e-4)
    assert built.ensemble["nll"] == pytest.approx(-np.log(0.575), abs=2e-4)
    assert built.ensemble["nll"] < min(m.figures["nll"] for m in built.members)
    assert built.ensemble["accuracy"] == built.ensemble["balanced_accuracy"] == 1.0
    assert built.ensemble["ece"] == pytest.approx(0.425, abs=2e-4)


def test_csvs_broken_and_unreadable_submissions_are_left_out_and_named_with_the_reason():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 8, 30)
    good = [model(n, leaning(rng, labels, 4)) for n in ("ann", "bob")]
    rows = good + [
        team("csv", {"kind": "csv", "balanced_accuracy": 1.0}),
        team("crash", None, message="loading project.safetensors raised RuntimeError: boom"),
        team("nan", {"kind": "model", "no_probabilities": "its logits hold NaN or infinity"}),
        model("other", leaning(rng, labels[:20], 4)),            # graded on another split
        team("older", {"kind": "model"}),
        Row("exercise14", "missing", "Missing", "", "", "v", "problem", 0, 20, "no project.py in the folder"),
    ]
    built = ensemble.combine(rows, labels, CLASSES, "exercise14")
    assert {m.team for m in built.members} == {"ann", "bob"}
    reasons = {x.team: x.reason for x in built.left_out}
    assert reasons["csv"] == ensemble.CSV_REASON
    assert "not scored" in reasons["crash"] and "RuntimeError: boom" in reasons["crash"]
    assert reasons["nan"] == "no probabilities: its logits hold NaN or infinity"
    assert "not (30, 8)" in reasons["other"] and "regrade" in reasons["older"]
    assert "not scored: no project.py in the folder" == reasons["missing"]
    only_good = ensemble.combine(good, labels, CLASSES, "exercise14")
    assert built.ensemble == only_good.ensemble   # the left-out rows change nothing


def test_fewer_than_two_models_make_no_ensemble_and_an_exercise_without_probabilities_reads_no_labels(tmp_path):
    labels = np.arange(8)
    one = [model("ann", np.full((8, 8), 1 / 8)), team("csv", {"kind": "csv"})]
    assert ensemble.combine(one, labels, CLASSES, "exercise14") is None
    plain = Row("exercise03", "ann", "Ann", "", "", "v", "graded", 5, 5, "", {"checks": [
        {"name": "c", "title": "", "score": 5, "max_score": 5, "outcome": "passed"}]})
    assert ensemble.of_batch([plain], "exercise03", tmp_path) == (None, "")   # exercise03 has no hidden_labels
    built, note = ensemble.of_batch(one, "exercise14", tmp_path)   # no faces in tmp_path: said, not raised
    assert built is None and note.startswith("no ensemble of the teams' models: the test labels could not be read")


def test_the_ensemble_survives_its_json():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 8, 16)
    built = ensemble.combine([model(n, leaning(rng, labels, 2)) for n in "ab"] + [team("c", {"kind": "csv"})],
                             labels, CLASSES, "exercise14")
    again = ensemble.TeamEnsemble.from_dict(json.loads(json.dumps(built.to_dict())))
    assert again == built and built.to_dict()["k"] == 2


def test_the_grader_side_of_the_ensemble_imports_no_torch():
    code = """
import sys
import numpy as np
from grader.batch import ensemble, leaderboard, run
from grader.checks import exercise14
labels = np.arange(16) % 8
rows = []
for name in "ab":
    p = np.random.default_rng(len(name)).dirichlet(np.ones(8), 16)
    checks = [{"name": "m", "title": "", "score": 1, "max_score": 1, "outcome": "passed",
               "details": {"kind": "model", "log_probabilities": np.log(p).tolist()}}]
    rows.append(leaderboard.Row("exercise14", name, name, "", "", "v", "graded", 1, 1, "", {"checks": checks}))
built = ensemble.combine(rows, labels, [str(i) for i in range(8)], "exercise14")
leaderboard.markdown(leaderboard.board("exercise14", leaderboard.entries(rows)), built)
exercise14.probability_details(np.zeros((16, 8), np.float32))
assert built.k == 2
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


# --------------------------------------------------------------------------- real data (slow)

REAL = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "lfw8-gray.zip").is_file(), reason="needs ../shared/data/lfw8-gray.zip (real LFW-8)")
def test_seven_teams_on_the_real_faces_give_an_ensemble_of_their_five_models_better_than_its_mean_member(
        tmp_path):
    """tests/batch/measure_team_ensemble.py's teams (the CNNs trained 5 epochs here, 20 for the
    README's figures): the fine-tuned solution, two CNNs, two softmax regressions, a CSV, a broken one."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("measure_team_ensemble", Path(__file__).parent /
                                                  "measure_team_ensemble.py")
    measure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(measure)
    measure.write_teams(tmp_path / "teams", REAL, cnn_epochs=5)
    report = measure.grade(tmp_path / "teams", tmp_path / "out", REAL)
    saved = json.loads((tmp_path / "out" / "exercise14" / "ensemble.json").read_text())
    assert saved["k"] == 5 and saved["n_images"] == 269
    assert {m["team"] for m in saved["members"]} == {"finetuned", "cnn-0", "cnn-1", "linear-0", "linear-1"}
    reasons = {x["team"]: x["reason"] for x in saved["left_out"]}
    assert reasons["csv"] == ensemble.CSV_REASON and reasons["broken"].startswith("not scored: project.safetensors")
    e, mean = saved["ensemble"], saved["mean_member"]
    print(ensemble.headline(ensemble.TeamEnsemble.from_dict(saved)))
    assert e["nll"] < mean["nll"] and e["balanced_accuracy"] > mean["balanced_accuracy"]
    assert saved["members"][0]["team"] == "finetuned" and saved["members"][0]["figures"]["balanced_accuracy"] >= 0.97
    assert report.graded == 7
