"""exercise11's checks judged against the project: trained and untrained weights, broken weights
files, wrong models, missing data, what crosses to the worker, the reports and the plot.

By default the test images are the learnable CIFAR-10 fixture and the weights are the
solution's model trained on it (tests/checks/conftest.py); the real test split and the lead's
trained weights are the slow tests at the end.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader.checks import exercise11 as checks
from grader.cli import main
from grader.data import load_split
from grader.report import render_text
from grader.sandbox import process, protocol

EX = "exercise11"
ROOT = Path(__file__).resolve().parents[2]
CIFAR_ZIP = ROOT.parent / "shared" / "data" / "cifar10-jpg.zip"
SOLUTION_WEIGHTS = ROOT / "solutions" / "exercise11.safetensors"
ACCURACY = "the_trained_model_classifies_the_test_images"
WEIGHTS = "the_weights_file_loads_into_the_model"
STRUCTURE = {"the_model_maps_n_images_to_n_by_10_logits": 2, "preprocess_turns_uint8_images_into_a_float_tensor": 1,
             "the_model_has_at_most_2_000_000_parameters": 1, "the_model_has_dropout_and_batchnorm_layers": 1,
             "the_model_gives_the_same_logits_twice_in_eval_mode": 1}


@pytest.fixture
def grade11(grade_text, solution_text, exercise11_weights):
    """Grade exercise11: the solution's text and trained safetensors weights on the fixture's test images
    unless told otherwise (``files={}``: no weights; ``data_dir``: another data folder)."""
    def run(text: str | None = None, **kwargs):
        kwargs.setdefault("files", {"exercise11.safetensors": exercise11_weights.safetensors})
        kwargs.setdefault("data_dir", exercise11_weights.data_dir)
        return grade_text(EX, solution_text(EX) if text is None else text, **kwargs)
    return run


def by_name(result) -> dict:
    return {c.name: c for c in result.checks}


def assert_structure_passed(result) -> None:
    checks_ = by_name(result)
    assert {name: checks_[name].score for name in STRUCTURE} == STRUCTURE, \
        [(c.name, c.message) for c in result.checks if c.name in STRUCTURE and not c.passed]


def assert_one_line_without_counterexample(check) -> None:
    assert "\n" not in check.message and "Traceback" not in check.message
    assert check.counterexample is None


# --------------------------------------------------------------------------- trained and untrained weights


def test_the_solution_with_weights_trained_on_the_fixture_scores_full_marks(grade11, exercise11_weights):
    result = grade11()
    assert result.score == result.max_score == 17, [(c.name, c.message) for c in result.checks if not c.passed]
    details = by_name(result)[ACCURACY].details
    assert details["accuracy"] == round(exercise11_weights.test_accuracy, 4) >= 0.9  # the grader's count = torch's
    assert details["n_images"] == 500 and np.sum(details["confusion_matrix"]) == 500
    assert details["classes"][:2] == ["airplane", "automobile"] and len(details["per_class_accuracy"]) == 10
    assert details["thresholds"] == {"random_forest": checks.RANDOM_FOREST_ACCURACY,
                                     "full_marks": checks.FULL_MARKS_ACCURACY}
    report = render_text(result, "rich")
    assert f"test accuracy {details['accuracy']:.3f} on 500 images (rows: true class, columns: predicted)" in report
    assert "automobile" in report  # the class names are not cut
    assert "details" in result.to_dict()["checks"][-1] and "details" not in result.to_dict()["checks"][0]


def test_the_same_model_with_untrained_weights_scores_no_accuracy_points_but_keeps_the_structure_points(
        grade11, exercise11_weights):
    result = grade11(files={"exercise11.safetensors": exercise11_weights.untrained})
    accuracy = by_name(result)[ACCURACY]
    assert accuracy.score == 0 and accuracy.outcome == "failed"
    assert accuracy.details["accuracy"] <= checks.RANDOM_FOREST_ACCURACY
    assert "is the model trained, and were its weights saved after training?" in accuracy.message
    assert_one_line_without_counterexample(accuracy)
    assert_structure_passed(result)
    assert by_name(result)[WEIGHTS].passed
    assert result.score == 7


def test_pt_weights_score_like_safetensors(grade11, exercise11_weights):
    safetensors = grade11()
    pt = grade11(files={"exercise11.pt": exercise11_weights.pt})
    assert pt.score == pt.max_score, [(c.name, c.outcome, c.message) for c in pt.checks if not c.passed]
    assert by_name(pt)[ACCURACY].details == by_name(safetensors)[ACCURACY].details


def test_the_weights_file_is_the_one_named_like_the_submission_else_exercise11_safetensors_first(tmp_path):
    for name in ("alice.py", "alice.pt", "exercise11.pt", "exercise11.safetensors"):
        (tmp_path / name).write_bytes(b"x")
    assert checks.MODEL.weights_file(tmp_path / "alice.py") == tmp_path / "alice.pt"
    assert checks.MODEL.weights_file(tmp_path / "bob.ipynb") == tmp_path / "exercise11.safetensors"
    assert checks.MODEL.weights_file(tmp_path / "nowhere" / "alice.py") is None


def test_accuracy_points_scale_linearly_between_the_random_forest_and_full_marks():
    lo, hi = checks.RANDOM_FOREST_ACCURACY, checks.FULL_MARKS_ACCURACY
    assert [checks.MODEL.share_of_points(a) for a in (0.1, lo, (lo + hi) / 2, hi, 0.95)] == pytest.approx([0, 0, 0.5, 1, 1])


def test_classification_details_count_true_classes_in_rows_and_predictions_in_columns():
    details = checks.MODEL.classification_details(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), ["a", "b", "c"])
    assert details["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert details["per_class_accuracy"] == [0.5, 1.0, 0.0] and details["accuracy"] == 0.5


def test_the_markdown_report_shows_the_confusion_matrix_with_a_row_per_true_class():
    from grader.results import CheckResult, ExerciseResult

    details = checks.MODEL.classification_details(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), ["cat", "dog", "frog"])
    check = CheckResult("acc", "accuracy", 5, 10, "failed", details=details)
    text = render_text(ExerciseResult("exercise11", "CNN", "x.py", "", [check]), "markdown")
    assert "| | cat | dog | frog | accuracy |" in text
    assert "| cat | 1 | 1 | 0 | 0.500 |" in text and "| frog | 0 | 1 | 0 | 0.000 |" in text
    assert "test accuracy 0.500 on 4 images" in text


# --------------------------------------------------------------------------- weights files that do not load


FROM_THE_FILE = ("the_model_has_at_most_2_000_000_parameters", "the_model_has_dropout_and_batchnorm_layers")


def weights_of(text: str) -> bytes:
    """The safetensors bytes of build_model()'s untrained state dict, for a submission's text
    (run here: it is our own test data)."""
    from safetensors.torch import save

    namespace: dict = {}
    exec(compile(text, "submission.py", "exec"), namespace)
    return save(namespace["build_model"]().state_dict())


def test_a_missing_weights_file_gets_a_clear_message_and_zero_for_the_checks_that_need_weights(grade11):
    result = grade11(files={})
    for name in (WEIGHTS, ACCURACY):
        check = by_name(result)[name]
        assert check.score == 0 and check.outcome == "failed"
        assert check.message.startswith("no weights file (exercise11.safetensors or exercise11.pt) beside your "
                                        "exercise file — save the trained weights with safetensors.torch.save_file(")
        assert_one_line_without_counterexample(check)
    for name in FROM_THE_FILE:  # the structure the grader reads from the weights, not from the student's objects
        check = by_name(result)[name]
        assert check.score == 0 and check.message.startswith(
            "no weights file (exercise11.safetensors or exercise11.pt) beside your exercise file — the parameters "
            "and the batchnorm layers are counted in the trained weights; save the trained weights with")
    assert all(by_name(result)[name].passed for name in STRUCTURE if name not in FROM_THE_FILE)


def _pickled_model() -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name, data, says", [
    ("exercise11.safetensors", b"not a safetensors file at all", "is not a state dict safetensors.torch.load can "
                                                                 "read (SafetensorError: "),
    ("exercise11.safetensors", "half", "is not a state dict safetensors.torch.load can read (SafetensorError: "),
    ("exercise11.safetensors", b"", "is empty, not the weights of a model with at most 2,000,000 parameters"),
    ("exercise11.pt", b"garbage" * 20, "is not a state dict torch.load(…, weights_only=True) can read"),
    ("exercise11.pt", "model", "holds a pickled torch.nn.modules.container.Sequential, not a state dict of tensors "
                               "— save model.state_dict(), not the model"),
], ids=["garbage safetensors", "truncated safetensors", "empty file", "garbage .pt", "pickled model in .pt"])
def test_a_corrupt_weights_file_gets_a_clear_one_line_message(grade11, exercise11_weights, name, data, says):
    if data == "half":
        data = exercise11_weights.safetensors[: len(exercise11_weights.safetensors) // 2]
    elif data == "model":
        data = _pickled_model()
    result = grade11(files={name: data})
    for check_name in (WEIGHTS, ACCURACY):
        check = by_name(result)[check_name]
        assert check.score == 0 and check.message.startswith(f"{name} ") and says in check.message, check.message
        assert_one_line_without_counterexample(check)
    assert all(by_name(result)[n].passed for n in STRUCTURE if n not in FROM_THE_FILE)
    for check_name in FROM_THE_FILE:  # counted in the file: passed where its tensors can be listed, else says why
        check = by_name(result)[check_name]
        assert check.passed or (check.score == 0 and check.message.startswith(f"{name} ")), check.message


def test_weights_of_another_architecture_name_the_layers_that_do_not_fit(grade11, solution_text, mutate):
    text = mutate(solution_text(EX), "nn.Linear(500, 300)", "nn.Linear(500, 200)")
    text = mutate(text, "nn.Linear(300, 100)", "nn.Linear(200, 100)")
    result = grade11(text)
    message = by_name(result)[WEIGHTS].message
    assert message.startswith("exercise11.safetensors does not fit build_model() (load_state_dict(strict=True)): "
                              "19.weight has shape (300, 500) in the file, (200, 500) in the model; "
                              "19.bias has shape (300,) in the file, (200,) in the model")
    assert by_name(result)[ACCURACY].message == message
    assert_structure_passed(result)


def test_weights_with_other_key_names_list_the_missing_and_unexpected_keys(grade11, solution_text):
    text = solution_text(EX) + '''

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(*list(_sequential().children()))

    def forward(self, x):
        return self.body(x)


_sequential = build_model


def build_model():
    return Net()
'''
    message = by_name(grade11(text))[WEIGHTS].message
    assert message.startswith("exercise11.safetensors does not fit build_model() (load_state_dict(strict=True)): "
                              "missing keys body.0.weight, body.0.bias, body.1.weight (+"), message
    assert "; unexpected keys 0.bias, 0.weight, 1.bias (+" in message


# --------------------------------------------------------------------------- models that are not what the task asks


def test_a_build_model_with_the_wrong_output_shape_gets_a_clear_message(grade11, solution_text, mutate):
    result = grade11(mutate(solution_text(EX), "nn.Linear(100, 10),", "nn.Linear(100, 5),"))
    shape = by_name(result)["the_model_maps_n_images_to_n_by_10_logits"]
    assert shape.score == 0
    assert shape.message == ("model(preprocess(x)), x uint8 of shape (1, 3, 32, 32): on 1 image the model should "
                             "return logits of shape (1, 10), got (1, 5)")
    assert shape.counterexample.call == "build_model()"
    assert by_name(result)[ACCURACY].score == 0


def test_the_accuracy_check_names_a_wrong_output_shape_too(grade11, solution_text, mutate, exercise11_weights):
    text = mutate(solution_text(EX), "        nn.Linear(100, 10),                             ",
                  "        nn.Linear(100, 10), nn.Flatten(0),                ")
    accuracy = by_name(grade11(text))[ACCURACY]
    assert accuracy.message == ("on 500 images (N, 3, 32, 32) the model should return float logits of shape (500, 10), "
                                "got shape [5000] (torch.float32)")


@pytest.mark.parametrize("edit, says", [
    (("nn.Dropout(0.3)", "nn.Identity()"), "the model has no dropout layer (nn.Dropout with p > 0): "),
    (("nn.BatchNorm2d", "(lambda c: nn.Identity())"), "the model has no batch normalization layer"),
    (("nn.Dropout(0.3)", "nn.Dropout(0.0)"), "the model has no dropout layer"),
], ids=["no dropout", "no batchnorm", "dropout with p = 0"])
def test_a_model_without_dropout_or_batchnorm_loses_the_layers_check(grade11, solution_text, edit, says, tmp_path):
    text = solution_text(EX).replace(*edit)
    # only the structure matters here: untrained weights, no test images
    result = grade11(text, files={"exercise11.safetensors": weights_of(text)}, data_dir=tmp_path)
    layers = by_name(result)["the_model_has_dropout_and_batchnorm_layers"]
    assert layers.score == 0 and layers.message.startswith(f"build_model(): {says}"), layers.message
    assert by_name(result)["the_model_maps_n_images_to_n_by_10_logits"].passed


def test_a_model_with_dropout_at_test_time_loses_the_determinism_check(grade11, solution_text, tmp_path):
    text = solution_text(EX) + '''

class Noisy(nn.Sequential):
    def forward(self, x):
        return super().forward(torch.nn.functional.dropout(x, 0.3))


_plain = build_model


def build_model():
    return Noisy(*_plain().children())
'''
    result = grade11(text, files={}, data_dir=tmp_path)
    check = by_name(result)["the_model_gives_the_same_logits_twice_in_eval_mode"]
    assert check.score == 0 and "randomness is still on at test time" in check.message
    assert by_name(result)["the_model_maps_n_images_to_n_by_10_logits"].passed


def test_a_model_over_the_parameter_budget_loses_the_budget_check(grade11, solution_text, mutate, tmp_path):
    text = mutate(solution_text(EX), "nn.Linear(2048, 500)", "nn.Linear(2048, 1000)")
    text = mutate(text, "nn.Linear(500, 300)", "nn.Linear(1000, 300)")
    files = {"exercise11.safetensors": weights_of(text)}
    check = by_name(grade11(text, files=files, data_dir=tmp_path))["the_model_has_at_most_2_000_000_parameters"]
    assert check.score == 0
    assert check.message.startswith("build_model(): the model has 2,397,258 parameters, the budget is 2,000,000")


def test_a_model_whose_methods_lie_about_its_structure_is_judged_by_its_weights_file(grade11, solution_text,
                                                                                     mutate, tmp_path):
    text = mutate(solution_text(EX), "nn.Linear(2048, 500)", "nn.Linear(2048, 1000)")
    text = mutate(text, "nn.Linear(500, 300)", "nn.Linear(1000, 300)").replace(
        "nn.BatchNorm2d", "(lambda c: nn.Identity())").replace("nn.Dropout(0.3)", "nn.Identity()") + """

