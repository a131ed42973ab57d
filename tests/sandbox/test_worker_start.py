"""The worker starts without ``site`` (``python -I -S``): what site would give must still be there."""

import pytest

EX = "exercise03"


def test_a_submission_imports_installed_packages_although_the_worker_skips_site(grade_text, solution_text):
    pytest.importorskip("yaml")  # not scipy: exercise03 forbids it (tests/sandbox/test_attacks.py)
    text = "import yaml\nimport numpy as np\nassert yaml.safe_load('a: 1') == {'a': 1}\n" + solution_text(EX)
    result = grade_text(EX, text, functions=["relu"])
    assert result.score == result.max_score > 0
    assert not result.notes


@pytest.mark.parametrize("call", ["exit()", "quit()", "exit(0)"])
def test_a_file_ending_with_exit_like_a_notebook_is_still_graded(grade_text, solution_text, call):
    result = grade_text(EX, solution_text(EX) + f"\n{call}\n", functions=["relu"])
    assert result.score == result.max_score > 0


def test_no_folder_of_the_grader_is_on_the_workers_search_path(grade_text, solution_text):
    from grader.sandbox.process import installation_paths

    hidden = installation_paths()
    assert hidden, "the grader's own folders should be known"
    probe = ("def relu(x):\n    import os, sys\n    import numpy as np\n"
             f"    hidden = {hidden!r}\n"
             "    bad = [p for p in sys.path if any(os.path.realpath(p).startswith(h) for h in hidden)]\n"
             "    assert not bad, bad\n"
             "    return np.maximum(x, 0)\n")
    result = grade_text(EX, solution_text(EX) + "\n" + probe, functions=["relu"])
    assert result.score == result.max_score > 0, [c.message for c in result.checks]


def test_an_exercises_memory_limit_applies_from_the_workers_start(grade_text, solution_text):
    """LIMITS are read before the worker starts: a 1 GiB exercise refuses a 1.5 GiB array (4 GiB by default)."""
    import dataclasses

    from grader import registry

    info = dataclasses.replace(registry.find_exercise(EX), limits=(("memory", 1 << 30),))
    text = solution_text(EX) + "\n\ndef relu(x):\n    import numpy as np\n    return float(np.ones(3 << 26).sum())\n"
    result = grade_text(info, text, functions=["relu"])
    relu = [c for c in result.checks if c.functions[0] == "relu"]
    assert relu and all(c.score == 0 for c in relu)
    assert "MemoryError" in relu[0].message or "memory" in relu[0].message.lower(), relu[0].message
