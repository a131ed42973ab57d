"""Checks for exercise04 — parameter counts and output shapes.

Two oracles: ``reference.exercise04`` (``summary`` by hand, Keras-style names) and, for shapes
and counts, the torch model built from the same layer list (``ref.build_torch_model`` +
``ref.torch_summary``: the shapes torch's modules produce, their parameters as trainable and
their buffers — BatchNorm's running mean and variance, without ``num_batches_tracked`` — as
non-trainable). The course networks come from the reference module, never from the
student's copies at the top of the exercise file.

Shapes/counts and names are judged separately: a student with Keras-2.1 names (``conv2d_1``
first) loses only the names check.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from torch import nn

from grader.kit import check, expect, expect_int, given, Mismatch, Mistake, st, StudentError, type_name

from grader.reference import exercise04 as ref

TITLE = "Parameter counts and output shapes"
ALIASES = ("summary", "parameters", "parameter-counts", "shapes")
MAX_EXAMPLES = 25

FC_MNIST = [{"type": "flatten"}, {"type": "dense", "units": 500}, {"type": "relu"},
            {"type": "dense", "units": 50}, {"type": "relu"}, {"type": "dense", "units": 10}]
SIX_FILTERS = [{"type": "conv2d", "filters": 6, "kernel_size": 5}]  # 456 weights, (3, 28, 28) → (6, 24, 24)


# --------------------------------------------------------------------------- inputs


@dataclass
class Net:
    layers: list
    input_shape: tuple


def _copy(layers) -> list:
    """A fresh copy of a reference layer list (the student's function may modify what it gets)."""
    return [dict(layer) for layer in layers]


@st.composite
def nets(draw, *, max_spatial: int = 4, strided: bool = False, flat_inputs: bool = True):
    """Return a strategy for a valid (layers, input_shape), like ``ref.random_layers`` but shrinkable.

    Spatial layers (conv2d, maxpool2d, batchnorm, dropout, relu) while the map allows, then
    flatten and 1–2 dense layers. "same" is drawn with stride 1 only. ``strided``: convs and
    pools mostly with strides, int paddings and (kh, kw) pairs.
    """
    if flat_inputs and draw(st.integers(0, 4)) == 0:
        input_shape: tuple = (draw(st.integers(1, 20)),)
    else:
        input_shape = (draw(st.integers(1, 3)), draw(st.integers(4, 12)), draw(st.integers(4, 12)))
    shape, layers = input_shape, []
    for _ in range(draw(st.integers(0 if len(shape) == 1 else 1, max_spatial)) if len(shape) == 3 else 0):
        C, H, W = shape
        kind = draw(st.sampled_from(["conv2d", "maxpool2d", "conv2d", "batchnorm", "relu", "dropout"]
                                    if not strided else ["conv2d", "maxpool2d", "conv2d", "maxpool2d"]))
        if kind == "conv2d":
            layer: dict = {"type": "conv2d", "filters": draw(st.integers(1, 8))}
            kh, kw = draw(st.integers(1, min(H, 4))), draw(st.integers(1, min(W, 4)))
            layer["kernel_size"] = (kh, kw) if (kh != kw or (strided and draw(st.booleans()))) else kh
            padding = draw(st.sampled_from([None, "same", "valid", 1, 0, 2] if not strided else [1, None, 2, 0, "valid"]))
            if padding is not None:
                layer["padding"] = padding
            if padding != "same" and (strided or draw(st.integers(0, 2)) == 0):
                stride = draw(st.integers(1, 3))
                layer["stride"] = (stride, draw(st.integers(1, 3))) if strided and draw(st.booleans()) else stride
            if draw(st.integers(0, 4)) == 0:
                layer["bias"] = False
        elif kind == "maxpool2d":
            if min(H, W) < 2:
                continue
            k = draw(st.integers(2, min(H, W, 3)))
            layer = {"type": "maxpool2d", "pool_size": k}
            if strided or draw(st.integers(0, 2)) == 0:
                layer["stride"] = draw(st.integers(1, k + 1))
        elif kind == "dropout":
            layer = {"type": "dropout", "rate": draw(st.sampled_from([0.5, 0.25, 0.1]))}
        else:
            layer = {"type": kind}
        try:
            new_shape = ref.layer_output(layer, shape)[0]
        except AssertionError:  # the window does not fit any more
            continue
        layers.append(layer)
        shape = new_shape
    if len(input_shape) == 3:
        layers.append({"type": "flatten"})
    for _ in range(draw(st.integers(1, 2))):
        extra = draw(st.sampled_from([None, None, "relu", "batchnorm", "dropout"]))
        if extra is not None:
            layers.append({"type": extra})
        dense: dict = {"type": "dense", "units": draw(st.integers(1, 16))}
        if draw(st.integers(0, 4)) == 0:
            dense["bias"] = False
        layers.append(dense)
    return Net(layers, input_shape)


def torch_rows(layers, input_shape) -> list[tuple[tuple, int, int]]:
    """(output_shape, trainable, non_trainable) per layer, read off the torch model of the list."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note on "same" padding with even kernels
        return ref.torch_summary(ref.build_torch_model(layers, input_shape), tuple(input_shape))


# --------------------------------------------------------------------------- reading the student's summary


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def normalize(got):
    """The student's summary as [(name, shape tuple, trainable, non_trainable)], or None if malformed."""
    if not isinstance(got, (list, tuple)):
        return None
    rows = []
    for row in got:
        if not isinstance(row, (list, tuple)) or len(row) != 4:
            return None
        name, shape, t, nt = row
        if not isinstance(name, str) or not isinstance(shape, (list, tuple)) or not all(map(_is_int, shape)) \
                or not _is_int(t) or not _is_int(nt):
            return None
        rows.append((name, tuple(int(a) for a in shape), int(t), int(nt)))
    return rows


def _rows(got, n_layers: int, what: str):
    """Validate the structure of a summary (else Mismatch, with the raw result as ``got``)."""
    if not isinstance(got, (list, tuple)):
        raise Mismatch(what, "type", f"expected a list with one tuple per layer, got {type_name(got)}", got=got)
    if len(got) != n_layers:
        raise Mismatch(what, "shape", f"expected one row per layer ({n_layers} rows), got {len(got)}", got=got)
    for i, row in enumerate(got):
        if not isinstance(row, (list, tuple)) or len(row) != 4:
            raise Mismatch(what, "type", f"row {i} should be a tuple (name, output_shape, trainable, non_trainable), "
                                         f"got {row!r:.120}", got=got)
        name, shape, t, nt = row
        if not isinstance(name, str):
            raise Mismatch(what, "type", f"row {i}: the name should be a str, got {type_name(name)}", got=got)
        if not isinstance(shape, (list, tuple)) or not all(map(_is_int, shape)):
            raise Mismatch(what, "type", f"row {i}: the output shape should be a tuple of ints such as (8, 28, 28), "
                                         f"got {shape!r:.120}", got=got)
        for label, v in (("trainable", t), ("non_trainable", nt)):
            if not _is_int(v):
                raise Mismatch(what, "type", f"row {i}: {label} should be an int, got {type_name(v)} {v!r:.60}", got=got)
    return normalize(got)


def _describe(layer: dict) -> str:
    return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in layer.items()) + "}"


