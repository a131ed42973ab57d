"""The Kaggle-style leaderboard: ranks with ties, unscored teams, both boards, the gradebook, and
a whole ``grade batch`` of project teams (models and CSVs, one broken) on generated faces."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from grader.batch import leaderboard
from grader.batch.gradebook import Row


def row(team: str, public: float | None, private: float | None, *, score: float = 20, message: str = "") -> Row:
    details = {} if public is None else {"public": {"balanced_accuracy": public, "accuracy": public + 0.01, "n_images": 135},
                                         "private": {"balanced_accuracy": private, "accuracy": private + 0.01,
                                                     "n_images": 134}}
    checks = [{"name": "measure", "title": "", "score": score, "max_score": 18, "outcome": "passed",
               "passed": public is not None, "message": message, "details": details}]
    return Row("exercise14", team, team.title(), f"{team}/project.py", "", "v", "graded" if public is not None else
               "crash", score, 20, "", {"checks": checks})


def test_competition_ranks_share_a_rank_on_ties_and_skip_the_next():
    assert leaderboard.competition_ranks([0.9, 0.8, 0.9, 0.7, 0.8]) == [1, 3, 1, 5, 3]
    assert leaderboard.competition_ranks([]) == []


def test_the_final_board_ranks_by_the_private_half_with_the_public_rank_and_the_shake_up_beside():
    teams = leaderboard.entries([row("ann", 0.90, 0.70), row("bob", 0.80, 0.85), row("cat", 0.70, 0.85),
                                 row("dan", None, None, score=0, message="exercise14.safetensors could not be loaded")])
    final = leaderboard.board("exercise14", teams, "private")
    assert [e.team for e in final.entries] == ["bob", "cat", "ann", "dan"]
    assert final.ranks == [1, 1, 3, None] and final.other_ranks == [2, 3, 1, None]
    header, rows = leaderboard.table(final)
    assert "balanced accuracy (private)" in header and "balanced accuracy (public)" in header
    assert rows[0][:3] == ["1", "Bob", "0.850"] and rows[0][header.index("shake-up")] == "▲1"
    assert rows[2][header.index("shake-up")] == "▼2"
    assert rows[3][0] == "–" and "not scored: exercise14.safetensors could not be loaded" in rows[3][-1]


def test_the_public_board_shows_nothing_of_the_private_half():
    teams = leaderboard.entries([row("ann", 0.90, 0.123456), row("bob", 0.80, 0.654321)])
    public = leaderboard.board("exercise14", teams, "public")
    assert [e.team for e in public.entries] == ["ann", "bob"]
    for text in (leaderboard.markdown(public), leaderboard.html(public)):
        assert "0.900" in text and "private" not in text.lower() and "0.123" not in text and "0.654" not in text


def test_html_escapes_team_names_and_markdown_escapes_pipes():
    teams = leaderboard.entries([row("<script>x|y", 0.5, 0.5)])
    final = leaderboard.board("exercise14", teams)
    page = leaderboard.html(final)
    assert "<Script>" not in page and "&lt;Script&gt;X|Y" in page   # the team's name, as row() titles it
    assert "\\|" in leaderboard.markdown(final)


def test_the_final_board_shows_the_teams_ensemble_below_it_and_the_public_board_does_not():
    from grader.batch.ensemble import LeftOut, Member, TeamEnsemble

    figures = lambda b, n: {"balanced_accuracy": b, "accuracy": b + 0.01, "macro_f1": b - 0.01, "nll": n,  # noqa: E731
                            "ece": 0.0321}
    built = TeamEnsemble("exercise14", 269, ["a"] * 8, [Member("ann", "<b>Ann</b>", figures(0.9, 0.4)),
                                                        Member("bob", "Bob", figures(0.8, 0.6))],
                         figures(0.85, 0.5), figures(0.9412, 0.2345), [LeftOut("cat", "Cat", "a predictions CSV")])
    teams = leaderboard.entries([row("ann", 0.9, 0.9), row("bob", 0.8, 0.8), row("cat", 0.7, 0.7)])
    final, public = leaderboard.board("exercise14", teams), leaderboard.board("exercise14", teams, "public")
    md = leaderboard.markdown(final, built)
    assert "## The teams' models together: a deep ensemble of 2 (269 test images)" in md
    assert "| ensemble of 2 models | 0.941 | 0.951 | 0.931 | 0.234 | 0.032 |" in md
    assert "| mean member | 0.850 | 0.860 | 0.840 | 0.500 | 0.032 |" in md
    assert "Not in the ensemble: Cat (a predictions CSV)." in md
    assert md.index("| 1 | Ann") < md.index("## The teams' models") < md.index("| <b>Ann</b> | 0.900")
    page = leaderboard.html(final, built)
    assert "&lt;b&gt;Ann&lt;/b&gt;" in page and "<b>Ann" not in page and "<td>0.941</td>" in page
    for text in (leaderboard.markdown(public, built), leaderboard.html(public, built)):
        assert "deep ensemble" not in text and "Not in the ensemble" not in text and "0.941" not in text


def test_no_board_is_written_for_an_exercise_without_halves(tmp_path):
    plain = Row("exercise03", "ann", "Ann", "", "", "v", "graded", 5, 5, "", {"checks": [{"name": "c", "title": "",
                                                                                      "score": 5, "max_score": 5,
                                                                                      "outcome": "passed"}]})
    assert leaderboard.write([plain], "exercise03", tmp_path / "out", tmp_path / "book.sqlite") == []
    assert not (tmp_path / "out").exists()


def test_a_batch_of_teams_with_models_csvs_and_a_broken_one_gives_both_boards_a_gradebook_table_and_the_ensemble(
        tmp_path, fake_lfw8, fakefaces, official):
    """Three team models, three CSVs, a broken model: the boards rank six teams, and the
    ensemble of the three models equals their probabilities averaged here with torch and
    judged by scikit-learn; the CSVs and the broken team are left out, named. Run again, the
    batch grades nothing and writes the same ensemble (it comes from the gradebook)."""
    import json

    from sklearn.metrics import balanced_accuracy_score, log_loss

    from grader.batch.run import run_batch
    from grader.data import load_split

    test = load_split("lfw8", "test", fake_lfw8)
    rng = np.random.default_rng(0)
    noisy = np.where(rng.random(len(test)) < 0.3, rng.integers(0, 8, len(test)), test.labels)   # (N,) 70 % right
    weights = {"linear": fakefaces.linear_weights(fake_lfw8), "linear-b": fakefaces.linear_weights(fake_lfw8, seed=1),
               "bush": fakefaces.linear_weights(fake_lfw8, "bush")}
    teams = {
        **{name: {"project.py": fakefaces.LINEAR_TEAM, "project.safetensors": w} for name, w in weights.items()},
        "oracle-csv": {"project.py": "# team oracle\n", "project.csv": fakefaces.predictions_csv(test.labels, fake_lfw8)},
        "twin-csv": {"project.py": "# same answers\n", "project.csv": fakefaces.predictions_csv(test.labels, fake_lfw8)},
        "noisy-csv": {"project.py": "# noisy\n", "project.csv": fakefaces.predictions_csv(noisy, fake_lfw8, by_name=False)},
        "broken": {"project.py": fakefaces.LINEAR_TEAM, "project.safetensors": b"not a safetensors file"},
    }
    folder = tmp_path / "teams"
    for team, files in teams.items():
        (folder / team).mkdir(parents=True)
        for name, data in files.items():
            (folder / team / name).write_bytes(data.encode() if isinstance(data, str) else data)
    report = run_batch("project", folder, out=tmp_path / "out", workers=2, progress=False, data_dir=fake_lfw8,
                       similarity=False, **official)
    board_dir = tmp_path / "out" / "exercise14"
    assert {p.name for p in report.files} >= {"leaderboard.md", "leaderboard.html", "leaderboard-public.md",
                                              "leaderboard-public.html", "ensemble.json"}
    final, ensemble_part = (board_dir / "leaderboard.md").read_text().split("\n## ")
    assert "balanced accuracy (private)" in final and "balanced accuracy (public)" in final
    lines = [line for line in final.splitlines() if line.startswith("| ") and "team" not in line]
    ranks_and_teams = [(line.split(" | ")[0].strip("| "), line.split(" | ")[1]) for line in lines]
    assert {"oracle-csv", "twin-csv"} <= {t for r, t in ranks_and_teams if r == "1"}   # a tie shares first place
    assert ranks_and_teams[-1][0] == "–" and ranks_and_teams[-1][1] == "broken"
    assert "not scored" in lines[-1]
    with sqlite3.connect(report.gradebook) as db:
        got = db.execute("SELECT board, rank, student FROM leaderboard WHERE exercise = 'exercise14' "
                         "ORDER BY board, position").fetchall()
    assert len(got) == 14 and ("private", None, "broken") in got and ("private", 1, "oracle-csv") in got
    assert [r for b, r, s in got if b == "private" and s == "bush"] == [6]

    saved = json.loads((board_dir / "ensemble.json").read_text())
    assert saved["k"] == 3 and {m["team"] for m in saved["members"]} == set(weights)
    reasons = {x["team"]: x["reason"] for x in saved["left_out"]}
    assert set(reasons) == {"oracle-csv", "twin-csv", "noisy-csv", "broken"}
    assert all(reasons[t].startswith("a predictions CSV") for t in ("oracle-csv", "twin-csv", "noisy-csv"))
    assert reasons["broken"].startswith("not scored:") and "project.safetensors" in reasons["broken"]
    probs = {name: fakefaces.linear_probabilities(w, test.images) for name, w in weights.items()}   # (N, 8) each
    mean = np.mean(list(probs.values()), axis=0)
    assert saved["ensemble"]["balanced_accuracy"] == pytest.approx(
        balanced_accuracy_score(test.labels, mean.argmax(axis=1)), abs=1e-4)
    assert saved["ensemble"]["nll"] == pytest.approx(log_loss(test.labels, mean, labels=range(8)), abs=1e-3)
    for m in saved["members"]:
        assert m["figures"]["nll"] == pytest.approx(log_loss(test.labels, probs[m["team"]], labels=range(8)), abs=1e-3)
    assert saved["ensemble"]["nll"] <= saved["mean_member"]["nll"]
    assert f"{saved['ensemble']['nll']:.3f}" in ensemble_part and "Not in the ensemble: broken (not scored" in \
        ensemble_part
    assert "deep ensemble" not in (board_dir / "leaderboard-public.md").read_text()
    assert any(n.startswith("ensemble of the 3 teams' models on") for n in report.notes), report.notes

    again = run_batch("project", folder, out=tmp_path / "out", workers=2, progress=False, data_dir=fake_lfw8,
                      similarity=False, **official)
    assert again.graded == 0 and json.loads((board_dir / "ensemble.json").read_text()) == saved
