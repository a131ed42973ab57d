"""Checks for exercise11 — a CNN for CIFAR-10, graded on its trained weights.

The student hands in ``build_model()``, ``preprocess(x_uint8)`` and a weights file beside the
exercise file. The oracle is the course's ladder (``reference/cifar10.py``): the solution's
weights come from it, and so do the two accuracy thresholds below.

Nothing of the model crosses to the grader: it stays in the worker as a handle and the probes
``module_info``, ``logits``, ``load_weights`` and ``predict`` (``grader/sandbox/probes.py``)
inspect and run it. The grader reads the weights file and sends its bytes (the worker needs
no file access), and counts the parameters and batchnorm layers in the file's tensors itself:
the student's objects could report anything. It sends the test images in a secret order, in
chunks of random size around ``CHUNK``, and gets one int64 prediction per image back. The
labels never leave this process, so no submission can read them: accuracy, per-class
accuracy and the confusion matrix are computed here, and the points scale linearly from 0 at
``RANDOM_FOREST_ACCURACY`` to full at ``FULL_MARKS_ACCURACY``.

This module imports no torch: torch lives in the worker, the grader stays light.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from grader.kit import (
    check, Context, expect, expect_module, Handle, Mismatch, model_output, structure_of, StudentError,
    tensor_shapes, TensorData, type_name, Verdict, WeightsFileError)

TITLE = "A CNN for CIFAR-10"
ALIASES = ("cifar10", "cifar-10", "cifar", "cnn")
PRELOAD = ("torch", "safetensors.torch")
LIMITS = {"call_timeout": 30.0}  # one chunk of test images through a slow (but legal) model

# Calibrated from the course's ladder on the real data (`grade reference cifar10`, course
# splits, 20 epochs; the table is docs/results/cifar10-ladder.json): 0 points at or below the
# random forest on raw pixels (0.385), full marks from a CNN with one of the tricks of the
# trade (+ batchnorm 0.623, + dropout 0.632; the plain CNN on /255 input reached 0.587).
RANDOM_FOREST_ACCURACY = 0.385
FULL_MARKS_ACCURACY = 0.62
MAX_PARAMETERS = 2_000_000
N_CLASSES = 10
CHUNK = 1000  # test images per call into the worker, on average (12 MB as float32: small frames, steady progress)
MAX_WEIGHTS_BYTES = 64 << 20  # 2M float32 parameters are 8 MB; anything far bigger is not this model
WEIGHTS_SUFFIXES = (".safetensors", ".pt")
SAVE_HINT = ('save the trained weights with safetensors.torch.save_file(model.state_dict(), '
             '"exercise11.safetensors") next to exercise11.py')


# --------------------------------------------------------------------------- talking to the model


def build(sub, what: str = "build_model()") -> tuple[Handle, dict]:
    """Call the student's build_model(); return the model's handle and its module_info."""
    got = sub.build_model()
    return got, expect_module(sub, got, "build_model", what)


def images(n: int, seed: int = 11) -> np.ndarray:
    """``n`` uint8 images (N, 3, 32, 32) of random pixels, the first one holding 0 and 255."""
    x = np.random.default_rng(seed).integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    x[0, 0, 0, :2] = (0, 255)
    return x


def logits(sub, model: Handle, x: np.ndarray) -> np.ndarray:
    """model(preprocess(x)) in the worker, eval mode; the logits must have shape (N, 10)."""
    what = f"model(preprocess(x)), x uint8 of shape {x.shape}"
    out = model_output(sub, "logits", model, sub.handle("preprocess"), x, what=what)
    expected = (len(x), N_CLASSES)
    if out.shape != expected:
        raise Mismatch(what, "shape", f"on {len(x)} image{'s' * (len(x) != 1)} the model should return logits of "
                                      f"shape {expected}, got {out.shape}", expected=expected, got=model)
    return out


# --------------------------------------------------------------------------- structure (6 points)


@check(points=2, functions=("build_model", "preprocess"))
def the_model_maps_n_images_to_n_by_10_logits(sub):
    """model(preprocess(x)) maps uint8 images (N, 3, 32, 32) to float logits (N, 10), for N = 1, 2 and 7."""
    model, _ = build(sub)
    for n in (1, 2, 7):
        logits(sub, model, images(n))


@check(points=1, functions=("preprocess",))
def preprocess_turns_uint8_images_into_a_float_tensor(sub):
    """preprocess(x) takes uint8 images with every value 0…255 and returns a finite float torch tensor of N images."""
    x = (np.arange(2 * 3 * 32 * 32) % 256).astype(np.uint8).reshape(2, 3, 32, 32)  # every value, 24 times
    what = "preprocess(x), x uint8 of shape (2, 3, 32, 32)"
    got = sub.preprocess(x)
    if not isinstance(got, TensorData):
        hint = " — torch.as_tensor(array) turns an array into one" if isinstance(got, np.ndarray) else ""
        raise Mismatch(what, "type", f"preprocess should return a torch tensor, got {type_name(got)}{hint}", got=got)
    expect(got.dtype in ("torch.float16", "torch.bfloat16", "torch.float32", "torch.float64"), what,
           f"preprocess should return floats, got a {got.dtype} tensor — e.g. x.astype(np.float32) / 255", got=got)
    expect(got.array.ndim >= 1 and got.shape[0] == 2, what,
           f"preprocess should keep one entry per image: 2 images in, got a tensor of shape {got.shape}", got=got)
    expect(bool(np.isfinite(got.array).all()), what, "preprocess returned nan or inf for some pixel values", got=got)


def file_structure(sub) -> dict:
    """Parameters and batchnorm layers counted by the grader from the weights file's tensors.

    The student's objects could report anything (an overridden ``parameters()`` or
    ``modules()``); the file is what the trained model is, and it must load strictly into it.
    """
    path = weights_file(_context(sub).submission)
    if path is None:
        raise Verdict(0, "no weights file (exercise11.safetensors or exercise11.pt) beside your exercise file — the "
                         f"parameters and the batchnorm layers are counted in the trained weights; {SAVE_HINT}")
    data = _weights_bytes(path)
    try:
        return structure_of(tensor_shapes(data, path.suffix.lstrip(".")))
    except WeightsFileError as e:
        raise Verdict(0, f"{path.name} {e} — {SAVE_HINT}") from None


@check(points=1, functions=("build_model",))
def the_model_has_at_most_2_000_000_parameters(sub):
    """The model has at most 2,000,000 parameters (the course's base CNN has 1,222,566), counted in its weights file."""
    model, info = build(sub)
    info["params"] = max(info["params"], file_structure(sub)["params"])
    if info["params"] > MAX_PARAMETERS:
        raise Mismatch("build_model()", "value", f"the model has {info['params']:,} parameters, the budget is "
                                                 f"{MAX_PARAMETERS:,} — the first dense layer after the flatten "
                                                 "holds most of them: pool more, or make it narrower", got=model)


@check(points=1, functions=("build_model",))
def the_model_has_dropout_and_batchnorm_layers(sub):
    """The model has at least one dropout layer (p > 0, at work in train mode) and one batch normalization layer (its
    statistics in the weights file)."""
    model, info = build(sub)
    info["batchnorms"] = file_structure(sub)["batchnorms"]
    if info["dropouts"]:  # the model says so; its output in train mode must show it
        try:
            reply = sub.probe("train_mode_varies", model, (4, 3, 32, 32))
        except StudentError:
            reply = None
        if not (isinstance(reply, dict) and reply.get("varies") is True):
            info["dropouts"] = 0
    lacking = [name for name, count in (("no dropout layer (nn.Dropout with p > 0)", info["dropouts"]),
                                        ("no batch normalization layer (nn.BatchNorm2d or nn.BatchNorm1d)",
                                         info["batchnorms"])) if count == 0]
    if lacking:
        raise Mismatch("build_model()", "value", f"the model has {' and '.join(lacking)}: the task asks for both "
                                                 "tricks of the trade", got=model)


@check(points=1, functions=("build_model", "preprocess"))
def the_model_gives_the_same_logits_twice_in_eval_mode(sub):
    """In eval mode the model is deterministic: the same images twice give the same logits (no dropout at test time)."""
    model, _ = build(sub)
    x = images(4)
    first, second = logits(sub, model, x), logits(sub, model, x)
    if not np.array_equal(first, second):
        raise Mismatch(f"model(preprocess(x)), x uint8 of shape {x.shape}", "value",
                       f"in eval mode the same images gave different logits (largest difference "
                       f"{float(np.max(np.abs(first - second))):.3g}): randomness is still on at test time — "
                       "use nn.Dropout modules (model.eval() switches them off), not F.dropout(x, p)", got=model)


# --------------------------------------------------------------------------- the trained weights (1 point)


def weights_file(submission: Path | None) -> Path | None:
    """The weights handed in with the submission: ``<its name>.safetensors`` or ``.pt`` beside
    it, else ``exercise11.safetensors`` or ``.pt`` there (safetensors first)."""
    if submission is None:
        return None
    folder = Path(submission).parent
    for stem in dict.fromkeys((Path(submission).stem, "exercise11")):
        for suffix in WEIGHTS_SUFFIXES:
            if (folder / f"{stem}{suffix}").is_file():
                return folder / f"{stem}{suffix}"
    return None


def trained_model(sub) -> Handle:
    """build_model() with the submission's weights loaded (strictly); any problem is a one-line Verdict."""
    path = weights_file(_context(sub).submission)
    if path is None:
        raise Verdict(0, f"no weights file (exercise11.safetensors or exercise11.pt) beside your exercise file — "
                         f"{SAVE_HINT}")
    data = _weights_bytes(path)
    model, _ = build(sub)
    kind = path.suffix.lstrip(".")
    try:
        reply = sub.probe("load_weights", model, np.frombuffer(data, dtype=np.uint8), kind)
    except StudentError as e:  # the model's own state_dict() or load_state_dict() raised
        raise Verdict(0, f"loading {path.name} into build_model() raised {e.error_type}: {e.message[:300]}") from None
    if isinstance(reply, dict) and type(reply.get("loaded")) is int:
        return model
    raise Verdict(0, f"{path.name} {_weights_problem(reply, kind)}")


def _weights_bytes(path: Path) -> bytes:
    """The weights file's bytes, or a Verdict when it is empty or far too large for this model."""
    size = path.stat().st_size
    if size == 0 or size > MAX_WEIGHTS_BYTES:
        raise Verdict(0, f"{path.name} is {'empty' if size == 0 else f'{size / 1e6:.0f} MB'}, not the weights of a "
                         f"model with at most {MAX_PARAMETERS:,} parameters — {SAVE_HINT}")
    return path.read_bytes()


def _weights_problem(reply, kind: str) -> str:
    """What the load_weights probe found wrong, as the rest of one line after the file's name."""
    if not isinstance(reply, dict):
        return "could not be loaded"
    if isinstance(reply.get("problem"), str):
        problem = reply["problem"][:300]
        if pickled := re.search(r"Unsupported global: GLOBAL ([\w.]+)", problem):
            return (f"holds a pickled {pickled.group(1)}, not a state dict of tensors — save model.state_dict(), "
                    "not the model")
        reader = "safetensors.torch.load" if kind == "safetensors" else "torch.load(…, weights_only=True)"
        return f"is not a state dict {reader} can read ({problem}) — {SAVE_HINT}"
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


def _natural(key: str) -> list:
    """Sort key: "2.weight" before "10.weight", as the layers come."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in key.split(".")]


def _some(keys: list, shown: int = 3) -> str:
    more = f" (+{len(keys) - shown} more)" if len(keys) > shown else ""
    return ", ".join(str(k)[:60] for k in keys[:shown]) + more


@check(points=1, functions=("build_model",))
def the_weights_file_loads_into_the_model(sub):
    """exercise11.safetensors (or exercise11.pt, a state dict) loads into build_model() with strict=True."""
    trained_model(sub)


# --------------------------------------------------------------------------- accuracy on the test images (10 points)

_TEST_SET: dict = {}  # {(where, file stamps): Dataset}: graded again and again (batch, tests), decoded once


def _context(sub) -> Context:
    return sub.context if isinstance(sub.context, Context) else Context()


def test_set(sub):
    """The CIFAR-10 test images and labels from the data folder; a "data missing" Verdict if absent."""
    from grader.data import DataError, load_split, locate
    from grader.data.download import default_data_dir

    data_dir = default_data_dir(_context(sub).data_dir)
    how = "run `grade data download cifar10`, or pass --data-dir DIR"
    where = locate("cifar10", data_dir)
    if where is None:
        raise Verdict(0, f"the CIFAR-10 test images are not on this machine (looked in {data_dir}) — {how}",
                      outcome="data_missing")
    key = (str(where), _stamp(where))
    if key not in _TEST_SET:
        try:
            test = load_split("cifar10", "test", data_dir)
        except DataError as e:
            raise Verdict(0, f"the CIFAR-10 test images could not be read: {e} — {how}", outcome="data_missing") \
                from None
        if len(test.classes) != N_CLASSES or test.images.shape[1:] != (3, 32, 32):
            raise Verdict(0, f"{where} is not CIFAR-10 ({len(test.classes)} classes, images {test.images.shape[1:]})"
                             f" — {how}", outcome="data_missing")
        _TEST_SET.clear()
        _TEST_SET[key] = test
    return _TEST_SET[key]


def _stamp(where: Path) -> tuple:
    """Names, sizes and modification times of the data files: a changed file is read again."""
    files = sorted(where.rglob("*")) if where.is_dir() else [where]
    return tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file())


def secret_order(n: int, chunk: int = CHUNK) -> tuple[np.ndarray, list[int]]:
    """A fresh random order of n test images and chunk boundaries of random sizes (chunk/2 to
    3·chunk/2), drawn from the operating system for every grading.

    The test split is stored sorted by class here; in a fixed order, a model that only counts
    its calls would know each image's class. Accuracy does not depend on the order.
    """
    import secrets

    rng = np.random.default_rng(secrets.randbits(128))
    order = rng.permutation(n)                                              # (n,) positions into the test split
    sizes = rng.integers(max(chunk // 2, 1), chunk + chunk // 2 + 1, size=n // max(chunk // 2, 1) + 1)
    bounds = [0, *[int(b) for b in np.cumsum(sizes) if b < n], n]
    return order, bounds


def predictions(sub, model: Handle, x: np.ndarray) -> np.ndarray:
    """The model's class for every image of ``x``, computed in the worker about CHUNK images at a
    time, in a secret order (``secret_order``) that is undone here."""
    preprocess = sub.handle("preprocess")
    order, bounds = secret_order(len(x), CHUNK)
    out = []
    for start, stop in zip(bounds, bounds[1:]):
        chunk = x[order[start:stop]]
        try:
            reply = sub.probe("predict", model, preprocess, chunk)
        except StudentError as e:
            where = f" ({e.frames[-1][0]}, line {e.frames[-1][1]})" if e.frames else ""
            raise Verdict(0, f"classifying the test images raised {e.error_type}: {e.message[:300]}{where}") from None
        out.append(_expect_predictions(reply, len(chunk)))
    predicted = np.empty(len(x), dtype=np.int64)
    predicted[order] = np.concatenate(out) if out else np.empty(0, np.int64)
    return predicted


def _expect_predictions(reply, n: int) -> np.ndarray:
    """The probe's predictions for n images: int64 (n,) in 0…9, or a Verdict saying what the model did instead."""
    if isinstance(reply, dict) and "input" in reply:
        raise Verdict(0, f"preprocess should return a torch tensor, got {str(reply['input'])[:100]}")
    if isinstance(reply, dict) and "type" in reply:
        raise Verdict(0, f"the model should return a tensor of logits, got {str(reply['type'])[:100]}")
    if isinstance(reply, dict) and "shape" in reply:
        raise Verdict(0, f"on {n} images (N, 3, 32, 32) the model should return float logits of shape ({n}, 10), "
                         f"got shape {str(reply['shape'])[:60]} ({str(reply.get('dtype'))[:30]})")
    got = reply.get("predictions") if isinstance(reply, dict) else None
    if not (isinstance(got, np.ndarray) and got.dtype == np.int64 and got.shape == (n,)
            and (n == 0 or (got.min() >= 0 and got.max() < N_CLASSES))):
        raise Verdict(0, f"the model's predictions could not be read (expected {n} classes in 0…9)")
    return got


def classification_details(labels: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict:
    """Accuracy, accuracy per class and the confusion matrix (rows: true class, columns: predicted), JSON-ready."""
    k = len(classes)
    confusion = np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)   # (k, k) counts
    per_class = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)            # (k,) recall of each class
    return {
        "accuracy": round(float(np.mean(predicted == labels)), 4), "n_images": int(len(labels)),
        "classes": list(classes), "per_class_accuracy": [round(float(a), 4) for a in per_class],
        "confusion_matrix": confusion.tolist(),
        "thresholds": {"random_forest": RANDOM_FOREST_ACCURACY, "full_marks": FULL_MARKS_ACCURACY},
    }


