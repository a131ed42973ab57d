"""The project's reference ladder on LFW-8: ``grade reference faces``.

Each rung is a model the course shows for the celebrity-faces project, trained on the fixed
split's training faces (``grader.data.faces``: 60 / 20 / 20 % per person), its epoch chosen on
the validation faces, and scored on the test faces: accuracy, balanced accuracy (the grade's
measure: one person has 530 images, another 60) and macro-F1, beside the course's numbers.
Then the deep ensemble: ``k`` CNNs that differ only in their seed, against their members
(accuracy, balanced accuracy, NLL, ECE). Seeded, so a rerun with the same thread count gives
the same table.

The rungs: always the most frequent person; logistic regression on the raw pixels; the course's
fcNN; a CNN with dropout and batchnorm; a pretrained ImageNet network's frozen features and a
logistic regression; the same network fine-tuned end to end with a new head.
"""

from __future__ import annotations

import copy
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .ladder import machine, write_table

# The course's numbers (test accuracy on its own web faces, 250/50/50 per person, TF-Keras):
# ../shared/course/EXERCISES.md. Aligned LFW faces are easier (logistic regression ≈ 0.93).
COURSE = {"majority": "", "logreg": "", "fcnn": "0.55", "cnn": "0.71", "frozen": "", "finetuned": "0.84 (VGG16)"}
TITLES = {
    "majority": "always the most frequent person",
    "logreg": "logistic regression, raw pixels",
    "fcnn": "the course's fcNN (4096-500-50-8, ReLU)",
    "cnn": "CNN with dropout and batchnorm",
    "frozen": "pretrained features (frozen) + logistic regression",
    "finetuned": "pretrained network, fine-tuned",
}
RUNGS = tuple(TITLES)
FROM_SCRATCH = ("majority", "logreg", "fcnn", "cnn")


@dataclass(frozen=True)
class Settings:
    """What a run used: enough to rerun it and get the same table."""
    seed: int = 0
    threads: int = 2
    fcnn_epochs: int = 60
    cnn_epochs: int = 60
    finetune_epochs: int = 15
    backbone: str = "mobilenet_v2"
    size: int = 128              # the 64×64 faces are upsampled to this side for the backbone
    ensemble_size: int = 5       # CNNs of the deep ensemble (the ladder's CNN is its first member)


QUICK = dict(fcnn_epochs=3, cnn_epochs=3, finetune_epochs=1, size=64, ensemble_size=3)


@dataclass
class Row:
    name: str
    title: str
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    val_balanced_accuracy: float | None
    course: str
    parameters: int
    best_epoch: int
    epochs: int
    seconds: float


def _row(name, labels, predicted, *, val=None, parameters=0, best_epoch=-1, epochs=0, seconds=0.0) -> Row:
    from .faces import scores

    s = scores(labels, predicted)
    return Row(name, TITLES[name], round(s["accuracy"], 4), round(s["balanced_accuracy"], 4), round(s["macro_f1"], 4),
               None if val is None else round(val, 4), COURSE[name], parameters, best_epoch, epochs, round(seconds, 1))


def majority(train, val, test, settings: Settings, **_) -> tuple[Row, None]:
    """Always the person with the most training faces: the accuracy a guess gets, balanced 1/8."""
    started = time.perf_counter()
    guess = int(np.argmax(train.counts()))
    return _row("majority", test.labels, np.full(len(test), guess), seconds=time.perf_counter() - started), None


def logreg(train, val, test, settings: Settings, **_) -> tuple[Row, None]:
    """Standardised raw pixels, multinomial logistic regression (scikit-learn, C=1)."""
    from .exercise12 import fit_shallow

    started = time.perf_counter()
    flat = lambda d: d.images.reshape(len(d), -1).astype(np.float32) / 255   # noqa: E731  (N, 4096)
    model = fit_shallow(flat(train), train.labels, seed=settings.seed)
    row = _row("logreg", test.labels, model.predict(flat(test)), seconds=time.perf_counter() - started)
    row.val_balanced_accuracy = round(_balanced(val.labels, model.predict(flat(val))), 4)
    return row, None


def _balanced(labels, predicted) -> float:
    from .faces import scores

    return scores(labels, predicted)["balanced_accuracy"]


def train_net(name: str, model, train, val, test, recipe, on_step=None):
    """Fit ``model`` (faces scaled to [0, 1]) and score it; returns (Row, model, test probabilities)."""
    from .faces import fit, n_parameters, probabilities, scale_01

    history = fit(model, scale_01(train.images), train.labels, scale_01(val.images), val.labels, recipe,
                  on_step=on_step)
    probs = probabilities(model, scale_01(test.images))                          # (N, 8)
    row = _row(name, test.labels, probs.argmax(axis=1), val=history.val_balanced_accuracy[history.best_epoch],
               parameters=n_parameters(model), best_epoch=history.best_epoch + 1, epochs=recipe.epochs,
               seconds=history.seconds)
    return row, model, probs


