"""Reading submissions: notebooks, Windows line endings, finding the file in a folder."""

import json

import pytest

from grader.collect import SubmissionError, find_submission, read_submission

EX = "exercise03"


def notebook(cells: list[tuple[str, str]]) -> str:
    """Return the JSON of a notebook with (cell_type, source) cells."""
    return json.dumps({
        "cells": [{"cell_type": t, "metadata": {}, "source": src.splitlines(True),
                   **({"outputs": [], "execution_count": None} if t == "code" else {})} for t, src in cells],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    })


def split_into_cells(source: str) -> list[tuple[str, str]]:
    """Cut a module at each top-level def, as a student's notebook would be."""
    cells, current = [], []
    for line in source.splitlines(True):
        if line.startswith("def ") and current:
            cells.append(("code", "".join(current)))
            current = []
        current.append(line)
    cells.append(("code", "".join(current)))
    return cells


def test_magics_and_shell_lines_are_neutralised_and_cells_numbered(tmp_path):
    path = tmp_path / "exercise03.ipynb"
    path.write_text(notebook([("markdown", "# My work"), ("code", "%matplotlib inline\n!pip install numpy\nx = 1\n"),
                              ("code", "%%bash\necho hi\n"), ("code", "%%time\ny = x + 1\n")]))
    source = read_submission(path)
    assert [c.cell for c in source.cells] == [2, 4]
    assert "pass  # (removed: %matplotlib inline)" in source.cells[0].code
    assert source.cells[0].filename == "exercise03.ipynb, cell 2"
    assert source.syntax_errors() == []
    assert any("cell magic" in n for n in source.notes)


def test_windows_line_endings_and_a_byte_order_mark_are_read_as_usual(tmp_path):
    path = tmp_path / "exercise03.py"
    path.write_bytes(b"\xef\xbb\xbfimport numpy as np\r\ndef relu(x):\r\n    return np.maximum(x, 0)\r\n")
    source = read_submission(path)
    assert source.cells[0].code == "import numpy as np\ndef relu(x):\n    return np.maximum(x, 0)\n"


def test_the_notebook_of_the_solution_scores_the_same_as_the_py_file(grade_text, solution_text):
    text = solution_text(EX)
    nb = notebook([("markdown", "# Exercise 3"), *split_into_cells(text), ("code", "%timeit relu(1)\n")])
    py_result = grade_text(EX, text)
    nb_result = grade_text(EX, nb, suffix=".ipynb")
    assert nb_result.score == py_result.score == py_result.max_score


def test_a_buggy_notebook_scores_the_same_as_the_same_buggy_py_file(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), "    stride = size\n", "    stride = 1\n")
    nb = notebook(split_into_cells(text))
    py_result = grade_text(EX, text, functions=["max_pool2d"])
    nb_result = grade_text(EX, nb, suffix=".ipynb", functions=["max_pool2d"])
    assert nb_result.score == py_result.score < py_result.max_score


def test_an_error_in_a_cell_is_reported_with_its_number_and_later_cells_still_run(grade_text, solution_text):
    cells = split_into_cells(solution_text(EX))
    cells.insert(1, ("code", "print(undefined_name)\n"))
    result = grade_text(EX, notebook(cells), suffix=".ipynb")
    assert any("cell 2" in n and "NameError" in n for n in result.notes), result.notes
    assert result.score == result.max_score


def test_find_submission_picks_the_exercise_file_and_reports_ambiguity(tmp_path):
    with pytest.raises(SubmissionError, match="grade start exercise03"):
        find_submission(EX, tmp_path)
    (tmp_path / "exercise03_mine.py").write_text("")
    assert find_submission(EX, tmp_path).name == "exercise03_mine.py"
    (tmp_path / "exercise03_old.ipynb").write_text("{}")
    with pytest.raises(SubmissionError, match="several candidate files"):
        find_submission(EX, tmp_path)


# --------------------------------------------------------------------------- malformed notebooks


@pytest.mark.parametrize("text, says", [
    ('{"cells": [', "exercise03.ipynb is not a valid Jupyter notebook: its JSON is broken at line 1, column 12 — "
                    "hand in the .ipynb file as Jupyter saves it"),
    ("[" * 100_000 + "]" * 100_000, "exercise03.ipynb is not a valid Jupyter notebook: its JSON is nested too deeply"
                                    " — hand in the .ipynb file as Jupyter saves it"),
    ('{"cells": [], "n": ' + "1" * 5000 + "}", "exercise03.ipynb is not a valid Jupyter notebook: its JSON is broken"
                                             " — hand in the .ipynb file as Jupyter saves it"),
    ("[1, 2]", "exercise03.ipynb is not a valid Jupyter notebook (could not read its cells)"),
    ('{"cells": null}', "exercise03.ipynb is not a valid Jupyter notebook (could not read its cells)"),
    ('{"cells": [{"cell_type": "code", "source": "x = 1"}, 7]}',
     "exercise03.ipynb is not a valid Jupyter notebook: cell 2 is a number, not a cell — hand in the .ipynb file as "
     "Jupyter saves it"),
    ('{"cells": [{"cell_type": "code", "source": 5}]}',
     "exercise03.ipynb, cell 1: its source is a number, not text — hand in the .ipynb file as Jupyter saves it"),
    ('{"cells": [{"cell_type": "code", "source": ["x = 1\\n", null]}]}',
     "exercise03.ipynb, cell 1: its source is a list with null in it, not text — hand in the .ipynb file as Jupyter "
     "saves it"),
], ids=["broken JSON", "nested too deeply", "a 5000-digit number", "a list", "cells null", "a cell that is a number",
        "a number as source", "null in the source lines"])
def test_a_malformed_notebook_is_a_one_line_submission_error(tmp_path, text, says):
    path = tmp_path / "exercise03.ipynb"
    path.write_text(text)
    with pytest.raises(SubmissionError) as error:
        read_submission(path)
    assert str(error.value) == says


def test_an_nbformat_3_notebook_is_read_from_its_worksheets(tmp_path):
    path = tmp_path / "exercise03.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "markdown", "source": ["# Exercise 3"]},
        {"cell_type": "code", "language": "python", "input": ["import numpy as np\n", "x = 1\n"], "outputs": []},
        {"cell_type": "code", "language": "python", "input": "y = x + 1\n", "outputs": []}]}]}))
    source = read_submission(path)
    assert [(c.cell, c.code) for c in source.cells] == [(2, "import numpy as np\nx = 1\n"), (3, "y = x + 1\n")]


def test_a_deeply_nested_expression_is_a_syntax_error_not_a_crash(grade_text):
    result = grade_text(EX, "x = " + "-" * 100_000 + "1\n")
    assert result.score == 0
    assert {c.message for c in result.checks} == {"your file has a syntax error, so nothing could be run — "
                                                  "exercise03.py: nested too deeply to compile"}