class Liar(nn.Sequential):
    def parameters(self, recurse=True):
        return iter([nn.Parameter(torch.zeros(10))])

    def modules(self):
        yield nn.BatchNorm2d(1)
        yield nn.Dropout(0.5)


_plain = build_model


def build_model():
    return Liar(*_plain().children())
"""
    result = grade11(text, files={"exercise11.safetensors": weights_of(text)}, data_dir=tmp_path)
    budget, layers = (by_name(result)[name] for name in FROM_THE_FILE)
    assert budget.score == 0 and "the model has 2,397,066 parameters" in budget.message, budget.message
    assert layers.score == 0 and "no dropout layer" in layers.message, layers.message
    assert "no batch normalization layer" in layers.message


def test_a_preprocess_returning_numpy_gets_a_clear_message_in_every_check_that_uses_it(grade11, solution_text, mutate):
    text = mutate(solution_text(EX), "return torch.as_tensor(np.asarray(x, dtype=np.float32) / 255.0)",
                  "return np.asarray(x, dtype=np.float32) / 255.0")
    result = by_name(grade11(text))
    assert result["preprocess_turns_uint8_images_into_a_float_tensor"].message.endswith(
        "preprocess should return a torch tensor, got numpy.ndarray (float32) — torch.as_tensor(array) turns an "
        "array into one")
    assert "preprocess should return a torch tensor (the model's input), got numpy.ndarray" in \
        result["the_model_maps_n_images_to_n_by_10_logits"].message
    assert result[ACCURACY].message == "preprocess should return a torch tensor, got numpy.ndarray"


def test_the_released_file_scores_zero_and_says_what_is_not_implemented(grade_text, exercise_text):
    result = grade_text(EX, exercise_text(EX))
    assert result.score == 0 and result.max_score == 17
    assert {c.message for c in result.checks} == {"build_model is not implemented yet",
                                                  "preprocess is not implemented yet"}


# --------------------------------------------------------------------------- the test data


def test_missing_test_data_scores_zero_for_accuracy_with_outcome_data_missing_and_says_how_to_get_it(grade11, tmp_path):
    result = grade11(data_dir=tmp_path)
    accuracy = by_name(result)[ACCURACY]
    assert accuracy.outcome == "data_missing" and accuracy.score == 0
    assert accuracy.message == (f"the CIFAR-10 test images are not on this machine (looked in {tmp_path}) — run "
                                "`grade data download cifar10`, or pass --data-dir DIR")
    assert_one_line_without_counterexample(accuracy)
    assert result.score == 7
    assert "data missing" in render_text(result, "rich")


def test_labels_never_reach_the_worker_only_images_go_out_and_int64_predictions_come_back(
        grade11, exercise11_weights, monkeypatch):
    test = load_split("cifar10", "test", exercise11_weights.data_dir)
    sent, predictions = [], []
    request = process.WorkerProcess.request

    def recording(self, message, blobs=None, **kwargs):
        args = protocol.decode(message.get("args", []), blobs or [])
        sent.append((message, [a for a in args if isinstance(a, np.ndarray)], list(blobs or [])))
        reply, reply_blobs = request(self, message, blobs, **kwargs)
        if message.get("name") == "predict" and reply.get("ok"):
            predictions.append(protocol.decode(reply["value"], reply_blobs)["predictions"])
        return reply, reply_blobs

    monkeypatch.setattr(process.WorkerProcess, "request", recording)
    monkeypatch.setattr(checks, "MODEL", dataclasses.replace(checks.MODEL, chunk=128))
    result = grade11()
    assert result.score == result.max_score, [(c.name, c.outcome, c.message) for c in result.checks if not c.passed]
    arrays = [a for _, sent_arrays, _ in sent for a in sent_arrays]
    assert all(a.dtype == np.uint8 for a in arrays), {str(a.dtype) for a in arrays}
    weights = [a for a in arrays if a.ndim == 1]
    # the weights file's bytes, once for the weights check and once for the accuracy check
    assert [a.tobytes() for a in weights] == [exercise11_weights.safetensors] * 2
    chunks = [a for m, sent_arrays, _ in sent if m.get("name") == "predict" for a in sent_arrays]
    # 4 chunks (500 / 128, rounded) whatever the draw, cut at random places: 125 ± 31 images each
    assert len(chunks) == 4 and sum(len(c) for c in chunks) == 500 and all(62 <= len(c) <= 188 for c in chunks)
    # the images and nothing else, each once, in a secret order
    sent_images = np.concatenate(chunks)
    assert not np.array_equal(sent_images, test.images)
    key = lambda images: sorted(image.tobytes() for image in images)  # noqa: E731
    assert key(sent_images) == key(test.images)
    for labels in (test.labels, test.labels.astype(np.uint8), test.labels.astype(np.int32)):
        assert not any(labels.tobytes() in blob for _, _, blobs in sent for blob in blobs)
    assert json.dumps(test.labels.tolist())[1:-1] not in json.dumps([m for m, _, _ in sent])
    assert all(p.dtype == np.int64 for p in predictions) and sum(len(p) for p in predictions) == 500


@pytest.mark.parametrize("looks_on_disk", [
    False, pytest.param(True, marks=pytest.mark.skipif(
        not process.isolation().real, reason="only the full sandbox's allow-list view hides the data folder "
                                             "(the reduced mode does not: README, threat model)"))],
    ids=["label order", "label order and the data on disk"])
def test_an_untrained_model_that_knows_the_label_order_or_looks_for_the_data_scores_no_accuracy_points(
        grade11, exercise11_weights, looks_on_disk):
    test = load_split("cifar10", "test", exercise11_weights.data_dir)
    text = f"""
