"""Checks for exercise02 — fully connected networks.

The oracle is ``reference.exercise02`` (torch for the model, numpy otherwise). ``fcnn``
returns an ``nn.Module``, which stays in the worker as a ``Handle``: the checks inspect it
with the worker-side probes ``module_info``, ``forward``, ``set_linear_weights`` and
``permute_first_linear`` (``grader/sandbox/probes.py``) and validate what they return
(``grader/kit/models.py``).

Models are small (≤ 64 inputs, hidden sizes ≤ 32; the course's 784-500-50-10 once) and
examples few, so that ``grade exercise02`` stays fast although both processes import torch.

Diagnoses of model mistakes: a failing model check raises its ``Mismatch`` with the model's
handle as ``got`` (so the evidence is the ``fcnn`` call) after noting what it observed about
that model with ``sub.observe(model, "softmax")``; the fcnn mistakes declared with
``observed=`` read those notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from grader.kit import (
    check, expect, expect_array, expect_int, expect_module, float_arrays, given, Handle, Mismatch, Mistake,
    model_output, st, StudentError, type_name)

from grader.reference import exercise02 as ref

TITLE = "Fully connected networks"
ALIASES = ("fcnn", "fully-connected", "dense", "mlp")
PRELOAD = ("torch",)
MAX_EXAMPLES = 10

ACTIVATIONS = ("sigmoid", "relu", "tanh")
_NUMPY_ACT = {"sigmoid": lambda h: 1.0 / (1.0 + np.exp(-h)), "relu": lambda h: np.maximum(h, 0.0), "tanh": np.tanh}


# --------------------------------------------------------------------------- inputs


@dataclass
class Arch:
    """An fcnn call; the inputs are images of side h × w (n_inputs = h·w)."""

    n_inputs: int
    hidden: tuple
    n_classes: int
    activation: str
    image: tuple

    def kwargs(self) -> dict:
        return {"n_inputs": self.n_inputs, "hidden": self.hidden, "n_classes": self.n_classes,
                "activation": self.activation}

    def call(self) -> str:
        return (f"fcnn(n_inputs={self.n_inputs}, hidden={self.hidden}, n_classes={self.n_classes}, "
                f"activation={self.activation!r})")

    def sizes(self) -> list[int]:
        return [self.n_inputs, *self.hidden, self.n_classes]

    def rng(self) -> np.random.Generator:
        """A generator seeded by the architecture: the same call always gets the same weights and inputs."""
        return np.random.default_rng([*self.sizes(), ACTIVATIONS.index(self.activation)])


@st.composite
def archs(draw, *, activations=ACTIVATIONS, min_hidden: int = 0):
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    hidden = tuple(draw(st.lists(st.integers(1, 32), min_size=min_hidden, max_size=3)))
    return Arch(h * w, hidden, draw(st.integers(1, 10)), draw(st.sampled_from(activations)), (h, w))


# --------------------------------------------------------------------------- talking to the model


def build(sub, what: str, **kwargs) -> tuple[Handle, dict]:
    """Call the student's fcnn and check that it returned an nn.Module; return its handle and module_info."""
    got = sub.fcnn(**kwargs)
    return got, expect_module(sub, got, "fcnn", what)


def _layers(pairs) -> str:
    return ", ".join(f"{a}→{b}" for a, b in pairs) or "none"


def expect_linears(model: Handle, info: dict, sizes: list[int], what: str) -> None:
    """The model's nn.Linear layers, in modules() order, are sizes[0]→sizes[1], sizes[1]→sizes[2], …"""
    got = [(a, b) for a, b, _ in info["linears"]]
    expected = list(zip(sizes[:-1], sizes[1:]))
    if got != expected:
        raise Mismatch(what, "value", f"the model's nn.Linear layers (in model.modules() order) are {_layers(got)}; "
                                      f"expected {_layers(expected)}", expected=_layers(expected), got=model)
    if not all(bias for _, _, bias in info["linears"]):
        raise Mismatch(what, "value", "every nn.Linear layer should have a bias (the default bias=True)", got=model)


def forward(sub, model: Handle, x: np.ndarray, what: str) -> np.ndarray:
    """model(x) in the worker (float32, eval mode, no gradients); the tensor it returns as an array."""
    return model_output(sub, "forward", model, x, what=what)


