"""Reference for exercise04 — parameter counts and output shapes (plain Python + torch oracle).

The oracle the grader compares submissions against: ``summary`` is a Keras-style
``model.summary()`` computed by hand from a list of layer dicts; ``build_torch_model`` builds
the same network in torch, whose own parameters and shapes are the independent check.

Layer dicts (keys not listed are an error; defaults in brackets):

    {"type": "conv2d", "filters": F, "kernel_size": k or (kh, kw),
     "padding": "valid" | "same" | p  ["valid"], "stride": s or (sh, sw)  [1], "bias": bool [True]}
    {"type": "maxpool2d", "pool_size": k or (kh, kw), "stride": s or (sh, sw)  [pool_size]}
    {"type": "flatten"}
    {"type": "dense", "units": U, "bias": bool [True]}
    {"type": "batchnorm"}          # BatchNorm2d on (C, H, W), BatchNorm1d on (n,)
    {"type": "dropout", "rate": r  [0.5]}
    {"type": "relu"}

Shapes are PyTorch's, without the batch axis: ``(C, H, W)`` for images, ``(n,)`` once flat.
Output sizes: ⌊(n + 2p − k)/s⌋ + 1 ("valid" is p = 0; "same" keeps n and needs stride 1,
as in torch); pooling ⌊(n − k)/s⌋ + 1. Dense on a non-flat input is an error (Keras would
apply it to the last axis; here it asks for a flatten). Batchnorm has 2·C trainable (γ, β) and
2·C non-trainable (running mean and variance) parameters, as Keras counts them (torch's
``num_batches_tracked`` counter is not a parameter).

Names follow TF2-Keras: per layer kind a counter, the first without suffix —
conv2d, conv2d_1, …, max_pooling2d, flatten, dense, batch_normalization, dropout, and
"activation" for relu (the course writes ``Activation('relu')``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

KERAS_NAMES = {
    "conv2d": "conv2d",
    "maxpool2d": "max_pooling2d",
    "flatten": "flatten",
    "dense": "dense",
    "batchnorm": "batch_normalization",
    "dropout": "dropout",
    "relu": "activation",
}
_KEYS = {
    "conv2d": {"filters", "kernel_size", "padding", "stride", "bias"},
    "maxpool2d": {"pool_size", "stride"},
    "flatten": set(),
    "dense": {"units", "bias"},
    "batchnorm": set(),
    "dropout": {"rate"},
    "relu": set(),
}
_REQUIRED = {"conv2d": {"filters", "kernel_size"}, "maxpool2d": {"pool_size"}, "dense": {"units"}}


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _pair(v, what: str) -> tuple[int, int]:
    """k -> (k, k); (kh, kw) -> (kh, kw); both ints >= 1."""
    pair = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    assert len(pair) == 2 and all(_is_int(a) and a >= 1 for a in pair), f"{what} must be an int >= 1 or a pair of them, got {v!r}"
    return int(pair[0]), int(pair[1])


def conv2d_params(in_channels: int, out_channels: int, kernel_size, bias: bool = True) -> int:
    """Weights of a conv layer: out_channels kernels of kh×kw×in_channels, plus one bias each."""
    assert _is_int(in_channels) and in_channels >= 1, f"in_channels must be an int >= 1, got {in_channels!r}"
    assert _is_int(out_channels) and out_channels >= 1, f"out_channels must be an int >= 1, got {out_channels!r}"
    kh, kw = _pair(kernel_size, "kernel_size")
    return int(out_channels) * int(in_channels) * kh * kw + (int(out_channels) if bias else 0)


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding="valid") -> int:
    """⌊(n + 2p − k)/s⌋ + 1 along one axis; "valid" is p = 0, "same" returns n (stride 1)."""
    if padding == "same":
        assert stride == 1, "padding='same' needs stride 1 (as torch.nn.Conv2d)"
        return n
    p = 0 if padding == "valid" else padding
    assert _is_int(p) and p >= 0, f"padding must be 'valid', 'same' or an int >= 0, got {padding!r}"
    out = (n + 2 * p - kernel_size) // stride + 1
    assert out >= 1, f"window {kernel_size} (stride {stride}, padding {p}) does not fit an input of size {n}"
    return out


def _check_layer(layer) -> str:
    assert isinstance(layer, dict) and "type" in layer, f"a layer must be a dict with a 'type', got {layer!r}"
    kind = layer["type"]
    assert kind in _KEYS, f"unknown layer type {kind!r}; known: {sorted(_KEYS)}"
    keys = set(layer) - {"type"}
    assert keys <= _KEYS[kind], f"{kind} layer: unknown keys {sorted(keys - _KEYS[kind])}"
    missing = _REQUIRED.get(kind, set()) - keys
    assert not missing, f"{kind} layer: missing keys {sorted(missing)}"
    return kind


def layer_output(layer: dict, shape: tuple) -> tuple[tuple, int, int]:
    """(output_shape, trainable, non_trainable) of one layer applied to an input of `shape`."""
    kind = _check_layer(layer)
    if kind == "conv2d":
        assert len(shape) == 3, f"conv2d needs a (C, H, W) input, got {shape}"
        C, H, W = shape
        F = layer["filters"]
        assert _is_int(F) and F >= 1, f"filters must be an int >= 1, got {F!r}"
        kh, kw = _pair(layer["kernel_size"], "kernel_size")
        sh, sw = _pair(layer.get("stride", 1), "stride")
        padding = layer.get("padding", "valid")
        out = (int(F), conv_output_size(H, kh, sh, padding), conv_output_size(W, kw, sw, padding))
        return out, conv2d_params(C, F, (kh, kw), bool(layer.get("bias", True))), 0
    if kind == "maxpool2d":
        assert len(shape) == 3, f"maxpool2d needs a (C, H, W) input, got {shape}"
        C, H, W = shape
        kh, kw = _pair(layer["pool_size"], "pool_size")
        sh, sw = _pair(layer.get("stride", layer["pool_size"]), "stride")
        return (C, conv_output_size(H, kh, sh), conv_output_size(W, kw, sw)), 0, 0
    if kind == "flatten":
        return (math.prod(shape),), 0, 0
    if kind == "dense":
        assert len(shape) == 1, f"dense needs a flat input (n,), got {shape}: add a flatten layer first"
        U = layer["units"]
        assert _is_int(U) and U >= 1, f"units must be an int >= 1, got {U!r}"
        return (int(U),), (shape[0] + 1 if layer.get("bias", True) else shape[0]) * int(U), 0
    if kind == "batchnorm":
        C = shape[0]  # channels of (C, H, W), features of (n,)
        return shape, 2 * C, 2 * C  # gamma, beta | running mean, running var
    if kind == "dropout":
        rate = layer.get("rate", 0.5)
        assert 0 <= rate < 1, f"dropout rate must be in [0, 1), got {rate!r}"
        return shape, 0, 0
    return shape, 0, 0  # relu


def _check_input_shape(input_shape) -> tuple:
    shape = tuple(input_shape)
    assert len(shape) in (1, 3), f"input_shape must be (C, H, W) or (n,), got {input_shape!r}"
    assert all(_is_int(a) and a >= 1 for a in shape), f"input_shape must hold ints >= 1, got {input_shape!r}"
    return tuple(int(a) for a in shape)


def summary(layers, input_shape) -> list[tuple[str, tuple, int, int]]:
    """Keras' model.summary() as data: one (name, output_shape, trainable, non_trainable) per layer."""
    shape = _check_input_shape(input_shape)
    counters: dict[str, int] = {}
    rows = []
    for layer in layers:
        shape, trainable, non_trainable = layer_output(layer, shape)
        base = KERAS_NAMES[layer["type"]]
        k = counters.get(base, 0)
        counters[base] = k + 1
        rows.append((base if k == 0 else f"{base}_{k}", shape, trainable, non_trainable))
    return rows


