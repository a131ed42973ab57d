"""Exercise 04 — parameter counts and output shapes

Before training a network you should know how big it is and what shape every layer
produces. Here you compute by hand what Keras' ``model.summary()`` prints — the output
shape and the number of parameters of every layer — for networks given as a list of layers.

A network is a list of dicts, one per layer, applied in order to one input of shape
``input_shape`` (without the batch axis). Keys in brackets are optional, with the default:

    {"type": "conv2d", "filters": F, "kernel_size": k or (kh, kw),
     ["padding": "valid" | "same" | p  ("valid")], ["stride": s or (sh, sw)  (1)],
     ["bias": True | False  (True)]}
    {"type": "maxpool2d", "pool_size": k or (kh, kw), ["stride": s or (sh, sw)  (pool_size)]}
    {"type": "flatten"}
    {"type": "dense", "units": U, ["bias": True | False  (True)]}
    {"type": "batchnorm"}
    {"type": "dropout", ["rate": r  (0.5)]}
    {"type": "relu"}

Conventions that matter here:

- Shapes are PyTorch's: ``(C, H, W)`` for images and ``(n,)`` once flat. The slides print
  Keras' shapes, channels last and with the batch axis: ``(None, 28, 28, 32)`` there is
  ``(32, 28, 28)`` here.
- Output size of a conv or pooling window along one axis: ⌊(n + 2p − k)/s⌋ + 1, where
  "valid" means p = 0 and windows that do not fit are dropped. "same" keeps the size n and
  is only allowed with stride 1 (as in ``torch.nn.Conv2d``).
- conv2d on a flat input, and dense on an image (C, H, W), are errors: raise an
  AssertionError with a clear message (Keras would apply Dense to the last axis only; here
  you must flatten first). So are a window larger than its (padded) input (no output
  position left) and "same" with a stride other than 1.
- batchnorm works on the channels C of (C, H, W) (BatchNorm2d) or on the n features of
  (n,) (BatchNorm1d). It has 2·C trainable parameters (γ, β) and 2·C non-trainable ones
  (the running mean and variance, updated by averaging, not by gradients) — Keras shows
  the latter as "Non-trainable params".
- Layer names follow Keras (TF 2): a counter per kind of layer, the first one without a
  number — "conv2d", "conv2d_1", "conv2d_2", …, "max_pooling2d", "max_pooling2d_1",
  "flatten", "dense", "dense_1", "batch_normalization", "dropout", and "activation",
  "activation_1", … for relu (the course writes ``Activation('relu')``).

The MNIST CNN of the course (``MNIST_CNN`` below), Keras' summary and what ``summary``
returns::

    Layer (type)                  Output Shape          Param #
    conv2d (Conv2D)               (None, 28, 28, 8)     80       ('conv2d', (8, 28, 28), 80, 0)
    activation (Activation)       (None, 28, 28, 8)     0        ('activation', (8, 28, 28), 0, 0)
    conv2d_1 (Conv2D)             (None, 28, 28, 8)     584      ('conv2d_1', (8, 28, 28), 584, 0)
    activation_1 (Activation)     (None, 28, 28, 8)     0        ('activation_1', (8, 28, 28), 0, 0)
    max_pooling2d (MaxPooling2D)  (None, 14, 14, 8)     0        ('max_pooling2d', (8, 14, 14), 0, 0)
    conv2d_2 (Conv2D)             (None, 14, 14, 16)    1168     ('conv2d_2', (16, 14, 14), 1168, 0)
    activation_2 (Activation)     (None, 14, 14, 16)    0        ('activation_2', (16, 14, 14), 0, 0)
    conv2d_3 (Conv2D)             (None, 14, 14, 16)    2320     ('conv2d_3', (16, 14, 14), 2320, 0)
    activation_3 (Activation)     (None, 14, 14, 16)    0        ('activation_3', (16, 14, 14), 0, 0)
    max_pooling2d_1 (MaxPooling2D)(None, 7, 7, 16)      0        ('max_pooling2d_1', (16, 7, 7), 0, 0)
    flatten (Flatten)             (None, 784)           0        ('flatten', (784,), 0, 0)
    dense (Dense)                 (None, 40)            31400    ('dense', (40,), 31400, 0)
    activation_4 (Activation)     (None, 40)            0        ('activation_4', (40,), 0, 0)
    dense_1 (Dense)               (None, 10)            410      ('dense_1', (10,), 410, 0)
    Total params: 35,962

(The notebook ends with ``Activation('softmax')``; PyTorch models return logits, so the
layer lists here stop at the last dense layer. Keras flattens (7, 7, 16) channels last and
PyTorch (16, 7, 7) channels first: a different order of the same 784 numbers.)

The first CNN of the course, one conv layer (``MNIST_CNN1``)::

    conv2d (Conv2D)         (None, 28, 28, 32)   320       ('conv2d', (32, 28, 28), 320, 0)
    activation (Activation) (None, 28, 28, 32)   0         ('activation', (32, 28, 28), 0, 0)
    flatten (Flatten)       (None, 25088)        0         ('flatten', (25088,), 0, 0)
    dense (Dense)           (None, 10)           250890    ('dense', (10,), 250890, 0)
    Total params: 251,210

Check your work with:  grade exercise04

Points: conv2d_params 2 · summary 10 · count_parameters 3 (total 15)
Hidden checks: 1 more point, when your instructor grades (they test what this text asks).
"""

