"""Checks for exercise12 — learning with few labels (pretrained features, shallow learner, fine-tuning).

Every backbone here is the tiny random stand-in of ``grader.kit.tiny_spec(seed)``: the grader
builds it in the worker from plain data (probe ``build_backbone``), and computes what the
student's code must produce with its numpy twin (``grader.kit.tiny_features``) and the numpy
oracles below, so the features, losses and updates are the grader's own, never taken from the
worker. The oracles equal ``reference.exercise12`` (the torch pipeline; tests/checks compare
them); the grader process imports no torch, so its start-up overlaps the worker's. The
worker's probes only read what the student's code left behind (parameters, batchnorm
statistics, modes, which calls ran with autograd on) and the grader compares that with the
values it knows. Typical mistakes are named from those observations (``sub.observe``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.kit import (Handle, Mismatch, Mistake, TensorData, Verdict, check, expect, expect_array, expect_float,
                        expect_int, expect_module, given, st, tiny_features, tiny_spec, type_name)

TITLE = "Learning with few labels"
ALIASES = ("fewlabels", "few-labels", "transfer", "transfer-learning", "pretrained")
PRELOAD = ("torch",)
MAX_EXAMPLES = 8
LIMITS = {"call_timeout": 20.0}  # fit_shallow imports scikit-learn in the worker on its first call


# --------------------------------------------------------------------------- shared helpers


def _images(seed: int, n: int, side: int) -> np.ndarray:
    """Preprocessed-looking float32 images (n, 3, side, side), roughly standard normal."""
    return np.random.default_rng(seed).normal(0, 1, (n, 3, side, side)).astype(np.float32)


def _worker_backbone(sub, seed: int, *, train_mode: bool = True) -> tuple[Handle, dict]:
    """The tiny backbone of ``seed`` in the worker (in train mode, as after a fine-tuning epoch:
    the student's code must switch it to eval itself), and its spec."""
    spec = tiny_spec(seed)
    handle = sub.probe("build_backbone", spec)
    expect(isinstance(handle, Handle), "the grader's backbone", "the grader could not build its backbone")
    if train_mode:
        sub.method(handle, "train")
    return handle, spec


def _state(sub, handle) -> dict:
    """The model's state (parameters, buffers) and the names of its modules in train mode, as the
    worker reports them; validated to be plain arrays."""
    out = sub.probe("state_arrays", handle)
    ok = isinstance(out, dict) and isinstance(out.get("state"), dict) and isinstance(out.get("training"), list) \
        and all(isinstance(v, np.ndarray) and v.dtype.kind == "f" for v in out["state"].values())
    expect(ok, "the model's state", "the model's parameters could not be read", got=handle)
    return out


def _changed(state: dict, spec: dict, prefix: str = "") -> list[str]:
    """Names of the spec's tensors under ``prefix`` whose values the worker's state no longer holds."""
    changed = []
    for name, value in spec["state"].items():
        if not name.startswith(prefix):
            continue
        got = state.get(name)
        if got is None or got.shape != value.shape or not np.allclose(got, value, rtol=0, atol=1e-6):
            changed.append(name)
    return changed


def _batchnorm_drift(state: dict, spec: dict) -> list[str]:
    return [n for n in _changed(state, spec, "features.") if n.endswith(("running_mean", "running_var"))]


def _tensor(got, what: str) -> np.ndarray:
    """A float32 torch tensor's values, or the Mismatch saying what came back instead."""
    if not isinstance(got, TensorData):
        hint = " — torch.as_tensor(array) or torch.from_numpy(array) makes one" if isinstance(got, np.ndarray) else ""
        raise Mismatch(what, "type", f"expected a torch.Tensor, got {type_name(got)}{hint}", got=got)
    if got.dtype != "torch.float32":
        raise Mismatch(what, "dtype", f"expected a float32 tensor (the backbone's weights are float32), got {got.dtype}"
                       " — .float() converts", got=got)
    return got.array


def _reference_features(seed: int, x: np.ndarray) -> np.ndarray:
    return tiny_features(tiny_spec(seed), x)                                 # (N, D)


def _diagnose(sub, got, value: np.ndarray, candidates: dict) -> None:
    """Note which typical wrong result ``value`` equals (what the mistakes are matched against)."""
    for fact, wrong in candidates.items():
        try:
            w = wrong()
        except Exception:  # noqa: BLE001 - a candidate that does not apply to these inputs
            continue
        if w is not None and np.shape(w) == np.shape(value) and np.allclose(value, w, rtol=1e-4, atol=1e-4):
            sub.observe(got, fact)
            return


# --------------------------------------------------------------------------- few_label_split (5 points)


@dataclass
class SplitCase:
    labels: np.ndarray
    per_class: int
    seed: int


@st.composite
def split_cases(draw, *, max_classes: int = 4, max_per_class: int = 3, max_extra: int = 3):
    """Return a strategy for (labels, per_class, seed): 2-4 classes with class values from 0-9,
    each with at least per_class members, in a random order."""
    classes = draw(st.lists(st.integers(0, 9), min_size=2, max_size=max_classes, unique=True))
    k = draw(st.integers(1, max_per_class))
    sizes = [k + draw(st.integers(0, max_extra)) for _ in classes]
    labels = np.repeat(np.array(classes, dtype=np.int64), sizes)
    order = draw(st.permutations(range(len(labels))))
    return SplitCase(labels[np.array(order, dtype=np.int64)], k, draw(st.integers(0, 1000)))


@check(points=3, functions=("few_label_split",))
@given(case=split_cases())
def few_label_split_takes_k_of_every_class_and_keeps_the_rest_apart(sub, case):
    """labelled holds exactly k indices of every class, without repeats; rest holds every other index; both sorted."""
    labels, k = case.labels, case.per_class
    what = f"few_label_split(labels, {k}, seed={case.seed})"
    got = sub.few_label_split(labels, k, seed=case.seed)
    _split_checked(sub, got, labels, k, what)


def _split_checked(sub, got, labels, k, what):
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        raise Mismatch(what, "type", f"expected a tuple (labelled, rest) of two index arrays, got {type_name(got)}",
                       got=got)
    labelled, rest = (expect_array(p, shape=(None,), what=what, kinds="iu", allow_list=True).astype(np.int64)
                      for p in got)
    n = len(labels)
    for part in (labelled, rest):
        expect(bool(np.all((part >= 0) & (part < n))), what, f"indices must lie in 0…{n - 1}", got=got)
    both = np.intersect1d(labelled, rest)
    if both.size:
        sub.observe(got, "labelled in rest")
        raise Mismatch(what, "value", f"indices {both[:6].tolist()} are in both labelled and rest: images we evaluate "
                                      "on are among the labelled ones", got=got)
    if len(np.unique(labelled)) != len(labelled):
        sub.observe(got, "with replacement")
        raise Mismatch(what, "value", "labelled holds an index twice: draw without replacement", got=got)
    counts = {int(c): int(np.sum(labels[labelled] == c)) for c in np.unique(labels)}
    if any(v != k for v in counts.values()):
        if len(labelled) == k * len(counts):
            sub.observe(got, "not per class")
        raise Mismatch(what, "value", f"labelled should hold {k} of every class, holds {counts} (class: count)",
                       expected={c: k for c in counts}, got=got)
    missing = np.setdiff1d(np.arange(n), np.concatenate([labelled, rest]))
    if missing.size:
        raise Mismatch(what, "value", f"indices {missing[:6].tolist()} are in neither labelled nor rest: rest should "
                                      "hold every other image", got=got)
    if len(np.unique(rest)) != len(rest):
        raise Mismatch(what, "value", "rest holds an index twice", got=got)
    for name, part in (("labelled", labelled), ("rest", rest)):
        expect(bool(np.all(np.diff(part) > 0)), what, f"{name} should be sorted (np.sort)", got=got)
    return labelled, rest


BIG = np.tile(np.array([0, 1], dtype=np.int64), 400)  # two classes of 400 images, interleaved


@check(points=2, functions=("few_label_split",))
def few_label_split_is_random_but_reproducible_with_its_seed(sub):
    """The same seed gives the same split, other seeds other ones, each drawn uniformly within every class.

    Seeds 0, 1, 2 must give three different splits, and in each the labelled images of a
    class must not be bunched at its start or end.
    100 of the 400 images of a class drawn uniformly: the share of them from the first half of
    the class lies in [0.2, 0.8] except with probability 2·exp(−2·100·0.3²) < 3.1e-8 (Hoeffding
    holds for draws without replacement); for 2 classes and 3 seeds a correct solution fails
    with probability < 2e-7. Three uniform draws of 100 of 400 coincide with probability far
    below that. "The first k of each class" and a fixed order fail.
    """
    splits = []
    for seed in (0, 1, 2):
        what = f"few_label_split(labels, 100, seed={seed}), labels = [0, 1] * 400"
        got = sub.few_label_split(BIG, 100, seed=seed)
        labelled, _ = _split_checked(sub, got, BIG, 100, what)
        for c in (0, 1):
            members = np.flatnonzero(BIG == c)                                       # (400,)
            share = float(np.mean(np.isin(labelled, members[:200])[BIG[labelled] == c]))
            if not 0.2 <= share <= 0.8:
                sub.observe(got, "not random")
                raise Mismatch(what, "value", f"{share:.0%} of class {c}'s labelled images come from the first half of "
                                              "its images: the draw is not uniform", got=got)
        splits.append((got, labelled))
    again = sub.few_label_split(BIG, 100, seed=0)
    first = _split_checked(sub, again, BIG, 100, "few_label_split(labels, 100, seed=0), called again")[0]
    if not np.array_equal(first, splits[0][1]):
        sub.observe(again, "seed ignored")
        raise Mismatch("few_label_split(labels, 100, seed=0), called twice", "value",
                       "the same seed gave two different splits", got=again)
    if np.array_equal(splits[0][1], splits[1][1]) or np.array_equal(splits[1][1], splits[2][1]):
        sub.observe(splits[1][0], "not random")
        raise Mismatch("few_label_split(labels, 100, seed=0 / 1 / 2)", "value",
                       "different seeds gave the same labelled images", got=splits[1][0])


# --------------------------------------------------------------------------- preprocess (3 points)

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


@dataclass
class PrepCase:
    images: np.ndarray
    mean: tuple
    std: tuple
    size: int | None


@st.composite
def prep_cases(draw, *, resize: bool = False):
    """Return a strategy for preprocess's inputs: uint8 images (1-3, 3, 2-6, 2-6), mean and std of 3
    channels (two decimals), and a size when ``resize``."""
    n, h, w = draw(st.integers(1, 3)), draw(st.integers(2, 6)), draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2 ** 16))
    images = np.random.default_rng(seed).integers(0, 256, (n, 3, h, w)).astype(np.uint8)
    mean = tuple(draw(st.sampled_from([0.1, 0.25, 0.4, 0.45, 0.5, 0.6, 0.75])) for _ in range(3))
    std = tuple(draw(st.sampled_from([0.1, 0.2, 0.25, 0.3, 0.5])) for _ in range(3))
    size = draw(st.integers(2, 9)) if resize else None
    return PrepCase(images, mean, std, size)