def count_parameters(layers, input_shape) -> int:
    """Total parameters, trainable and non-trainable ("Total params" of Keras' summary)."""
    return sum(t + nt for _, _, t, nt in summary(layers, input_shape))


@torch.no_grad()
def build_torch_model(layers, input_shape) -> nn.Sequential:
    """The same network as an nn.Sequential, for input (N, *input_shape).

    Input sizes of each module (channels, in_features) are read off a dummy tensor pushed
    through the modules built so far, so shapes come from torch, not from the formulas above.
    """
    shape = _check_input_shape(input_shape)
    x = torch.zeros(2, *shape)  # (2, *input_shape)
    modules: list[nn.Module] = []
    for layer in layers:
        kind = _check_layer(layer)
        if kind == "conv2d":
            assert x.ndim == 4, f"conv2d needs a (C, H, W) input, got {tuple(x.shape[1:])}"
            padding = layer.get("padding", "valid")
            m = nn.Conv2d(x.shape[1], int(layer["filters"]), _pair(layer["kernel_size"], "kernel_size"),
                          stride=_pair(layer.get("stride", 1), "stride"),
                          padding=padding if isinstance(padding, str) else int(padding),
                          bias=bool(layer.get("bias", True)))
        elif kind == "maxpool2d":
            assert x.ndim == 4, f"maxpool2d needs a (C, H, W) input, got {tuple(x.shape[1:])}"
            m = nn.MaxPool2d(_pair(layer["pool_size"], "pool_size"),
                             stride=_pair(layer.get("stride", layer["pool_size"]), "stride"))
        elif kind == "flatten":
            m = nn.Flatten()
        elif kind == "dense":
            assert x.ndim == 2, f"dense needs a flat input (n,), got {tuple(x.shape[1:])}: add a flatten layer first"
            m = nn.Linear(x.shape[1], int(layer["units"]), bias=bool(layer.get("bias", True)))
        elif kind == "batchnorm":
            m = nn.BatchNorm2d(x.shape[1]) if x.ndim == 4 else nn.BatchNorm1d(x.shape[1])
        elif kind == "dropout":
            m = nn.Dropout(float(layer.get("rate", 0.5)))
        else:
            m = nn.ReLU()
        m.eval()
        x = m(x)
        modules.append(m)
    return nn.Sequential(*modules)


