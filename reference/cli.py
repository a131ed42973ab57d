"""``grade reference``: click wiring only; the work is done by reference.ladder.

    grade reference cifar10 [--quick] [--data-dir DIR] [--out table.json] [--only RUNG ...]
                            [--epochs N] [--threads N] [--export-exercise11 FILE]
    grade reference fewlabels [--quick] …
    grade reference faces [--quick] [--only RUNG ...] [--merge] [--ensemble K] [--out table.json]
                          [--export-solution FILE]
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"grade: {message}", err=True)
    sys.exit(code)


@click.group("reference", context_settings={"help_option_names": ["-h", "--help"]})
def reference():
    """Train the course's reference models on real data (needs the torch extra)."""


@reference.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where CIFAR-10 is (default: $DLCOURSE_DATA, else the user cache folder).")
@click.option("--quick", is_flag=True, help="A small subset and 2 epochs: checks the pipeline in a minute.")
@click.option("--only", multiple=True, metavar="RUNG", help="Train only these rungs (repeatable).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Epochs per CNN (default 20; quick 2).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="torch threads (default: all cores).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("cifar10-ladder.json"),
              show_default=True, help="Write the table as JSON here.")
@click.option("--export-exercise11", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Save the all-tricks CNN's weights here (safetensors): exercise11's solution weights.")
def cifar10(data_dir, quick, only, epochs, threads, out, export_exercise11):
    """Train the slides' CIFAR-10 ladder (random forest, base CNN, dropout, batchnorm, augmentation)."""
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        _fail(f"{e.name} is not installed — pip install 'dlcourse-grader[reference]'")
    from grader.data.download import default_data_dir
    from grader.data.loaders import DataError

    from .ladder import run

    try:
        run(default_data_dir(data_dir), quick=quick, only=tuple(only), epochs=epochs, threads=threads, out=out,
            export_exercise11=export_exercise11)
    except (DataError, ValueError) as e:
        _fail(str(e))


@reference.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where CIFAR-10 is (default: $DLCOURSE_DATA, else the user cache folder).")
@click.option("--quick", is_flag=True, help="1,000 pool and test images, 1 and 10 labels per class, one draw.")
@click.option("--backbone", type=click.Choice(["mobilenet_v2", "efficientnet_lite0"]), default=None,
              help="The pretrained ImageNet network (default mobilenet_v2).")
@click.option("--size", type=click.IntRange(min=32), default=None, help="Side the images are resized to (default 128).")
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="Draws of the labelled images (default 3).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="torch threads (default 2).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("fewlabels.json"),
              show_default=True, help="Write the table and the curve as JSON here.")
def fewlabels(data_dir, quick, backbone, size, seeds, threads, out):
    """CIFAR-10 with few labels (exercise12): CNN from scratch, shallow learners on raw pixels and on
    pretrained features, the fine-tuned network; at 10 labels per class and for 1-100."""
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        _fail(f"{e.name} is not installed — pip install 'dlcourse-grader[reference]'")
    from grader.data.download import default_data_dir
    from grader.data.loaders import DataError
    from grader.kit.pretrained import MissingPretrained

    from .fewlabels import run

    try:
        run(default_data_dir(data_dir), quick=quick, out=out, backbone=backbone, size=size, seeds=seeds,
            threads=threads)
    except (DataError, ValueError, MissingPretrained) as e:
        _fail(str(e))


@reference.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where lfw8-gray.zip (or lfw8/<Person>/) is (default: $DLCOURSE_DATA, else the user cache folder).")
@click.option("--quick", is_flag=True, help="A few epochs at 64 px: checks the pipeline in a minute.")
@click.option("--only", multiple=True, metavar="RUNG",
              help="Train only these rungs (repeatable): majority, logreg, fcnn, cnn, frozen, finetuned, ensemble.")
@click.option("--merge", is_flag=True, help="Keep the rows already in --out for the rungs not trained now.")
@click.option("--ensemble", "k", type=click.IntRange(min=2), default=None, help="CNNs in the deep ensemble (default 5).")
@click.option("--backbone", type=click.Choice(["mobilenet_v2", "efficientnet_lite0"]), default=None,
              help="The pretrained ImageNet network (default mobilenet_v2).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="torch threads (default 2).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("faces-ladder.json"),
              show_default=True, help="Write the table as JSON here.")
@click.option("--export-solution", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Save the fine-tuned network's weights here (float16 safetensors): the project solution's.")
def faces(data_dir, quick, only, merge, k, backbone, threads, out, export_solution):
    """The celebrity-faces project's ladder on LFW-8 (majority, logistic regression, fcNN, CNN, frozen and
    fine-tuned pretrained network) and the deep ensemble of CNNs."""
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        _fail(f"{e.name} is not installed — pip install 'dlcourse-grader[reference]'")
    from grader.data.download import default_data_dir
    from grader.data.loaders import DataError
    from grader.kit.pretrained import MissingPretrained

    from .faces_ladder import run

    try:
        run(default_data_dir(data_dir), quick=quick, only=tuple(only), merge=merge, out=out,
            export_solution=export_solution, ensemble_size=k, backbone=backbone, threads=threads)
    except (DataError, ValueError, MissingPretrained) as e:
        _fail(str(e))
