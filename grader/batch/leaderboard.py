"""A Kaggle-style class leaderboard for an exercise graded on a hidden test split (the project).

A check that grades predictions on a hidden split may put, beside its measure, the measure on
the split's two fixed halves into its details: ``{"public": {...}, "private": {...}}`` with
``balanced_accuracy`` and ``accuracy`` each (exercise14 does). ``grade batch`` then writes:

- ``leaderboard-public.md`` / ``.html``: the public half only, ranked by it — what the class
  sees during the project (the private half must not leak through it);
- ``leaderboard.md`` / ``.html``: the final ranking by the private half, with the public
  figures and the shake-up (how many places a team moved) beside it;
- the table ``leaderboard`` in the gradebook (one row per team and board);
- where the teams' models kept their probabilities, the ensemble of the teams' models
  (``grader.batch.ensemble``) below the final board and in ``ensemble.json`` beside it — not
  on the public board (it is measured on all the test images, the private half among them).

Ranking: higher balanced accuracy first; equal values (to the 4 decimals the grader keeps)
share a rank and the next rank skips ("1, 2, 2, 4", Kaggle's and sport's competition
ranking), tied teams listed by name. Teams whose submission could not be scored (no file,
a crash, weights that do not load, a broken CSV) are listed after the ranked ones, unranked,
with the reason in one line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .ensemble import FIGURES, TeamEnsemble, write_json
from .gradebook import Gradebook, Row

HALVES = ("public", "private")
MEASURES = ("balanced_accuracy", "accuracy")


@dataclass(frozen=True)
class Entry:
    """One team on the board: its figures on both halves, or why it has none."""

    team: str
    name: str
    score: float
    max_score: float
    public: dict | None = None    # {"balanced_accuracy", "accuracy", "n_images"}
    private: dict | None = None
    reason: str = ""              # why it is unranked

    @property
    def ranked(self) -> bool:
        return self.public is not None and self.private is not None


@dataclass(frozen=True)
class Board:
    """Entries in the order shown, with their ranks (None: unranked)."""

    exercise: str
    half: str                     # the half that ranks: "public" or "private"
    entries: list[Entry]
    ranks: list[int | None]
    other_ranks: list[int | None]  # the rank on the other half (the shake-up), same order

    def to_rows(self) -> list[dict]:
        return [{"rank": r, "other_rank": o, **asdict(e)} for e, r, o in zip(self.entries, self.ranks, self.other_ranks)]


def halves_of(row: Row) -> tuple[dict | None, dict | None, str]:
    """(public, private, reason): the figures a row's result holds, or why there are none."""
    for check in (row.result or {}).get("checks", []):
        details = check.get("details") or {}
        public, private = details.get("public"), details.get("private")
        if isinstance(public, dict) and isinstance(private, dict) \
                and all(isinstance(h.get(m), (int, float)) for h in (public, private) for m in MEASURES):
            return public, private, ""
    failed = [c for c in (row.result or {}).get("checks", []) if not c.get("passed", c["score"] >= c["max_score"])]
    reason = row.message or (failed[0].get("message", "") if failed else "") or f"status {row.status}"
    reason = " ".join(reason.split())
    return None, None, reason if len(reason) <= 160 else reason[:159].rsplit(" ", 1)[0] + " …"


def entries(rows: list[Row]) -> list[Entry]:
    out = []
    for row in rows:
        public, private, reason = halves_of(row)
        out.append(Entry(row.student, row.name or row.student, row.score, row.max_score, public, private, reason))
    return out


def has_halves(rows: list[Row]) -> bool:
    """Does any row carry public and private figures (is there a leaderboard to write)?"""
    return any(halves_of(r)[0] is not None for r in rows)