def _source_index(n_in: int, n_out: int, how: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output position along one axis: the two input positions and the weight of the
    second, as F.interpolate computes them (``how``: "bilinear", "align_corners" or "nearest")."""
    dst = np.arange(n_out, dtype=np.float64)
    if how == "nearest":
        i0 = np.minimum(np.floor(dst * (n_in / n_out)).astype(np.int64), n_in - 1)
        return i0, i0, np.zeros(n_out)
    if how == "align_corners":
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * (n_in / n_out) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, src - i0


def resize(x: np.ndarray, size: int, how: str = "bilinear") -> np.ndarray:
    """F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False) in numpy, float64
    (``how`` "align_corners" or "nearest" for those variants): x (N, C, H, W) -> (N, C, size, size)."""
    for axis in (2, 3):
        i0, i1, w = _source_index(x.shape[axis], size, how)
        shape = [1, 1, 1, 1]
        shape[axis] = size
        w = w.reshape(shape)
        x = np.take(x, i0, axis=axis) * (1 - w) + np.take(x, i1, axis=axis) * w
    return x


def preprocess_oracle(images, mean, std, size=None, *, scale: float = 255.0, how: str = "bilinear") -> np.ndarray:
    """What preprocess must return, float64: (images / 255, resized, − mean) / std per channel."""
    x = np.asarray(images, dtype=np.float64) / scale                          # (N, 3, H, W)
    if size is not None:
        x = resize(x, size, how)
    return (x - np.reshape(mean, (1, 3, 1, 1))) / np.reshape(std, (1, 3, 1, 1))


def _prep_candidates(case: PrepCase) -> dict:
    x = case.images.astype(np.float64) / 255
    if case.size is not None:
        x = resize(x, case.size)

    def norm(mean, std):
        return (x - np.reshape(mean, (1, 3, 1, 1))) / np.reshape(std, (1, 3, 1, 1))

    return {
        "not scaled": lambda: preprocess_oracle(case.images, case.mean, case.std, case.size, scale=1.0),
        "imagenet constants": lambda: norm(*IMAGENET),
        "imagenet mean": lambda: norm(IMAGENET[0], case.std),
        "imagenet std": lambda: norm(case.mean, IMAGENET[1]),
        "half": lambda: norm((0.5,) * 3, (0.5,) * 3),
        "batch statistics": lambda: norm(x.mean(axis=(0, 2, 3)), x.std(axis=(0, 2, 3))),
        "not normalised": lambda: x,
        "mean and std swapped": lambda: norm(case.std, case.mean),
        "nearest": lambda: case.size and preprocess_oracle(case.images, case.mean, case.std, case.size, how="nearest"),
        "align corners": lambda: case.size and preprocess_oracle(case.images, case.mean, case.std, case.size,
                                                                 how="align_corners"),
    }


def _check_prep(sub, case: PrepCase):
    kw = {} if case.size is None else {"size": case.size}
    what = f"preprocess(images, mean={case.mean}, std={case.std}{'' if case.size is None else f', size={case.size}'})"
    got = sub.preprocess(case.images, case.mean, case.std, **kw)
    value = _tensor(got, what)
    expected = preprocess_oracle(case.images, case.mean, case.std, case.size)
    try:
        expect_array(value, expected, what=what, rtol=1e-5)
    except Mismatch as e:
        _diagnose(sub, got, value, _prep_candidates(case))
        raise Mismatch(what, e.reason, e.detail, expected=expected, got=got) from None


@check(points=2, functions=("preprocess",))
@given(case=prep_cases())
def preprocess_scales_to_0_1_and_normalises_with_the_given_mean_and_std(sub, case):
    """preprocess(images, mean, std) equals (images / 255 − mean) / std per channel, as a float32 tensor."""
    _check_prep(sub, case)


@check(points=1, functions=("preprocess",))
@given(case=prep_cases(resize=True))
def preprocess_resizes_bilinearly_to_size(sub, case):
    """With size, preprocess resizes to size × size like F.interpolate(mode="bilinear", align_corners=False)."""
    _check_prep(sub, case)


# --------------------------------------------------------------------------- extract_features (5 points)


@dataclass
class FeatureCase:
    seed: int
    n: int
    side: int
    batch_size: int

    def images(self) -> np.ndarray:
        return _images(self.seed + 1, self.n, self.side)


@st.composite
def feature_cases(draw, *, min_n: int = 1):
    """Return a strategy for a tiny backbone's seed, n images (min_n-7) of side 6-12, a batch size 1-8."""
    return FeatureCase(draw(st.integers(0, 1000)), draw(st.integers(min_n, 7)), draw(st.sampled_from([6, 8, 12])),
                       draw(st.integers(1, 8)))