def torch_summary(model: nn.Sequential, input_shape) -> list[tuple[tuple, int, int]]:
    """(output_shape, trainable, non_trainable) per module of a torch Sequential (the oracle side).

    trainable: parameters; non-trainable: buffers except BatchNorm's num_batches_tracked.
    """
    rows = []
    x = torch.zeros(2, *input_shape)  # (2, *input_shape)
    model.eval()
    with torch.no_grad():
        for m in model:
            x = m(x)
            trainable = sum(p.numel() for p in m.parameters())
            non_trainable = sum(b.numel() for n, b in m.named_buffers() if not n.endswith("num_batches_tracked"))
            rows.append((tuple(x.shape[1:]), trainable, non_trainable))
    return rows


def random_layers(rng: np.random.Generator, max_layers: int = 8) -> tuple[list[dict], tuple]:
    """Draw a valid (layers, input_shape): spatial layers while the map allows, then flatten + dense.

    Used by the tests; every spatial size stays >= 1 and "same" is only drawn with stride 1.
    """
    if rng.random() < 0.2:  # already flat input
        input_shape: tuple = (int(rng.integers(1, 50)),)
    else:
        input_shape = (int(rng.integers(1, 4)), int(rng.integers(4, 33)), int(rng.integers(4, 33)))
    shape = input_shape
    layers: list[dict] = []
    while len(shape) == 3 and len(layers) < max_layers:
        C, H, W = shape
        r = rng.random()
        if r < 0.45:
            kh, kw = int(rng.integers(1, min(H, 5) + 1)), int(rng.integers(1, min(W, 5) + 1))
            layer: dict = {"type": "conv2d", "filters": int(rng.integers(1, 17))}
            layer["kernel_size"] = kh if (kh == kw and rng.random() < 0.7) else (kh, kw)
            choice = int(rng.integers(0, 4))
            if choice == 1:
                layer["padding"] = "same"
            elif choice == 2:
                layer["padding"] = int(rng.integers(0, 3))
            elif choice == 3:
                layer["padding"] = "valid"
            if layer.get("padding") != "same" and rng.random() < 0.4:
                layer["stride"] = int(rng.integers(1, 4))
            if rng.random() < 0.2:
                layer["bias"] = False
        elif r < 0.65 and min(H, W) >= 2:
            k = int(rng.integers(2, min(H, W, 3) + 1))
            layer = {"type": "maxpool2d", "pool_size": k}
            if rng.random() < 0.3:
                layer["stride"] = int(rng.integers(1, k + 1))
        else:
            layer = {"type": str(rng.choice(["batchnorm", "dropout", "relu"]))}
            if layer["type"] == "dropout":
                layer["rate"] = float(rng.choice([0.1, 0.25, 0.5]))
        layers.append(layer)
        shape = layer_output(layer, shape)[0]
    if len(shape) == 3:
        layers.append({"type": "flatten"})
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.3:
            layers.append({"type": str(rng.choice(["batchnorm", "dropout", "relu"]))})
        dense: dict = {"type": "dense", "units": int(rng.integers(1, 65))}
        if rng.random() < 0.2:
            dense["bias"] = False
        layers.append(dense)
    return layers, input_shape