def competition_ranks(values: list[float]) -> list[int]:
    """Ranks of ``values`` (higher first), ties sharing a rank and the next rank skipping."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    ranks = [0] * len(values)
    for position, i in enumerate(order):
        ranks[i] = ranks[order[position - 1]] if position and values[i] == values[order[position - 1]] else position + 1
    return ranks


def board(exercise: str, teams: list[Entry], half: str = "private") -> Board:
    """The board ranked by ``half``; the other half's ranks beside it; unranked teams last."""
    assert half in HALVES, f"half must be one of {HALVES}, got {half!r}"
    other = HALVES[1 - HALVES.index(half)]
    ranked = [e for e in teams if e.ranked]
    key = lambda e, h: round(float(getattr(e, h)["balanced_accuracy"]), 4)   # noqa: E731
    ranks = competition_ranks([key(e, half) for e in ranked])
    others = competition_ranks([key(e, other) for e in ranked])
    order = sorted(range(len(ranked)), key=lambda i: (ranks[i], ranked[i].name.lower(), ranked[i].team))
    unranked = sorted((e for e in teams if not e.ranked), key=lambda e: (e.name.lower(), e.team))
    return Board(exercise, half, [ranked[i] for i in order] + unranked,
                 [ranks[i] for i in order] + [None] * len(unranked), [others[i] for i in order] + [None] * len(unranked))


# --------------------------------------------------------------------------- rendering


def _figures(entry: Entry, half: str) -> list[str]:
    h = getattr(entry, half)
    return [f"{h['balanced_accuracy']:.3f}", f"{h['accuracy']:.3f}"] if h else ["", ""]


def _shake(rank, other) -> str:
    if rank is None or other is None or rank == other:
        return "–" if rank is not None else ""
    return f"▲{other - rank}" if rank < other else f"▼{rank - other}"