def _features(sub, case: FeatureCase, backbone: Handle) -> tuple[object, np.ndarray, str]:
    x = case.images()
    what = f"extract_features(backbone, x, batch_size={case.batch_size}), x of shape {x.shape}"
    got = sub.extract_features(backbone, x, batch_size=case.batch_size)
    return got, x, what


@check(points=2, functions=("extract_features",))
@given(case=feature_cases())
def extract_features_equals_the_frozen_backbones_features_before_its_classifier(sub, case):
    """extract_features gives backbone.features(x) in eval mode: (N, D) float32, before the ImageNet classifier."""
    backbone, spec = _worker_backbone(sub, case.seed)
    got, x, what = _features(sub, case, backbone)
    expected = _reference_features(case.seed, x)
    if isinstance(got, TensorData):
        raise Mismatch(what, "type", "returned a torch.Tensor; return a numpy array (.numpy())", got=got)
    value = expect_array(got, shape=(None, None), what=what, kinds="f")
    if value.shape == (len(x), spec["state"]["classifier.1.bias"].shape[0]):   # (N, ImageNet classes)
        sub.observe(got, "after classifier")
    elif _batchnorm_drift(_state(sub, backbone)["state"], spec):
        sub.observe(got, "train mode")
    try:
        expect_array(value, expected, what=what, rtol=1e-4)
    except Mismatch as e:
        raise Mismatch(what, e.reason, e.detail, expected=expected, got=got) from None


