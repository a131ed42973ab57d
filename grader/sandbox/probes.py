"""Inspection helpers the grader runs *inside* the worker, on objects that must stay there.

Loaded by the worker from this file before its guards go up; each probe takes worker-side
objects (handles resolved) and plain data, and returns plain data. Import torch lazily: most
exercises never need it.
"""


def type_name(obj):
    """Return the qualified name of the object's class."""
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


# --------------------------------------------------------------------------- torch models (exercise02)


def module_info(obj):
    """Describe a model: is it an nn.Module, its class, parameter counts and its layers.

    Returns {"module": bool, "type": str} and, for a module, "params" (sum of numel over
    ``parameters()``), "trainable" (those with requires_grad), "linears": one
    [in_features, out_features, has_bias] per nn.Linear in ``modules()`` order, and the
    number of "dropouts" (any nn.Dropout* with p > 0) and "batchnorms" (nn.BatchNorm1d/2d/3d).
    """
    import torch

    info = {"module": isinstance(obj, torch.nn.Module), "type": type_name(obj)}
    if info["module"]:
        params = list(obj.parameters())
        info["params"] = int(sum(p.numel() for p in params))
        info["trainable"] = int(sum(p.numel() for p in params if p.requires_grad))
        info["linears"] = [[int(m.in_features), int(m.out_features), m.bias is not None]
                           for m in obj.modules() if isinstance(m, torch.nn.Linear)]
        info["dropouts"] = sum(isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0 for m in obj.modules())
        info["batchnorms"] = sum(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in obj.modules())
    return info


def forward(model, x):
    """Return model(x) for the array x as float32, in eval mode without gradients.

    Returns {"tensor": ndarray} when the model returns a tensor, else {"type": its class}.
    """
    import numpy as np
    import torch

    model.eval()
    with torch.no_grad():
        out = model(torch.as_tensor(np.asarray(x), dtype=torch.float32))
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu()
        if out.dtype not in (torch.float32, torch.float64):
            out = out.float()
        return {"tensor": out.numpy()}
    return {"type": type_name(out)}


def set_linear_weights(model, weights):
    """Copy [[W, b], ...] into the model's nn.Linear layers, in ``modules()`` order (b may be None).

    Raises ValueError when the number of layers or a shape does not match.
    """
    import torch

    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if len(linears) != len(weights):
        raise ValueError(f"the model has {len(linears)} nn.Linear layers, expected {len(weights)}")
    with torch.no_grad():
        for lin, (w, b) in zip(linears, weights):
            w = torch.as_tensor(w)
            if tuple(lin.weight.shape) != tuple(w.shape):
                raise ValueError(f"weight of shape {tuple(lin.weight.shape)}, expected {tuple(w.shape)}")
            lin.weight.copy_(w)
            if b is not None and lin.bias is not None:
                lin.bias.copy_(torch.as_tensor(b))
    return len(linears)


def permute_first_linear(model, permutation):
    """Reorder the input columns of the first nn.Linear in place: W[:, j] <- W[:, permutation[j]]."""
    import numpy as np
    import torch

    lin = next((m for m in model.modules() if isinstance(m, torch.nn.Linear)), None)
    if lin is None:
        raise ValueError("the model has no nn.Linear layer")
    perm = torch.as_tensor(np.asarray(permutation), dtype=torch.long)
    with torch.no_grad():
        lin.weight.copy_(lin.weight[:, perm])
    return [int(lin.in_features), int(lin.out_features)]


# --------------------------------------------------------------------------- trained models (exercise11)


