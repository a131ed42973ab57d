"""The pool of forked graders: time limits, the grader's own failures, nothing left running."""

import time

from grader import engine, registry
from grader.batch.runner import Job, Pool, Settings

EX = registry.find_exercise("exercise03")


def _grade(jobs, **settings):
    outcomes = []
    Pool(Settings(EX, workers=2, **settings), warm_up=False).run(jobs, outcomes.append)
    return {o.student: o for o in outcomes}


def test_a_submission_stuck_past_the_time_limit_is_killed_and_keeps_a_timeout_row(tmp_path, solution_text,
                                                                                   orphan_workers):
    stuck = tmp_path / "stuck.py"
    stuck.write_text("import time\ntime.sleep(120)\n" + solution_text("exercise03"))
    start = time.monotonic()
    out = _grade([Job("stuck", stuck)], timeout=1.0, grace=1.0)["stuck"]
    assert time.monotonic() - start < 15
    assert out.status == "timeout" and out.message == "stopped after 2 s, the time limit for one submission"
    assert out.result["score"] == 0 and out.result["max_score"] == 18
    assert {c["outcome"] for c in out.result["checks"]} == {"timeout"}
    time.sleep(0.5)
    assert not orphan_workers(), "the stuck submission's worker outlived its grading"


def test_an_endless_loop_is_stopped_at_the_call_limit_and_the_other_checks_keep_their_points(tmp_path, generator):
    folder, students = generator.write_variants(tmp_path / "class", ["endless loop in max_pool2d"], layout="folders")
    out = _grade([Job("s", folder / "student001" / "exercise03.py")], timeout=8.0)["s"]
    assert out.status == "timeout"  # a check timed out: the row says so
    checks = {c["name"]: c for c in out.result["checks"]}
    assert checks["max_pool2d_matches_the_reference"]["outcome"] == "timeout"
    assert checks["conv2d_handles_stride_and_padding"]["outcome"] == "passed"
    assert out.result["score"] == 16
    # exercise03's inputs are tiny: a call is stopped after 2 s, not the default 10 s
    assert 2.0 <= checks["max_pool2d_matches_the_reference"]["duration"] < 8.0  # wall clock: under load a 2 s CPU limit takes longer; the default would be 10 s
    assert out.duration < 8.0


def test_the_graders_own_failure_is_an_error_row_with_one_line(tmp_path, monkeypatch, solution_text):
    path = tmp_path / "exercise03.py"
    path.write_text(solution_text("exercise03"))

    def broken(*args, **kwargs):
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(engine, "grade", broken)  # the forked child inherits the patch
    out = _grade([Job("alice", path)])["alice"]
    assert out.status == "error" and out.message == "internal error while grading: RuntimeError: the engine broke"
    assert out.result["score"] == 0 and {c["outcome"] for c in out.result["checks"]} == {"error"}


def test_children_run_at_most_workers_at_a_time_and_all_report(tmp_path, exercise_text):
    jobs = []
    for i in range(5):
        path = tmp_path / f"s{i}" / "exercise03.py"
        path.parent.mkdir()
        path.write_text(exercise_text("exercise03"))
        jobs.append(Job(f"s{i}", path))
    outcomes = _grade(jobs)
    assert sorted(outcomes) == [f"s{i}" for i in range(5)]
    assert {o.status for o in outcomes.values()} == {"graded"} and {o.result["score"] for o in outcomes.values()} == {0}
