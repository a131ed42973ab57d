"""Checks for the project (exercise14) — which of 8 celebrities is on the image.

A team hands in one of two kinds of submission, graded on the hidden test faces of LFW-8's
fixed split (``grader.data.faces``: the students have only train and validation):

- a trained model (``grader.kit.TrainedModel``): ``build_model()``, ``preprocess(x_uint8)``
  and ``project.safetensors`` (or ``exercise14.safetensors`` / ``.pt``) beside ``project.py``.
  The model stays in the worker; the test faces go there in a secret order and the logits
  come back (one row of 8 floats per face): the class is their argmax, and their softmax is
  kept for the class ensemble (below);
- predictions: ``project.csv`` beside ``project.py`` (which may hold nothing else), one row
  ``id,person`` per test face of ``grade data handout lfw8 --unlabelled-test`` (the person by
  name or by index 0-7). The CSV is plain data, read here, never run.

The labels never leave the grader. The measure is the balanced accuracy (the mean recall over
the 8 people): Bush has 106 of the 269 test faces, so always answering Bush is right 39 % of
the time and earns nothing. Points scale linearly between the two thresholds below, measured
by the reference ladder (``grade reference faces``, docs/results/faces-ladder.json). The
details also hold the public and the private half of the test faces: the leaderboard of
``grade batch`` (``grader.batch.leaderboard``) shows the first during the project and ranks
by the second, and, for a model, its log-probabilities on every test face in the order of the
faces' ids (``grader.data.faces.id_order``: the split's own order is sorted by person, so it must
not reach a team's report): ``grade batch`` averages the teams' models' probabilities into a
deep ensemble (``grader.batch.ensemble``), with the labels from ``hidden_labels`` — in the grader.
A predictions CSV holds labels, not probabilities, and takes no part in it.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np

from grader.kit import Verdict, check, TrainedModel

from grader.reference.measures import log_softmax, scores

TITLE = "Project: which of 8 celebrities is on the image"
ALIASES = ("project", "faces", "celebrities", "lfw8")
PRELOAD = ("torch", "safetensors.torch")
LIMITS = {"call_timeout": 60.0}  # a chunk of test faces through a pretrained network on a slow machine

# Measured by the reference ladder on the real data (`grade reference faces`, seed 0, 2 threads;
# docs/results/faces-ladder.json): no points at or below the course's fcNN's balanced test
# accuracy (0.783), full marks from the fine-tuned pretrained network's (0.984, the best rung)
# less a margin of about one face of the smallest class (Koizumi: 12 test faces, 1/96 each).
# On the way: logistic regression on the pixels 0.894, the CNN with dropout and batchnorm 0.967.
FCNN_BALANCED_ACCURACY = 0.78
FINETUNED_BALANCED_ACCURACY = 0.97

MODEL = TrainedModel(exercise="exercise14", dataset="lfw8", dataset_title="LFW-8 faces", input_shape=(1, 64, 64),
                     n_classes=8, max_parameters=50_000_000, thresholds=(FCNN_BALANCED_ACCURACY,
                                                                        FINETUNED_BALANCED_ACCURACY),
                     baseline="the course's fcNN", measure="balanced_accuracy", chunk=100,
                     max_weights_bytes=256 << 20)

MAX_CSV_BYTES = 1 << 20
PERSON_COLUMNS = ("person", "label", "class", "prediction", "predicted", "name")


# --------------------------------------------------------------------------- the predictions, either kind


def submission_kind(sub) -> str:
    """"model" when a weights file lies beside the submission, else "csv" when a CSV does, else a Verdict."""
    if MODEL.weights_file(_submission(sub)) is not None:
        return "model"
    if predictions_csv(sub) is not None:
        return "csv"
    stem = _submission(sub).stem if _submission(sub) else "project"
    raise Verdict(0, f"neither a weights file ({stem}.safetensors) nor predictions ({stem}.csv) beside {stem}.py — "
                     f"hand in build_model, preprocess and the trained weights, or one row id,person per face of "
                     f"`grade data handout lfw8 --unlabelled-test`")


def predictions_csv(sub):
    """``<submission>.csv`` or ``exercise14.csv`` beside the (staged) submission, or None."""
    path = _submission(sub)
    if path is None:
        return None
    for stem in dict.fromkeys((path.stem, MODEL.exercise)):
        candidate = path.parent / f"{stem}.csv"
        if candidate.is_file():
            return candidate
    return None


def read_csv_predictions(data: bytes, ids: list[str], classes: list[str], name: str = "project.csv") -> np.ndarray:
    """The person (int64 index) of every test face, in the order of ``ids``, from a CSV's bytes:
    a header with an id column and a person column (name or index), ``,`` or ``;``, UTF-8 with
    or without a BOM. Anything else is a one-line Verdict saying what to fix."""
    if len(data) > MAX_CSV_BYTES:
        raise Verdict(0, f"{name} is {len(data) / 1e6:.1f} MB; {len(ids)} rows id,person need a few kB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Verdict(0, f"{name} is not UTF-8 text — save it as CSV (UTF-8)") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise Verdict(0, f"{name} is empty — write a header id,person and one row per test face")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    header = [re.sub(r"[\s_]+", "", h).lower() for h in rows[0]]
    if "id" not in header or not any(c in header for c in PERSON_COLUMNS):
        raise Verdict(0, f"{name}: the first line should be the header id,person, got {','.join(rows[0])[:80]!r}")
    id_col = header.index("id")
    person_col = next(header.index(c) for c in PERSON_COLUMNS if c in header)
    by_name = {c.lower(): i for i, c in enumerate(classes)} | {c.lower().replace("_", " "): i for i, c in
                                                                enumerate(classes)}
    wanted = {face: i for i, face in enumerate(ids)}
    predicted = np.full(len(ids), -1, dtype=np.int64)
    for line, row in enumerate(rows[1:], start=2):
        if len(row) <= max(id_col, person_col):
            raise Verdict(0, f"{name}, line {line}: expected an id and a person, got {delimiter.join(row)[:80]!r}")
        face, person = row[id_col].strip(), row[person_col].strip()
        if face not in wanted:
            raise Verdict(0, f"{name}, line {line}: {face[:40]!r} is not the id of a test face (they are "
                             f"{ids[0]}…; see `grade data handout lfw8 --unlabelled-test`)")
        index = int(person) if person.isdigit() else by_name.get(person.lower(), -1)
        if not 0 <= index < len(classes):
            raise Verdict(0, f"{name}, line {line}: {person[:40]!r} is none of the 8 people ({', '.join(classes)}) "
                             f"nor an index 0-{len(classes) - 1}")
        if predicted[wanted[face]] != -1:
            raise Verdict(0, f"{name}, line {line}: {face} a second time — one row per test face")
        predicted[wanted[face]] = index
    missing = [ids[i] for i in np.flatnonzero(predicted < 0)]
    if missing:
        raise Verdict(0, f"{name} has no person for {len(missing)} of the {len(ids)} test faces "
                         f"({', '.join(missing[:3])}{'…' if len(missing) > 3 else ''})")
    return predicted


def _submission(sub):
    """The staged submission's path (files handed in with it lie beside it), or None."""
    return getattr(sub.context, "submission", None)