def load_weights(model, blob, kind):
    """Load a weights file (its bytes as a uint8 array) into the model, strictly.

    ``kind`` "safetensors" (safetensors.torch.load) or "pt" (a torch.save'd state dict, read
    with ``weights_only=True``: no code from the file runs). Returns {"loaded": number of
    tensors}, {"problem": why the file is no state dict}, or {"missing": keys, "unexpected":
    keys, "shapes": [[key, shape in the model, shape in the file], ...]} when it does not fit.
    """
    import io

    import numpy as np
    import torch

    data = np.asarray(blob, dtype=np.uint8).tobytes()
    try:
        if kind == "safetensors":
            from safetensors.torch import load

            state = load(data)
        else:
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except ImportError as e:
        return {"problem": f"the grader cannot read it here ({e})"}
    except Exception as e:  # noqa: BLE001 - a corrupt file raises almost anything
        text = " ".join(str(e).split())
        if "WeightsUnpickler error:" in text:  # torch's weights_only refusal: its reason, not its advice
            text = text.split("WeightsUnpickler error:", 1)[1].split(". ")[0].strip()
        return {"problem": f"{type(e).__name__}: {text[:300]}"}
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        inside = list(state)[:5] if isinstance(state, dict) else []
        return {"problem": f"it holds a {type_name(state)}" + (f" with keys {inside}" if inside else "")
                + ", not a state dict of tensors"}
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [str(k) for k in state if k not in own]
    shapes = [[k, list(own[k].shape), list(state[k].shape)] for k in own
              if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or shapes:
        return {"missing": missing, "unexpected": unexpected, "shapes": shapes}
    model.load_state_dict(state, strict=True)
    return {"loaded": len(state)}


def _logits(model, preprocess, images):
    """model(preprocess(images)) in eval mode without gradients, or a dict saying what was not a tensor."""
    import torch

    model.eval()
    with torch.no_grad():
        x = preprocess(images)
        if not isinstance(x, torch.Tensor):
            return {"input": type_name(x)}
        out = model(x)
    if not isinstance(out, torch.Tensor):
        return {"type": type_name(out)}
    return out.detach().cpu()


def logits(model, preprocess, images):
    """Return {"tensor": model(preprocess(images))} as an array (float32 unless float64), in eval
    mode; {"input": class} when preprocess returns no tensor, {"type": class} when the model does not."""
    import torch

    out = _logits(model, preprocess, images)
    if isinstance(out, dict):
        return out
    return {"tensor": (out if out.dtype in (torch.float32, torch.float64) else out.float()).numpy()}


def predict(model, preprocess, images):
    """Return {"predictions": int64 array (N,)}: the argmax of model(preprocess(images)) per image;
    {"shape": [...]} when the output is not (N, classes), else what ``logits`` says went wrong."""
    import torch

    out = _logits(model, preprocess, images)
    if isinstance(out, dict):
        return out
    if out.ndim != 2 or out.shape[0] != len(images) or not out.is_floating_point():
        return {"shape": list(out.shape), "dtype": str(out.dtype)}
    return {"predictions": out.argmax(dim=1).to(torch.int64).numpy()}


def train_mode_varies(model, shape):
    """Return {"varies": bool}: do two forward passes on the same random input of ``shape``
    differ in train mode (dropout at work)? The model's weights, buffers and mode are restored
    afterwards (batchnorm updates its statistics in train mode)."""
    import copy

    import torch

    state, was_training = copy.deepcopy(model.state_dict()), model.training
    try:
        model.train()
        with torch.no_grad():
            x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
            first, second = model(x), model(x)
        same = isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor) and torch.equal(first, second)
        return {"varies": not same}
    finally:
        model.load_state_dict(state)
        model.train(was_training)


# --------------------------------------------------------------------------- pretrained backbones (exercise12)