def expect_summary(got, layers, input_shape, *, what: str, shapes: bool = True, counts: bool = True,
                   names: bool = False) -> None:
    """Compare the student's summary with torch's shapes and counts (and the reference's names)."""
    rows = _rows(got, len(layers), what)
    oracle = torch_rows(layers, input_shape)
    keras = ref.summary(layers, input_shape)
    expected = [(name, shape, t, nt) for (name, *_), (shape, t, nt) in zip(keras, oracle)]
    for i, (layer, row, exp) in enumerate(zip(layers, rows, expected)):
        at = f"row {i} ({_describe(layer)})"
        if names and row[0] != exp[0]:
            raise Mismatch(what, "value", f"{at}: the name should be {exp[0]!r}, got {row[0]!r}",
                           expected=expected, got=got)
        if shapes and row[1] != exp[1]:
            raise Mismatch(what, "value", f"{at}: the output shape should be {exp[1]}, got {row[1]}",
                           expected=expected, got=got)
        if counts and row[2:] != exp[2:]:
            raise Mismatch(what, "value", f"{at}: (trainable, non_trainable) should be {exp[2:]}, got {row[2:]}",
                           expected=expected, got=got)


def _call(layers, input_shape) -> str:
    return f"summary(layers, {tuple(input_shape)})"