def forward_images(sub, model: Handle, images: np.ndarray, expected: tuple, what: str) -> np.ndarray:
    """model(images) for (N, 1, h, w) images must have shape ``expected``; a failure there is noted as "no flatten"."""
    try:
        out = forward(sub, model, images, f"{what}(x), x of shape {images.shape}")
    except Mismatch as e:
        if e.reason != "error":
            raise
        sub.observe(model, "no flatten")
        raise Mismatch(e.what, e.reason, e.detail + " — the model must flatten (N, 1, h, w) images itself", got=model) \
            from None
    if out.shape != expected:
        sub.observe(model, "no flatten")
        raise Mismatch(what, "shape", f"on images of shape {images.shape} the model should return shape {expected}, "
                                      f"got {out.shape} — does it flatten its input first?", expected=expected, got=model)
    return out


def _rows_sum_to_one(out: np.ndarray) -> bool:
    return out.ndim == 2 and out.size > 0 and bool(np.all(out >= -1e-6) and np.all(out <= 1 + 1e-6)) \
        and bool(np.allclose(out.astype(np.float64).sum(axis=1), 1.0, rtol=0, atol=1e-4))


def _show_row(a: np.ndarray) -> str:
    return np.array2string(np.asarray(a, dtype=np.float64), precision=4, suppress_small=True, separator=", ")


def reference_weights(arch: Arch) -> list[list[np.ndarray]]:
    """[[W, b], ...] for the Linear layers, float32, large enough that every activation matters."""
    rng = arch.rng()
    sizes = arch.sizes()
    return [[(rng.uniform(-2, 2, (b, a)) / math.sqrt(a)).astype(np.float32), rng.uniform(-1, 1, b).astype(np.float32)]
            for a, b in zip(sizes[:-1], sizes[1:])]


@torch.no_grad()
def reference_outputs(arch: Arch, weights, x: np.ndarray, activation: str | None = None) -> np.ndarray:
    """The reference model (``ref.fcnn``) with these weights, in float64, on x."""
    model = ref.fcnn(arch.n_inputs, arch.hidden, arch.n_classes, activation or arch.activation).double()
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    for lin, (w, b) in zip(linears, weights):
        lin.weight.copy_(torch.from_numpy(w.astype(np.float64)))
        lin.bias.copy_(torch.from_numpy(b.astype(np.float64)))
    return model(torch.from_numpy(x.astype(np.float64))).numpy()


# --------------------------------------------------------------------------- dense_params (2 points)


@check(points=1, functions=("dense_params",))
def dense_params_gives_the_lectures_counts(sub):
    """784→500→50→10 has 392,500 + 25,050 + 510 = 418,060 parameters, 784→100→50→10 84,060, Dense(10) on 784 7,850."""
    for sizes, total in (((784, 500, 50, 10), 418_060), ((784, 100, 50, 10), 84_060), ((784, 10), 7_850)):
        counts = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            counts.append(expect_int(sub.dense_params(a, b), ref.dense_params(a, b), what=f"dense_params({a}, {b})"))
        expect(sum(counts) == total, "dense_params", f"the layers of {'→'.join(map(str, sizes))} should add up to "
                                                     f"{total:,}, got {sum(counts):,}")
    expect_int(sub.dense_params(784, 10, bias=False), 7_840, what="dense_params(784, 10, bias=False)")


@check(points=1, functions=("dense_params",))
@given(n_in=st.integers(1, 1000), n_out=st.integers(1, 1000), bias=st.booleans())
def dense_params_matches_nn_linear(sub, n_in, n_out, bias):
    """dense_params equals the parameter count of torch.nn.Linear(n_in, n_out, bias=…): n_in·n_out (+ n_out)."""
    expect_int(sub.dense_params(n_in, n_out, bias=bias), ref.dense_params(n_in, n_out, bias),
               what=f"dense_params({n_in}, {n_out}, bias={bias})")


# --------------------------------------------------------------------------- fcnn (5 points)