def share_of_points(accuracy: float) -> float:
    """0 at or below the random forest's accuracy, 1 at or above full marks, linear in between."""
    share = (accuracy - RANDOM_FOREST_ACCURACY) / (FULL_MARKS_ACCURACY - RANDOM_FOREST_ACCURACY)
    return min(max(share, 0.0), 1.0)


@check(points=10, functions=("build_model", "preprocess"), timeout=180.0,
       title=f"Test accuracy on the CIFAR-10 test images: no points at ≤ {RANDOM_FOREST_ACCURACY:g} "
             f"(the random forest), full marks at ≥ {FULL_MARKS_ACCURACY:g}")
def the_trained_model_classifies_the_test_images(sub):
    """Accuracy of the trained model on the CIFAR-10 test split, computed by the grader from the model's predictions."""
    test = test_set(sub)
    model = trained_model(sub)
    details = classification_details(test.labels, predictions(sub, model, test.images), test.classes)
    _context(sub).details.update(details)
    share = share_of_points(details["accuracy"])
    if share < 1:
        advice = (" — is the model trained, and were its weights saved after training?"
                  if share == 0 else f"; full marks from {FULL_MARKS_ACCURACY:g}")
        raise Verdict(share, f"test accuracy {details['accuracy']:.3f} on {details['n_images']:,} images: "
                             f"{share:.0%} of the points (none at ≤ {RANDOM_FOREST_ACCURACY:g}, the random "
                             f"forest's){advice}")