import os
import numpy as np
import torch
from torch import nn

LABELS = {test.labels.tolist()!r}  # the public test split's labels, in the order it is stored
DATA = {str(exercise11_weights.data_dir)!r} if {looks_on_disk} else "/nonexistent"


def preprocess(x):
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


class Cheat(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.seen = 0

    def forward(self, x):
        if os.path.exists(DATA):  # the dataset itself: labels by pixels
            raise RuntimeError("found the data")
        labels = LABELS[self.seen:self.seen + len(x)]
        labels += [0] * (len(x) - len(labels))
        self.seen = (self.seen + len(x)) % len(LABELS)
        return self.scale * nn.functional.one_hot(torch.tensor(labels), 10).float()


def build_model():
    return Cheat()
"""
    result = grade11(text, files={"exercise11.safetensors": weights_of(text)})
    accuracy = by_name(result)[ACCURACY]
    assert accuracy.score == 0 and accuracy.details["accuracy"] < 0.3, accuracy.message


def test_load_split_reads_only_the_test_batch_of_python_batches(exercise11_weights):
    (exercise11_weights.data_dir / "cifar-10-batches-py" / "data_batch_1").rename(
        exercise11_weights.data_dir / "data_batch_1.away")
    try:
        test = load_split("cifar10", "test", exercise11_weights.data_dir)
    finally:
        (exercise11_weights.data_dir / "data_batch_1.away").rename(
            exercise11_weights.data_dir / "cifar-10-batches-py" / "data_batch_1")
    assert test.images.shape == (500, 3, 32, 32) and test.classes[-1] == "truck"


# --------------------------------------------------------------------------- the command line


def test_grade_with_json_and_plots_carries_the_confusion_matrix_and_writes_a_png(exercise11_weights, solution_text,
                                                                                 tmp_path):
    from PIL import Image

    (tmp_path / "exercise11.py").write_text(solution_text(EX), encoding="utf-8")
    (tmp_path / "exercise11.safetensors").write_bytes(exercise11_weights.safetensors)
    result = CliRunner().invoke(main, [EX, "--submission", str(tmp_path / "exercise11.py"), "--format", "json",
                                       "--data-dir", str(exercise11_weights.data_dir), "--plots",
                                       str(tmp_path / "plots")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the "wrote …" line went to stderr
    (accuracy,) = [t["extra_data"] for t in data["tests"] if t["extra_data"]["check"] == ACCURACY]
    assert np.array(accuracy["details"]["confusion_matrix"]).shape == (10, 10)
    png = tmp_path / "plots" / "exercise11-confusion.png"
    assert f"wrote {png}" in result.stderr
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (1200, 500)


def test_the_exercise_file_states_the_thresholds_the_budget_and_the_weights_file():
    text = (ROOT / "exercises" / f"{EX}.py").read_text(encoding="utf-8")
    for fact in (f"at or below {checks.RANDOM_FOREST_ACCURACY:g}", f"at or above {checks.FULL_MARKS_ACCURACY:g}",
                 f"at most {checks.MAX_PARAMETERS:,} parameters", "exercise11.pt", "10,000 training images",
                 'save_file(model.state_dict(), "exercise11.safetensors")', "batch size 64–128, 10–20 epochs"):
        assert fact in text, fact


def test_grading_exercise11_keeps_torch_out_of_the_grader_process(exercise11_weights, solution_text, tmp_path):
    (tmp_path / "exercise11.py").write_text(solution_text(EX), encoding="utf-8")
    (tmp_path / "exercise11.safetensors").write_bytes(exercise11_weights.safetensors)
    submission, data_dir = str(tmp_path / "exercise11.py"), str(exercise11_weights.data_dir)
    code = (f"import sys; from grader.engine import grade; r = grade('exercise11', {submission!r}, "
            f"data_dir={data_dir!r}); print(r.score, r.max_score, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["17.0", "17.0", "False"], out.stderr[-2000:]


# --------------------------------------------------------------------------- the real test split (slow)

needs_real_data = pytest.mark.skipif(not CIFAR_ZIP.is_file(), reason=f"needs the course's CIFAR-10 in {CIFAR_ZIP}")
needs_weights = pytest.mark.skipif(not SOLUTION_WEIGHTS.is_file(),
                                   reason=f"needs the solution's trained weights {SOLUTION_WEIGHTS} "
                                          "(made by `grade reference cifar10 --only cnn_all --export-exercise11 FILE`)")


@pytest.mark.slow
@needs_real_data
@needs_weights
def test_the_solution_with_its_weights_scores_full_marks_on_the_real_test_split_in_under_60_s():
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "grader", EX, "--submission", str(ROOT / "solutions" / f"{EX}.py"),
                          "--format", "json", "--data-dir", str(CIFAR_ZIP.parent)], capture_output=True, text=True)
    elapsed = time.monotonic() - started
    data = json.loads(out.stdout)
    (accuracy,) = [t["extra_data"] for t in data["tests"] if t["extra_data"]["check"] == ACCURACY]
    assert data["score"] == data["extra_data"]["max_score"] == 17, [(t["name"], t["output"]) for t in data["tests"]]
    assert accuracy["details"]["n_images"] == 10_000
    assert accuracy["details"]["accuracy"] >= checks.FULL_MARKS_ACCURACY
    assert elapsed < 60, f"grading took {elapsed:.1f} s"


@pytest.mark.slow
@needs_real_data
def test_untrained_weights_score_no_accuracy_points_on_the_real_test_split(grade_text, solution_text,
                                                                           exercise11_weights):
    result = grade_text(EX, solution_text(EX), files={"exercise11.safetensors": exercise11_weights.untrained},
                        data_dir=CIFAR_ZIP.parent)
    accuracy = by_name(result)[ACCURACY]
    assert accuracy.details["n_images"] == 10_000 and accuracy.score == 0 and result.score == 7
