"""The slides' CIFAR-10 results table, reproduced: ``grade reference cifar10``.

Each rung adds one trick to the base CNN, trained on the course's splits (10k train, 10k
validation, the 10k test images) and scored on the test split beside the course's own
(TF-Keras, single-run) numbers. Seeded, so a rerun with the same thread count gives the same
table. ``quick=True`` trains on a small subset for a couple of epochs: a smoke test of the
whole pipeline, not the course's numbers.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

# The course's numbers (test accuracy, TF-Keras, single runs): ../shared/course/EXERCISES.md.
COURSE = {
    "random_forest": "0.39", "cnn_raw": "0.50-0.57", "cnn": "0.59", "cnn_dropout": "0.58-0.62",
    "cnn_batchnorm": "0.60-0.64", "cnn_augment": "0.62-0.68", "cnn_all": "0.62-0.68",
}


@dataclass(frozen=True)
class Rung:
    """One row of the table: which model, which input scaling, which tricks."""
    name: str
    title: str
    input: str = "/255"          # "/255" or "raw 0-255"
    dropout: float = 0.0
    batchnorm: bool = False
    augment: bool = False


RUNGS = [
    Rung("random_forest", "random forest, 40 trees, raw pixels", input="raw 0-255"),
    Rung("cnn_raw", "base CNN, raw 0-255 input", input="raw 0-255"),
    Rung("cnn", "base CNN, /255 input"),
    Rung("cnn_dropout", "+ dropout 0.3", dropout=0.3),
    Rung("cnn_batchnorm", "+ batchnorm", batchnorm=True),
    Rung("cnn_augment", "+ augmentation (flip, shift, rotation)", augment=True),
    Rung("cnn_all", "dropout + batchnorm + augmentation (exercise11)", dropout=0.3, batchnorm=True, augment=True),
]


@dataclass
class Row:
    """One trained rung's result, as written to the JSON file."""
    name: str
    title: str
    test_accuracy: float
    val_accuracy: float | None   # None for the forest (no validation use)
    course: str
    parameters: int
    epochs: int
    best_epoch: int
    seconds: float


@dataclass(frozen=True)
class Settings:
    """What a run used: enough to rerun it and get the same table."""
    epochs: int = 20
    batch_size: int = 128
    seed: int = 0
    threads: int = 2
    n_train: int = 10_000
    n_val: int = 10_000
    n_test: int = 10_000
    trees: int = 40


QUICK = dict(epochs=2, n_train=2_000, n_val=1_000, n_test=2_000, trees=10)


def load_splits(data_dir, settings: Settings):
    """The course's splits of CIFAR-10 from ``data_dir`` (any format grader.data reads)."""
    from grader.data import load
    from grader.data.splits import course_splits

    train, test = load("cifar10", data_dir)
    return course_splits(train, test, seed=settings.seed, n_train=settings.n_train, n_val=settings.n_val,
                         n_test=settings.n_test)


def random_forest(train, test, settings: Settings) -> Row:
    """The slides' baseline: 40 trees on the raw, flattened pixels (scikit-learn)."""
    from sklearn.ensemble import RandomForestClassifier

    started = time.perf_counter()
    forest = RandomForestClassifier(n_estimators=settings.trees, random_state=settings.seed,
                                    n_jobs=settings.threads)
    forest.fit(train.images.reshape(len(train), -1), train.labels)           # (N, 3072)
    acc = float(np.mean(forest.predict(test.images.reshape(len(test), -1)) == test.labels))
    rung = RUNGS[0]
    return Row(rung.name, f"random forest, {settings.trees} trees, raw pixels", acc, None,
               COURSE[rung.name], 0, 0, -1, time.perf_counter() - started)


def train_rung(rung: Rung, train, val, test, settings: Settings,
               on_step: Callable[[int, int, float], None] | None = None):
    """Train one CNN rung; returns (Row, model)."""
    import torch

    from .cifar10 import Recipe, accuracy, base_cnn, n_parameters, raw_pixels, scale_01, train as fit

    torch.manual_seed(settings.seed)
    model = base_cnn(dropout=rung.dropout, batchnorm=rung.batchnorm)
    prep = raw_pixels if rung.input.startswith("raw") else scale_01
    recipe = Recipe(epochs=settings.epochs, batch_size=settings.batch_size, augment=rung.augment,
                    seed=settings.seed)
    history = fit(model, prep(train.images), train.labels, prep(val.images), val.labels, recipe, on_step=on_step)
    acc = accuracy(model, prep(test.images), test.labels)
    row = Row(rung.name, rung.title, acc, history.val_accuracy[history.best_epoch], COURSE[rung.name],
              n_parameters(model), settings.epochs, history.best_epoch + 1, history.seconds)
    return row, model