def csv_predictions(sub, test) -> np.ndarray:
    from grader.data.faces import face_ids

    path = predictions_csv(sub)
    return read_csv_predictions(path.read_bytes(), face_ids(len(test)), test.classes, path.name)


def predictions(sub, test) -> tuple[str, np.ndarray, np.ndarray | None]:
    """(kind, the person predicted for each test face, the model's logits (N, 8) or None for a
    CSV), in the split's order: one pass through the model gives the classes and the probabilities."""
    kind = submission_kind(sub)
    if kind == "csv":
        return kind, csv_predictions(sub, test), None
    logits = MODEL.all_logits(sub, MODEL.trained_model(sub), test.images)                # (N, 8)
    return kind, logits.argmax(axis=1).astype(np.int64), logits


def probability_details(logits: np.ndarray) -> dict:
    """The model's log-probabilities for the class ensemble, rounded to 4 decimals (a probability
    to 0.01 %, however small), in the order of the test faces' ids — or why there are none."""
    from grader.data.faces import id_order

    if not np.all(np.isfinite(logits)):
        return {"no_probabilities": "its logits hold NaN or infinity"}
    return {"log_probabilities": np.round(log_softmax(logits)[id_order(len(logits))], 4).tolist()}   # (N, 8)


def hidden_labels(data_dir=None) -> tuple[np.ndarray, list[str]]:
    """The test faces' people in the order of the details' log-probabilities (the ids'), and the
    people's names: for ``grade batch``'s class ensemble, read here in the grader."""
    from grader.data import load_split
    from grader.data.faces import id_order

    test = load_split(MODEL.dataset, MODEL.split, data_dir)
    return test.labels[id_order(len(test))], list(test.classes)