@check(points=1, functions=("fcnn",))
def fcnn_builds_the_lectures_networks(sub):
    """fcnn() is 784→500→50→10 with 418,060 parameters and maps (N, 1, 28, 28) to (N, 10); 84,060 and 7,850 too."""
    for kwargs, sizes, total in (({}, [784, 500, 50, 10], 418_060),
                                 ({"hidden": (100, 50), "activation": "relu"}, [784, 100, 50, 10], 84_060),
                                 ({"hidden": ()}, [784, 10], 7_850)):
        what = f"fcnn({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
        model, info = build(sub, what, **kwargs)
        expect_linears(model, info, sizes, what)
        if info["params"] != total:
            raise Mismatch(what, "value", f"the model has {info['params']:,} parameters, expected {total:,}",
                           expected=total, got=model)
        if not kwargs:
            forward_images(sub, model, np.zeros((2, 1, 28, 28), dtype=np.float32), (2, 10), what)


@check(points=1, functions=("fcnn",))
@given(arch=archs())
def fcnn_parameter_count_matches_the_torch_reference(sub, arch):
    """For random sizes, hidden layers and activations, sum(p.numel()) equals the reference model's."""
    model, info = build(sub, arch.call(), **arch.kwargs())
    expected = ref.count_params(ref.fcnn(arch.n_inputs, arch.hidden, arch.n_classes, arch.activation))
    if info["params"] != expected:
        raise Mismatch(arch.call(), "value", f"the model has {info['params']:,} parameters "
                                             f"(sum of p.numel() over model.parameters()), expected {expected:,}",
                       expected=expected, got=model)
    if info["trainable"] != info["params"]:
        raise Mismatch(arch.call(), "value", f"only {info['trainable']:,} of the {info['params']:,} parameters "
                                             "require gradients: all of them should be trainable", got=model)


@check(points=1, functions=("fcnn",))
@given(arch=archs())
def fcnn_returns_n_by_classes_logits_for_flat_and_image_inputs(sub, arch):
    """The model maps (N, n_inputs) and (N, 1, h, w) inputs to (N, n_classes) logits — no softmax at the end."""
    model, _ = build(sub, arch.call(), **arch.kwargs())
    x = arch.rng().normal(size=(3, arch.n_inputs)).astype(np.float32)
    expected = (3, arch.n_classes)
    flat = forward(sub, model, x, f"{arch.call()}(x), x of shape {x.shape}")
    if flat.shape != expected:
        raise Mismatch(arch.call(), "shape", f"on inputs of shape {x.shape} the model should return shape {expected}, "
                                             f"got {flat.shape}", expected=expected, got=model)
    images = x.reshape(3, 1, *arch.image)
    out = forward_images(sub, model, images, expected, arch.call())
    if not np.allclose(out, flat, rtol=1e-5, atol=1e-6):
        raise Mismatch(arch.call(), "value", "the model gives different outputs for the same pixels as (N, 1, h, w) "
                                             "images and as flat (N, h·w) vectors", got=model)
    if _rows_sum_to_one(flat):
        sub.observe(model, "softmax")
        raise Mismatch(arch.call(), "value", f"every row of the output sums to 1 (row 0: {_show_row(flat[0])}): the "
                                             "model returns probabilities, it should return logits", got=model)


@check(points=1, functions=("fcnn",))
@given(arch=archs(min_hidden=1))
def fcnn_computes_the_reference_forward_pass(sub, arch):
    """Loaded with the same weights as the reference model, the model gives the reference's outputs (sigmoid, relu, tanh)."""
    model, info = build(sub, arch.call(), **arch.kwargs())
    expect_linears(model, info, arch.sizes(), arch.call())
    weights = reference_weights(arch)
    try:
        sub.probe("set_linear_weights", model, weights)
    except StudentError as e:
        raise Mismatch(arch.call(), "error", f"copying weights into the model's nn.Linear layers failed: {e.message}",
                       got=model) from None
    x = arch.rng().normal(size=(4, arch.n_inputs)).astype(np.float32)
    got = forward(sub, model, x, f"{arch.call()}(x)")
    expected = reference_outputs(arch, weights, x)
    try:
        expect_array(got, expected, what=f"{arch.call()}(x) with the reference's weights")
    except Mismatch as e:
        g = got.astype(np.float64)
        close = lambda a: a.shape == g.shape and bool(np.allclose(g, a, rtol=1e-4, atol=1e-5))  # noqa: E731
        if close(ref_softmax(expected)):
            sub.observe(model, "softmax")
        if close(_NUMPY_ACT[arch.activation](expected)):
            sub.observe(model, "activation on the output")
        if any(close(reference_outputs(arch, weights, x, other)) for other in ACTIVATIONS if other != arch.activation):
            sub.observe(model, "activation ignored")
        row = f" (row 0: expected {_show_row(expected[0])}, got {_show_row(got[0])})" if got.shape == expected.shape else ""
        raise Mismatch(e.what, e.reason, e.detail + row, expected=expected, got=model) from None