def run(data_dir, *, quick: bool = False, only: tuple[str, ...] = (), epochs: int | None = None,
        threads: int | None = None, settings: Settings | None = None, out: Path | None = None,
        export_exercise11: Path | None = None, console=None) -> dict:
    """Train the ladder and return (and write to ``out``) the table as a dict.

    ``export_exercise11`` saves the "cnn_all" rung's weights there: exercise11's solution
    weights (same architecture as solutions/exercise11.py, same /255 preprocessing).
    ``settings`` replaces the defaults (and ``quick``/``epochs``/``threads``) entirely.
    """
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = console or Console()
    if settings is None:
        overrides = dict(QUICK) if quick else {}
        if epochs is not None:
            overrides["epochs"] = epochs
        settings = Settings(threads=threads or os.cpu_count() or 1, **overrides)
    torch.set_num_threads(settings.threads)
    unknown = set(only) - {r.name for r in RUNGS}
    if unknown:
        raise ValueError(f"unknown rung(s) {', '.join(sorted(unknown))}; known: {', '.join(r.name for r in RUNGS)}")
    rungs = [r for r in RUNGS if not only or r.name in only]
    if export_exercise11 is not None and "cnn_all" not in {r.name for r in rungs}:
        raise ValueError("--export-exercise11 needs the cnn_all rung (add --only cnn_all)")

    started = time.perf_counter()
    with console.status("loading CIFAR-10 and drawing the course's splits…"):
        train, val, test = load_splits(data_dir, settings)
    load_seconds = time.perf_counter() - started
    steps = -(-len(train) // settings.batch_size) * settings.epochs
    rows: list[Row] = []
    columns = (TextColumn("{task.description:<48}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        for rung in rungs:
            if rung.name == "random_forest":
                task = progress.add_task(rung.title, total=1, info="")
                row = random_forest(train, test, settings)
                progress.update(task, advance=1, info=f"test {row.test_accuracy:.3f}")
            else:
                task = progress.add_task(rung.title, total=steps, info="")

                def on_step(epoch, step, loss, task=task):
                    progress.update(task, advance=1, info=f"epoch {epoch + 1}/{settings.epochs} loss {loss:.3f}")

                row, model = train_rung(rung, train, val, test, settings, on_step)
                progress.update(task, info=f"test {row.test_accuracy:.3f}")
                if rung.name == "cnn_all" and export_exercise11 is not None:
                    size = save_weights(model, export_exercise11)
                    progress.console.print(f"exercise11 weights: {export_exercise11} ({size / 1e6:.2f} MB)")
            rows.append(row)
            # one line per rung: the bars are not drawn when the output is a log file
            progress.console.print(f"{row.title}: test accuracy {row.test_accuracy:.3f} "
                                   f"(course {row.course}), {row.seconds / 60:.1f} min")
    table = {
        "dataset": "cifar10", "quick": quick, "settings": asdict(settings),
        "splits": {"train": len(train), "val": len(val), "test": len(test)},
        "machine": machine(),
        "load_seconds": round(load_seconds, 1), "total_seconds": round(time.perf_counter() - started, 1),
        "rows": [asdict(r) for r in rows],
    }
    console.print(render(table))
    if out is not None:
        write_table(table, out, console)
    return table


def render(table: dict):
    """The results as a rich Table beside the course's numbers."""
    from rich.table import Table

    s = table["settings"]
    caption = (f"train {table['splits']['train']:,} / val {table['splits']['val']:,} / test {table['splits']['test']:,}; "
               f"Adam, batch {s['batch_size']}, {s['epochs']} epochs (best validation epoch kept), "
               f"seed {s['seed']}, {s['threads']} threads; course: TF-Keras, 10-20 epochs")
    t = Table(title="CIFAR-10 reference ladder" + (" (quick subset)" if table["quick"] else ""), caption=caption)
    for col, justify in [("model", "left"), ("test acc", "right"), ("course", "right"), ("val acc", "right"),
                         ("params", "right"), ("best epoch", "right"), ("time", "right")]:
        t.add_column(col, justify=justify)
    for r in table["rows"]:
        val = "" if r["val_accuracy"] is None else f"{r['val_accuracy']:.3f}"
        t.add_row(r["title"], f"{r['test_accuracy']:.3f}", r["course"], val,
                  f"{r['parameters']:,}" if r["parameters"] else "", f"{r['best_epoch']}/{r['epochs']}" if r["epochs"] else "",
                  f"{r['seconds'] / 60:.1f} min")
    return t


def machine() -> dict:
    """What a table was measured on (its figures are this machine's, and its thread count's)."""
    import torch

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__}


def write_table(table: dict, out, console) -> None:
    """Write a ladder's table as JSON to ``out`` (strict: a NaN figure is an error) and say where."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(table, indent=2, allow_nan=False) + "\n")
    console.print(f"written to {out}")


def save_weights(model, path: Path) -> int:
    """Write a state dict as safetensors (the format exercise11 asks students for); returns bytes."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(tmp),
              metadata={"produced_by": "grade reference cifar10 --only cnn_all --export-exercise11"})
    os.replace(tmp, path)
    return path.stat().st_size