@check(points=1, functions=("extract_features",))
@given(case=feature_cases(min_n=2))
def extract_features_leaves_the_backbone_in_eval_mode_and_its_batchnorm_statistics_unchanged(sub, case):
    """extract_features leaves the backbone in eval mode with its stored batchnorm statistics (given it in train mode)."""
    backbone, spec = _worker_backbone(sub, case.seed)
    got, x, what = _features(sub, case, backbone)
    state = _state(sub, backbone)
    drift = _batchnorm_drift(state["state"], spec)
    if drift:
        sub.observe(got, "train mode")
        raise Mismatch(what, "value", f"the batchnorm statistics changed ({', '.join(drift[:2])}…): the backbone ran in "
                                      "train mode", got=got)
    if state["training"]:
        sub.observe(got, "train mode")
        raise Mismatch(what, "value", f"modules still in train mode afterwards: {', '.join(state['training'][:3])} — "
                                      "call backbone.eval()", got=got)


def _watched_call(sub, case: FeatureCase) -> tuple[object, list, str]:
    backbone, _ = _worker_backbone(sub, case.seed, train_mode=False)
    features = sub.attribute(backbone, "features")
    seen = sub.probe("watch", features)
    got, x, what = _features(sub, case, backbone)
    calls = sub.probe("watched", seen).get("calls") if isinstance(seen, Handle) else None
    ok = isinstance(calls, list) and all(isinstance(c, list) and len(c) == 2 and isinstance(c[0], bool)
                                         and type(c[1]) is int for c in calls)
    expect(ok, what, "the grader could not watch the backbone's calls", got=got)
    return got, calls, what


@check(points=1, functions=("extract_features",))
@given(case=feature_cases())
def extract_features_computes_without_gradients(sub, case):
    """The backbone runs with autograd off (torch.no_grad() or torch.inference_mode()): no graph is kept."""
    got, calls, what = _watched_call(sub, case)
    if any(grad for grad, _ in calls):
        sub.observe(got, "gradients")
        raise Mismatch(what, "value", "the backbone ran with autograd on: wrap the loop in `with torch.no_grad():` "
                                      "(a graph of every batch is kept in memory for nothing)", got=got)


@check(points=1, functions=("extract_features",))
@given(case=feature_cases(min_n=2))
def extract_features_feeds_at_most_batch_size_images_at_a_time(sub, case):
    """backbone.features sees every image once, in batches of at most batch_size images."""
    got, calls, what = _watched_call(sub, case)
    sizes = [n for _, n in calls if n >= 0]
    if any(n > case.batch_size for n in sizes):
        sub.observe(got, "not batched")
        raise Mismatch(what, "value", f"backbone.features got batches of {sorted(set(sizes))} images, at most "
                                      f"{case.batch_size} allowed: 10,000 images at once need gigabytes", got=got)
    expect(sum(sizes) == case.n, what, f"backbone.features saw {sum(sizes)} images in all, there are {case.n}",
           got=got)


# --------------------------------------------------------------------------- freeze_and_replace_head (3), trainable_parameters (1)


def _counts(spec: dict) -> tuple[int, int]:
    """(parameters of the backbone but its last layer, feature size D)."""
    params = sum(v.size for k, v in spec["state"].items() if not k.endswith(("running_mean", "running_var")))
    head = spec["state"]["classifier.1.weight"]
    return params - head.size - head.shape[0], head.shape[1]