def fcnn_rung(train, val, test, settings: Settings, on_step=None, **_):
    import torch

    from .faces import Recipe, fcnn

    torch.manual_seed(settings.seed)
    row, model, _ = train_net("fcnn", fcnn(), train, val, test,
                              Recipe(epochs=settings.fcnn_epochs, lr=1e-4, augment=False, seed=settings.seed), on_step)
    return row, model


def cnn_member(seed: int, train, val, test, settings: Settings, on_step=None):
    """One CNN of the ladder and the ensemble: the same recipe, its own seed (init, order, dropout)."""
    import torch

    from .faces import Recipe, cnn

    torch.manual_seed(seed)
    return train_net("cnn", cnn(), train, val, test, Recipe(epochs=settings.cnn_epochs, lr=1e-3, seed=seed), on_step)


def cnn_rung(train, val, test, settings: Settings, on_step=None, **_):
    row, model, _ = cnn_member(settings.seed, train, val, test, settings, on_step)
    return row, model


def frozen_rung(train, val, test, settings: Settings, backbone=None, **_):
    """The backbone's pooled features (eval mode, no gradients), then a logistic regression."""
    import torch

    from .exercise12 import fit_shallow
    from .faces import FineTuned, scale_01

    started = time.perf_counter()
    net = FineTuned(backbone.features, backbone.feature_dim, backbone.mean, backbone.std, settings.size).eval()

    def features(d):
        x = scale_01(d.images)
        with torch.no_grad():
            return torch.cat([net.features(net.backbone_input(x[i: i + 128])) for i in range(0, len(x), 128)]).numpy()

    model = fit_shallow(features(train), train.labels, seed=settings.seed)
    row = _row("frozen", test.labels, model.predict(features(test)), seconds=time.perf_counter() - started)
    row.val_balanced_accuracy = round(_balanced(val.labels, model.predict(features(val))), 4)
    return row, None


def finetune_rung(train, val, test, settings: Settings, backbone=None, on_step=None, **_):
    """Every layer of the pretrained network trained (backbone lr 1e-4, new head 1e-3), its
    batchnorm statistics updated on the faces."""
    import torch

    from .faces import FineTuned, Recipe

    torch.manual_seed(settings.seed)
    net = copy.deepcopy(backbone)
    model = FineTuned(net.features, net.feature_dim, net.mean, net.std, settings.size)
    recipe = Recipe(epochs=settings.finetune_epochs, lr=1e-3, backbone_lr=1e-4, seed=settings.seed)
    row, model, _ = train_net("finetuned", model, train, val, test, recipe, on_step)
    return row, model


RUNG_FUNCTIONS = {"majority": majority, "logreg": logreg, "fcnn": fcnn_rung, "cnn": cnn_rung,
                  "frozen": frozen_rung, "finetuned": finetune_rung}


def deep_ensemble(train, val, test, settings: Settings, on_step=None, first=None) -> dict:
    """``settings.ensemble_size`` CNNs with seeds seed, seed+1, …: each member's and the ensemble's
    accuracy, balanced accuracy, NLL and ECE on the test faces, and the members' training time."""
    from .faces import ensemble, probabilities, scale_01

    probs, seconds = [], []
    for i in range(settings.ensemble_size):
        if i == 0 and first is not None:
            row, model = first
            probs.append(probabilities(model, scale_01(test.images)))
        else:
            row, _, p = cnn_member(settings.seed + i, train, val, test, settings, on_step)
            probs.append(p)
        seconds.append(row.seconds)
    out = ensemble(probs, test.labels)
    out["seeds"] = [settings.seed + i for i in range(settings.ensemble_size)]
    out["member_seconds"] = [round(s, 1) for s in seconds]
    return _rounded(out)


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def load_faces(data_dir):
    from grader.data import load_split

    return tuple(load_split("lfw8", split, data_dir) for split in ("train", "val", "test"))


