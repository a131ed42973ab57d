"""Similar submissions in the class summary: planted near-copies are found and ranked first,
independently written correct solutions are not listed, and it is cheap for a class.

The class is ``make_similar.py``'s: 37 students who each put the exercise together their own way
(every one checked correct against the reference here) and 3 near-copies of others (all names
renamed, comments changed, functions reordered).
"""

import importlib.util
from collections import Counter
import resource
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from grader import registry
from grader.batch import similarity
from grader.batch.discover import Student
from grader.batch.summary import ClassSummary, markdown

pytest.importorskip("copydetect", reason="similarity needs copydetect (the [instructor] extra)")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("make_similar", HERE / "make_similar.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_similar = _generator()


@pytest.fixture(scope="module")
def exercise03():
    return registry.find_exercise("exercise03")


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    folder = tmp_path_factory.mktemp("similar")
    codes, planted = make_similar.write_class(folder, count=40, copies=3)
    return folder, codes, planted


def students(folder: Path) -> list[Student]:
    return [Student(p.name, file=p / "exercise03.py") for p in sorted(folder.iterdir())]


def test_every_generated_solution_is_correct_and_written_its_own_way(klass):
    from grader.reference import exercise03 as ref

    _, codes, planted = klass
    rng = np.random.default_rng(3)
    for student, code in codes.items():
        module = types.ModuleType(student)
        exec(compile(code, student, "exec"), module.__dict__)
        for args, kwargs in [((rng.normal(size=(6, 7)), rng.normal(size=(3, 3))), {}),
                             ((rng.normal(size=(2, 6, 7)), rng.normal(size=(4, 2, 3, 2))),
                              {"bias": rng.normal(size=4), "stride": 2, "padding": 1}),
                             ((rng.normal(size=(2, 5, 5)), rng.normal(size=(2, 3, 3))), {"padding": "same", "bias": 0.5}),
                             ((rng.normal(size=(5, 6)), rng.normal(size=(2, 2))), {"padding": "valid", "stride": 2})]:
            np.testing.assert_allclose(module.conv2d(*args, **kwargs), ref.conv2d(*args, **kwargs), err_msg=student)
        x = rng.normal(size=(3, 7, 6))
        for size, stride in [(2, None), (3, 2), (2, 1)]:
            np.testing.assert_allclose(module.max_pool2d(x, size, stride), ref.max_pool2d(x, size, stride))
            np.testing.assert_allclose(module.max_pool2d(x[0], size, stride), ref.max_pool2d(x[0], size, stride))
        np.testing.assert_allclose(module.relu(x), ref.relu(x))
        for args in [(5, 3), (28, 5), (7, 3, 2, 1), (28, 3, 1, "same"), (9, 3, 2, "valid")]:
            assert module.conv_output_size(*args) == ref.conv_output_size(*args), (student, args)
    copies = {copy for _, copy in planted}
    assert len({code for s, code in codes.items() if s not in copies}) == len(codes) - len(copies)
    for original, copy in planted:  # a near-copy shares no line of names with its original
        assert codes[original] != codes[copy]


def test_the_planted_near_copies_rank_first_and_no_independent_pair_is_listed(klass, exercise03):
    folder, _, planted = klass
    pairs = similarity.similar_pairs(students(folder), exercise03)
    assert {frozenset((p.a, p.b)) for p in pairs} == {frozenset(pair) for pair in planted}
    assert all(p.similarity >= 0.95 for p in pairs)
    everything = similarity.similar_pairs(students(folder), exercise03, threshold=0.0)
    top = [frozenset((p.a, p.b)) for p in everything[:3]]
    assert set(top) == {frozenset(pair) for pair in planted}
    independent = everything[3]
    assert independent.similarity < similarity.THRESHOLD - 0.03, independent  # a margin, not a coin toss


def test_the_released_exercise_file_is_not_counted_and_stubs_are_left_out(tmp_path, exercise03):
    template = exercise03.exercise_file()
    for name in ("anna", "ben"):  # both handed in the untouched exercise file
        (tmp_path / name).mkdir()
        (tmp_path / name / "exercise03.py").write_text(template, encoding="utf-8")
    assert similarity.similar_pairs(students(tmp_path), exercise03, threshold=0.0) == []


def test_a_pair_gets_a_side_by_side_page_and_a_row_in_the_summary_that_accuses_no_one(klass, exercise03, tmp_path):
    folder, _, planted = klass
    pairs = similarity.similar_pairs(students(folder), exercise03)
    written = similarity.write_pages(pairs, tmp_path / "similarity")
    assert len(written) == len(pairs) == 3
    page = written[0].read_text(encoding="utf-8")
    assert page.count("<mark>") >= 2 and "&lt;" not in page[:200]
    assert "not a finding" in page
    summary = ClassSummary("exercise03", "Convolution by hand", 18, {}, Counter(), [], similar=pairs)
    text = markdown(summary)
    assert "## Similar submissions" in text and "innocent causes" in text
    first = pairs[0]
    assert f"| {100 * first.similarity:.0f}% | {first.a} | {first.b} | [compare](similarity/{written[0].name}) |" in text


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def test_similarity_for_200_submissions_costs_about_as_much_as_grading_one_or_two(tmp_path, exercise03):
    """Baseline beside it: CPU time of `grade exercise03` on the model solution (the cheapest
    grading there is), measured in the same run."""
    make_similar.write_class(tmp_path / "class", count=200, copies=3)
    class_200 = students(tmp_path / "class")
    start = _cpu()
    subprocess.run([sys.executable, "-m", "grader", "exercise03", "--submission", str(ROOT / "solutions" / "exercise03.py"),
                    "--allow-unsafe-sandbox"], capture_output=True, check=False, timeout=300)
    grade_one = _cpu() - start
    start, wall = _cpu(), time.monotonic()
    pairs = similarity.similar_pairs(class_200, exercise03)
    cost, wall = _cpu() - start, time.monotonic() - wall
    ratio = cost / grade_one
    print(f"similarity of 200 submissions: {cost:.2f} s CPU ({wall:.2f} s wall); grading one solution: "
          f"{grade_one:.2f} s CPU; ratio {ratio:.2f}; {len(pairs)} pairs listed")
    assert len(pairs) >= 3
    assert ratio < 10, f"similarity for 200 costs {ratio:.1f} gradings of one submission"