# --------------------------------------------------------------------------- conv2d_params (2 points)


@check(points=1, functions=("conv2d_params",))
def conv2d_params_gives_the_lectures_counts(sub):
    """6 filters of 5×5 on 3 channels have 6·5·5·3 + 6 = 456 weights; Conv 32 3×3 on 1 channel 320."""
    for args, kwargs in (((3, 6, 5), {}), ((1, 32, 3), {}), ((1, 8, 3), {}), ((8, 8, 3), {}), ((8, 16, 3), {}),
                         ((16, 16, 3), {}), ((16, 32, (3, 1)), {"bias": False})):
        expect_int(sub.conv2d_params(*args, **kwargs), ref.conv2d_params(*args, **kwargs),
                   what=f"conv2d_params({', '.join(map(str, args))}{''.join(f', {k}={v}' for k, v in kwargs.items())})")


@check(points=1, functions=("conv2d_params",))
@given(c_in=st.integers(1, 16), c_out=st.integers(1, 16),
       kernel=st.integers(1, 5) | st.tuples(st.integers(1, 5), st.integers(1, 5)), bias=st.booleans())
def conv2d_params_matches_torch(sub, c_in, c_out, kernel, bias):
    """conv2d_params equals the parameter count of torch.nn.Conv2d(in, out, kernel_size, bias=…)."""
    expected = sum(p.numel() for p in nn.Conv2d(c_in, c_out, kernel, bias=bias).parameters())
    expect_int(sub.conv2d_params(c_in, c_out, kernel, bias=bias), expected,
               what=f"conv2d_params({c_in}, {c_out}, {kernel}, bias={bias})")


# --------------------------------------------------------------------------- summary (10 points)


@check(points=1, functions=("summary",))
def summary_reproduces_the_first_mnist_cnn(sub):
    """Conv 32 3×3 "same" on 1×28×28 has 320 parameters, flatten gives 25,088 and Dense 10 250,890; 6 5×5 filters: 456."""
    for layers, shape in ((ref.MNIST_CNN1, (1, 28, 28)), (SIX_FILTERS, (3, 28, 28))):
        expect_summary(sub.summary(_copy(layers), shape), layers, shape, what=_call(layers, shape))


@check(points=1, functions=("summary",))
def summary_reproduces_the_mnist_cnn_table(sub):
    """summary gives the shapes and counts of the course's MNIST CNN table (80, 584, 1,168, 2,320, 31,400, 410)."""
    expect_summary(sub.summary(_copy(ref.MNIST_CNN), (1, 28, 28)), ref.MNIST_CNN, (1, 28, 28),
                   what=_call(ref.MNIST_CNN, (1, 28, 28)))


@check(points=1, functions=("summary",))
def summary_splits_batchnorm_into_trainable_and_running_statistics(sub):
    """Batchnorm has 2·C trainable (γ, β) and 2·C non-trainable (running mean, variance): 198 + 198 in the CIFAR CNN."""
    flat_bn = [{"type": "dense", "units": 5}, {"type": "batchnorm"}]
    for layers, shape in ((ref.CIFAR_BASE_CNN_BN, (3, 32, 32)), (flat_bn, (7,))):
        expect_summary(sub.summary(_copy(layers), shape), layers, shape, what=_call(layers, shape))


@check(points=2, functions=("summary",))
@given(net=nets())
def summary_output_shapes_match_torch(sub, net):
    """For random layer lists, every output shape equals the shape of the torch model's output after that layer."""
    expect_summary(sub.summary(_copy(net.layers), net.input_shape), net.layers, net.input_shape,
                   what=_call(net.layers, net.input_shape), counts=False)


@check(points=2, functions=("summary",))
@given(net=nets())
def summary_parameter_counts_match_torch(sub, net):
    """For random layer lists, trainable and non-trainable counts equal the torch modules' parameters and buffers."""
    expect_summary(sub.summary(_copy(net.layers), net.input_shape), net.layers, net.input_shape,
                   what=_call(net.layers, net.input_shape), shapes=False)