@check(points=2, functions=("freeze_and_replace_head",))
@given(seed=st.integers(0, 1000), n_classes=st.integers(2, 12))
def freeze_and_replace_head_leaves_only_a_new_head_for_n_classes_trainable(sub, seed, n_classes):
    """Only the new head's D·n + n parameters are trainable, and the model gives (N, n) logits."""
    backbone, spec = _worker_backbone(sub, seed, train_mode=False)
    what = f"freeze_and_replace_head(backbone, {n_classes})"
    got = sub.freeze_and_replace_head(backbone, n_classes)
    info = expect_module(sub, got, "freeze_and_replace_head", what)
    frozen, d = _counts(spec)
    head = d * n_classes + n_classes
    last = info["linears"][-1] if info["linears"] else None
    if last is not None and (last[0] != d or last[1] != n_classes):
        sub.observe(got, "head size")
        raise Mismatch(what, "value", f"the last layer is Linear({last[0]}, {last[1]}), expected Linear({d}, {n_classes})"
                                      f": the backbone's features have D = {d} (read classifier[-1].in_features)",
                       expected=[d, n_classes], got=got)
    if info["trainable"] != head:
        fact = {frozen + head: "not frozen", 0: "head frozen"}.get(info["trainable"])
        if fact:
            sub.observe(got, fact)
        raise Mismatch(what, "value", f"{info['trainable']:,} trainable parameters, expected {head:,} (the new head "
                                      f"Linear({d}, {n_classes}) only; the backbone's {frozen:,} frozen)",
                       expected=head, got=got)
    expect(info["params"] == frozen + head, what, f"the model has {info['params']:,} parameters, expected "
                                                  f"{frozen + head:,} (the backbone's plus the new head's)", got=got)
    x = _images(seed, 3, 8)
    out = sub.probe("forward", got, x)
    if not (isinstance(out, dict) and isinstance(out.get("tensor"), np.ndarray)):
        raise Mismatch(what, "type", "model(x) did not give a tensor of logits", got=got)
    expect(out["tensor"].shape == (3, n_classes), what, f"model(x) for 3 images should give (3, {n_classes}) logits, "
                                                        f"got shape {out['tensor'].shape}", got=got)


@check(points=1, functions=("freeze_and_replace_head",))
@given(seed=st.integers(0, 1000), n_classes=st.integers(2, 12))
def no_gradient_reaches_the_frozen_backbone(sub, seed, n_classes):
    """A backward pass through the returned model gives gradients to the new head only, none to the backbone."""
    backbone, _ = _worker_backbone(sub, seed, train_mode=False)
    what = f"freeze_and_replace_head(backbone, {n_classes})"
    got = sub.freeze_and_replace_head(backbone, n_classes)
    expect_module(sub, got, "freeze_and_replace_head", what)
    x, y = _images(seed, 4, 8), np.arange(4) % n_classes
    out = sub.probe("grads_after_backward", got, x, y)
    ok = isinstance(out, dict) and isinstance(out.get("with_grad"), list) and isinstance(out.get("error"), str)
    expect(ok, what, "the gradients could not be read", got=got)
    if out["error"]:
        raise Mismatch(what, "error", f"the model raised {out['error']}", got=got)
    leaked = [n for n in out["with_grad"] if not n.startswith("classifier.")]
    if leaked:
        sub.observe(got, "not frozen")
        raise Mismatch(what, "value", f"gradients reach the frozen backbone ({', '.join(leaked[:3])}…): set "
                                      "requires_grad = False on every backbone parameter", got=got)
    expect(len(out["with_grad"]) == 2, what, f"the new head should get gradients (weight and bias), got "
                                             f"{out['with_grad']}", got=got)


def _head(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 7)
    return rng.normal(0, 0.3, (n, d)).astype(np.float32), rng.normal(0, 0.1, n).astype(np.float32)


def _grader_frozen(sub, seed: int, n: int) -> tuple[Handle, dict, np.ndarray, np.ndarray]:
    """The grader's own frozen backbone with a head (W, b) for n classes, in the worker."""
    spec = tiny_spec(seed)
    w, b = _head(seed, n, _counts(spec)[1])
    model = sub.probe("frozen_with_head", spec, w, b)
    expect(isinstance(model, Handle), "the grader's model", "the grader could not build its frozen model")
    return model, spec, w, b


@check(points=1, functions=("trainable_parameters",))
@given(seed=st.integers(0, 1000), n_classes=st.integers(2, 12))
def trainable_parameters_counts_only_parameters_that_require_gradients(sub, seed, n_classes):
    """trainable_parameters gives D·n + n for a frozen backbone with a new head, and every parameter when nothing is frozen."""
    model, spec, w, b = _grader_frozen(sub, seed, n_classes)
    frozen, d = _counts(spec)
    got = sub.trainable_parameters(model)
    if got == frozen + w.size + b.size:
        sub.observe(got, "counts frozen")
    expect_int(got, w.size + b.size, what=f"trainable_parameters(frozen backbone + Linear({d}, {n_classes}))")
    whole, _ = _worker_backbone(sub, seed, train_mode=False)
    total = frozen + spec["state"]["classifier.1.weight"].size + spec["state"]["classifier.1.bias"].size
    expect_int(sub.trainable_parameters(whole), total, what="trainable_parameters(backbone with nothing frozen)")


# --------------------------------------------------------------------------- make_optimizer (2)