def table(b: Board) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the board as text cells."""
    if b.half == "public":
        header = ["#", "team", "balanced accuracy (public)", "accuracy (public)", "note"]
        rows = [[str(r) if r else "–", e.name, *_figures(e, "public"), "" if e.ranked else f"not scored: {e.reason}"]
                for e, r in zip(b.entries, b.ranks)]
        return header, rows
    header = ["#", "team", "balanced accuracy (private)", "accuracy (private)", "balanced accuracy (public)",
              "accuracy (public)", "public #", "shake-up", "points", "note"]
    rows = [[str(r) if r else "–", e.name, *_figures(e, "private"), *_figures(e, "public"), str(o) if o else "",
             _shake(r, o), f"{e.score:g}/{e.max_score:g}", "" if e.ranked else f"not scored: {e.reason}"]
            for e, r, o in zip(b.entries, b.ranks, b.other_ranks)]
    return header, rows


def _title(b: Board) -> str:
    n = next((getattr(e, b.half)["n_images"] for e in b.entries if e.ranked and "n_images" in getattr(e, b.half)), None)
    faces = f" ({n} test images)" if n else ""
    return (f"{b.exercise} leaderboard — public half{faces}, shown during the project" if b.half == "public"
            else f"{b.exercise} final leaderboard — ranked on the private half{faces}")


ENSEMBLE_HEADER = ["", "balanced accuracy", "accuracy", "macro-F1", "NLL", "ECE"]


def ensemble_title(e: TeamEnsemble) -> str:
    return f"The teams' models together: a deep ensemble of {e.k} ({e.n_images} test images)"


def ensemble_text(e: TeamEnsemble) -> tuple[str, str]:
    """(what the ensemble is, who is not in it) as two paragraphs of plain text."""
    what = (f"The mean of the predicted probabilities of the {e.k} teams' models, on all {e.n_images} test images "
            "(both halves), against each member and the members' mean. NLL: mean negative log-likelihood of the "
            "true class; ECE: expected calibration error (10 bins); lower is better for both.")
    out = "; ".join(f"{x.name} ({x.reason})" for x in e.left_out)
    return what, f"Not in the ensemble: {out}." if out else "Every team's model is in the ensemble."


def ensemble_table(e: TeamEnsemble) -> list[list[str]]:
    """Rows of text cells: the ensemble, the mean member, then every member (best first)."""
    def cells(label: str, figures: dict) -> list[str]:
        return [label, *(f"{figures[key]:.3f}" for key in FIGURES)]

    return [cells(f"ensemble of {e.k} models", e.ensemble), cells("mean member", e.mean_member),
            *(cells(m.name, m.figures) for m in e.members)]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)]


def markdown(b: Board, team_ensemble: TeamEnsemble | None = None) -> str:
    """The board as Markdown; the final one followed by the ensemble of the teams' models, if any."""
    header, rows = table(b)
    lines = [f"# {_title(b)}", "", *_markdown_table(header, rows)]
    lines += ["", "Ranked by balanced accuracy (the mean recall over the classes); equal values share a rank."]
    if team_ensemble is not None and b.half == "private":
        what, out = ensemble_text(team_ensemble)
        lines += ["", f"## {ensemble_title(team_ensemble)}", "", _cell(what), "",
                  *_markdown_table(ENSEMBLE_HEADER, ensemble_table(team_ensemble)), "", _cell(out)]
    return "\n".join(lines) + "\n"


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}td:nth-child(2),th:nth-child(2),td:last-child{text-align:left}
tr.unranked{color:#888}table.ensemble td{text-align:right}
table.ensemble td:first-child{text-align:left}</style></head>
<body><h1>{{ title }}</h1>
<table><thead><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row, ranked in rows %}<tr{% if not ranked %} class="unranked"{% endif %}>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
<p>Ranked by balanced accuracy (the mean recall over the classes); equal values share a rank.</p>
{% if ensemble %}<h2>{{ ensemble.title }}</h2>
<p>{{ ensemble.what }}</p>
<table class="ensemble"><thead><tr>{% for h in ensemble.header %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in ensemble.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
<p>{{ ensemble.out }}</p>
{% endif %}</body></html>
"""


def html(b: Board, team_ensemble: TeamEnsemble | None = None) -> str:
    """The board as an HTML page; the final one followed by the ensemble of the teams' models, if any."""
    import jinja2

    header, rows = table(b)
    shown = None
    if team_ensemble is not None and b.half == "private":
        what, out = ensemble_text(team_ensemble)
        shown = {"title": ensemble_title(team_ensemble), "what": what, "out": out, "header": ENSEMBLE_HEADER,
                 "rows": ensemble_table(team_ensemble)}
    template = jinja2.Environment(autoescape=True).from_string(_HTML)
    return template.render(title=_title(b), header=header, rows=[(r, e.ranked) for r, e in zip(rows, b.entries)],
                           ensemble=shown)


# --------------------------------------------------------------------------- files and the gradebook


def record(book: Gradebook, boards: list[Board]) -> None:
    """Replace the exercise's boards in the gradebook's ``leaderboard`` table."""
    book.db.execute("CREATE TABLE IF NOT EXISTS leaderboard (exercise TEXT NOT NULL, board TEXT NOT NULL, "
                    "position INTEGER NOT NULL, rank INTEGER, student TEXT NOT NULL, name TEXT NOT NULL, "
                    "public_balanced_accuracy REAL, public_accuracy REAL, private_balanced_accuracy REAL, "
                    "private_accuracy REAL, score REAL NOT NULL, max_score REAL NOT NULL, note TEXT NOT NULL, "
                    "PRIMARY KEY (exercise, board, student))")
    with book.db:
        book.db.execute("BEGIN")
        for b in boards:
            book.db.execute("DELETE FROM leaderboard WHERE exercise = ? AND board = ?", (b.exercise, b.half))
            book.db.executemany(
                "INSERT INTO leaderboard VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(b.exercise, b.half, i, r, e.team, e.name,
                  *((getattr(e, h) or {}).get(m) for h in HALVES for m in MEASURES), e.score, e.max_score,
                  "" if e.ranked else f"not scored: {e.reason}") for i, (e, r) in enumerate(zip(b.entries, b.ranks))])


def write(rows: list[Row], exercise: str, folder: Path, gradebook: Path,
          team_ensemble: TeamEnsemble | None = None) -> list[Path]:
    """Write both boards (Markdown and HTML) into ``folder`` and the gradebook, and the ensemble
    of the teams' models under the final board and as ``ensemble.json``; [] when no row carries
    public and private figures (an exercise without a hidden split)."""
    if not has_halves(rows):
        return []
    teams = entries(rows)
    boards = [board(exercise, teams, "public"), board(exercise, teams, "private")]
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for b, stem in zip(boards, ("leaderboard-public", "leaderboard")):
        for suffix, text in ((".md", markdown(b, team_ensemble)), (".html", html(b, team_ensemble))):
            path = folder / f"{stem}{suffix}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
    if team_ensemble is not None:
        written.append(write_json(team_ensemble, folder / "ensemble.json"))
    else:
        (folder / "ensemble.json").unlink(missing_ok=True)  # an earlier run's, no longer true
    with Gradebook(gradebook) as book:
        record(book, boards)
    return written
