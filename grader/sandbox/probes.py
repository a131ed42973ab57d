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
    """Describe a model: is it an nn.Module, its class, parameter counts and its nn.Linear layers.

    Returns {"module": bool, "type": str} and, for a module, "params" (sum of numel over
    ``parameters()``), "trainable" (those with requires_grad) and "linears": one
    [in_features, out_features, has_bias] per nn.Linear in ``modules()`` order.
    """
    import torch

    info = {"module": isinstance(obj, torch.nn.Module), "type": type_name(obj)}
    if info["module"]:
        params = list(obj.parameters())
        info["params"] = int(sum(p.numel() for p in params))
        info["trainable"] = int(sum(p.numel() for p in params if p.requires_grad))
        info["linears"] = [[int(m.in_features), int(m.out_features), m.bias is not None]
                           for m in obj.modules() if isinstance(m, torch.nn.Linear)]
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


PROBES = {
    "type_name": type_name,
    "module_info": module_info,
    "forward": forward,
    "set_linear_weights": set_linear_weights,
    "permute_first_linear": permute_first_linear,
}