# The course's networks as layer lists (tensorchiefs dl_course notebooks; Keras, channels last
# there). The final Activation('softmax') of the notebooks is left out: torch models return logits.

def _conv_block(filters: int, n: int = 2, batchnorm: bool = False) -> list[dict]:
    block: list[dict] = []
    for _ in range(n):
        block.append({"type": "conv2d", "filters": filters, "kernel_size": 3, "padding": "same"})
        if batchnorm:
            block.append({"type": "batchnorm"})
        block.append({"type": "relu"})
    return block + [{"type": "maxpool2d", "pool_size": 2}]


def _dense_head(units: list[int]) -> list[dict]:
    head: list[dict] = [{"type": "flatten"}]
    for u in units[:-1]:
        head += [{"type": "dense", "units": u}, {"type": "relu"}]
    return head + [{"type": "dense", "units": units[-1]}]


# 06_cnn_mnist_shuffled: 2x conv 8 (3x3, same) - pool - 2x conv 16 - pool - dense 40 - dense 10
MNIST_CNN = _conv_block(8) + _conv_block(16) + _dense_head([40, 10])  # on (1, 28, 28): 35,962
# 07_cifar10_norm: the same architecture on colour images
CIFAR_NORM_CNN = _conv_block(8) + _conv_block(16) + _dense_head([40, 10])  # on (3, 32, 32): 45,706
# the CIFAR-10 base CNN of the tricks notebook: 16-16-pool-32-32-pool-500-300-100-10
CIFAR_BASE_CNN = _conv_block(16) + _conv_block(32) + _dense_head([500, 300, 100, 10])  # 1,222,566
# ... with batchnorm on the input and after every conv: 1,222,962 (396 of them batchnorm)
CIFAR_BASE_CNN_BN = ([{"type": "batchnorm"}] + _conv_block(16, batchnorm=True) + _conv_block(32, batchnorm=True)
                     + _dense_head([500, 300, 100, 10]))
# 07_cnn1_mnist: one conv layer, Conv 32 3x3 same - relu - flatten - dense 10: 320 + 250,890 = 251,210
MNIST_CNN1 = [{"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same"}, {"type": "relu"},
              {"type": "flatten"}, {"type": "dense", "units": 10}]