@check(points=2, functions=("make_optimizer",))
@given(seed=st.integers(0, 1000), n_classes=st.integers(2, 12), lr=st.sampled_from([0.1, 0.01, 0.003, 0.001]))
def make_optimizer_holds_the_trainable_parameters_only_with_the_given_learning_rate(sub, seed, n_classes, lr):
    """make_optimizer(model, lr) gives a torch optimizer over the head's parameters and no frozen one, at learning rate lr."""
    model, *_ = _grader_frozen(sub, seed, n_classes)
    what = f"make_optimizer(frozen backbone + new head, lr={lr})"
    got = sub.make_optimizer(model, lr=lr)
    info = sub.probe("optimizer_info", got, model) if isinstance(got, Handle) else {"optimizer": False}
    if not (isinstance(info, dict) and info.get("optimizer") is True):
        raise Mismatch(what, "type", f"expected a torch.optim optimizer (e.g. torch.optim.Adam), got {type_name(got)}",
                       got=got)
    if info["frozen"]:
        sub.observe(got, "all parameters")
        raise Mismatch(what, "value", f"the optimizer holds {len(info['frozen'])} frozen parameters "
                                      f"({', '.join(info['frozen'][:2])}…): give it only those with requires_grad",
                       got=got)
    expect(sorted(info["trainable"]) == ["classifier.1.bias", "classifier.1.weight"] and info["other"] == 0, what,
           f"the optimizer should hold the head's weight and bias, holds {info['trainable']} "
           f"(+{info['other']} tensors not of the model)", got=got)
    expect(all(abs(v - lr) <= 1e-12 for v in info["lr"]), what, f"learning rate {info['lr']}, expected {lr}", got=got)


# --------------------------------------------------------------------------- fine_tune_step (4)


def _reference_steps(seed: int, w, b, x, y, lr: float, steps: int, *, accumulate: bool = False):
    """Losses and head (W, b) after each of ``steps`` SGD steps of the cross-entropy on the batch,
    in the grader: features of the frozen backbone in eval mode, float64."""
    f = _reference_features(seed, x)                                               # (N, D)
    w, b = w.astype(np.float64), b.astype(np.float64)
    onehot = np.eye(len(b))[y]                                                     # (N, n)
    gw, gb = np.zeros_like(w), np.zeros_like(b)
    losses, heads = [], []
    for _ in range(steps):
        z = f @ w.T + b                                                            # (N, n) logits
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        losses.append(float(-np.mean(np.log(p[np.arange(len(y)), y]))))
        g = (p - onehot) / len(y)                                                  # dloss/dlogits
        gw, gb = (gw + g.T @ f, gb + g.sum(axis=0)) if accumulate else (g.T @ f, g.sum(axis=0))
        w, b = w - lr * gw, b - lr * gb
        heads.append((w.copy(), b.copy()))
    return losses, heads


@dataclass
class StepCase:
    seed: int
    n_classes: int
    n: int
    lr: float


@st.composite
def step_cases(draw):
    """Return a strategy for a fine-tuning batch: backbone seed, 2-6 classes, 2-6 images, a learning rate."""
    return StepCase(draw(st.integers(0, 1000)), draw(st.integers(2, 6)), draw(st.integers(2, 6)),
                    draw(st.sampled_from([0.5, 0.1, 0.05])))


def _steps(sub, case: StepCase, steps: int):
    model, spec, w, b = _grader_frozen(sub, case.seed, case.n_classes)
    opt = sub.probe("sgd", model, case.lr)
    x = _images(case.seed + 3, case.n, 8)
    y = np.random.default_rng(case.seed).integers(0, case.n_classes, case.n)
    what = f"fine_tune_step(model, SGD(head, lr={case.lr}), x of shape {x.shape}, y={y.tolist()})"
    got = [sub.fine_tune_step(model, opt, x, y) for _ in range(steps)]
    state = _state(sub, model)
    return got, state, spec, (w, b, x, y), what + (f" × {steps}" if steps > 1 else "")


def _expect_head(sub, got, state, spec, expected_head, what, wrong_heads: dict):
    drift = _batchnorm_drift(state["state"], spec)
    if drift:
        sub.observe(got, "train mode")
        raise Mismatch(what, "value", f"the frozen backbone's batchnorm statistics changed ({drift[0]}…): it ran in "
                                      "train mode — call model.features.eval() after model.train()", got=got)
    changed = [n for n in _changed(state["state"], spec, "features.")]
    expect(not changed, what, f"frozen parameters changed: {', '.join(changed[:3])}", got=got)
    w_got, b_got = state["state"].get("classifier.1.weight"), state["state"].get("classifier.1.bias")
    w_exp, b_exp = expected_head
    expect(w_got is not None and b_got is not None and w_got.shape == w_exp.shape, what,
           "the model's head is no longer the Linear layer it was given", got=got)
    if not (np.allclose(w_got, w_exp, atol=1e-4) and np.allclose(b_got, b_exp, atol=1e-4)):
        for fact, (w_wrong, b_wrong) in wrong_heads.items():
            if np.allclose(w_got, w_wrong, atol=1e-4) and np.allclose(b_got, b_wrong, atol=1e-4):
                sub.observe(got, fact)
                break
        err = float(np.max(np.abs(w_got - w_exp)))
        raise Mismatch(what, "value", f"the head's weights after the step(s) differ from one SGD step each on the "
                                      f"cross-entropy (largest difference {err:.3g})", got=got)


