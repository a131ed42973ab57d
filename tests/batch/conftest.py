"""Fixtures for batch grading: generated classes of exercise03 submissions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_submissions", HERE / "make_submissions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


make_submissions = _load_generator()



@pytest.fixture(scope="session")
def generator():
    """The submissions generator module (``tests/batch/make_submissions.py``)."""
    return make_submissions


@pytest.fixture
def write_class(tmp_path):
    """Return ``write(variants, layout="moodle") -> (folder, {student id: variant})``."""
    def write(variants: list[str], layout: str = "moodle", name: str = "class") -> tuple[Path, dict[str, str]]:
        return make_submissions.write_variants(tmp_path / name, variants, layout)
    return write


@pytest.fixture(scope="session")
def exercise03():
    from grader import registry

    return registry.find_exercise("exercise03")


def alive(pid: int) -> bool:
    """Is ``pid`` a running process (not a zombie)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def orphan_workers():
    """Return a function listing sandbox workers whose grading process is gone (there must be none)."""
    from grader.sandbox.process import tagged_processes

    def find() -> list[int]:
        return [pid for pid, parent in tagged_processes().items() if not alive(parent) and alive(pid)]
    return find


@pytest.fixture
def alive_check():
    return alive