def build_layers(rows):
    """An nn.Sequential from plain rows: ["conv", c_in, c_out, k, stride, groups] (no bias, padding
    (k - 1) // 2), ["bn", c], ["relu6"], ["pool"] (global average), ["flatten"], ["dropout", p],
    ["linear", n_in, n_out]. Shared by the grader (``grader.kit.pretrained.tiny_backbone``) and
    the worker (``build_backbone``), so both build the very same network."""
    from torch import nn

    make = {"conv": lambda c_in, c_out, k, s, g: nn.Conv2d(c_in, c_out, k, s, (k - 1) // 2, groups=g, bias=False),
            "bn": nn.BatchNorm2d, "relu6": nn.ReLU6, "pool": lambda: nn.AdaptiveAvgPool2d(1), "flatten": nn.Flatten,
            "dropout": nn.Dropout, "linear": nn.Linear}
    return nn.Sequential(*[make[row[0]](*row[1:]) for row in rows])


def build_backbone(spec):
    """A backbone in eval mode from ``grader.kit.pretrained.tiny_spec``: a module with ``features``
    ((N, 3, H, W) -> (N, D)) and ``classifier`` ((N, D) -> ImageNet logits), ``mean`` and ``std``."""
    import torch

    class Backbone(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features, self.classifier = build_layers(spec["features"]), build_layers(spec["classifier"])
            self.mean, self.std = tuple(spec["mean"]), tuple(spec["std"])

        def forward(self, x):
            return self.classifier(self.features(x))

    net = Backbone()
    net.load_state_dict({k: torch.as_tensor(v) for k, v in spec["state"].items()}, strict=True)
    return net.eval()


# --------------------------------------------------------------------------- small named CNNs (exercise13)


def build_net(spec):
    """An nn.Sequential with named layers, in eval mode, from plain data: ``spec["layers"]`` rows
    [name, "conv", c_in, c_out, k, padding] (with bias), [name, "relu"], [name, "avgpool", size],
    [name, "gap"] (global average), [name, "flatten"], [name, "linear", n_in, n_out], and
    ``spec["state"]`` its state dict as arrays. Shared by the grader and the worker, so both
    build the very same network (float32, as the arrays are)."""
    from collections import OrderedDict

    import torch
    from torch import nn

    make = {"conv": lambda c_in, c_out, k, p: nn.Conv2d(c_in, c_out, k, padding=p), "relu": nn.ReLU,
            "avgpool": nn.AvgPool2d, "gap": lambda: nn.AdaptiveAvgPool2d(1), "flatten": nn.Flatten,
            "linear": nn.Linear}
    net = nn.Sequential(OrderedDict((str(row[0]), make[row[1]](*row[2:])) for row in spec["layers"]))
    net.load_state_dict({k: torch.as_tensor(v) for k, v in spec["state"].items()}, strict=True)
    return net.eval()


def first_conv(model):
    """Return {"shape": [out, in, kh, kw], "weight": array} of the model's first nn.Conv2d in
    ``modules()`` order, or {"shape": None} when it has none."""
    import torch

    conv = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if conv is None:
        return {"shape": None}
    weight = conv.weight.detach().cpu().float()
    return {"shape": [int(d) for d in weight.shape], "weight": weight.numpy()}


def fit(model, images, labels, epochs, lr, batch, seed):
    """Train a classifier with the grader's loop: every layer's parameters reset (torch's default
    initialisation) and Adam on the cross-entropy over shuffled batches, all seeded, so that the
    same architecture always ends with the same weights; ends in eval mode. Returns the last
    batch's loss.

    Adam's update is torch.optim.Adam's (betas 0.9, 0.999, eps 1e-8), written out: building any
    torch.optim optimizer first imports torch._dynamo, 0.8 s of a one-second grading."""
    import torch

    torch.manual_seed(seed)
    for module in model.modules():
        if callable(getattr(module, "reset_parameters", None)):
            module.reset_parameters()
    params = [p for p in model.parameters() if p.requires_grad]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    x, y = torch.as_tensor(images, dtype=torch.float32), torch.as_tensor(labels, dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    loss, step = torch.zeros(()), 0
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=generator).split(batch):
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            step += 1
            with torch.no_grad():
                for p, g, (m, v) in zip(params, grads, moments):
                    if g is None:
                        continue
                    m.mul_(0.9).add_(g, alpha=0.1)
                    v.mul_(0.999).addcmul_(g, g, value=0.001)
                    denom = (v.sqrt() / (1 - 0.999 ** step) ** 0.5).add_(1e-8)
                    p.addcdiv_(m, denom, value=-lr / (1 - 0.9 ** step))
    model.eval()
    return float(loss.detach())


def frozen_with_head(spec, head_weight, head_bias):
    """``build_backbone(spec)`` with every parameter frozen and its classifier's last layer replaced
    by a trainable nn.Linear holding ``head_weight`` (n, D) and ``head_bias`` (n,), the dropout before
    it by an identity: the grader's own frozen model, independent of the student's freezing code."""
    import torch

    net = build_backbone(spec)
    for p in net.parameters():
        p.requires_grad_(False)
    w = torch.as_tensor(head_weight, dtype=torch.float32)
    head = torch.nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        head.weight.copy_(w)
        head.bias.copy_(torch.as_tensor(head_bias, dtype=torch.float32))
    net.classifier[-1] = head
    net.classifier[0] = torch.nn.Identity()  # no dropout before the head: a training step is deterministic
    return net


def state_arrays(model):
    """Return {name: float64 array} of the model's state dict (parameters and buffers but batchnorm's
    batch counter) and {"training": [names of submodules in train mode]}; the grader compares."""
    import numpy as np

    state = {k: v.detach().cpu().double().numpy() for k, v in model.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    return {"state": state, "training": [name for name, m in model.named_modules() if m.training]}


class _Watch:
    """What the hooks of ``watch`` saw: per call of the watched module, whether autograd was on
    and the batch size."""

    def __init__(self):
        self.calls = []
        self.hooks = []


def watch(module):
    """Hook ``module`` (a backbone's ``features``) and every submodule: record, for each call of
    ``module`` itself, [grad enabled, batch size]; any submodule run with autograd on counts too."""
    import torch

    seen = _Watch()

    def outer(mod, args):
        x = args[0] if args else None
        seen.calls.append([bool(torch.is_grad_enabled()), int(x.shape[0]) if isinstance(x, torch.Tensor) and x.ndim else -1])

    def inner(mod, args):
        if torch.is_grad_enabled():
            seen.calls.append([True, -1])

    seen.hooks.append(module.register_forward_pre_hook(outer))
    for m in module.modules():
        if m is not module:
            seen.hooks.append(m.register_forward_pre_hook(inner))
    return seen


def watched(seen):
    """Return the calls ``watch`` recorded (and remove its hooks)."""
    for h in seen.hooks:
        h.remove()
    return {"calls": [list(c) for c in seen.calls]}


def grads_after_backward(model, x, y):
    """Run cross-entropy of model(x) against y backwards once (eval mode, grads cleared first);
    return {"with_grad": names of parameters that received a gradient, "error": message or ""}."""
    import numpy as np
    import torch

    model.eval()
    for p in model.parameters():
        p.grad = None
    try:
        out = model(torch.as_tensor(np.asarray(x), dtype=torch.float32))
        torch.nn.functional.cross_entropy(out, torch.as_tensor(np.asarray(y), dtype=torch.long)).backward()
    except Exception as e:  # noqa: BLE001 - the student's model may raise anything
        return {"with_grad": [], "error": f"{type(e).__name__}: {str(e)[:300]}"}
    names = [n for n, p in model.named_parameters() if p.grad is not None]
    for p in model.parameters():
        p.grad = None
    return {"with_grad": names, "error": ""}


def optimizer_info(optimizer, model):
    """Return which of the model's parameters the optimizer holds: {"optimizer": bool,
    "trainable": [names], "frozen": [names] (requires_grad False), "other": number of tensors not of
    the model, "lr": [lr per group]}."""
    import torch

    if not isinstance(optimizer, torch.optim.Optimizer):
        return {"optimizer": False, "type": type_name(optimizer)}
    names = {id(p): n for n, p in model.named_parameters()}
    held = [p for g in optimizer.param_groups for p in g["params"]]
    return {"optimizer": True, "type": type_name(optimizer),
            "trainable": [names[id(p)] for p in held if id(p) in names and p.requires_grad],
            "frozen": [names[id(p)] for p in held if id(p) in names and not p.requires_grad],
            "other": sum(1 for p in held if id(p) not in names),
            "lr": [float(g.get("lr", 0.0)) for g in optimizer.param_groups]}


def sgd(model, lr):
    """The grader's plain SGD over the model's parameters that require gradients."""
    import torch

    return torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=float(lr))


def defaults(fn):
    """Return {parameter: default} of a function's (or a class's) signature: plain values as they
    are, anything else as the string "<object>" (compared by nothing)."""
    import inspect

    plain = (type(None), bool, int, float, str)
    out = {}
    for name, param in inspect.signature(fn).parameters.items():
        if param.default is inspect.Parameter.empty:
            continue
        value = param.default
        ok = isinstance(value, plain) or (isinstance(value, (tuple, list)) and all(isinstance(v, plain) for v in value))
        out[name] = value if ok else "<object>"
    return out


PROBES = {
    "type_name": type_name,
    "defaults": defaults,
    "module_info": module_info,
    "forward": forward,
    "set_linear_weights": set_linear_weights,
    "permute_first_linear": permute_first_linear,
    "load_weights": load_weights,
    "logits": logits,
    "predict": predict,
    "train_mode_varies": train_mode_varies,
    "build_backbone": build_backbone,
    "frozen_with_head": frozen_with_head,
    "state_arrays": state_arrays,
    "watch": watch,
    "watched": watched,
    "grads_after_backward": grads_after_backward,
    "optimizer_info": optimizer_info,
    "sgd": sgd,
    "build_net": build_net,
    "first_conv": first_conv,
    "fit": fit,
}