@check(points=2, functions=("fine_tune_step",))
@given(case=step_cases())
def fine_tune_step_returns_the_loss_and_moves_only_the_head(sub, case):
    """One step returns the cross-entropy as a float, moves the head by one step and leaves the frozen backbone as it was.

    The frozen backbone's weights and batchnorm statistics must be unchanged afterwards.
    """
    got, state, spec, (w, b, x, y), what = _steps(sub, case, 1)
    losses, heads = _reference_steps(case.seed, w, b, x, y, case.lr, 1)
    if isinstance(got[0], TensorData):
        raise Mismatch(what, "type", "returned a tensor: return loss.item(), a Python float", got=got[0])
    _expect_head(sub, got[0], state, spec, heads[0], what, {"no step": (w, b)})
    expect_float(got[0], losses[0], what=what, rtol=1e-4, atol=1e-5)


@check(points=2, functions=("fine_tune_step",))
@given(case=step_cases())
def three_fine_tune_steps_start_each_from_fresh_gradients(sub, case):
    """Three steps in a row equal three SGD steps, each on the current loss's gradient (the old gradients cleared)."""
    got, state, spec, (w, b, x, y), what = _steps(sub, case, 3)
    losses, heads = _reference_steps(case.seed, w, b, x, y, case.lr, 3)
    _, accumulated = _reference_steps(case.seed, w, b, x, y, case.lr, 3, accumulate=True)
    _expect_head(sub, got[-1], state, spec, heads[-1], what, {"no zero_grad": accumulated[-1], "no step": (w, b)})
    for i, (g, e) in enumerate(zip(got, losses)):
        expect_float(g, e, what=f"{what}: step {i + 1}'s loss", rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- fit_shallow (3)

SHALLOW_CLASSES, SHALLOW_DIM, SHALLOW_TRAIN, SHALLOW_TEST = 10, 16, 10, 50
# Calibrated on the data below: logistic regression on standardised features 0.94, without
# standardising 0.91, a random forest (100 trees) 0.87, 1-nearest neighbour 0.78, always one class 0.10.
SHALLOW_ZERO, SHALLOW_FULL = 0.3, 0.7


def shallow_data(seed: int = 12):
    """Few-label features: 10 Gaussian classes in 16 dimensions (means drawn with std 1.2 per axis,
    unit noise), 10 labelled and 50 test points per class, on an offset and scale like real features."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 1.2, (SHALLOW_CLASSES, SHALLOW_DIM))
    scale = rng.uniform(0.5, 4.0, SHALLOW_DIM)

    def draw(per_class):
        y = np.repeat(np.arange(SHALLOW_CLASSES), per_class)
        x = (means[y] + rng.normal(0, 1, (len(y), SHALLOW_DIM))) * scale + 2.0
        order = rng.permutation(len(y))
        return x[order].astype(np.float32), y[order].astype(np.int64)

    return draw(SHALLOW_TRAIN), draw(SHALLOW_TEST)


@check(points=3, functions=("fit_shallow",), timeout=60.0,
       title=f"fit_shallow on 10 labelled features per class: no points at ≤ {SHALLOW_ZERO:g} test accuracy, "
             f"full marks at ≥ {SHALLOW_FULL:g}")
def fit_shallow_classifies_held_out_features(sub):
    """A learner fitted on 10 labelled feature vectors per class classifies 500 held-out ones.

    The test labels stay in the grader.
    The data is fixed (seeded), so the verdict is too. A learner at chance (0.1) has an
    accuracy above 0.3 on the 500 test points with probability < exp(−2·500·0.2²) = 4e-18
    (Hoeffding); logistic regression gets 0.94, a random forest 0.87.
    """
    (x_train, y_train), (x_test, y_test) = shallow_data()
    what = f"fit_shallow(features {x_train.shape}, labels {y_train.shape})"
    model = sub.fit_shallow(x_train, y_train)
    if not isinstance(model, Handle):
        raise Mismatch(what, "type", f"expected a fitted learner with .predict(features), got {type_name(model)}",
                       got=model)
    predicted = sub.method(model, "predict", x_test)
    got = expect_array(predicted, shape=(len(x_test),), what=f"{what}.predict(features {x_test.shape})",
                       kinds="iuf", allow_list=True)
    accuracy = float(np.mean(got == y_test))
    sub.context.details["accuracy"] = accuracy
    if accuracy < SHALLOW_FULL:
        fraction = (accuracy - SHALLOW_ZERO) / (SHALLOW_FULL - SHALLOW_ZERO)
        raise Verdict(fraction, f"test accuracy {accuracy:.3f} on held-out features (logistic regression: 0.94; "
                                f"full marks at {SHALLOW_FULL:g})")


# --------------------------------------------------------------------------- typical mistakes

MISTAKES = [
    Mistake("test images among the labelled", "few_label_split",
            "some labelled indices are also in rest: you would evaluate on images you trained on",
            "rest = np.setdiff1d(np.arange(len(labels)), labelled)", observed="labelled in rest"),
    Mistake("drawn with replacement", "few_label_split", "the same image is drawn twice into the labelled ones",
            "rng.choice(members, size=k, replace=False)", observed="with replacement"),
    Mistake("k overall, not k per class", "few_label_split",
            "labelled has k × classes images, but not k of every class: the draw is not balanced",
            "draw k indices from each class separately: np.flatnonzero(labels == c)", observed="not per class"),
    Mistake("not random", "few_label_split", "the labelled images are the first (or fixed) ones of each class",
            "draw them with rng = np.random.default_rng(seed); rng.choice(members, k, replace=False)",
            observed="not random"),
    Mistake("seed ignored", "few_label_split", "the same seed gives different splits: the draw ignores the seed",
            "use np.random.default_rng(seed), not np.random.choice (the global generator)", observed="seed ignored"),
    Mistake("not scaled to [0, 1]", "preprocess", "the pixels were normalised without dividing by 255 first",
            "x = images / 255 before (x - mean) / std: the mean and std are for pixels in [0, 1]",
            observed="not scaled"),
    Mistake("normalisation other than the backbone's", "preprocess",
            "your preprocess uses ImageNet's constants, not the mean and std it was given",
            "use the mean and std arguments: each backbone has its own", observed="imagenet constants"),
    Mistake("normalisation other than the backbone's", "preprocess",
            "your preprocess subtracts ImageNet's mean, not the mean it was given",
            "use the mean argument: each backbone has its own", observed="imagenet mean"),
    Mistake("normalisation other than the backbone's", "preprocess",
            "your preprocess divides by ImageNet's std, not the std it was given",
            "use the std argument: each backbone has its own", observed="imagenet std"),
    Mistake("normalisation other than the backbone's", "preprocess",
            "your preprocess maps pixels to [-1, 1] (mean 0.5, std 0.5), not with the backbone's mean and std",
            "use the mean and std arguments", observed="half"),
    Mistake("normalisation other than the backbone's", "preprocess",
            "your preprocess normalises with the batch's own mean and std: the backbone was trained with "
            "ImageNet's, and a batch's statistics change from batch to batch", "use the mean and std arguments",
            observed="batch statistics"),
    Mistake("not normalised", "preprocess", "your preprocess scales to [0, 1] but does not normalise",
            "(x - mean) / std per channel, mean and std shaped (1, 3, 1, 1)", observed="not normalised"),
    Mistake("mean and std swapped", "preprocess", "your preprocess computes (x - std) / mean",
            "(x - mean) / std", observed="mean and std swapped"),
    Mistake("resized the wrong way", "preprocess", "your preprocess resizes with nearest neighbours, not bilinearly",
            'F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)', observed="nearest"),
    Mistake("resized the wrong way", "preprocess", "your preprocess resizes with align_corners=True",
            'F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)', observed="align corners"),
    Mistake("features after the ImageNet classifier", "extract_features",
            "your features are the backbone's ImageNet logits: backbone(x) runs the classifier too",
            "take backbone.features(x): the features before the classifier", observed="after classifier"),
    Mistake("backbone left in train mode", "extract_features",
            "the backbone ran in train mode: batchnorm used each batch's statistics and updated its stored ones "
            "(they drift), and dropout was on", "call backbone.eval() before extracting", observed="train mode"),
    Mistake("gradients during extraction", "extract_features",
            "the backbone ran with autograd on: every batch's graph is kept for a backward pass that never comes",
            "with torch.no_grad(): around the loop", observed="gradients"),
    Mistake("not batched", "extract_features", "all images went through the backbone at once",
            "for i in range(0, len(x), batch_size): backbone.features(x[i:i + batch_size])", observed="not batched"),
    Mistake("gradients flow into the frozen backbone", "freeze_and_replace_head",
            "the backbone's parameters still require gradients: fine-tuning would change the pretrained weights",
            "for p in backbone.parameters(): p.requires_grad = False — before adding the new head",
            observed="not frozen"),
    Mistake("new head frozen too", "freeze_and_replace_head",
            "nothing is trainable: the new head was frozen with the backbone",
            "freeze first, then replace backbone.classifier[-1] (a new nn.Linear requires gradients)",
            observed="head frozen"),
    Mistake("head input size wrong", "freeze_and_replace_head",
            "the new head's input size is not the backbone's feature size D (e.g. 1280 hard-coded)",
            "nn.Linear(backbone.classifier[-1].in_features, n_classes)", observed="head size"),
    Mistake("frozen parameters counted", "trainable_parameters", "your count includes the frozen parameters",
            "sum(p.numel() for p in model.parameters() if p.requires_grad)", observed="counts frozen"),
    Mistake("optimizer given all parameters", "make_optimizer",
            "the optimizer holds the frozen parameters too",
            "torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)", observed="all parameters"),
    Mistake("backbone left in train mode", "fine_tune_step",
            "the frozen backbone ran in train mode: its batchnorm statistics drift although its weights are frozen",
            "model.train(); model.features.eval()", observed="train mode"),
    Mistake("optimizer.step() missing", "fine_tune_step", "the head did not change: no optimizer step was taken",
            "loss.backward(); optimizer.step()", observed="no step"),
    Mistake("gradients accumulate", "fine_tune_step",
            "each step adds the new gradient to the old ones: optimizer.zero_grad() is missing",
            "optimizer.zero_grad() before loss.backward()", observed="no zero_grad"),
]
