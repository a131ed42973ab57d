"""The course's few-labels table, reproduced: ``grade reference fewlabels``.

CIFAR-10 with k labelled images per class, drawn from the course's 10k training split with
``reference.exercise12.few_label_split`` and scored on the 10k test images: a CNN trained
from scratch (the course's base CNN), shallow learners on the raw pixels, the same learners
on the features of a CNN pretrained on ImageNet (``grader.kit.pretrained``; the course used
VGG16), and the pretrained network fine-tuned (its last blocks and a new head). The table is
at 10 labels per class (the course's notebook); the curve repeats every model for 1-100 labels
per class. Every figure is the mean over ``seeds`` draws of the labelled images.

The frozen part of the backbone runs once over all 20k images (its activations are cached),
so the many small fits of the curve cost seconds each.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .ladder import machine, write_table

# The course's notebook (CIFAR-10, 10 labels per class), ../shared/course/EXERCISES.md
COURSE = {"cnn_scratch": "0.23", "raw_logreg": "", "raw_forest": "", "features_logreg": "",
          "features_forest": "0.55 (VGG16)", "fine_tuned": "higher"}
TITLES = {
    "cnn_scratch": "CNN from scratch (course's base CNN, /255)",
    "raw_logreg": "logistic regression, raw pixels",
    "raw_forest": "random forest, raw pixels",
    "features_logreg": "logistic regression, pretrained features",
    "features_forest": "random forest, pretrained features",
    "fine_tuned": "pretrained, fine-tuned (last blocks + new head)",
}


@dataclass(frozen=True)
class Settings:
    """What a run used: enough to rerun it and get the same table."""
    backbone: str = "mobilenet_v2"
    size: int = 128                    # CIFAR's 32×32 upsampled to this side for the backbone
    per_class: int = 10                # the table's labels per class
    curve: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100)
    seeds: int = 3
    n_train: int = 10_000              # the course's training split: the pool the labels come from
    n_test: int = 10_000
    cnn_epochs: int = 40
    fine_tune_epochs: int = 30
    min_steps: int = 120               # at least this many batches (10 images × 40 epochs would be 40 steps)
    unfreeze: int = 2                  # trainable blocks at the end of the backbone when fine-tuning
    trees: int = 100
    threads: int = 2
    seed: int = 0


QUICK = dict(n_train=1_000, n_test=1_000, curve=(1, 10), seeds=1, cnn_epochs=5, fine_tune_epochs=5, min_steps=20,
             trees=20)


@dataclass
class Row:
    """One model at one number of labels per class: mean and spread over the seeds."""
    name: str
    title: str
    per_class: int
    test_accuracy: float
    std: float
    accuracies: list[float]
    course: str
    seconds: float                     # wall time of all its fits and test predictions (without the shared cache)


@dataclass
class Cache:
    """What every fit reuses: the frozen backbone's activations and final features."""
    train_in: "object"                 # torch (N, C, h, w): input of the trainable blocks, or the features
    test_in: "object"
    train_features: np.ndarray         # (N, D)
    test_features: np.ndarray
    tail: "object"                     # the backbone's trainable end (nn.Module), pooled: (N, C, h, w) -> (N, D)
    feature_dim: int
    seconds: float = 0.0
    info: dict = field(default_factory=dict)


# -----------------------------------------------------------------------------
# the frozen backbone, once

def split_backbone(net, unfreeze: int):
    """(head of the trunk, trainable tail): the tail is the last ``unfreeze`` modules of the trunk
    plus the global pooling, so that ``tail(head(x)) == net.features(x)``. A trunk that is no
    nn.Sequential (EfficientNet-Lite's) is kept frozen whole: only the new head is fine-tuned."""
    import torch
    from torch import nn

    from grader.kit.pretrained import Pooled

    trunk = getattr(net.features, "trunk", None)
    if unfreeze == 0 or not isinstance(trunk, nn.Sequential):
        return net.features, nn.Identity()
    return trunk[:-unfreeze], Pooled(trunk[-unfreeze:])


def build_cache(net, train_images, test_images, settings: Settings, on_batch=None) -> Cache:
    """Run the frozen part of ``net`` over every image once (eval mode, no gradients)."""
    import torch

    from .exercise12 import preprocess

    started = time.perf_counter()
    head, tail = split_backbone(net, settings.unfreeze)
    net.eval()

    def run(images):
        outs, feats = [], []
        with torch.no_grad():
            for i in range(0, len(images), 100):
                a = head(preprocess(images[i: i + 100], net.mean, net.std, settings.size))   # (B, C, h, w) or (B, D)
                outs.append(a)
                feats.append(tail(a) if a.ndim == 4 else a)                                     # (B, D)
                if on_batch is not None:
                    on_batch(len(a))
        return torch.cat(outs), torch.cat(feats).numpy()

    train_in, train_f = run(train_images)
    test_in, test_f = run(test_images)
    return Cache(train_in, test_in, train_f, test_f, tail, train_f.shape[1], time.perf_counter() - started)