def ref_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@check(points=1, functions=("fcnn",))
@given(arch=archs())
def fcnn_gives_the_same_outputs_on_shuffled_pixels_with_shuffled_first_layer_columns(sub, arch):
    """Permuting the first layer's input columns and the pixels the same way leaves the outputs unchanged."""
    model, info = build(sub, arch.call(), **arch.kwargs())
    first = info["linears"][0][:2] if info["linears"] else None
    if first is None or first[0] != arch.n_inputs:
        raise Mismatch(arch.call(), "value", f"the first nn.Linear in model.modules() should be the input layer with "
                                             f"in_features={arch.n_inputs}, got {_layers([first] if first else [])}",
                       got=model)
    rng = arch.rng()
    x = rng.normal(size=(3, arch.n_inputs)).astype(np.float32)
    permutation = rng.permutation(arch.n_inputs)
    before = forward(sub, model, x, f"{arch.call()}(x)")
    sub.probe("permute_first_linear", model, permutation)
    after = forward(sub, model, ref.permute_pixels(x, permutation), f"{arch.call()}(x) after the shuffle")
    if after.shape != before.shape or not np.allclose(after, before, rtol=1e-4, atol=1e-5):
        raise Mismatch(arch.call(), "value",
                       "after W[:, j] ← W[:, permutation[j]] in the first nn.Linear, the model's outputs on the "
                       "shuffled images differ from its outputs on the original images: the first nn.Linear in "
                       "model.modules() must be the layer that sees the pixels", got=model)


# --------------------------------------------------------------------------- collapse_linear (3 points)


@dataclass
class TwoLayers:
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray


@st.composite
def two_layers(draw):
    d, h, k = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return TwoLayers(draw(float_arrays((h, d))), draw(float_arrays((h,))), draw(float_arrays((k, h))),
                     draw(float_arrays((k,))))


def _collapse(sub, t: TwoLayers, what: str = "collapse_linear(W1, b1, W2, b2)") -> tuple[np.ndarray, np.ndarray]:
    got = sub.collapse_linear(t.W1, t.b1, t.W2, t.b2)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mismatch(what, "type", f"expected a tuple (W, b) of two numpy arrays, got {type_name(got)}", got=got)
    W, b = ref.collapse_linear(t.W1, t.b1, t.W2, t.b2)
    k, d = W.shape
    return (expect_array(got[0], W, what=f"W of {what} (shape (K, D) = ({k}, {d}), as nn.Linear stores it)"),
            expect_array(got[1], b, what=f"b of {what}"))


@check(points=1, functions=("collapse_linear",))
def collapse_linear_reproduces_the_docstring_example(sub):
    """W1 = [[1, 0], [0, 2], [1, 1]], b1 = [1, 0, −1], W2 = [[1, 1, 1]], b2 = [0.5] collapse to W = [[2, 3]], b = [0.5]."""
    t = TwoLayers(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 0.0, -1.0]),
                  np.array([[1.0, 1.0, 1.0]]), np.array([0.5]))
    _collapse(sub, t)
    t = TwoLayers(np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([1.0, -1.0]), np.array([[2.0, 0.0], [1.0, 3.0]]),
                  np.array([0.0, 1.0]))
    _collapse(sub, t)


@check(points=1, functions=("collapse_linear",))
@given(t=two_layers())
def collapse_linear_matches_the_reference(sub, t):
    """collapse_linear returns W = W2 W1 (shape (K, D)) and b = W2 b1 + b2 for random layer sizes."""
    _collapse(sub, t)