def details_of(labels: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict:
    """Accuracy, balanced accuracy, recall per person, macro-F1, the confusion matrix, and the
    accuracy and balanced accuracy on the public and the private half of the test faces."""
    from grader.data.faces import public_private

    details = MODEL.classification_details(labels, predicted, classes)
    details["macro_f1"] = round(scores(labels, predicted, len(classes))["macro_f1"], 4)
    for half, where in zip(("public", "private"), public_private(labels)):
        part = MODEL.classification_details(labels[where], predicted[where], classes)
        details[half] = {"accuracy": part["accuracy"], "balanced_accuracy": part["balanced_accuracy"],
                         "n_images": part["n_images"]}
    return details


# --------------------------------------------------------------------------- checks (20 points)


@check(points=2, functions=())
def the_submission_names_one_person_for_every_test_face(sub):
    """A model whose weights load into build_model() and that maps uint8 faces (N, 1, 64, 64) to 8 logits, or a CSV
    with one of the 8 people for every test face's id."""
    if submission_kind(sub) == "csv":
        csv_predictions(sub, MODEL.test_set(sub))
        return
    model = MODEL.trained_model(sub)
    for n in (1, 5):
        MODEL.logits(sub, model, MODEL.images(n))


@check(points=18, functions=(), timeout=300.0,
       title=f"Balanced accuracy on the hidden test faces: no points at ≤ {FCNN_BALANCED_ACCURACY:g} (the course's "
             f"fcNN), full marks at ≥ {FINETUNED_BALANCED_ACCURACY:g} (the fine-tuned pretrained network)")
def the_balanced_accuracy_on_the_hidden_test_faces(sub):
    """Balanced accuracy (mean recall over the 8 people) on LFW-8's test split, computed by the grader."""
    test = MODEL.test_set(sub)
    kind, predicted, logits = predictions(sub, test)
    details = details_of(test.labels, predicted, test.classes)
    details["kind"] = kind
    if logits is not None:
        details.update(probability_details(logits))
    sub.context.details.update(details)
    value, share = details["balanced_accuracy"], MODEL.share_of_points(details["balanced_accuracy"])
    if share < 1:
        advice = (" — one person for every face scores 0.125; is the model trained, and its weights saved after "
                  "training?" if share == 0 else f"; full marks from {FINETUNED_BALANCED_ACCURACY:g}")
        raise Verdict(share, f"balanced test accuracy {value:.3f} (accuracy {details['accuracy']:.3f}) on "
                             f"{details['n_images']} faces: {share:.0%} of the points (none at ≤ "
                             f"{FCNN_BALANCED_ACCURACY:g}, the course's fcNN's){advice}")