@check(points=1, functions=("summary",))
@given(net=nets(strided=True, flat_inputs=False))
def summary_handles_strides_int_padding_and_pooling_windows(sub, net):
    """Strides, integer paddings, (kh, kw) kernels and pooling strides give torch's shapes and counts."""
    expect_summary(sub.summary(_copy(net.layers), net.input_shape), net.layers, net.input_shape,
                   what=_call(net.layers, net.input_shape))


@check(points=1, functions=("summary",))
@given(net=nets())
def summary_names_the_layers_like_keras(sub, net):
    """Names follow TF2-Keras: conv2d, conv2d_1, …, max_pooling2d, flatten, dense, batch_normalization, activation."""
    for layers, shape in ((ref.MNIST_CNN, (1, 28, 28)), (net.layers, net.input_shape)):
        got = sub.summary(_copy(layers), shape)
        rows = _rows(got, len(layers), _call(layers, shape))
        names, expected = [r[0] for r in rows], [r[0] for r in ref.summary(layers, shape)]
        expect(names == expected, _call(layers, shape),
               f"the layer names should be {expected}, got {names}", expected=expected, got=got)


def expect_refused(sub, cases, advice: str) -> None:
    """Expect ``summary`` to raise for every (layers, input_shape, why) case (``advice`` says what to raise)."""
    for layers, shape, why in cases:
        try:
            got = sub.summary(_copy(layers), shape)
        except StudentError:
            continue
        raise Mismatch(_call(layers, shape), "property",
                       f"{why} is an error: raise an AssertionError ({advice}) instead of returning a result", got=got)


@check(points=1, functions=("summary",))
def summary_refuses_dense_on_an_image_and_conv2d_on_a_flat_input(sub):
    """A dense layer on a (C, H, W) input, or a conv2d on a flat (n,) input, raises an error (flatten first)."""
    expect_refused(sub, (([{"type": "dense", "units": 10}], (1, 28, 28), "a dense layer on an image"),
                         ([{"type": "conv2d", "filters": 4, "kernel_size": 3}], (784,), "a conv2d layer on a flat input"),
                         ([{"type": "flatten"}, {"type": "maxpool2d", "pool_size": 2}], (1, 4, 4),
                          "a maxpool2d layer on a flat input")),
                   "with a message saying to flatten first, or that conv2d needs a (C, H, W) input")


@check(points=1, functions=("summary",), hidden=True)
def summary_refuses_windows_that_do_not_fit_and_same_padding_with_a_stride(sub):
    """A window larger than its (padded) input, or "same" padding with a stride, raises an error (as torch does).

    The public checks only draw layers that fit. This catches sizes computed as
    ⌊(n + 2p − k)/s⌋ + 1 ≤ 0 and returned as shapes, and "same" keeping n with any stride
    (torch.nn.Conv2d refuses padding="same" with a stride; Keras would give ⌈n/s⌉).
    """
    conv5 = {"type": "conv2d", "filters": 2, "kernel_size": 5}
    expect_refused(sub, (([conv5], (1, 3, 3), "a 5×5 conv2d on a 3×3 input"),
                         ([dict(conv5, kernel_size=(2, 5)), {"type": "flatten"}], (1, 4, 4),
                          "a (2, 5) conv2d on a 4×4 input"),
                         ([{"type": "maxpool2d", "pool_size": 3}], (2, 8, 2), "a 3×3 max-pooling on an 8×2 input"),
                         ([conv5, {"type": "maxpool2d", "pool_size": 2}], (1, 5, 5),
                          "a 2×2 max-pooling on the 1×1 map a 5×5 conv2d leaves of a 5×5 input"),
                         ([{"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same", "stride": 2}],
                          (1, 8, 8), "padding 'same' with stride 2")),
                   "with a message saying the window does not fit, or that 'same' needs stride 1")


# --------------------------------------------------------------------------- count_parameters (3 points)

COURSE_TOTALS = (("MNIST_CNN", (1, 28, 28), 35_962), ("CIFAR_NORM_CNN", (3, 32, 32), 45_706),
                 ("CIFAR_BASE_CNN", (3, 32, 32), 1_222_566), ("MNIST_CNN1", (1, 28, 28), 251_210))