@check(points=1, functions=("collapse_linear",))
@given(t=two_layers(), n=st.integers(1, 3))
def the_collapsed_layer_equals_the_two_layers_on_any_input(sub, t, n):
    """W @ x + b equals W2 @ (W1 @ x + b1) + b2 for random inputs x: depth without activations adds nothing."""
    got = sub.collapse_linear(t.W1, t.b1, t.W2, t.b2)
    d, k = t.W1.shape[1], t.W2.shape[0]
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not all(isinstance(a, np.ndarray) for a in got):
        raise Mismatch("collapse_linear(W1, b1, W2, b2)", "type",
                       f"expected a tuple (W, b) of two numpy arrays, got {type_name(got)}", got=got)
    W, b = got
    if W.shape != (k, d) or b.shape != (k,):
        raise Mismatch("collapse_linear(W1, b1, W2, b2)", "shape",
                       f"W should have shape (K, D) = ({k}, {d}) and b shape ({k},), as nn.Linear(D, K) stores them; "
                       f"got {W.shape} and {b.shape}", got=got)
    x = np.arange(n * d, dtype=np.float64).reshape(n, d) % 5 - 2.0  # (n, D) rows of inputs
    two = (x @ t.W1.T + t.b1) @ t.W2.T + t.b2
    expect_array(x @ W.astype(np.float64).T + b.astype(np.float64), two,
                 what="x @ W.T + b compared with the two layers (x @ W1.T + b1) @ W2.T + b2")


# --------------------------------------------------------------------------- permute_pixels (3 points)


@dataclass
class Shuffle:
    images: np.ndarray
    permutation: np.ndarray


@st.composite
def shuffles(draw):
    n = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(n, h * w), (n, 1, h, w), (n, h, w)]))
    dtype = draw(st.sampled_from([np.float64, np.uint8, np.float32, np.int64]))
    values = draw(st.lists(st.integers(0, 255), min_size=math.prod(shape), max_size=math.prod(shape)))
    perm = draw(st.permutations(list(range(h * w))))
    return Shuffle(np.array(values, dtype=dtype).reshape(shape), np.array(perm, dtype=np.int64))


def _permute(sub, case: Shuffle, what: str = "permute_pixels(images, permutation)") -> np.ndarray:
    got = sub.permute_pixels(case.images, case.permutation)
    expected = ref.permute_pixels(case.images, case.permutation)
    expect_array(got, expected, what=what)
    expect(got.dtype == case.images.dtype, what, f"the images are {case.images.dtype}, the result is {got.dtype}: "
                                                 "keep the dtype (np.empty_like(images), or index the array itself)",
           expected=expected, got=got)
    return got


@check(points=1, functions=("permute_pixels",))
def permute_pixels_reproduces_the_docstring_examples(sub):
    """permute_pixels(np.arange(8).reshape(2, 1, 2, 2), [3, 2, 1, 0]) mirrors each image; [1, 2, 0] rotates [10, 20, 30]."""
    _permute(sub, Shuffle(np.arange(8).reshape(2, 1, 2, 2), np.array([3, 2, 1, 0])))
    _permute(sub, Shuffle(np.array([[10, 20, 30]]), np.array([1, 2, 0])))


@check(points=1, functions=("permute_pixels",), max_examples=15)
@given(case=shuffles())
def permute_pixels_gathers_every_image_with_the_same_permutation(sub, case):
    """Every image gets the same pixel permutation (gathered), for (N, P), (N, 1, h, w), (N, h, w) images of any dtype."""
    _permute(sub, case)


@check(points=1, functions=("permute_pixels",))
@given(arch=archs(), n=st.integers(1, 3))
def an_fcnn_does_not_care_about_permuted_pixels(sub, arch, n):
    """The reference fcNN with its first-layer columns permuted gives the same outputs on your permuted images."""
    rng = arch.rng()
    images = rng.integers(0, 256, size=(n, 1, *arch.image)).astype(np.float32) / 255
    permutation = rng.permutation(arch.n_inputs)
    got = sub.permute_pixels(images, permutation)
    expected = ref.permute_pixels(images, permutation)
    if not (isinstance(got, np.ndarray) and got.shape == images.shape and got.dtype.kind in "f"):
        expect_array(got, expected, what="permute_pixels(images, permutation)")
    with torch.no_grad():
        model = ref.fcnn(arch.n_inputs, arch.hidden, arch.n_classes, arch.activation).double()
        before = model(torch.from_numpy(images.astype(np.float64))).numpy()
        ref.permute_first_layer(model, permutation)
        after = model(torch.from_numpy(got.astype(np.float64))).numpy()
    if not np.allclose(after, before, rtol=1e-6, atol=1e-9):
        raise Mismatch("permute_pixels(images, permutation)", "value",
                       "an fcNN whose first-layer columns are reordered with W[:, j] ← W[:, permutation[j]] gives "
                       "other outputs on your shuffled images than the original fcNN on the original images: "
                       "pixel j of a shuffled image must be pixel permutation[j] of the original",
                       expected=expected, got=got)


