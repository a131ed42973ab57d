"""Grades back into the learning platforms, checked against the platforms' own import rules.

Moodle (moodle/moodle, ``mod/assign``): the grading worksheet's columns are those of
``gradingtable.php`` when downloading (``recordid`` "Identifier" first, ``grade`` then
``grademax`` "Maximum Grade", ``timemarked`` "Last modified (grade)", then the feedback plugins'
editor fields, "Feedback comments"); ``col_recordid`` writes ``get_string('hiddenuser')`` +
the participant id ("Participant 123456"). The importer (``feedback/offline/importgradeslib.php``)
finds the Grade, Identifier and Last modified (grade) columns by their header, strips
``strlen('Participant ')`` characters to get the id, and ``feedback/offline/locallib.php``
skips a grade below 0 or above the assignment's maximum. The feedback zip importer
(``feedback/file/importziplib.php``, ``is_valid_filename_for_import``) splits each path part at
``_`` (at most 5 pieces): piece 1 must be a participant id, pieces 2 and 3 the plugin
(``assignfeedback``, ``file``), the rest is the file's name.

Canvas (instructure/canvas-lms): ``lib/content_zipper.rb`` names a downloaded submission file
``<sortable name, letters only, lower case>_[LATE_]<user id>_<attachment id>_<file name>``;
``app/models/gradebook_importer.rb`` wants ``Student`` and ``ID`` first, ``SIS User ID`` and
``SIS Login ID`` (then five student columns, the last one ``Section``), assignment columns
``Title (id)``, and a ``Points Possible`` row.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest

from grader.batch import export, moodle, run_batch, sheets
from grader.batch.discover import canvas_file
from grader.batch.gradebook import Gradebook, Row
from grader.batch.unzip import entry_name, extract

MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade", "Grade can be changed",
                 "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
MODIFIED = "Tuesday, 1 December 2026, 9:14 AM"


def read_csv(path: Path) -> list[list[str]]:
    return sheets.read(path)[0]


# --------------------------------------------------------------------------- Moodle

def moodle_worksheet(path: Path, participants: list[tuple[str, str]], *, header=MOODLE_HEADER,
                     max_grade="100.00", prefix="Participant ") -> Path:
    rows = [header]
    for pid, name in participants:
        rows.append([f"{prefix}{pid}", name, f"{pid}@uni.example", "Submitted for grading", "", max_grade, "Yes",
                     MODIFIED, "-" if pid.endswith("1") else MODIFIED, ""])
    rows.append([f"{prefix}100099", '=HYPERLINK("http://evil.example","x")', "z@uni.example", "No submission", "",
                 max_grade, "Yes", "-", "-", ""])
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def moodle_import(path: Path, participants: set[str], downloaded: Path) -> dict[str, tuple[float | None, str]]:
    """What Moodle's importer reads from a worksheet: {participant id: (grade or None, comment)},
    refusing what it would refuse (importgradeslib.php init()/next(), locallib.php process_import_grades)."""
    rows = read_csv(path)
    before = {r[0]: r for r in read_csv(downloaded)[1:]}
    header = rows[0]
    grade, ident, modified = header.index("Grade"), header.index("Identifier"), header.index("Last modified (grade)")
    comments = header.index("Feedback comments")
    maximum = header.index("Maximum Grade")
    found = {}
    for row in rows[1:]:
        pid = row[ident][len("Participant "):]
        if pid not in participants:
            continue
        value = row[grade].strip()
        if value:
            number = float(value.replace(",", "."))  # unformat_float
            assert 0 <= number <= float(row[maximum].replace(",", ".")), f"out of range: {row}"
        assert row[modified] == before[row[ident]][modified]  # as downloaded: Moodle compares it to its own
        found[pid] = (float(value.replace(",", ".")) if value else None, row[comments])
    return found


def moodle_zip_import(path: Path, participants: set[str]) -> dict[str, list[str]]:
    """is_valid_filename_for_import(): {participant id: [file names]} of the entries Moodle takes."""
    taken: dict[str, list[str]] = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.is_dir() or Path(info.filename).name.startswith((".", "~")):
                continue
            parts = info.filename.split("/")
            while parts:
                pieces = parts.pop(0).split("_", 4)
                if len(pieces) < 4 or not pieces[1].isdigit() or pieces[1] not in participants:
                    continue
                assert (pieces[2], pieces[3]) == ("assignfeedback", "file"), info.filename
                rest = [pieces[4]] if len(pieces) == 5 else [""]
                taken.setdefault(pieces[1], []).append("/".join(rest + parts).strip("/"))
                break
    return taken


@pytest.fixture(scope="module")
def moodle_class(tmp_path_factory, generator, official):
    root = tmp_path_factory.mktemp("moodle")
    folder, kinds = generator.write_variants(root / "download", ["solution", "not implemented", "pooling stride 1",
                                                                 "no python file"], "moodle")
    first = next(p for p in folder.iterdir() if "_100001_" in p.name)
    first.rename(folder / first.name.rstrip("_"))  # Moodle ≥ 4.1 writes the folder without the last "_"
    archive = generator.zip_folder(folder, root / "download.zip")
    names = {p.name.split("_")[1]: p.name.split("_")[0] for p in folder.iterdir()}
    sheet = moodle_worksheet(root / "worksheet.csv", sorted(names.items()))
    report = run_batch("exercise03", archive, out=root / "out", progress=False, workers=2,
                       options=export.Options(moodle_worksheet=sheet), **official)
    return root, report, kinds, names, sheet


def test_the_moodle_worksheet_comes_back_with_grades_its_importer_takes(moodle_class):
    root, report, kinds, names, sheet = moodle_class
    written = root / "out" / "exercise03" / "moodle-worksheet.csv"
    assert written in report.files
    before, after = read_csv(sheet), read_csv(written)
    assert after[0] == before[0] and [r[0] for r in after] == [r[0] for r in before]  # headers, order as downloaded
    assert after[-1] == before[-1]  # a participant who handed in nothing: untouched, as downloaded
    imported = moodle_import(written, set(names), sheet)
    by_kind = {kinds[pid]: imported[pid] for pid in kinds}
    assert by_kind["solution"][0] == 100.0  # 18/18 points, scaled to the worksheet's 100
    assert by_kind["not implemented"][0] == 0.0
    assert 0 < by_kind["pooling stride 1"][0] < 100
    with Gradebook(root / "out" / "gradebook.sqlite") as book:
        pooled = next(book.get("exercise03", pid) for pid, kind in kinds.items() if kind == "pooling stride 1")
    assert by_kind["pooling stride 1"][0] == round(pooled.score / pooled.max_score * 100, 2)
    assert by_kind["no python file"][0] is None  # not graded: no grade, but a comment saying why
    assert by_kind["no python file"][1].startswith("Not graded: no .py or .ipynb file handed in")
    assert by_kind["solution"][1].startswith("exercise03: 18/18 points. All checks passed.")
    assert "Lost points: " in by_kind["pooling stride 1"][1] and "pooling" in by_kind["pooling stride 1"][1].lower()


def test_the_moodle_feedback_zip_has_one_folder_per_participant_as_its_importer_reads_them(moodle_class):
    root, _, kinds, names, _ = moodle_class
    taken = moodle_zip_import(root / "out" / "exercise03" / "moodle-feedback.zip", set(names))
    assert taken == {pid: ["feedback.html"] for pid in kinds}
    with zipfile.ZipFile(root / "out" / "exercise03" / "moodle-feedback.zip") as zf:
        page = next(zf.read(n).decode() for n in zf.namelist() if "_100001_" in n)
        assert all(info.filename.count("_") == 3 for info in zf.infolist())  # names hold no "_" of their own
    assert "18 / 18" in page and names["100001"] in page


def test_a_german_worksheet_keeps_its_headers_and_gets_decimal_commas(tmp_path):
    header = ["ID", "Vollständiger Name", "E-Mail-Adresse", "Status", "Bewertung", "Bestwertung",
              "Bewertung kann geändert werden", "Zuletzt geändert (Abgabe)", "Zuletzt geändert (Bewertung)",
              "Feedback als Kommentar"]
    path = moodle_worksheet(tmp_path / "Bewertungstabelle.csv", [("100001", "Anna Schmidt")], header=header,
                            max_grade="20,00", prefix="Teilnehmer/in")
    row = Row("exercise03", "100001", "Anna Schmidt", "exercise03.py", "", "v", "graded", 13.5, 18.0)
    out, filled, notes = moodle.fill_worksheet(moodle.read_worksheet(path), [row], 18.0, tmp_path / "out.csv")
    rows = read_csv(out)
    assert rows[0] == header and filled == 1 and notes == []
    assert rows[1][4] == "15,00"  # 13.5/18 of 20 points, with the site's decimal comma
    assert rows[1][0] == "Teilnehmer/in100001"


def test_a_worksheet_that_is_not_one_is_a_one_line_usage_error_before_grading(tmp_path, official_args):
    from click.testing import CliRunner

    from grader.cli import main

    bad = tmp_path / "grades.csv"
    bad.write_text("student,score\nalice,3\n")
    (tmp_path / "class").mkdir()
    result = CliRunner().invoke(main, ["batch", "exercise03", str(tmp_path / "class"), "--moodle-worksheet", str(bad),
                                       *official_args])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "no Identifier, Grade and 'Last modified (grade)' columns" in result.stderr


# --------------------------------------------------------------------------- Canvas

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Exercise 3: Convolution by hand (4567)",
                 "Exercise 4 (4568)", "Current Points", "Final Points", "Current Score", "Final Score"]


@pytest.fixture(scope="module")
def canvas_class(tmp_path_factory, generator, solution_text_module, official):
    root = tmp_path_factory.mktemp("canvas")
    solution = solution_text_module("exercise03")
    pooled = solution.replace("if stride is None:\n        stride = size", "if stride is None:\n        stride = 1")
    files = {"schmidtanna_100001_5550001_exercise03.py": solution,
             "okaforben_LATE_100002_5550002_exercise03.py": pooled,
             "rossichiara_100003_5550003_exercise03-1.py": solution,  # re-uploaded: Canvas adds "-1"
             "rossichiara_100003_5550004_notes.txt": "my notes",
             "nguyendavid_100004_text.html": "<p>online text</p>"}
    archive = root / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    book = root / "gradebook.csv"
    with open(book, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([
            CANVAS_HEADER,
            ["    Points Possible", "", "", "", "", "10.00", "20.00", "(read only)", "(read only)", "(read only)",
             "(read only)"],
            ["Schmidt, Anna", "100001", "s1001", "anna", "DL 2026", "", "", "0", "0", "", ""],
            ["Okafor, Ben", "100002", "s1002", "ben", "DL 2026", "", "15", "15", "15", "75", "75"],
            ["Rossi, Chiara", "100003", "s1003", "chiara", "DL 2026", "", "", "0", "0", "", ""],
            ["=cmd|' /C calc'!A0", "100005", "s1005", "eve", "DL 2026", "", "", "0", "0", "", ""]])
    report = run_batch("exercise03", archive, out=root / "out", progress=False, workers=2,
                       options=export.Options(canvas_gradebook=book), **official)
    return root, report


@pytest.fixture(scope="module")
def solution_text_module():
    root = Path(__file__).resolve().parents[2]
    return lambda exercise: (root / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")


def canvas_import(path: Path) -> tuple[dict[str, str], str, str]:
    """gradebook_importer.rb: header checks, then {ID: grade} of the one assignment column, its
    title and id (Assignment.title_and_id), and the points possible."""
    rows = read_csv(path)
    header = rows[0]
    assert "Student" in header[0] and "ID" in header[1]  # row_has_student_headers?
    assert re.match(r"SIS\s+User\s+ID", header[2]) and re.match(r"SIS\s+Login\s+ID", header[3])
    assert "Section" in header[4]  # last_student_info_column with 3 + 2 student columns
    assert len(header) == 6
    title = re.match(r"^(.*)\((\d+)\)$", header[5])
    possible = next(r for r in rows[1:] if "Points Possible" in r[0])[5]
    grades = {r[1]: r[5] for r in rows[1:] if "Points Possible" not in r[0]}
    return grades, title[1].strip() + f" ({title[2]})" if title else header[5], possible


def test_canvas_download_is_read_one_student_per_user_with_the_late_flag_and_helper_files(canvas_class):
    root, report = canvas_class
    with Gradebook(root / "out" / "gradebook.sqlite") as book:
        rows = {r.student: r for r in book.rows("exercise03")}
    assert set(rows) == {"100001", "100002", "100003"}  # the online-text entry is no code
    assert rows["100002"].late and not rows["100001"].late
    assert rows["100003"].file.endswith("exercise03-1.py") and rows["100003"].status == "graded"
    assert rows["100001"].name == "schmidtanna"
    table = read_csv(root / "out" / "exercise03" / "grades.csv")
    late = table[0].index("late")
    assert [r[late] for r in table[1:]] == ["", "late", ""]
    assert "handed in late" in (root / "out" / "exercise03" / "feedback" / "100002.html").read_text(encoding="utf-8")
    assert "handed in late" not in (root / "out" / "exercise03" / "feedback" / "100001.html").read_text(encoding="utf-8")


def test_a_canvas_students_helper_files_stay_beside_the_graded_one_under_their_own_names(canvas_class, tmp_path):
    from grader import registry
    from grader.batch.discover import discover

    root, _ = canvas_class
    found = discover(root / "submissions.zip", registry.find_exercise("exercise03"), tmp_path)
    chiara = next(s for s in found.students if s.id == "100003")
    assert sorted(f.name for f in chiara.files) == ["exercise03-1.py", "notes.txt"]
    assert chiara.file.name == "exercise03-1.py" and chiara.file.parent == chiara.files[0].parent
    assert found.platforms == {"canvas"}
    assert any("nguyendavid_100004_text.html" in note for note in found.notes)  # online text: no code, a note


def test_canvas_grades_fill_the_exported_gradebook_as_its_importer_reads_it(canvas_class):
    root, report = canvas_class
    path = root / "out" / "exercise03" / "canvas-grades.csv"
    assert path in report.files
    grades, title, possible = canvas_import(path)
    assert title == "Exercise 3: Convolution by hand (4567)" and possible == "10.00"
    assert grades["100001"] == "10" and grades["100003"] == "10"  # 18/18 → 10 points possible
    assert 0 < float(grades["100002"]) < 10
    assert grades["100005"] == ""  # not in the download: no grade, and no change for Canvas
    eve = next(r for r in read_csv(path) if r[1] == "100005")
    assert eve[0] == "'=cmd|' /C calc'!A0"  # a formula in a name is text (OWASP)


def test_canvas_file_names_are_recognised_and_others_are_not():
    assert canvas_file("okaforben_LATE_100002_5550002_exercise03.py")["late"]
    assert canvas_file("anon_Xk3q9_5550007_ex3.ipynb")["id"] == "anon_Xk3q9"
    assert canvas_file("yılmazelif_100009_5550009_exercise03.py")["name"] == "yılmazelif"
    for name in ("hw_1_2_final.py", "exercise03.py", "Anna Schmidt_100001_assignsubmission_file_exercise03.py"):
        assert canvas_file(name) is None, name


def test_without_the_gradebook_canvas_grades_have_the_five_student_columns_and_the_exercise(tmp_path):
    from grader import registry
    from grader.batch import canvas

    info = registry.find_exercise("exercise03")
    rows = [Row("exercise03", "100001", "schmidtanna", "f.py", "", "v", "graded", 9.0, 18.0),
            Row("exercise03", "anon_Xk3q9", "", "f.py", "", "v", "graded", 18.0, 18.0)]
    path, notes = canvas.write_grades(rows, info, tmp_path / "canvas-grades.csv")
    table = read_csv(path)
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "exercise03"]
    assert table[1][0] == "Points Possible" and table[1][5] == "18"
    assert table[2] == ["schmidtanna", "100001", "", "", "", "9"]
    assert len(table) == 3 and "anon_Xk3q9: no Canvas user id" in notes[0]


# --------------------------------------------------------------------------- CSV and zip hygiene

def test_cells_a_spreadsheet_would_run_are_neutralised_and_numbers_stay_numbers():
    assert [sheets.neutralise(v) for v in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "-2.5", "12", "Anna")] == \
        ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tx", "-2.5", "12", "Anna"]


def test_grades_csv_is_safe_in_excel_and_every_line_has_the_exercises_max_score(tmp_path):
    from grader.batch.summary import summarize

    ok = Row("exercise03", "100001", '=HYPERLINK("http://x","click")', "f.py", "", "v", "graded", 9.0, 18.0)
    missing = Row("exercise03", "100002", "Ben", "", "", "v", "problem", 0.0, 0.0, "no .py or .ipynb file handed in")
    export.write_all([ok, missing], summarize([ok, missing], "exercise03"), tmp_path, options=export.Options(excel=True))
    raw = (tmp_path / "grades.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel opens it as UTF-8
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[1][1] == "'=HYPERLINK(\"http://x\",\"click\")"
    assert [r[4] for r in table[1:]] == ["18", "18"]  # the not-graded student: 0 of 18, not 0 of 0
    export.write_all([ok], summarize([ok], "exercise03"), tmp_path / "plain")
    assert not (tmp_path / "plain" / "grades.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def _zip_with_raw_names(path: Path, names: dict[bytes, str]) -> Path:
    """A zip whose entry names are the given bytes, without the UTF-8 flag (as Windows' and
    rubyzip's archives are): written with ASCII placeholders of the same length, then patched."""
    with zipfile.ZipFile(path, "w") as zf:
        for i, (raw, text) in enumerate(names.items()):
            zf.writestr(f"{i}".rjust(len(raw), "x"), text)
    data = path.read_bytes()
    for i, raw in enumerate(names):
        placeholder = f"{i}".rjust(len(raw), "x").encode()
        assert data.count(placeholder) == 2  # the local header and the central directory
        data = data.replace(placeholder, raw)
    path.write_bytes(data)
    return path


def test_zip_names_without_the_utf8_flag_are_decoded_as_their_maker_meant(tmp_path):
    archive = _zip_with_raw_names(tmp_path / "class.zip", {
        "Zoë Müller_100001_assignsubmission_file/exercise03.py".encode("utf-8"): "x = 1\n",  # UTF-8, no flag
        "Jörg Weiß_100002_assignsubmission_file/exercise03.py".encode("cp437"): "x = 2\n",  # DOS code page
    })
    with zipfile.ZipFile(archive) as zf:
        assert not any(info.flag_bits & 0x800 for info in zf.infolist())
        assert sorted(entry_name(info) for info in zf.infolist()) == [
            "Jörg Weiß_100002_assignsubmission_file/exercise03.py", "Zoë Müller_100001_assignsubmission_file/exercise03.py"]
    extract(archive, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Jörg Weiß_100002_assignsubmission_file",
                                                                   "Zoë Müller_100001_assignsubmission_file"]
