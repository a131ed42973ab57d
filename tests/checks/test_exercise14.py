"""The project's checks (exercise14) judged against the project: trained, random and always-Bush
models, predictions CSVs good and broken, what crosses to the worker, and — behind the slow
marker — the solution's committed weights on the real LFW-8 test faces.

By default the faces are generated (``tests/fakefaces.py``: LFW-8's people and proportions, a
fifth as many images) and the team model is a softmax regression trained on them in a second.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.checks import exercise14 as checks
from grader.data import load_split
from grader.data.faces import face_ids, id_order, public_private
from grader.kit import Verdict
from grader.sandbox import process, protocol

EX = "exercise14"
ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "data"
SOLUTION_WEIGHTS = ROOT / "solutions" / "exercise14.safetensors"
MEASURE = "the_balanced_accuracy_on_the_hidden_test_faces"
READ = "the_submission_names_one_person_for_every_test_face"


@pytest.fixture(scope="module")
def team_weights(fake_lfw8, fakefaces) -> dict:
    return {how: fakefaces.linear_weights(fake_lfw8, how) for how in ("trained", "random", "bush")}


@pytest.fixture
def grade14(grade_text, fake_lfw8, fakefaces):
    """Grade a team folder: ``exercise14.py`` (LINEAR_TEAM unless told) and ``files`` beside it (the batch test hands
    in project.py, project.safetensors and project.csv)."""
    def run(files: dict, text: str | None = None, data_dir=None):
        return grade_text(EX, fakefaces.LINEAR_TEAM if text is None else text, files=files,
                          data_dir=data_dir or fake_lfw8)
    return run


def by_name(result) -> dict:
    return {c.name: c for c in result.checks}


def test_the_project_is_found_as_project_faces_and_exercise14():
    from grader.registry import find_exercise

    assert {find_exercise(n).id for n in ("project", "faces", "exercise14", "14")} == {EX}
    assert find_exercise("project").datasets == ("lfw8",)


def test_a_trained_model_scores_full_marks_with_every_figure_in_the_details(grade14, team_weights, fake_lfw8):
    result = grade14({"exercise14.safetensors": team_weights["trained"]})
    assert result.score == result.max_score == 20, [(c.name, c.message) for c in result.checks if not c.passed]
    details = by_name(result)[MEASURE].details
    test = load_split("lfw8", "test", fake_lfw8)
    assert details["kind"] == "model" and details["n_images"] == len(test)
    assert details["classes"][checks_bush()] == "George_W_Bush"
    assert np.array(details["confusion_matrix"]).sum(axis=1).tolist() == test.counts().tolist()
    assert details["balanced_accuracy"] >= checks.FINETUNED_BALANCED_ACCURACY
    assert 0 < details["macro_f1"] <= 1 and len(details["per_class_accuracy"]) == 8
    public, private = public_private(test.labels)
    assert details["public"]["n_images"] == len(public) and details["private"]["n_images"] == len(private)


def checks_bush() -> int:
    return 3  # the classes sorted by name: Ariel_Sharon, Colin_Powell, Donald_Rumsfeld, George_W_Bush, …


@pytest.mark.parametrize("how", ["random", "bush"])
def test_random_weights_and_always_bush_get_no_accuracy_points_and_the_report_prints_both_accuracies(
        grade14, team_weights, how):
    result = grade14({"exercise14.safetensors": team_weights[how]})
    measure = by_name(result)[MEASURE]
    assert measure.score == 0 and by_name(result)[READ].score == 2 and result.score == 2
    details = measure.details
    assert f"balanced test accuracy {details['balanced_accuracy']:.3f} (accuracy {details['accuracy']:.3f})" \
        in measure.message
    if how == "bush":
        assert details["balanced_accuracy"] == 0.125 and details["accuracy"] > 0.3  # Bush's share of the faces
        assert details["per_class_accuracy"][checks_bush()] == 1.0


def test_a_model_keeps_its_own_log_probabilities_in_the_order_of_the_ids_not_of_the_people(
        grade14, team_weights, fake_lfw8, fakefaces):
    """The class ensemble's input: the softmax of the team's model, found here with torch, in the
    order of the test faces' ids (the split's order is sorted by person and must not reach a report)."""
    test = load_split("lfw8", "test", fake_lfw8)
    details = by_name(grade14({"exercise14.safetensors": team_weights["trained"]}))[MEASURE].details
    kept = np.array(details["log_probabilities"])                                           # (N, 8)
    own = np.log(fakefaces.linear_probabilities(team_weights["trained"], test.images))        # (N, 8) split order
    order = id_order(len(test))
    assert kept.shape == (len(test), 8) and np.allclose(kept, own[order], atol=2e-4)
    assert not np.allclose(kept, own, atol=0.1)
    assert [f"face-{r + 1:03d}" for r in range(len(test))] == [face_ids(len(test))[i] for i in order]
    predicted = np.empty(len(test), np.int64)
    predicted[order] = kept.argmax(axis=1)   # the classes graded are the probabilities' argmax
    assert np.mean(predicted == test.labels) == pytest.approx(details["accuracy"], abs=1e-4)


def test_a_csv_keeps_no_probabilities_and_a_model_with_nan_logits_is_graded_and_says_it_has_none(
        grade14, fakefaces, fake_lfw8):
    from safetensors.torch import load, save

    test = load_split("lfw8", "test", fake_lfw8)
    csv = grade14({"exercise14.csv": fakefaces.predictions_csv(test.labels, fake_lfw8)}, text="# team\n")
    assert not {"log_probabilities", "no_probabilities"} & set(by_name(csv)[MEASURE].details)
    state = load(fakefaces.linear_weights(fake_lfw8, "random"))
    state["1.bias"][2] = float("nan")
    nan = grade14({"exercise14.safetensors": save(state)})
    details = by_name(nan)[MEASURE].details
    assert nan.score == 2 and details["no_probabilities"] == "its logits hold NaN or infinity"
    assert "log_probabilities" not in details and details["n_images"] == len(test)


def test_points_scale_linearly_between_the_fcnn_and_the_fine_tuned_network():
    low, high = checks.FCNN_BALANCED_ACCURACY, checks.FINETUNED_BALANCED_ACCURACY
    assert checks.MODEL.share_of_points(low) == 0 and checks.MODEL.share_of_points(high) == 1
    assert checks.MODEL.share_of_points((low + high) / 2) == pytest.approx(0.5)
    assert checks.MODEL.share_of_points(0.125) == 0


@pytest.mark.parametrize("by_name_, delimiter", [(True, ","), (False, ";")])
def test_a_csv_of_the_true_people_scores_full_marks_by_name_or_index_comma_or_semicolon(
        grade14, fakefaces, fake_lfw8, by_name_, delimiter):
    test = load_split("lfw8", "test", fake_lfw8)
    csv = fakefaces.predictions_csv(test.labels, fake_lfw8, by_name=by_name_, delimiter=delimiter)
    result = grade14({"exercise14.csv": csv}, text='"""Team CSV: predictions in project.csv."""\n')
    assert result.score == 20, [(c.name, c.message) for c in result.checks if not c.passed]
    assert by_name(result)[MEASURE].details["kind"] == "csv"


def test_a_csv_in_a_shuffled_row_order_is_matched_by_id(grade14, fakefaces, fake_lfw8):
    test = load_split("lfw8", "test", fake_lfw8)
    lines = fakefaces.predictions_csv(test.labels, fake_lfw8).decode().splitlines()
    body = lines[1:]
    np.random.default_rng(0).shuffle(body)
    result = grade14({"exercise14.csv": ("\ufeff" + "\n".join([lines[0], *body]) + "\n").encode()}, text="# team\n")
    assert result.score == 20


@pytest.mark.parametrize("edit, says", [
    (lambda lines: lines[:-5], "has no person for 5 of the"),
    (lambda lines: lines + [lines[1]], "a second time"),
    (lambda lines: [lines[0], "face-9999,Tony_Blair", *lines[1:]], "'face-9999' is not the id of a test face"),
    (lambda lines: [lines[0], lines[1].split(",")[0] + ",Angela_Merkel", *lines[2:]], "'Angela_Merkel' is none"),
    (lambda lines: ["image,guess", *lines[1:]], "the first line should be the header id,person"),
    (lambda lines: [], "is empty"),
])
def test_a_broken_csv_scores_zero_with_one_line_saying_what_to_fix(grade14, fakefaces, fake_lfw8, edit, says):
    test = load_split("lfw8", "test", fake_lfw8)
    lines = fakefaces.predictions_csv(test.labels, fake_lfw8).decode().splitlines()
    result = grade14({"exercise14.csv": ("\n".join(edit(lines)) + "\n").encode()}, text="# team\n")
    assert result.score == 0
    for name in (READ, MEASURE):
        message = by_name(result)[name].message
        assert says in message and "\n" not in message and "Traceback" not in message, message


def test_read_csv_predictions_maps_names_indices_and_spaces_to_the_class_order():
    classes = ["Ariel_Sharon", "Colin_Powell"]
    got = checks.read_csv_predictions(b"ID,Person\nb,Colin Powell\na,0\n", ["a", "b"], classes)
    assert got.tolist() == [0, 1]
    with pytest.raises(Verdict, match="not UTF-8"):
        checks.read_csv_predictions(b"id,person\n\xff\xfe", ["a"], classes)


def test_neither_weights_nor_csv_scores_zero_and_names_both_ways(grade14):
    result = grade14({})
    assert result.score == 0
    assert "neither a weights file (exercise14.safetensors) nor predictions (exercise14.csv)" in \
        by_name(result)[MEASURE].message


def test_missing_test_data_scores_zero_with_outcome_data_missing(grade14, team_weights, tmp_path):
    result = grade14({"exercise14.safetensors": team_weights["trained"]}, data_dir=tmp_path)
    assert by_name(result)[MEASURE].outcome == "data_missing" and by_name(result)[MEASURE].score == 0


def test_the_test_labels_never_reach_the_worker(grade14, team_weights, fake_lfw8, monkeypatch):
    """Only uint8 images (and the weights' bytes) go out, the test faces each once in a secret
    order; neither the labels nor the ids' order leave the grader."""
    test = load_split("lfw8", "test", fake_lfw8)
    sent = []
    request = process.WorkerProcess.request

    def recording(self, message, blobs=None, **kwargs):
        args = protocol.decode(message.get("args", []), blobs or [])
        sent.append((message, [a for a in args if isinstance(a, np.ndarray)], list(blobs or [])))
        return request(self, message, blobs, **kwargs)

    monkeypatch.setattr(process.WorkerProcess, "request", recording)
    result = grade14({"exercise14.safetensors": team_weights["trained"]})
    assert result.score == 20
    arrays = [a for _, sent_arrays, _ in sent for a in sent_arrays]
    assert all(a.dtype == np.uint8 for a in arrays), {str(a.dtype) for a in arrays}
    probes = {image.tobytes() for n in (1, 5) for image in checks.MODEL.images(n)}  # the first check's random images
    chunks = [a for m, sent_arrays, _ in sent if m.get("name") == "logits" for a in sent_arrays
              if not {image.tobytes() for image in a} <= probes]
    sent_images = np.concatenate(chunks)
    assert not any(m.get("name") == "predict" for m, _, _ in sent)   # one pass: classes and probabilities from it
    key = lambda images: sorted(image.tobytes() for image in images)  # noqa: E731
    assert key(sent_images) == key(test.images) and not np.array_equal(sent_images, test.images)
    for labels in (test.labels, test.labels.astype(np.uint8), test.labels.astype(np.int32)):
        assert not any(labels.tobytes() in blob for _, _, blobs in sent for blob in blobs)
    text = json.dumps([m for m, _, _ in sent])
    assert json.dumps(test.labels.tolist())[1:-1] not in text
    assert not any(name in text for name in test.classes)


def test_test_ids_do_not_follow_the_people_and_the_halves_split_every_person():
    labels = np.repeat(np.arange(8), [15, 47, 24, 106, 22, 14, 12, 29])
    ids = face_ids(len(labels))
    assert len(set(ids)) == len(ids)
    ranks = np.array([int(i.split("-")[1]) for i in ids])
    assert not np.all(np.diff(ranks) > 0)  # not handed out in the split's (person-sorted) order
    public, private = public_private(labels)
    assert set(public).isdisjoint(private) and len(public) + len(private) == len(labels)
    assert np.all(np.abs(np.bincount(labels[public], minlength=8) - np.bincount(labels[private], minlength=8)) <= 1)


# --------------------------------------------------------------------------- real data (slow)

needs_real_data = pytest.mark.skipif(not (REAL / "lfw8-gray.zip").is_file(),
                                     reason="needs ../shared/data/lfw8-gray.zip (the real LFW-8 faces)")
needs_solution_weights = pytest.mark.skipif(
    not SOLUTION_WEIGHTS.is_file(), reason="needs solutions/exercise14.safetensors: grade reference faces --only "
                                           "finetuned --export-solution solutions/exercise14.safetensors")


@pytest.mark.slow
@needs_real_data
@needs_solution_weights
def test_the_solution_with_its_committed_weights_scores_full_marks_on_the_real_test_faces():
    out = subprocess.run([sys.executable, "-m", "grader", "project", "--submission", str(ROOT / "solutions" / f"{EX}.py"),
                          "--format", "json", "--data-dir", str(REAL)], capture_output=True, text=True)
    data = json.loads(out.stdout)
    assert data["score"] == data["extra_data"]["max_score"] == 20, [(t["name"], t["output"]) for t in data["tests"]]
    (measure,) = [t["extra_data"] for t in data["tests"] if t["extra_data"]["check"] == MEASURE]
    assert measure["details"]["n_images"] == 269
    assert measure["details"]["balanced_accuracy"] >= checks.FINETUNED_BALANCED_ACCURACY
    assert SOLUTION_WEIGHTS.stat().st_size <= 5_000_000


@pytest.mark.slow
@needs_real_data
@pytest.mark.parametrize("how", ["random", "bush"])
def test_random_and_always_bush_get_no_accuracy_points_on_the_real_test_faces(grade_text, fakefaces, how):
    weights = fakefaces.linear_weights(REAL, how)
    result = grade_text(EX, fakefaces.LINEAR_TEAM, files={"exercise14.safetensors": weights}, data_dir=REAL)
    measure = by_name(result)[MEASURE]
    assert measure.score == 0 and result.score == 2 and measure.details["n_images"] == 269
    print(f"{how}: balanced {measure.details['balanced_accuracy']:.3f}, accuracy {measure.details['accuracy']:.3f}")
    if how == "bush":
        assert measure.details["balanced_accuracy"] == 0.125 and measure.details["accuracy"] == round(106 / 269, 4)


def test_the_report_heads_the_confusion_matrix_with_accuracy_balanced_accuracy_and_macro_f1_and_names_the_people(
        grade14, team_weights):
    from grader.report import render_text

    result = grade14({"exercise14.safetensors": team_weights["trained"]})
    d = by_name(result)[MEASURE].details
    headline = (f"test accuracy {d['accuracy']:.3f}, balanced accuracy {d['balanced_accuracy']:.3f}, "
                f"macro-F1 {d['macro_f1']:.3f} on {d['n_images']} images")
    for fmt in ("rich", "markdown"):
        text = render_text(result, fmt)
        assert headline in text and "Junichiro_Koizumi" in text and "George_W_Bush" in text, fmt


def test_the_starting_file_with_its_stubs_and_a_csv_is_graded_on_the_csv_and_without_a_csv_is_not_implemented(
        grade14, fakefaces, fake_lfw8):
    released = (ROOT / "exercises" / f"{EX}.py").read_text(encoding="utf-8")
    test = load_split("lfw8", "test", fake_lfw8)
    with_csv = grade14({"exercise14.csv": fakefaces.predictions_csv(test.labels, fake_lfw8)}, text=released)
    assert with_csv.score == 20 and by_name(with_csv)[MEASURE].details["kind"] == "csv"
    stubs = grade14({"exercise14.safetensors": b"\0" * 16}, text=released)
    assert stubs.score == 0 and {c.outcome for c in stubs.checks} == {"not_implemented"}