# --------------------------------------------------------------------------- typical mistakes


def dense_params_no_bias(n_in, n_out, bias=True):
    assert bias
    return n_in * n_out


def dense_params_bias_per_input(n_in, n_out, bias=True):
    assert bias and n_in != n_out
    return n_in * n_out + n_in


def collapse_transposed(W1, b1, W2, b2):
    W, b = ref.collapse_linear(W1, b1, W2, b2)
    return W.T, b


def collapse_bias_b2_only(W1, b1, W2, b2):
    return ref.collapse_linear(W1, np.zeros_like(np.asarray(b1, float)), W2, b2)


def collapse_bias_without_b2(W1, b1, W2, b2):
    return ref.collapse_linear(W1, b1, W2, np.zeros_like(np.asarray(b2, float)))


def collapse_bias_added(W1, b1, W2, b2):
    W, _ = ref.collapse_linear(W1, b1, W2, b2)
    return W, np.asarray(b1, float) + np.asarray(b2, float)


def permute_inverse(images, permutation):
    return ref.permute_pixels(images, np.argsort(permutation))


_LOGITS_HINT = "end with the last nn.Linear: nn.CrossEntropyLoss applies log-softmax itself"
MISTAKES = [
    Mistake("bias forgotten", "dense_params",
            "your count has no biases: every output unit has one bias (784 → 10: 7,840 weights + 10 biases)",
            "n_in · n_out + n_out when bias=True", wrong=dense_params_no_bias),
    Mistake("one bias per input", "dense_params",
            "your count has one bias per input: there is one bias per output unit",
            "n_in · n_out + n_out when bias=True", wrong=dense_params_bias_per_input),
    Mistake("softmax in the model", "fcnn",
            "your model ends with a softmax, as the Keras slides do: in PyTorch the model returns logits",
            _LOGITS_HINT, observed="softmax"),
    Mistake("activation on the output", "fcnn",
            "your model applies the activation after the output layer too: the last nn.Linear gives the logits",
            "add the activation after every hidden layer only", observed="activation on the output"),
    Mistake("activation argument ignored", "fcnn",
            "your model uses another activation than the one asked for (activation='relu' or 'tanh')",
            "pick the module from the argument, e.g. {'sigmoid': nn.Sigmoid, 'relu': nn.ReLU, 'tanh': nn.Tanh}"
            "[activation]()", observed="activation ignored"),
    Mistake("no flatten", "fcnn",
            "your model does not flatten its input: it works on (N, 784) vectors but not on (N, 1, 28, 28) images",
            "start the nn.Sequential with nn.Flatten()", observed="no flatten"),
    Mistake("Keras convention (W transposed)", "collapse_linear",
            "your W is transposed, (D, K) as Keras stores a kernel: nn.Linear stores W as (out, in) = (K, D)",
            "W = W2 @ W1 (then y = W @ x + b)", wrong=collapse_transposed),
    Mistake("b1 not pushed through W2", "collapse_linear",
            "your bias leaves out W2 @ b1: the first layer's bias passes through the second layer's weights",
            "W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)", wrong=collapse_bias_b2_only),
    Mistake("b2 forgotten", "collapse_linear",
            "your bias leaves out b2, the second layer's own bias",
            "W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)", wrong=collapse_bias_without_b2),
    Mistake("biases added", "collapse_linear",
            "your bias is b1 + b2: the first layer's bias passes through W2", "b = W2 @ b1 + b2",
            wrong=collapse_bias_added),
    Mistake("inverse permutation", "permute_pixels",
            "your permute_pixels scatters (out[permutation] = image) instead of gathering: it applies the inverse "
            "permutation", "out[n].ravel() = images[n].ravel()[permutation]", wrong=permute_inverse),
]
