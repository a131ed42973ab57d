"""Checks for exercise11 — a CNN for CIFAR-10, graded on its trained weights.

A trained-model exercise (``grader.kit.TrainedModel``): the student hands in ``build_model()``,
``preprocess(x_uint8)`` and ``exercise11.safetensors`` (or a ``.pt`` state dict) beside the
file. The model stays in the worker; the grader counts its parameters and batchnorm layers in
the weights file, sends the 10,000 test images in a secret order and computes the accuracy
itself (the labels never leave it). The oracle is the course's ladder (``reference/cifar10.py``):
the solution's weights come from it, and so do the two accuracy thresholds below.
"""

from __future__ import annotations

import numpy as np

from grader.kit import check, expect, Mismatch, TensorData, TrainedModel, type_name

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

MODEL = TrainedModel(exercise="exercise11", dataset="cifar10", dataset_title="CIFAR-10", input_shape=(3, 32, 32),
                     n_classes=10, max_parameters=MAX_PARAMETERS, baseline="the random forest",
                     thresholds=(RANDOM_FOREST_ACCURACY, FULL_MARKS_ACCURACY))


# --------------------------------------------------------------------------- structure (6 points)


@check(points=2, functions=("build_model", "preprocess"))
def the_model_maps_n_images_to_n_by_10_logits(sub):
    """model(preprocess(x)) maps uint8 images (N, 3, 32, 32) to float logits (N, 10), for N = 1, 2 and 7."""
    model, _ = MODEL.build(sub)
    for n in (1, 2, 7):
        MODEL.logits(sub, model, MODEL.images(n))


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


@check(points=1, functions=("build_model",))
def the_model_has_at_most_2_000_000_parameters(sub):
    """The model has at most 2,000,000 parameters (the course's base CNN has 1,222,566), counted in its weights file."""
    model, info = MODEL.build(sub)
    params = max(info["params"], MODEL.file_structure(sub)["params"])
    if params > MAX_PARAMETERS:
        raise Mismatch("build_model()", "value", f"the model has {params:,} parameters, the budget is "
                                                 f"{MAX_PARAMETERS:,} — the first dense layer after the flatten "
                                                 "holds most of them: pool more, or make it narrower", got=model)


@check(points=1, functions=("build_model",))
def the_model_has_dropout_and_batchnorm_layers(sub):
    """The model has at least one dropout layer (p > 0, at work in train mode) and one batch normalization layer (its
    statistics in the weights file)."""
    model, info = MODEL.build(sub)
    batchnorms = MODEL.file_structure(sub)["batchnorms"]
    dropouts = info["dropouts"] and MODEL.dropout_at_work(sub, model)  # what the model says, shown in train mode
    lacking = [name for name, count in (("no dropout layer (nn.Dropout with p > 0)", dropouts),
                                        ("no batch normalization layer (nn.BatchNorm2d or nn.BatchNorm1d)",
                                         batchnorms)) if not count]
    if lacking:
        raise Mismatch("build_model()", "value", f"the model has {' and '.join(lacking)}: the task asks for both "
                                                 "tricks of the trade", got=model)


@check(points=1, functions=("build_model", "preprocess"))
def the_model_gives_the_same_logits_twice_in_eval_mode(sub):
    """In eval mode the model is deterministic: the same images twice give the same logits (no dropout at test time)."""
    model, _ = MODEL.build(sub)
    x = MODEL.images(4)
    first, second = MODEL.logits(sub, model, x), MODEL.logits(sub, model, x)
    if not np.array_equal(first, second):
        raise Mismatch(f"model(preprocess(x)), x uint8 of shape {x.shape}", "value",
                       f"in eval mode the same images gave different logits (largest difference "
                       f"{float(np.max(np.abs(first - second))):.3g}): randomness is still on at test time — "
                       "use nn.Dropout modules (model.eval() switches them off), not F.dropout(x, p)", got=model)


# --------------------------------------------------------------------------- the trained weights (1 point)


@check(points=1, functions=("build_model",))
def the_weights_file_loads_into_the_model(sub):
    """exercise11.safetensors (or exercise11.pt, a state dict) loads into build_model() with strict=True."""
    MODEL.trained_model(sub)


# --------------------------------------------------------------------------- accuracy on the test images (10 points)


@check(points=10, functions=("build_model", "preprocess"), timeout=180.0,
       title=f"Test accuracy on the CIFAR-10 test images: no points at ≤ {RANDOM_FOREST_ACCURACY:g} "
             f"(the random forest), full marks at ≥ {FULL_MARKS_ACCURACY:g}")
def the_trained_model_classifies_the_test_images(sub):
    """Accuracy of the trained model on the CIFAR-10 test split, computed by the grader from the model's predictions."""
    MODEL.grade_measure(sub)