# -----------------------------------------------------------------------------
# the models

def epochs_for(n: int, epochs: int, settings: Settings, batch: int = 32) -> int:
    """``epochs``, or more when that many passes over ``n`` images make fewer than ``settings.min_steps``
    batches: with 1 label per class an epoch is a single step."""
    return max(epochs, -(-settings.min_steps // -(-n // batch)))


def fit_cnn(train_images, train_labels, test_images, test_labels, settings: Settings, seed: int) -> float:
    """The course's base CNN trained from scratch on the labelled images (no validation images
    with few labels: a fixed number of epochs, at least ``min_steps`` batches, the last one kept)."""
    import torch
    from torch.nn import functional as F

    from .cifar10 import accuracy, base_cnn, scale_01

    torch.manual_seed(seed)
    model = base_cnn()
    x, y = scale_01(train_images), torch.as_tensor(train_labels, dtype=torch.long)       # (n, 3, 32, 32), (n,)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs_for(len(y), settings.cnn_epochs, settings)):
        model.train()
        for idx in torch.randperm(len(y), generator=gen).split(32):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return accuracy(model, scale_01(test_images), test_labels)


def fit_logreg(train_x, train_y, test_x, test_y, seed: int) -> float:
    from .exercise12 import fit_shallow

    return float(np.mean(fit_shallow(train_x, train_y, seed=seed).predict(test_x) == test_y))


def fit_forest(train_x, train_y, test_x, test_y, settings: Settings, seed: int) -> float:
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=settings.trees, random_state=seed, n_jobs=settings.threads)
    return float(np.mean(forest.fit(train_x, train_y).predict(test_x) == test_y))


def fine_tune(cache: Cache, labelled: np.ndarray, train_labels, test_labels, settings: Settings, seed: int) -> float:
    """Fine-tune the backbone's last blocks (a copy of ``cache.tail``) and a new head on the cached
    activations of the labelled images: Adam, lr 1e-4 for the blocks and 1e-3 for the head,
    batchnorm kept in eval mode (100 images are too few for its statistics)."""
    import copy

    import torch
    from torch import nn
    from torch.nn import functional as F

    from .cifar10 import predict

    torch.manual_seed(seed)
    tail = copy.deepcopy(cache.tail)
    model = nn.Sequential(tail, nn.Dropout(0.2), nn.Linear(cache.feature_dim, 10))
    for p in tail.parameters():
        p.requires_grad_(True)
    groups = [{"params": list(model[2].parameters()), "lr": 1e-3}]
    if any(True for _ in tail.parameters()):
        groups.append({"params": list(tail.parameters()), "lr": 1e-4})
    opt = torch.optim.Adam(groups)
    x, y = cache.train_in[labelled], torch.as_tensor(train_labels[labelled], dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs_for(len(y), settings.fine_tune_epochs, settings)):
        model.train()
        tail.eval()                                                       # batchnorm statistics stay ImageNet's
        for idx in torch.randperm(len(y), generator=gen).split(32):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return float(np.mean(predict(model, cache.test_in, batch_size=500) == test_labels))


# -----------------------------------------------------------------------------
# the run

def load_splits(data_dir, settings: Settings):
    """The course's training split (the pool of labels) and the test images."""
    from grader.data import load
    from grader.data.splits import course_splits

    train, test = load("cifar10", data_dir)
    tr, _, te = course_splits(train, test, seed=settings.seed, n_train=settings.n_train, n_val=0,
                              n_test=settings.n_test)
    return tr, te


def run(data_dir, *, quick: bool = False, settings: Settings | None = None, out: Path | None = None,
        console=None, **overrides) -> dict:
    """Build the table and the curve; return (and write to ``out``) them as a dict."""
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from grader.kit.pretrained import load_backbone

    from .exercise12 import few_label_split

    console = console or Console()
    if settings is None:
        base = dict(QUICK) if quick else {}
        base.update({k: v for k, v in overrides.items() if v is not None})
        settings = Settings(**base)
    if settings.per_class not in settings.curve:
        settings = Settings(**{**asdict(settings), "curve": tuple(sorted({*settings.curve, settings.per_class}))})
    torch.set_num_threads(settings.threads)
    started = time.perf_counter()
    net = load_backbone(settings.backbone)
    with console.status("loading CIFAR-10 and drawing the course's splits…"):
        train, test = load_splits(data_dir, settings)
    columns = (TextColumn("{task.description:<52}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"{settings.backbone} features of {len(train) + len(test):,} images",
                                 total=len(train) + len(test))
        cache = build_cache(net, train.images, test.images, settings, lambda n: progress.advance(task, n))
        progress.console.print(f"frozen {settings.backbone} at {settings.size}×{settings.size}: "
                               f"{cache.seconds / 60:.1f} min for {len(train) + len(test):,} images")
        raw_train = train.images.reshape(len(train), -1).astype(np.float32) / 255      # (N, 3072)
        raw_test = test.images.reshape(len(test), -1).astype(np.float32) / 255
        fits = {
            "cnn_scratch": lambda lab, s: fit_cnn(train.images[lab], train.labels[lab], test.images, test.labels,
                                                  settings, s),
            "raw_logreg": lambda lab, s: fit_logreg(raw_train[lab], train.labels[lab], raw_test, test.labels, s),
            "raw_forest": lambda lab, s: fit_forest(raw_train[lab], train.labels[lab], raw_test, test.labels,
                                                    settings, s),
            "features_logreg": lambda lab, s: fit_logreg(cache.train_features[lab], train.labels[lab],
                                                         cache.test_features, test.labels, s),
            "features_forest": lambda lab, s: fit_forest(cache.train_features[lab], train.labels[lab],
                                                         cache.test_features, test.labels, settings, s),
            "fine_tuned": lambda lab, s: fine_tune(cache, lab, train.labels, test.labels, settings, s),
        }
        rows: list[Row] = []
        task = progress.add_task("fits (models × labels per class × seeds)",
                                 total=len(fits) * len(settings.curve) * settings.seeds)
        for k in settings.curve:
            splits = [few_label_split(train.labels, k, seed=settings.seed + s)[0] for s in range(settings.seeds)]
            for name, fit in fits.items():
                t0 = time.perf_counter()
                accs = []
                for s, labelled in enumerate(splits):
                    accs.append(float(fit(labelled, settings.seed + s)))
                    progress.advance(task)
                row = Row(name, TITLES[name], k, float(np.mean(accs)), float(np.std(accs)), accs,
                          COURSE[name] if k == 10 else "", time.perf_counter() - t0)
                rows.append(row)
                if k == settings.per_class:
                    progress.console.print(f"{k}/class {row.title}: {row.test_accuracy:.3f} ± {row.std:.3f} "
                                           f"({row.seconds:.0f} s)")
    table = {
        "dataset": "cifar10", "quick": quick, "settings": asdict(settings),
        "splits": {"pool": len(train), "test": len(test)},
        "backbone": {"name": settings.backbone, "source": net.source, "feature_dim": cache.feature_dim,
                     "parameters": int(sum(p.numel() for p in net.parameters()))},
        "machine": machine(),
        "cache_seconds": round(cache.seconds, 1), "total_seconds": round(time.perf_counter() - started, 1),
        "rows": [asdict(r) for r in rows],
    }
    console.print(render(table))
    console.print(render_curve(table))
    if out is not None:
        write_table(table, out, console)
    return table


def render(table: dict):
    """The table at the settings' labels per class, beside the course's numbers."""
    from rich.table import Table

    s = table["settings"]
    k = s["per_class"]
    t = Table(title=f"CIFAR-10 with {k} labels per class" + (" (quick subset)" if table["quick"] else ""),
              caption=f"{table['backbone']['name']} at {s['size']}×{s['size']}, mean ± std over {s['seeds']} draws, "
                      f"test {table['splits']['test']:,} images; frozen features: "
                      f"{table['cache_seconds'] / 60:.1f} min; course: VGG16, TF-Keras")
    for col, justify in [("model", "left"), ("test acc", "right"), ("±", "right"), ("course", "right"),
                         ("time", "right")]:
        t.add_column(col, justify=justify)
    for r in table["rows"]:
        if r["per_class"] == k:
            t.add_row(r["title"], f"{r['test_accuracy']:.3f}", f"{r['std']:.3f}", r["course"], f"{r['seconds']:.0f} s")
    return t


def render_curve(table: dict):
    """Test accuracy against labels per class, one column per number of labels."""
    from rich.table import Table

    ks = table["settings"]["curve"]
    t = Table(title="test accuracy against labels per class")
    t.add_column("model")
    for k in ks:
        t.add_column(str(k), justify="right")
    for name in dict.fromkeys(r["name"] for r in table["rows"]):
        by_k = {r["per_class"]: r["test_accuracy"] for r in table["rows"] if r["name"] == name}
        t.add_row(TITLES[name], *(f"{by_k[k]:.3f}" if k in by_k else "" for k in ks))
    return t
