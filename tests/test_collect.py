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


# --------------------------------------------------------------------------- IPython's own reading of a cell


CONTINUATIONS = [  # PEP 8 continuation lines that start like a shell line (!=) or a magic (%)
    ('    assert image.shape[0] == channels, "image and kernel have different channel counts"\n',
     '    if (image.shape[0]\n            != channels):\n'
     '        raise AssertionError("image and kernel have different channel counts")\n'),
    ("    return (n + 2 * padding - kernel_size) // stride + 1\n",
     "    span = n + 2 * padding - kernel_size\n    return (span - span\n            % stride) // stride + 1\n"),
]


def test_continuation_lines_starting_with_not_equal_or_percent_score_in_a_notebook_as_in_the_py_file(
        grade_text, solution_text, mutate):
    text = solution_text(EX)
    for old, new in CONTINUATIONS:
        text = mutate(text, old, new)
    cells = split_into_cells(text)
    relu = next(i for i, (_, src) in enumerate(cells) if src.startswith("def relu"))
    cells[relu] = ("code", "%%time\n" + cells[relu][1])  # a cell magic whose code still runs
    cells[1:1] = [("code", "%matplotlib inline\n!pip install x\nfiles = !ls\nnp?\n")]
    py_result = grade_text(EX, text)
    nb_result = grade_text(EX, notebook(cells), suffix=".ipynb")
    assert (nb_result.score, py_result.score) == (17, 17)
    assert "4 IPython magic or shell line(s) were skipped" in nb_result.notes


def test_magics_and_shell_lines_become_harmless_statements_and_line_numbers_stay(tmp_path):
    path = tmp_path / "exercise03.ipynb"
    path.write_text(notebook([("code", "if True:\n    %matplotlib inline\n    files = !ls\nx = (1\n     % 2)\n"),
                              ("code", "\n%%time\n!pip install x\ny = x\n")]))
    source = read_submission(path)
    assert [c.code for c in source.cells] == [
        "if True:\n    pass  # (removed: %matplotlib inline)\n    files = None\nx = (1\n     % 2)\n",
        "\n\npass  # (removed: !pip install x)\ny = x\n"]
    assert source.notes == ["3 IPython magic or shell line(s) were skipped"]
    assert source.syntax_errors() == []


def test_long_cells_are_read_quickly_and_one_with_more_magics_than_ipython_allows_is_left_as_it_is(tmp_path, within):
    plain = "x = 1\n" * 200_000
    too_many = "%matplotlib inline\n" * 501
    path = tmp_path / "exercise03.ipynb"
    path.write_text(notebook([("code", plain), ("code", too_many)]))
    with within(3):
        source = read_submission(path)
    assert [c.code for c in source.cells] == [plain, too_many]  # IPython gives up after 500: Jupyter cannot run it
    assert source.notes == []


def test_a_notebook_written_in_nbformat_3_is_graded(grade_text, solution_text):
    from nbformat import v3

    cells = [v3.new_heading_cell("Exercise 3")] + [v3.new_code_cell(input=src) for _, src in
                                                    split_into_cells(solution_text(EX))]
    text = v3.writes_json(v3.new_notebook(worksheets=[v3.new_worksheet(cells=cells)]))
    assert '"nbformat": 3' in text and '"worksheets"' in text
    result = grade_text(EX, text, suffix=".ipynb")
    assert result.score == result.max_score == 17


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("data", [
    "x = 'é'\r\n".encode("utf-8"), b"\xef\xbb\xbf" + "x = 'é'\n".encode("utf-8"), "x = 'é'\n".encode("utf-16"),
    "x = 'é'\n".encode("utf-16-be").join([b"\xfe\xff", b""]), "x = 'é'\n".encode("utf-32"),
    b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
], ids=["UTF-8", "UTF-8 with a BOM", "UTF-16 LE with a BOM", "UTF-16 BE with a BOM", "UTF-32 with a BOM",
        "Latin-1, declared"])
def test_utf8_utf16_and_a_declared_encoding_are_read_as_text(tmp_path, data):
    path = tmp_path / "exercise03.py"
    path.write_bytes(data)
    assert read_submission(path).cells[0].code.endswith("x = 'é'\n")


@pytest.mark.parametrize("suffix, data", [
    (".py", "x = 'é'\n".encode("utf-16-le")), (".py", "x = 'é'\n".encode("latin-1")),
    (".ipynb", notebook([("code", "x = 'é'\n")]).encode("utf-16-le")),
], ids=["UTF-16 without a BOM", "Latin-1, undeclared", "a notebook in UTF-16 without a BOM"])
def test_a_file_that_is_not_utf8_text_is_one_line_saying_so(tmp_path, suffix, data):
    path = tmp_path / f"exercise03{suffix}"
    path.write_bytes(data)
    with pytest.raises(SubmissionError) as error:
        read_submission(path)
    assert str(error.value) == f"exercise03{suffix} is not UTF-8 text: save it as UTF-8"


# --------------------------------------------------------------------------- which file `grade exercise03` grades


@pytest.mark.parametrize("name", ["Exercise 3.ipynb", "Exercise03.ipynb", "ex3.py", "uebung_03.py", "convolution.py"])
def test_find_submission_finds_a_file_named_like_the_exercise_as_grade_batch_does(tmp_path, name):
    (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "exercise04.py").write_text("x = 1\n")  # another exercise in the same working folder
    (tmp_path / "notes.py").write_text("x = 1\n")
    assert find_submission(EX, tmp_path).name == name


def test_find_submission_prefers_the_exact_name_and_lists_equally_good_candidates(tmp_path):
    for name in ("exercise03.py", "Exercise 3 old.ipynb", "ex3_draft.py"):
        (tmp_path / name).write_text("x = 1\n")
    assert find_submission(EX, tmp_path).name == "exercise03.py"
    (tmp_path / "exercise03.py").unlink()
    with pytest.raises(SubmissionError) as error:
        find_submission(EX, tmp_path)
    assert str(error.value) == ("several candidate files could be exercise03: Exercise 3 old.ipynb, ex3_draft.py — "
                                "pick one with --submission PATH")


def test_find_submission_never_takes_a_file_not_named_like_the_exercise(tmp_path):
    (tmp_path / "my_solution.py").write_text("x = 1\n")
    with pytest.raises(SubmissionError, match="grade start exercise03"):
        find_submission(EX, tmp_path)
