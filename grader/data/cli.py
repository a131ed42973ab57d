"""``grade data``: click wiring only; the work is done by grader.data.download.

    grade data download cifar10|mnist|fashion-mnist [--data-dir DIR]
    grade data info [--data-dir DIR]          what is in the cache folder
    grade data handout lfw8 --out DIR [--unlabelled-test]   the project's train + val for students

The cache folder is --data-dir, else $DLCOURSE_DATA, else the user cache folder.
Errors are one line on stderr (``grade: ...``) and exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .specs import NAMES

_DATA_DIR = click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                         help="Cache folder (default: $DLCOURSE_DATA, else the user cache folder).")


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"grade: {message}", err=True)
    sys.exit(code)


@click.group("data", context_settings={"help_option_names": ["-h", "--help"]})
def data():
    """Download the course's datasets and see what is cached."""


@data.command()
@click.argument("name", type=click.Choice(NAMES))
@_DATA_DIR
@click.option("--base-url", default=None, hidden=True, help="Fetch from this URL instead (tests, mirrors).")
def download(name: str, data_dir: Path | None, base_url: str | None):
    """Download dataset NAME (checksum-verified) into the cache folder."""
    from .download import DownloadError, default_data_dir, download as do_download

    try:
        folder = do_download(name, default_data_dir(data_dir), base_url=base_url, progress=True)
    except DownloadError as e:
        _fail(str(e))
    click.echo(f"{name}: ready in {folder}")


@data.command()
@_DATA_DIR
def info(data_dir: Path | None):
    """Show the cache folder and which datasets it holds."""
    from .download import cache_status, default_data_dir

    folder = default_data_dir(data_dir)
    click.echo(f"data folder: {folder}")
    for name, status in cache_status(folder):
        click.echo(f"  {name}: {status}")


@data.command()
@click.argument("name", type=click.Choice(["lfw8"]))
@_DATA_DIR
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write train/<Person>/ and val/<Person>/ into.")
@click.option("--unlabelled-test", is_flag=True,
              help="Also write the test faces as test/<id>.png, without names (for a predictions CSV).")
def handout(name: str, data_dir: Path | None, out: Path, unlabelled_test: bool):
    """Write the project's training and validation faces for students (the test faces stay here)."""
    from .catalog import locate
    from .download import default_data_dir
    from .faces import read_faces, write_handout
    from .loaders import DataError

    folder = default_data_dir(data_dir)
    where = locate(name, folder)
    if where is None:
        _fail(f"{name} is not in {folder} — put lfw8-gray.zip (or your own lfw8/<Person>/*.jpg) there, "
              "or pass --data-dir DIR")
    if out.exists() and any(out.iterdir()):
        _fail(f"{out} is not empty — pass a new folder")
    try:
        counts = write_handout(read_faces(where), out, unlabelled_test=unlabelled_test)
    except DataError as e:
        _fail(str(e))
    click.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" faces written to {out}")
