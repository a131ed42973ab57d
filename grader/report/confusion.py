"""What a classifier got right per class (exercise11): a rich table and a PNG picture.

A check that measures a classifier puts into its ``CheckResult.details``: ``accuracy``,
``n_images``, ``classes``, ``per_class_accuracy`` and ``confusion_matrix`` (rows: the true
class, columns: the predicted one). The overall accuracy hides which classes a model
confuses (cats and dogs, automobiles and trucks on CIFAR-10); these show it.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text

KEYS = ("accuracy", "n_images", "classes", "per_class_accuracy", "confusion_matrix")


def has_classes(details: dict) -> bool:
    """Whether ``details`` describe a classifier's results (every key this module reads)."""
    return all(k in details for k in KEYS)


def headline(details: dict) -> str:
    """"test accuracy 0.985", with the balanced accuracy and macro-F1 beside it when the check
    measured them (classes of very different sizes: the project's faces)."""
    more = [f"{label} {details[key]:.3f}" for key, label in (("balanced_accuracy", "balanced accuracy"),
                                                             ("macro_f1", "macro-F1"))
            if isinstance(details.get(key), (int, float))]
    return f"test accuracy {details['accuracy']:.3f}" + "".join(f", {m}" for m in more)


def confusion_table(details: dict) -> Table:
    """The confusion matrix as a table: one row per true class, its accuracy in the last column."""
    classes, matrix = details["classes"], details["confusion_matrix"]
    table = Table(title=f"{headline(details)} on {details['n_images']:,} images "
                        "(rows: true class, columns: predicted)", title_justify="left", box=None, pad_edge=False)
    table.add_column("", no_wrap=True)
    for name in classes:
        table.add_column(name[:5], justify="right")
    table.add_column("accuracy", justify="right")
    for i, (name, row, acc) in enumerate(zip(classes, matrix, details["per_class_accuracy"])):
        total = max(sum(row), 1)
        cells = [Text(str(n), style="bold green" if j == i else ("yellow" if n / total >= 0.1 else "dim"))
                 for j, n in enumerate(row)]
        table.add_row(name, *cells, f"{acc:.3f}")
    return table


def write_png(details: dict, path: Path, title: str = "") -> Path:
    """Write the confusion matrix (shares of each true class) beside the accuracy per class as a
    1200×500 PNG. Needs matplotlib (the ``plots`` extra), imported here only."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed, none opened
    import matplotlib.pyplot as plt
    import numpy as np

    classes = details["classes"]
    counts = np.asarray(details["confusion_matrix"], dtype=np.int64)                 # (k, k) true × predicted
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)               # (k, k) rows sum to 1
    k = len(classes)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), dpi=100, gridspec_kw={"width_ratios": [1.25, 1]})
    try:
        image = left.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for i in range(k):
            for j in range(k):
                left.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                          color="white" if shares[i, j] > 0.5 else "black")
        left.set_xticks(range(k), classes, rotation=45, ha="right", fontsize=8)
        left.set_yticks(range(k), classes, fontsize=8)
        left.set_xlabel("predicted class")
        left.set_ylabel("true class")
        left.set_title("confusion matrix (colour: share of the true class)", fontsize=10)
        fig.colorbar(image, ax=left, fraction=0.046, pad=0.04)
        right.barh(range(k), details["per_class_accuracy"], color="tab:blue")
        right.axvline(details["accuracy"], color="tab:red", linestyle="--",
                      label=f"overall {details['accuracy']:.3f}")
        right.set_yticks(range(k), classes, fontsize=8)
        right.invert_yaxis()  # the classes in the matrix's order, top to bottom
        right.set_xlim(0, 1)
        right.set_xlabel("accuracy")
        right.set_title(f"accuracy per class ({details['n_images']:,} test images)", fontsize=10)
        right.legend(loc="lower right", fontsize=8)
        if title:
            fig.suptitle(title, fontsize=11)
        fig.subplots_adjust(left=0.09, right=0.97, bottom=0.2, top=0.86, wspace=0.35)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