@check(points=1, functions=("count_parameters",))
def count_parameters_gives_the_course_networks_totals(sub):
    """The course's CNNs have 35,962 (MNIST), 45,706 (CIFAR "norm") and 1,222,566 (CIFAR base); 784-500-50-10 418,060."""
    for name, shape, total in COURSE_TOTALS:
        layers = getattr(ref, name)
        expect_int(sub.count_parameters(_copy(layers), shape), total, what=f"count_parameters({name}, {shape})")
    expect_int(sub.count_parameters(_copy(FC_MNIST), (1, 28, 28)), 418_060,
               what="count_parameters(784-500-50-10 fcNN, (1, 28, 28))")


@check(points=1, functions=("count_parameters",))
def count_parameters_includes_the_batchnorm_running_statistics(sub):
    """Batchnorm's running mean and variance count too: the CIFAR base CNN with batchnorm has 1,222,962."""
    expect_int(sub.count_parameters(_copy(ref.CIFAR_BASE_CNN_BN), (3, 32, 32)), 1_222_962,
               what="count_parameters(CIFAR_BASE_CNN_BN, (3, 32, 32))")
    for layers, shape, total in (([{"type": "batchnorm"}], (3, 4, 4), 12),
                                 ([{"type": "dense", "units": 5}, {"type": "batchnorm"}], (7,), 60)):
        expect_int(sub.count_parameters(_copy(layers), shape), total, what=f"count_parameters({layers}, {shape})")


@check(points=1, functions=("count_parameters",))
@given(net=nets())
def count_parameters_matches_torch(sub, net):
    """For random layer lists, the total equals the torch model's parameters plus its running statistics."""
    expected = sum(t + nt for _, t, nt in torch_rows(net.layers, net.input_shape))
    expect_int(sub.count_parameters(_copy(net.layers), net.input_shape), expected,
               what=f"count_parameters(layers, {net.input_shape})")


# --------------------------------------------------------------------------- typical mistakes


def _with(layers, kind, **changes):
    """The layer list with ``changes`` applied to every layer of type ``kind``."""
    return [dict(layer, **changes) if layer["type"] == kind else layer for layer in layers]


def _patched_sizes(size):
    """ref.summary with another output-size formula for conv and pooling windows."""
    def summary(layers, input_shape):
        original = ref.conv_output_size
        ref.conv_output_size = size
        try:
            return ref.summary(layers, input_shape)
        finally:
            ref.conv_output_size = original
    return summary


def _size_padding_once(n, kernel_size, stride=1, padding="valid"):
    if padding == "same":
        return n
    p = 0 if padding == "valid" else padding
    out = (n + p - kernel_size) // stride + 1
    assert out >= 1, "window does not fit"
    return out


