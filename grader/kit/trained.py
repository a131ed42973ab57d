"""A trained model on a dataset: the exercise kind where students hand in a model and its weights.

The student hands in ``build_model()``, ``preprocess(x_uint8)`` and a weights file beside the
exercise file; a checks module declares the task once::

    MODEL = TrainedModel(exercise="exercise11", dataset="cifar10", dataset_title="CIFAR-10",
                         input_shape=(3, 32, 32), n_classes=10, max_parameters=2_000_000,
                         thresholds=(0.385, 0.62), baseline="the random forest")

and writes its checks with it (``MODEL.build(sub)``, ``MODEL.trained_model(sub)``,
``MODEL.grade_measure(sub)``…). What this module guarantees for every such exercise:

- Nothing of the model crosses to the grader: it stays in the worker as a handle, and the
  probes ``module_info``, ``logits``, ``load_weights``, ``predict`` and ``train_mode_varies``
  (``grader/sandbox/probes.py``) inspect and run it. The grader reads the weights file (from
  the private staging copy) and sends its bytes: the worker needs no file access.
- The structure is judged by the grader: parameters and batchnorm layers are counted in the
  weights file's tensors, never asked of the student's objects, which could say anything.
- The labels never leave the grader. The images of the graded split go to the worker in a
  secret order, drawn afresh for every grading, in chunks of random size (a model that counts
  its calls learns nothing), and one int64 class per image comes back (``all_logits``: one
  row of float logits per image, for an exercise that also wants the probabilities). Accuracy,
  balanced accuracy, recall per class and the confusion matrix are computed here, and the
  points scale linearly between the two calibrated thresholds.

This module imports no torch: torch lives in the worker, the grader stays light.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.sandbox.protocol import Handle
from grader.sandbox.proxy import StudentError

from .check import Context, Verdict
from .expect import Mismatch
from .models import WeightsFileError, expect_module, model_output, structure_of, tensor_shapes

MEASURES = ("accuracy", "balanced_accuracy")
_TEST_SETS: dict = {}  # {(dataset, split, where, file stamps): Dataset}: graded again and again, decoded once


@dataclass(frozen=True)
class TrainedModel:
    """What a trained-model exercise declares once."""

    exercise: str  # its id: the weights file is "<exercise>.safetensors" (or .pt) beside the exercise file
    dataset: str  # a name in grader.data.specs
    dataset_title: str  # how reports name it ("CIFAR-10")
    input_shape: tuple[int, ...]  # one image, (C, H, W)
    n_classes: int
    max_parameters: int
    thresholds: tuple[float, float]  # the measure at which no points are left, and full marks start
    baseline: str  # what earns no points, for the report ("the random forest")
    split: str = "test"
    measure: str = "accuracy"  # or "balanced_accuracy" (classes of very different sizes)
    chunk: int = 1000  # images per call into the worker, on average
    max_weights_bytes: int = 64 << 20
    weights_suffixes: tuple[str, ...] = (".safetensors", ".pt")

    def __post_init__(self):
        assert self.measure in MEASURES, f"measure must be one of {MEASURES}, got {self.measure!r}"
        assert self.thresholds[0] < self.thresholds[1], "thresholds are (no points at or below, full marks from)"

    @property
    def save_hint(self) -> str:
        return (f'save the trained weights with safetensors.torch.save_file(model.state_dict(), '
                f'"{self.exercise}.safetensors") next to {self.exercise}.py')

    @property
    def batch_shape(self) -> str:
        return "(N, " + ", ".join(map(str, self.input_shape)) + ")"

    # ------------------------------------------------------------------ talking to the model

    def build(self, sub, what: str = "build_model()") -> tuple[Handle, dict]:
        """Call the student's build_model(); return the model's handle and its module_info."""
        got = sub.build_model()
        return got, expect_module(sub, got, "build_model", what)

    def images(self, n: int, seed: int = 11) -> np.ndarray:
        """``n`` uint8 images of random pixels, the first one holding 0 and 255."""
        x = np.random.default_rng(seed).integers(0, 256, size=(n, *self.input_shape), dtype=np.uint8)
        x[0, 0, 0, :2] = (0, 255)
        return x

    def logits(self, sub, model: Handle, x: np.ndarray) -> np.ndarray:
        """model(preprocess(x)) in the worker, eval mode; the logits must have shape (N, n_classes)."""
        what = f"model(preprocess(x)), x uint8 of shape {x.shape}"
        out = model_output(sub, "logits", model, sub.handle("preprocess"), x, what=what)
        expected = (len(x), self.n_classes)
        if out.shape != expected:
            raise Mismatch(what, "shape", f"on {len(x)} image{'s' * (len(x) != 1)} the model should return logits "
                                          f"of shape {expected}, got {out.shape}", expected=expected, got=model)
        return out

    def dropout_at_work(self, sub, model: Handle) -> bool:
        """Do two passes in train mode differ (a dropout layer the model reports is really used)?"""
        try:
            reply = sub.probe("train_mode_varies", model, (4, *self.input_shape))
        except StudentError:
            return False
        return isinstance(reply, dict) and reply.get("varies") is True

    # ------------------------------------------------------------------ the weights file

    def weights_file(self, submission: Path | None) -> Path | None:
        """The weights handed in with the submission: ``<its name>.safetensors`` or ``.pt`` beside
        it, else ``<exercise>.safetensors`` or ``.pt`` there (safetensors first)."""
        if submission is None:
            return None
        folder = Path(submission).parent
        for stem in dict.fromkeys((Path(submission).stem, self.exercise)):
            for suffix in self.weights_suffixes:
                if (folder / f"{stem}{suffix}").is_file():
                    return folder / f"{stem}{suffix}"
        return None

    def _no_weights(self, why: str = "") -> Verdict:
        return Verdict(0, f"no weights file ({self.exercise}.safetensors or {self.exercise}.pt) beside your exercise "
                          f"file — {why}{self.save_hint}")

    def weights_bytes(self, path: Path) -> bytes:
        """The weights file's bytes, or a Verdict when it is empty or far too large for this model."""
        size = path.stat().st_size
        if size == 0 or size > self.max_weights_bytes:
            raise Verdict(0, f"{path.name} is {'empty' if size == 0 else f'{size / 1e6:.0f} MB'}, not the weights of "
                             f"a model with at most {self.max_parameters:,} parameters — {self.save_hint}")
        return path.read_bytes()

    def file_structure(self, sub) -> dict:
        """Parameters and batchnorm layers counted by the grader from the weights file's tensors."""
        path = self.weights_file(_context(sub).submission)
        if path is None:
            raise self._no_weights("the parameters and the batchnorm layers are counted in the trained weights; ")
        data = self.weights_bytes(path)
        try:
            return structure_of(tensor_shapes(data, path.suffix.lstrip(".")))
        except WeightsFileError as e:
            raise Verdict(0, f"{path.name} {e} — {self.save_hint}") from None

    def trained_model(self, sub) -> Handle:
        """build_model() with the submission's weights loaded (strictly); any problem is a one-line Verdict."""
        path = self.weights_file(_context(sub).submission)
        if path is None:
            raise self._no_weights()
        data = self.weights_bytes(path)
        model, _ = self.build(sub)
        kind = path.suffix.lstrip(".")
        try:
            reply = sub.probe("load_weights", model, np.frombuffer(data, dtype=np.uint8), kind)
        except StudentError as e:  # the model's own state_dict() or load_state_dict() raised
            raise Verdict(0, f"loading {path.name} into build_model() raised {e.error_type}: {e.message[:300]}") \
                from None
        if isinstance(reply, dict) and type(reply.get("loaded")) is int:
            return model
        raise Verdict(0, f"{path.name} {self._weights_problem(reply, kind)}")

    def _weights_problem(self, reply, kind: str) -> str:
        """What the load_weights probe found wrong, as the rest of one line after the file's name."""
        if not isinstance(reply, dict):
            return "could not be loaded"
        if isinstance(reply.get("problem"), str):
            problem = reply["problem"][:300]
            if pickled := re.search(r"Unsupported global: GLOBAL ([\w.]+)", problem):
                return (f"holds a pickled {pickled.group(1)}, not a state dict of tensors — save "
                        "model.state_dict(), not the model")
            reader = "safetensors.torch.load" if kind == "safetensors" else "torch.load(…, weights_only=True)"
            return f"is not a state dict {reader} can read ({problem}) — {self.save_hint}"
        lists = [reply.get(k) for k in ("missing", "unexpected", "shapes")]
        if not all(isinstance(v, list) for v in lists):
            return "could not be loaded"
        missing, unexpected, shapes = lists
        unexpected = sorted(map(str, unexpected), key=_natural)  # a file's keys come in any order
        parts = [f"{label} {_some(keys)}" for label, keys in (("missing keys", missing), ("unexpected keys", unexpected))
                 if keys]
        parts += [f"{row[0]} has shape {tuple(row[2])} in the file, {tuple(row[1])} in the model" for row in shapes[:2]
                  if isinstance(row, list) and len(row) == 3]
        return (f"does not fit build_model() (load_state_dict(strict=True)): {'; '.join(parts)} — save the "
                "state_dict() of the model build_model() returns, after training")

    # ------------------------------------------------------------------ the graded split

    def test_set(self, sub):
        """The graded split's images and labels from the data folder; a "data missing" Verdict if absent."""
        from grader.data import DataError, load_split, locate
        from grader.data.paths import default_data_dir

        data_dir = default_data_dir(_context(sub).data_dir)
        how = f"run `grade data download {self.dataset}`, or pass --data-dir DIR"
        title = f"the {self.dataset_title} {self.split} images"
        where = locate(self.dataset, data_dir)
        if where is None:
            raise Verdict(0, f"{title} are not on this machine (looked in {data_dir}) — {how}", outcome="data_missing")
        key = (self.dataset, self.split, str(where), _stamp(where))
        if key not in _TEST_SETS:
            try:
                test = load_split(self.dataset, self.split, data_dir)
            except DataError as e:
                raise Verdict(0, f"{title} could not be read: {e} — {how}", outcome="data_missing") from None
            if len(test.classes) != self.n_classes or test.images.shape[1:] != self.input_shape:
                raise Verdict(0, f"{where} is not {self.dataset_title} ({len(test.classes)} classes, images "
                                 f"{test.images.shape[1:]}) — {how}", outcome="data_missing")
            _TEST_SETS.clear()
            _TEST_SETS[key] = test
        return _TEST_SETS[key]

    def secret_order(self, n: int) -> tuple[np.ndarray, list[int]]:
        """A fresh random order of n images, cut into round(n / chunk) chunks at random places
        (each boundary up to a quarter of a chunk off the even split), drawn from the
        operating system for every grading.

        A split stored sorted by class, sent in a fixed order, would tell a model that only
        counts its calls each image's class. Neither the measure nor the number of calls (the
        report's "examples") depends on the draw, so a grading's JSON stays the same.
        """
        rng = np.random.default_rng(secrets.randbits(128))
        k = max(1, round(n / self.chunk))
        even = np.arange(1, k) * n / k                                          # (k-1,) even cut points
        jitter = rng.uniform(-0.25, 0.25, size=k - 1) * n / k
        order = rng.permutation(n)                                              # (n,) positions into the split
        return order, [0, *[int(b) for b in np.round(even + jitter)], n]

    def predictions(self, sub, model: Handle, x: np.ndarray) -> np.ndarray:
        """The model's class for every image of ``x``, computed in the worker about ``chunk``
        images at a time, in a secret order (``secret_order``) that is undone here."""
        return self._in_secret_order(sub, model, x, "predict", self._expect_predictions)

    def all_logits(self, sub, model: Handle, x: np.ndarray) -> np.ndarray:
        """The model's logits (N, n_classes) for every image of ``x``, fetched like ``predictions``
        (the same chunks in a secret order): for an exercise that wants the classes (their argmax)
        and the predicted probabilities from one pass (the project's class ensemble)."""
        return self._in_secret_order(sub, model, x, "logits", self._expect_logits)

    def _in_secret_order(self, sub, model: Handle, x: np.ndarray, probe: str, read) -> np.ndarray:
        """``read(reply, n)`` of the forward probe ``probe`` for each chunk of ``x`` in a secret
        order, put back into ``x``'s order; what the student's code raised is the Verdict."""
        preprocess = sub.handle("preprocess")
        order, bounds = self.secret_order(len(x))
        out = []
        for start, stop in zip(bounds, bounds[1:]):
            chunk = x[order[start:stop]]
            try:
                reply = sub.probe(probe, model, preprocess, chunk)
            except StudentError as e:
                where = f" ({e.frames[-1][0]}, line {e.frames[-1][1]})" if e.frames else ""
                raise Verdict(0, f"classifying the {self.split} images raised {e.error_type}: {e.message[:300]}"
                                 f"{where}") from None
            out.append(read(reply, len(chunk)))
        got = np.concatenate(out) if out else np.empty((0,), np.int64)
        result = np.empty_like(got)
        result[order] = got
        return result

    def _expect_logits(self, reply, n: int) -> np.ndarray:
        """The logits probe's (n, n_classes) float array, or a Verdict saying what the model did instead."""
        if isinstance(reply, dict) and ("input" in reply or "type" in reply):
            self._expect_predictions(reply, n)  # raises the same one line as for the classes
        got = reply.get("tensor") if isinstance(reply, dict) else None
        if not (isinstance(got, np.ndarray) and got.dtype.kind == "f"):
            raise Verdict(0, f"the model's logits could not be read (expected floats of shape ({n}, {self.n_classes}))")
        if got.shape != (n, self.n_classes):
            raise Verdict(0, f"on {n} images {self.batch_shape} the model should return float logits of shape "
                             f"({n}, {self.n_classes}), got shape {str(tuple(got.shape))[:60]} ({got.dtype})")
        return got

    def _expect_predictions(self, reply, n: int) -> np.ndarray:
        """The probe's predictions for n images: int64 (n,) in range, or a Verdict saying what the model did instead."""
        if isinstance(reply, dict) and "input" in reply:
            raise Verdict(0, f"preprocess should return a torch tensor, got {str(reply['input'])[:100]}")
        if isinstance(reply, dict) and "type" in reply:
            raise Verdict(0, f"the model should return a tensor of logits, got {str(reply['type'])[:100]}")
        if isinstance(reply, dict) and "shape" in reply:
            raise Verdict(0, f"on {n} images {self.batch_shape} the model should return float logits of shape "
                             f"({n}, {self.n_classes}), got shape {str(reply['shape'])[:60]} "
                             f"({str(reply.get('dtype'))[:30]})")
        got = reply.get("predictions") if isinstance(reply, dict) else None
        if not (isinstance(got, np.ndarray) and got.dtype == np.int64 and got.shape == (n,)
                and (n == 0 or (got.min() >= 0 and got.max() < self.n_classes))):
            raise Verdict(0, f"the model's predictions could not be read (expected {n} classes in "
                             f"0…{self.n_classes - 1})")
        return got

    # ------------------------------------------------------------------ scoring

    def classification_details(self, labels: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict:
        """Accuracy, recall per class and the confusion matrix (rows: true class, columns:
        predicted), JSON-ready; the balanced accuracy too when it is the measure."""
        k = len(classes)
        confusion = np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)   # (k, k) counts
        per_class = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)            # (k,) recall of each class
        details = {
            "accuracy": round(float(np.mean(predicted == labels)), 4), "n_images": int(len(labels)),
            "classes": list(classes), "per_class_accuracy": [round(float(a), 4) for a in per_class],
            "confusion_matrix": confusion.tolist(),
            "thresholds": {_key(self.baseline): self.thresholds[0], "full_marks": self.thresholds[1]},
        }
        if self.measure == "balanced_accuracy":
            present = confusion.sum(axis=1) > 0
            details["balanced_accuracy"] = round(float(per_class[present].mean()) if present.any() else 0.0, 4)
        return details

    def share_of_points(self, value: float) -> float:
        """0 at or below the baseline's measure, 1 at or above full marks, linear in between."""
        low, high = self.thresholds
        return min(max((value - low) / (high - low), 0.0), 1.0)

    def grade_measure(self, sub) -> None:
        """The check of the trained model on the graded split: details into the report, and a
        Verdict with the share of the points unless they are all earned."""
        test = self.test_set(sub)
        model = self.trained_model(sub)
        details = self.classification_details(test.labels, self.predictions(sub, model, test.images), test.classes)
        _context(sub).details.update(details)
        value = details[self.measure]
        share = self.share_of_points(value)
        if share < 1:
            low, high = self.thresholds
            advice = (" — is the model trained, and were its weights saved after training?"
                      if share == 0 else f"; full marks from {high:g}")
            name = f"{self.split} accuracy" if self.measure == "accuracy" else f"balanced {self.split} accuracy"
            raise Verdict(share, f"{name} {value:.3f} on {details['n_images']:,} images: {share:.0%} of the points "
                                 f"(none at ≤ {low:g}, {self.baseline}'s){advice}")


def _context(sub) -> Context:
    return sub.context if isinstance(sub.context, Context) else Context()


def _key(baseline: str) -> str:
    """"the random forest" -> "random_forest": the baseline's key in the details."""
    return re.sub(r"\W+", "_", baseline.removeprefix("the ").strip()).strip("_").lower()


def _stamp(where: Path) -> tuple:
    """Names, sizes and modification times of the data files: a changed file is read again."""
    files = sorted(where.rglob("*")) if where.is_dir() else [where]
    return tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file())


def _natural(key: str) -> list:
    """Sort key: "2.weight" before "10.weight", as the layers come."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in key.split(".")]


def _some(keys: list, shown: int = 3) -> str:
    more = f" (+{len(keys) - shown} more)" if len(keys) > shown else ""
    return ", ".join(str(k)[:60] for k in keys[:shown]) + more