# The course's networks (tensorchiefs dl_course notebooks), as layer lists.

# MNIST CNN (06_cnn_mnist_shuffled), input (1, 28, 28): 35,962 parameters.
MNIST_CNN = [
    {"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same"},
    {"type": "relu"},
    {"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same"},
    {"type": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same"},
    {"type": "relu"},
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same"},
    {"type": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 40},
    {"type": "relu"},
    {"type": "dense", "units": 10},
]

# The CIFAR-10 "norm" CNN (07_cifar10_norm): the same layers on (3, 32, 32) colour images.
CIFAR_NORM_CNN = [dict(layer) for layer in MNIST_CNN]

# The first MNIST CNN (07_cnn1_mnist), input (1, 28, 28): 251,210 parameters.
MNIST_CNN1 = [
    {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same"},
    {"type": "relu"},
    {"type": "flatten"},
    {"type": "dense", "units": 10},
]

# The CIFAR-10 base CNN of the tricks of the trade, input (3, 32, 32): 1,222,566 parameters.
CIFAR_BASE_CNN = [
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same"},
    {"type": "relu"},
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same"},
    {"type": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same"},
    {"type": "relu"},
    {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same"},
    {"type": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 500},
    {"type": "relu"},
    {"type": "dense", "units": 300},
    {"type": "relu"},
    {"type": "dense", "units": 100},
    {"type": "relu"},
    {"type": "dense", "units": 10},
]

# ... with batchnorm on the input and after every conv: 1,222,962 parameters,
# 396 of them batchnorm (198 trainable γ/β, 198 running mean/variance).
CIFAR_BASE_CNN_BN = [
    {"type": "batchnorm"},
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same"},
    {"type": "batchnorm"},
    {"type": "relu"},
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same"},
    {"type": "batchnorm"},
    {"type": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same"},
    {"type": "batchnorm"},
    {"type": "relu"},
    {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same"},
    {"type": "batchnorm"},
    {"type": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 500},
    {"type": "relu"},
    {"type": "dense", "units": 300},
    {"type": "relu"},
    {"type": "dense", "units": 100},
    {"type": "relu"},
    {"type": "dense", "units": 10},
]


def conv2d_params(in_channels, out_channels, kernel_size, bias=True):
    """Number of parameters of a 2-D convolution layer, as an int.

    Each of the out_channels filters has one kh×kw kernel per input channel, plus one bias
    if bias=True. kernel_size is an int k (a k×k kernel) or a pair (kh, kw).

    6 filters of 5×5 on a 3-channel image: 6·5·5·3 + 6 = 456 weights.

    >>> conv2d_params(3, 6, 5)
    456
    >>> conv2d_params(1, 32, 3)
    320
    >>> conv2d_params(16, 32, (3, 1), bias=False)
    1536
    """
    # BEGIN SOLUTION
    if isinstance(kernel_size, (tuple, list)):
        kh, kw = kernel_size
    else:
        kh, kw = kernel_size, kernel_size
    n = out_channels * in_channels * kh * kw
    if bias:
        n += out_channels
    return int(n)
    # END SOLUTION


def summary(layers, input_shape):
    """Keras' model.summary() as a list: one tuple per layer.

    layers: list of layer dicts (see the top of this file); input_shape: (C, H, W) for
    images or (n,) for flat inputs, without the batch axis.

    Return a list with one tuple (name, output_shape, trainable, non_trainable) per layer,
    in order: the Keras-style name, the output shape as a tuple of ints ((C, H, W) or
    (n,)), and the numbers of trainable and non-trainable parameters (ints).

    A conv layer with 32 filters of 3×3 and "same" padding on a 28×28 grey image has 320
    parameters, flattening gives 25,088 numbers, and a dense layer with 10 units on them
    250,890 parameters:

    >>> for row in summary(MNIST_CNN1, (1, 28, 28)):
    ...     print(row)
    ('conv2d', (32, 28, 28), 320, 0)
    ('activation', (32, 28, 28), 0, 0)
    ('flatten', (25088,), 0, 0)
    ('dense', (10,), 250890, 0)

    Six 5×5 filters on a 28×28×3 image, no padding, stride 1, give 24×24×6:

    >>> summary([{"type": "conv2d", "filters": 6, "kernel_size": 5}], (3, 28, 28))
    [('conv2d', (6, 24, 24), 456, 0)]

    Strides, pooling, batchnorm and a flat head:

    >>> layers = [{"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": 2, "padding": 1},
    ...           {"type": "batchnorm"},
    ...           {"type": "maxpool2d", "pool_size": 3, "stride": 2},
    ...           {"type": "flatten"},
    ...           {"type": "dropout", "rate": 0.3},
    ...           {"type": "dense", "units": 5, "bias": False},
    ...           {"type": "batchnorm"}]
    >>> for row in summary(layers, (3, 32, 32)):
    ...     print(row)
    ('conv2d', (4, 16, 16), 112, 0)
    ('batch_normalization', (4, 16, 16), 8, 8)
    ('max_pooling2d', (4, 7, 7), 0, 0)
    ('flatten', (196,), 0, 0)
    ('dropout', (196,), 0, 0)
    ('dense', (5,), 980, 0)
    ('batch_normalization_1', (5,), 10, 10)
    """
    # BEGIN SOLUTION
    keras_names = {
        "conv2d": "conv2d",
        "maxpool2d": "max_pooling2d",
        "flatten": "flatten",
        "dense": "dense",
        "batchnorm": "batch_normalization",
        "dropout": "dropout",
        "relu": "activation",
    }

    def as_pair(v):
        if isinstance(v, (tuple, list)):
            return int(v[0]), int(v[1])
        return int(v), int(v)

    def out_size(n, k, s, p):
        size = (n + 2 * p - k) // s + 1
        assert size >= 1, f"a window of {k} (stride {s}, padding {p}) does not fit {n} pixels"
        return size

    shape = tuple(int(a) for a in input_shape)
    counts = {}
    rows = []
    for layer in layers:
        kind = layer["type"]
        assert kind in keras_names, f"unknown layer type {kind!r}"
        trainable, non_trainable = 0, 0
        if kind == "conv2d":
            assert len(shape) == 3, f"conv2d needs an image input (C, H, W), got {shape}"
            c, h, w = shape
            kh, kw = as_pair(layer["kernel_size"])
            sh, sw = as_pair(layer.get("stride", 1))
            padding = layer.get("padding", "valid")
            if padding == "same":
                assert (sh, sw) == (1, 1), "padding='same' needs stride 1"
                new_h, new_w = h, w
            else:
                p = 0 if padding == "valid" else int(padding)
                new_h, new_w = out_size(h, kh, sh, p), out_size(w, kw, sw, p)
            filters = int(layer["filters"])
            shape = (filters, new_h, new_w)
            trainable = conv2d_params(c, filters, (kh, kw), layer.get("bias", True))
        elif kind == "maxpool2d":
            assert len(shape) == 3, f"maxpool2d needs an image input (C, H, W), got {shape}"
            c, h, w = shape
            kh, kw = as_pair(layer["pool_size"])
            sh, sw = as_pair(layer.get("stride", layer["pool_size"]))
            shape = (c, out_size(h, kh, sh, 0), out_size(w, kw, sw, 0))
        elif kind == "flatten":
            n = 1
            for a in shape:
                n *= a
            shape = (n,)
        elif kind == "dense":
            assert len(shape) == 1, f"dense needs a flat input (n,), got {shape}: flatten first"
            units = int(layer["units"])
            trainable = shape[0] * units + (units if layer.get("bias", True) else 0)
            shape = (units,)
        elif kind == "batchnorm":
            trainable = 2 * shape[0]  # gamma and beta per channel
            non_trainable = 2 * shape[0]  # running mean and variance per channel
        # dropout and relu: same shape, no parameters
        name = keras_names[kind]
        if name in counts:
            counts[name] += 1
            name = f"{name}_{counts[name]}"
        else:
            counts[name] = 0
        rows.append((name, shape, trainable, non_trainable))
    return rows
    # END SOLUTION


def count_parameters(layers, input_shape):
    """Total number of parameters, trainable and non-trainable, as an int.

    This is "Total params" of Keras' summary, for the same layers and input_shape as
    summary().

    >>> count_parameters(MNIST_CNN, (1, 28, 28))
    35962
    >>> count_parameters(CIFAR_NORM_CNN, (3, 32, 32))
    45706
    >>> count_parameters(CIFAR_BASE_CNN, (3, 32, 32))
    1222566
    >>> count_parameters(CIFAR_BASE_CNN_BN, (3, 32, 32))
    1222962
    >>> fc = [{"type": "flatten"}, {"type": "dense", "units": 500}, {"type": "relu"},
    ...       {"type": "dense", "units": 50}, {"type": "relu"}, {"type": "dense", "units": 10}]
    >>> count_parameters(fc, (1, 28, 28))
    418060
    """
    # BEGIN SOLUTION
    total = 0
    for _, _, trainable, non_trainable in summary(layers, input_shape):
        total += trainable + non_trainable
    return total
    # END SOLUTION
