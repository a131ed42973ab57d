"""Where the datasets live: the cache folder, and each dataset's folder in it.

A module of its own, importing nothing of the package, so that the loaders (which look
there by default) and the downloads (which write there) share it without importing each other.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ENV_VAR", "default_data_dir", "dataset_folder"]

ENV_VAR = "DLCOURSE_DATA"


def default_data_dir(data_dir=None) -> Path:
    """The cache folder: ``data_dir`` (``--data-dir``) if given, else $DLCOURSE_DATA, else the
    platform's user cache folder (``~/.cache/dlcourse-grader`` on Linux)."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dlcourse-grader", appauthor=False))


def dataset_folder(name: str, data_dir) -> Path:
    """Where ``download`` puts dataset ``name``: one subfolder per dataset."""
    return Path(data_dir) / name