def _size_ceil(n, kernel_size, stride=1, padding="valid"):
    if padding == "same":
        return n
    p = 0 if padding == "valid" else padding
    return -(-(n + 2 * p - kernel_size) // stride) + 1


def summary_conv_no_bias(layers, input_shape):
    return ref.summary(_with(layers, "conv2d", bias=False), input_shape)


def summary_conv_no_channels(layers, input_shape):
    rows = []
    for layer, (name, out, t, nt) in zip(layers, ref.summary(layers, input_shape)):
        if layer["type"] == "conv2d":
            t = ref.conv2d_params(1, layer["filters"], layer["kernel_size"], layer.get("bias", True))
        rows.append((name, out, t, nt))
    return rows


def summary_same_as_valid(layers, input_shape):
    return ref.summary([dict(layer, padding="valid") if layer.get("padding") == "same" else layer
                        for layer in layers], input_shape)


def summary_pool_stride_1(layers, input_shape):
    return ref.summary([dict(layer, stride=layer.get("stride", 1)) if layer["type"] == "maxpool2d" else layer
                        for layer in layers], input_shape)


summary_padding_once = _patched_sizes(_size_padding_once)
summary_ceil = _patched_sizes(_size_ceil)


def summary_bn_all_trainable(layers, input_shape):
    return [(name, shape, t + nt, 0) if name.startswith("batch_normalization") else (name, shape, t, nt)
            for name, shape, t, nt in ref.summary(layers, input_shape)]


def summary_bn_no_running_stats(layers, input_shape):
    return [(name, shape, t, 0) for name, shape, t, nt in ref.summary(layers, input_shape)]


def summary_bn_last_axis(layers, input_shape):
    return [(name, shape, 2 * shape[-1], 2 * shape[-1]) if name.startswith("batch_normalization")
            else (name, shape, t, nt) for name, shape, t, nt in ref.summary(layers, input_shape)]


def summary_channels_last(layers, input_shape):
    return [(name, shape[1:] + shape[:1] if len(shape) == 3 else shape, t, nt)
            for name, shape, t, nt in ref.summary(layers, input_shape)]


def summary_names_from_1(layers, input_shape):
    rows, seen = [], {}
    for layer, (_, shape, t, nt) in zip(layers, ref.summary(layers, input_shape)):
        base = ref.KERAS_NAMES[layer["type"]]
        seen[base] = seen.get(base, 0) + 1
        rows.append((f"{base}_{seen[base]}", shape, t, nt))
    return rows


def summary_type_names(layers, input_shape):
    seen, rows = {}, []
    for layer, (_, shape, t, nt) in zip(layers, ref.summary(layers, input_shape)):
        k = seen.get(layer["type"], 0)
        seen[layer["type"]] = k + 1
        rows.append((layer["type"] if k == 0 else f"{layer['type']}_{k}", shape, t, nt))
    return rows


_FIELDS = {"names": (0,), "shapes": (1,), "counts": (2, 3), "shapes and counts": (1, 2, 3)}


def _summary_mistake(variant, fields: str):
    """A ``matches`` predicate: the student's rows equal ``variant``'s in ``fields`` (and differ from the reference)."""
    idx = _FIELDS[fields]

    def matches(got, layers, input_shape):
        rows = normalize(got)
        wrong = variant(layers, input_shape)
        right = ref.summary(layers, input_shape)
        if rows is None or len(rows) != len(wrong):
            return False
        pick = lambda table: [tuple(tuple(row[i]) if i == 1 else row[i] for i in idx) for row in table]  # noqa: E731
        return pick(rows) == pick(wrong) and pick(wrong) != pick(right)
    return matches


def _count(variant):
    """count_parameters of a summary variant (a ``wrong`` with count_parameters' signature)."""
    def wrong(layers, input_shape):
        total = sum(t + nt for _, _, t, nt in variant(layers, input_shape))
        assert total != ref.count_parameters(layers, input_shape)
        return total
    return wrong


def count_trainable_only(layers, input_shape):
    total = sum(t for _, _, t, _ in ref.summary(layers, input_shape))
    assert total != ref.count_parameters(layers, input_shape)
    return total


def conv2d_params_no_bias(in_channels, out_channels, kernel_size, bias=True):
    assert bias
    return ref.conv2d_params(in_channels, out_channels, kernel_size, bias=False)


def conv2d_params_no_channels(in_channels, out_channels, kernel_size, bias=True):
    assert in_channels >= 2
    return ref.conv2d_params(1, out_channels, kernel_size, bias)


_SIZE_HINT = "output size along one axis: ⌊(n + 2p − k)/s⌋ + 1; 'same' keeps n, 'valid' is p = 0"
_BN_HINT = "a batchnorm layer on C channels (or n features) has 2·C trainable (γ, β) and 2·C non-trainable " \
           "(running mean and variance) parameters"
_NO_BIAS = ("conv bias forgotten", "your conv layers have no bias: every filter has one bias unless bias=False",
            "a conv layer has out_channels · in_channels · kh · kw weights + out_channels biases")
_SAME = ("'same' padding ignored", "your 'same' convolutions shrink the map as 'valid' ones do: 'same' keeps H and W",
         "with padding='same' (stride 1) the output has the input's height and width")
_POOL = ("pooling stride 1 instead of the pool size",
         "your max-pooling moves by 1: without a 'stride' key the stride equals pool_size",
         "stride = layer.get('stride', layer['pool_size'])")
_NO_RUNNING = ("batchnorm running statistics forgotten",
               "your batchnorm layers have no non-trainable parameters: the running mean and variance (2·C) count too",
               _BN_HINT)
MISTAKES = [
    Mistake(_NO_BIAS[0], "conv2d_params", _NO_BIAS[1], _NO_BIAS[2], wrong=conv2d_params_no_bias),
    Mistake("input channels forgotten", "conv2d_params",
            "your count has one kh×kw kernel per filter: every filter has a kernel for each input channel",
            "6 filters of 5×5 on 3 channels: 6·5·5·3 + 6 = 456", wrong=conv2d_params_no_channels),
    Mistake(_NO_BIAS[0], "summary", _NO_BIAS[1], _NO_BIAS[2],
            matches=_summary_mistake(summary_conv_no_bias, "counts")),
    Mistake("input channels forgotten", "summary",
            "your conv layers have one kh×kw kernel per filter: every filter has a kernel for each input channel",
            "conv2d_params(C_in, filters, kernel_size) with C_in the channels of the layer's input",
            matches=_summary_mistake(summary_conv_no_channels, "counts")),
    Mistake(_SAME[0], "summary", _SAME[1], _SAME[2],
            matches=_summary_mistake(summary_same_as_valid, "shapes and counts")),
    Mistake(_POOL[0], "summary", _POOL[1], _POOL[2],
            matches=_summary_mistake(summary_pool_stride_1, "shapes and counts")),
    Mistake("padding on one side only", "summary",
            "your output sizes count an integer padding once: p zeros go on both sides, n + 2p", _SIZE_HINT,
            matches=_summary_mistake(summary_padding_once, "shapes and counts")),
    Mistake("rounding up", "summary",
            "your output sizes round up: a window that does not fit completely is dropped (⌊…⌋, floor division)",
            _SIZE_HINT, matches=_summary_mistake(summary_ceil, "shapes and counts")),
    Mistake("batchnorm all trainable", "summary",
            "your batchnorm layers count all 4·C parameters as trainable: the running mean and variance are "
            "updated by averaging, not by gradients, so they are non-trainable", _BN_HINT,
            matches=_summary_mistake(summary_bn_all_trainable, "counts")),
    Mistake(_NO_RUNNING[0], "summary", _NO_RUNNING[1], _NO_RUNNING[2],
            matches=_summary_mistake(summary_bn_no_running_stats, "counts")),
    Mistake("batchnorm over the last axis", "summary",
            "your batchnorm counts use the last axis (Keras' channels-last habit): on (C, H, W) it normalises the "
            "C channels", "use shape[0], the channels of (C, H, W) or the features of (n,)",
            matches=_summary_mistake(summary_bn_last_axis, "counts")),
    Mistake("channels last", "summary",
            "your output shapes are channels last, as Keras prints them: here shapes are PyTorch's (C, H, W)",
            "Keras' (None, 28, 28, 32) is (32, 28, 28) here", matches=_summary_mistake(summary_channels_last, "shapes")),
    Mistake("names counted from 1", "summary",
            "your first layer of each kind is already numbered (conv2d_1, as old Keras 2.1 printed): TF2-Keras "
            "names the first one without a number", "conv2d, conv2d_1, conv2d_2, …",
            matches=_summary_mistake(summary_names_from_1, "names")),
    Mistake("names from the layer type", "summary",
            "your names are the dicts' 'type' values: Keras calls them max_pooling2d, batch_normalization and "
            "activation (for relu)", "map maxpool2d → max_pooling2d, batchnorm → batch_normalization, relu → activation",
            matches=_summary_mistake(summary_type_names, "names")),
    Mistake("non-trainable parameters left out", "count_parameters",
            "your total leaves out the non-trainable parameters, batchnorm's running mean and variance: 'Total "
            "params' counts them too (either count_parameters adds only the trainable counts, or your summary gives "
            "batchnorm no non-trainable ones)", "add trainable + non_trainable of every layer; " + _BN_HINT,
            wrong=count_trainable_only),
    Mistake(_NO_BIAS[0], "count_parameters", _NO_BIAS[1], _NO_BIAS[2], wrong=_count(summary_conv_no_bias)),
    Mistake(_SAME[0], "count_parameters", _SAME[1], _SAME[2], wrong=_count(summary_same_as_valid)),
    Mistake(_POOL[0], "count_parameters", _POOL[1], _POOL[2], wrong=_count(summary_pool_stride_1)),
]