def run(data_dir, *, quick: bool = False, only: tuple[str, ...] = (), ensemble: bool = True,
        settings: Settings | None = None, out: Path | None = None, merge: bool = False,
        export_solution: Path | None = None, console=None, net=None, **overrides) -> dict:
    """Train the rungs (``only``: some of them, "ensemble" among them for the ensemble) and the ensemble; return (and write to ``out``)
    the table. ``merge`` keeps the rows of ``out`` for rungs not trained now (the ladder run
    rung by rung). ``export_solution`` saves the fine-tuned network's weights (float16
    safetensors): the project solution's weights. ``net``: a backbone to use instead of
    loading ``settings.backbone`` (the tests pass grader.kit.pretrained.tiny_backbone)."""
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = console or Console()
    if settings is None:
        base = dict(QUICK) if quick else {}
        base.update({k: v for k, v in overrides.items() if v is not None})
        settings = Settings(**base)
    unknown = set(only) - {*RUNGS, "ensemble"}
    if unknown:
        raise ValueError(f"unknown rung(s) {', '.join(sorted(unknown))}; known: {', '.join(RUNGS)}, ensemble")
    rungs = [r for r in RUNGS if not only or r in only]
    if export_solution is not None and "finetuned" not in rungs:
        raise ValueError("--export-solution needs the finetuned rung (add --only finetuned)")
    torch.set_num_threads(settings.threads)
    started = time.perf_counter()
    train, val, test = load_faces(data_dir)
    backbone = net
    if backbone is None and {"frozen", "finetuned"} & set(rungs):
        from grader.kit.pretrained import load_backbone

        backbone = load_backbone(settings.backbone)
    previous = json.loads(Path(out).read_text()) if merge and out is not None and Path(out).is_file() else {}
    rows = {r["name"]: r for r in previous.get("rows", [])}
    columns = (TextColumn("{task.description:<52}"), BarColumn(), TextColumn("{task.fields[info]}"),
               TimeElapsedColumn())
    first_cnn = None
    with Progress(*columns, console=console) as progress:
        for name in rungs:
            task = progress.add_task(TITLES[name], total=None, info="")

            def on_step(epoch, loss, task=task):
                progress.update(task, info=f"epoch {epoch + 1} loss {loss:.3f}")

            row, model = RUNG_FUNCTIONS[name](train, val, test, settings, backbone=backbone, on_step=on_step)
            progress.update(task, total=1, completed=1, info=f"balanced {row.balanced_accuracy:.3f}")
            progress.console.print(f"{row.title}: accuracy {row.accuracy:.3f}, balanced {row.balanced_accuracy:.3f}, "
                                   f"macro-F1 {row.macro_f1:.3f} ({row.seconds / 60:.1f} min)")
            rows[name] = asdict(row)
            if name == "cnn":
                first_cnn = (row, model)
            if name == "finetuned" and export_solution is not None:
                size = save_half(model, export_solution)
                progress.console.print(f"solution weights: {export_solution} ({size / 1e6:.2f} MB)")
        result_ensemble = previous.get("ensemble")
        if ensemble and settings.ensemble_size >= 2 and (not only or "ensemble" in only):
            task = progress.add_task(f"deep ensemble of {settings.ensemble_size} CNNs", total=None, info="")
            result_ensemble = deep_ensemble(train, val, test, settings, first=first_cnn,
                                            on_step=lambda e, l: progress.update(task, info=f"epoch {e + 1}"))
            progress.update(task, total=1, completed=1, info="")
    table = {
        "dataset": "lfw8", "quick": quick, "settings": asdict(settings),
        "splits": {"train": len(train), "val": len(val), "test": len(test)},
        "classes": list(test.classes), "test_counts": test.counts().tolist(),
        "machine": machine(),
        "rows": [rows[r] for r in RUNGS if r in rows],
        "ensemble": result_ensemble,
    }
    table["total_seconds"] = round(sum(r["seconds"] for r in table["rows"])
                                   + sum((result_ensemble or {}).get("member_seconds", [])[1:]), 1)
    console.print(render(table))
    if out is not None:
        write_table(table, out, console)
    console.print(f"this run: {time.perf_counter() - started:.0f} s")
    return table


def render(table: dict):
    """The ladder and the ensemble as rich Tables beside the course's numbers."""
    from rich.console import Group
    from rich.table import Table

    s = table["settings"]
    t = Table(title="LFW-8 celebrity faces: reference ladder" + (" (quick)" if table["quick"] else ""),
              caption=f"train {table['splits']['train']} / val {table['splits']['val']} / test "
                      f"{table['splits']['test']} faces, 64×64 grey; {s['backbone']} at {s['size']} px; seed "
                      f"{s['seed']}, {s['threads']} threads; course: its own web faces, accuracy")
    for col in ("model", "accuracy", "balanced", "macro-F1", "course", "val bal.", "params", "best epoch", "time"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for r in table["rows"]:
        t.add_row(r["title"], f"{r['accuracy']:.3f}", f"{r['balanced_accuracy']:.3f}", f"{r['macro_f1']:.3f}",
                  r["course"], "" if r["val_balanced_accuracy"] is None else f"{r['val_balanced_accuracy']:.3f}",
                  f"{r['parameters']:,}" if r["parameters"] else "",
                  f"{r['best_epoch']}/{r['epochs']}" if r["epochs"] else "", f"{r['seconds'] / 60:.1f} min")
    parts = [t]
    e = table.get("ensemble")
    if e:
        et = Table(title=f"deep ensemble of {e['k']} CNNs (seeds {', '.join(map(str, e['seeds']))})")
        for col in ("", "accuracy", "balanced", "macro-F1", "NLL", "ECE"):
            et.add_column(col, justify="left" if not col else "right")
        for label, m in [*((f"member {i + 1}", m) for i, m in enumerate(e["members"])),
                         ("mean member", e["mean_member"]), ("ensemble", e["ensemble"])]:
            et.add_row(label, *(f"{m[k]:.3f}" for k in ("accuracy", "balanced_accuracy", "macro_f1", "nll", "ece")))
        parts.append(et)
    return Group(*parts)


def save_half(model, path: Path) -> int:
    """The model's state dict as float16 safetensors (half the size; loading casts back)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if v.is_floating_point() else v).detach().contiguous() for k, v in model.state_dict().items()}
    tmp = path.with_name(path.name + ".part")
    save_file(state, str(tmp), metadata={"produced_by": "grade reference faces --only finetuned --export-solution"})
    os.replace(tmp, path)
    return path.stat().st_size
