"""The release step: solution markers become the student's file."""

import pytest

from grader.release import MarkerError, release_source


def test_solution_blocks_become_not_implemented_and_marked_lines_become_ellipses():
    text = '''def f(x):
    """Doc."""
    # BEGIN SOLUTION
    y = x + 1
    return y
    # END SOLUTION

def g(x):
    y = x * 2  # SOLUTION
    return y  # SOLUTION

def h():
    # BEGIN SOLUTION NO PROMPT
    secret = 1
    # END SOLUTION
    # BEGIN PROMPT
    # answer = ...
    # END PROMPT
    return answer
'''
    out = release_source(text)
    assert 'def f(x):\n    """Doc."""\n    raise NotImplementedError\n' in out
    assert "    y = ...\n    ...\n" in out
    assert "secret" not in out and "    answer = ...\n    return answer" in out


def test_unbalanced_markers_are_an_error_naming_the_line():
    with pytest.raises(MarkerError, match=":2"):
        release_source("x = 1\n# END SOLUTION\n", name="f.py")
    with pytest.raises(MarkerError, match="never closed"):
        release_source("# BEGIN SOLUTION\nx = 1\n")
