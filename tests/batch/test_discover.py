"""Finding the students and their files: every layout, zips, ambiguity, hostile archives."""

import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.batch import unzip
from grader.batch.discover import discover, exercise_rank
from grader.collect import SubmissionError


def ids(found):
    return [s.id for s in found.students]


def test_a_moodle_download_gives_one_student_per_participant_with_name_and_chosen_file(write_class, exercise03, tmp_path):
    folder, students = write_class(["solution", "vectorised", "solution as a notebook", "solution, CRLF and BOM"])
    found = discover(folder, exercise03, tmp_path / "work")
    assert ids(found) == list(students) == ["100001", "100008", "100015", "100022"]
    assert [s.name for s in found.students] == ["Anna Schmidt", "Ben Okafor", "Chiara Rossi", "David Nguyen"]
    assert [s.file.name for s in found.students] == ["exercise03.py", "ex3.py", "exercise03.ipynb", "Exercise03_final.py"]
    assert found.students[1].source == "Ben Okafor_100008_assignsubmission_file_/ex3.py"
    assert {f.name for f in found.students[1].files} == {"ex3.py", "notes.txt"}  # the other file stays with it
    assert not any(s.problem for s in found.students)


def test_a_zip_of_the_download_gives_the_same_students_files_and_hashes(write_class, exercise03, generator, tmp_path):
    folder, _ = write_class(["solution", "kernel flipped", "two candidate files"])
    archive = generator.zip_folder(folder, tmp_path / "download.zip")
    plain = discover(folder, exercise03, tmp_path / "w1")
    zipped = discover(archive, exercise03, tmp_path / "w2")
    assert ids(zipped) == ids(plain)
    assert [s.sha256 for s in zipped.students] == [s.sha256 for s in plain.students]
    assert [s.source for s in zipped.students] == [s.source for s in plain.students]
    assert zipped.students[0].file.is_relative_to(tmp_path / "w2")  # unpacked into the work folder


def test_a_zip_holding_one_folder_of_students_is_entered(write_class, exercise03, generator, tmp_path):
    folder, students = write_class(["solution", "solution"], layout="folders", name="class")
    archive = tmp_path / "wrapped.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.rglob("*.py"):
            zf.write(path, f"exercise03-submissions/{path.relative_to(folder).as_posix()}")
    assert ids(discover(archive, exercise03, tmp_path / "w")) == list(students) == ["student001", "student002"]


def test_folders_and_single_files_take_their_ids_from_their_names(tmp_path, exercise03):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "exercise03.py").write_text("x = 1\n")
    (tmp_path / "bob.ipynb").write_text("{}")
    (tmp_path / "grading-notes.txt").write_text("not a student")
    found = discover(tmp_path, exercise03, tmp_path / ".work")
    assert ids(found) == ["alice", "bob"]
    assert found.students[1].file.name == "bob.ipynb"
    assert found.notes == ["not a submission, left aside: grading-notes.txt"]


def test_moodles_flat_file_names_are_renamed_back_and_kept_together(tmp_path, exercise03):
    root = tmp_path / "download"
    root.mkdir()
    (root / "Anna Schmidt_100001_assignsubmission_file_exercise03.py").write_text("x = 1\n")
    (root / "Anna Schmidt_100001_assignsubmission_file_exercise03.safetensors").write_bytes(b"weights")
    (root / "Ben Okafor_100008_assignsubmission_onlinetext_onlinetext.html").write_text("<p>hi</p>")
    found = discover(root, exercise03, tmp_path / "work")
    anna, ben = found.students
    assert (anna.id, anna.name, anna.file.name) == ("100001", "Anna Schmidt", "exercise03.py")
    assert (anna.file.parent / "exercise03.safetensors").read_bytes() == b"weights"  # beside the .py, as handed in
    assert ben.problem.startswith("no .py or .ipynb file")


@pytest.mark.parametrize("names, chosen", [
    (["exercise03.py", "exercise03_old.py", "utils.py"], "exercise03.py"),
    (["Exercise 3 - final.ipynb", "helpers.py"], "Exercise 3 - final.ipynb"),
    (["ex03.py", "scratch.py"], "ex03.py"),
    (["Übung3.py", "test.py"], "Übung3.py"),
    (["convolution.py", "plots.py"], "convolution.py"),
    (["my_solution.py"], "my_solution.py"),
    (["lab3_v2.py", "exercise04.py"], "lab3_v2.py"),
])
def test_a_file_named_like_the_exercise_wins_else_the_only_candidate(tmp_path, exercise03, names, chosen):
    student = tmp_path / "subs" / "alice"
    student.mkdir(parents=True)
    for name in names:
        (student / name).write_text("x = 1\n", encoding="utf-8")
    (alice,) = discover(tmp_path / "subs", exercise03, tmp_path / "work").students
    assert alice.problem == "" and alice.file.name == chosen


def test_several_equally_good_files_or_none_are_a_students_problem(tmp_path, exercise03):
    subs = tmp_path / "subs"
    for who, names in {"alice": ["main.py", "other.py"], "bob": ["exercise03.py", "exercise03.ipynb"],
                       "carol": ["report.pdf"], "dave": []}.items():
        (subs / who).mkdir(parents=True)
        for name in names:
            (subs / who / name).write_text("{}", encoding="utf-8")
    alice, bob, carol, dave = discover(subs, exercise03, tmp_path / "work").students
    assert alice.problem.startswith("several files could be exercise03: main.py, other.py")
    assert bob.problem.startswith("several files could be exercise03: exercise03.ipynb, exercise03.py")
    assert carol.problem == "no .py or .ipynb file handed in (found: report.pdf)"
    assert dave.problem == "no .py or .ipynb file handed in (found: nothing)"
    assert alice.file is bob.file is carol.file is None


def test_notebook_checkpoints_and_mac_junk_are_not_candidates(tmp_path, exercise03):
    student = tmp_path / "subs" / "alice"
    (student / ".ipynb_checkpoints").mkdir(parents=True)
    (student / "__MACOSX").mkdir()
    (student / "exercise03.ipynb").write_text("{}")
    (student / ".ipynb_checkpoints" / "exercise03-checkpoint.ipynb").write_text("{}")
    (student / "__MACOSX" / "._exercise03.ipynb").write_text("junk")
    (alice,) = discover(tmp_path / "subs", exercise03, tmp_path / "work").students
    assert alice.file.name == "exercise03.ipynb" and [f.name for f in alice.files] == ["exercise03.ipynb"]


def test_a_zip_a_student_handed_in_is_unpacked_when_the_code_is_inside(tmp_path, exercise03):
    student = tmp_path / "subs" / "Anna Schmidt_100001_assignsubmission_file_"
    student.mkdir(parents=True)
    with zipfile.ZipFile(student / "abgabe.zip", "w") as zf:
        zf.writestr("abgabe/exercise03.py", "x = 1\n")
        zf.writestr("abgabe/exercise03.pt", b"weights")
    (anna,) = discover(tmp_path / "subs", exercise03, tmp_path / "work").students
    assert anna.file.name == "exercise03.py" and (anna.file.parent / "exercise03.pt").exists()


def test_the_hash_covers_every_file_handed_in_but_not_where_it_lies(tmp_path, exercise03):
    def digest(root):
        return discover(root, exercise03, tmp_path / "work").students[0].sha256

    for root in ("a", "b"):
        (tmp_path / root / "alice").mkdir(parents=True)
        (tmp_path / root / "alice" / "exercise03.py").write_text("x = 1\n")
        (tmp_path / root / "alice" / "weights.pt").write_bytes(b"w1")
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    (tmp_path / "b" / "alice" / "weights.pt").write_bytes(b"w2")
    assert digest(tmp_path / "a") != digest(tmp_path / "b")


def test_no_such_folder_is_a_usage_error(tmp_path, exercise03):
    with pytest.raises(SubmissionError, match="no folder or .zip of submissions"):
        discover(tmp_path / "missing", exercise03, tmp_path / "work")


@pytest.mark.parametrize("rank, name", [(0, "exercise03.py"), (1, "Exercise_03.py"), (1, "ex-3.ipynb"),
                                         (1, "uebung 3.py"), (1, "conv2d.py"), (2, "ex13.py"), (2, "v3.py"),
                                         (2, "main.py")])
def test_exercise_rank_reads_ids_numbers_and_aliases(exercise03, rank, name):
    assert exercise_rank(Path(name), exercise03) == rank


# --------------------------------------------------------------------------- hostile archives


def _zip_with(path: Path, entries: list[tuple[str, bytes, int | None]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


def test_a_zip_cannot_write_outside_its_folder_nor_make_links(tmp_path):
    archive = _zip_with(tmp_path / "evil.zip", [
        ("../escaped.py", b"x", None), ("/abs/escaped.py", b"x", None), ("a/../../escaped2.py", b"x", None),
        ("C:/windows.py", b"x", None), ("link.py", b"/etc/passwd", stat.S_IFLNK | 0o777),
        ("alice/exercise03.py", b"x = 1\n", None)])
    target = tmp_path / "out" / "inner"
    target.mkdir(parents=True)
    skipped = unzip.extract(archive, target)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["evil.zip", "out/inner/alice/exercise03.py"]
    assert len(skipped) == 5 and not any(os.path.islink(p) for p in target.rglob("*"))


def test_a_zip_that_inflates_beyond_the_limit_is_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("alice/exercise03.py", b"0" * 5_000_000)
    assert archive.stat().st_size < 50_000
    with pytest.raises(unzip.UnzipError, match="unpacks to more than"):
        unzip.extract(archive, tmp_path / "out", max_bytes=1_000_000)


def test_a_file_that_is_not_a_zip_is_a_usage_error(tmp_path, exercise03):
    (tmp_path / "class.zip").write_bytes(b"not a zip at all")
    with pytest.raises(SubmissionError, match="cannot be unpacked"):
        discover(tmp_path / "class.zip", exercise03, tmp_path / "work")


# --------------------------------------------------------------------------- files that are no regular files


def test_fifos_links_and_huge_files_in_the_class_folder_are_left_aside_and_never_opened(tmp_path, exercise03,
                                                                                       within):
    subs, outside = tmp_path / "subs", tmp_path / "outside"
    for folder in ("alice", "dave", "frank"):
        (subs / folder).mkdir(parents=True)
    outside.mkdir()
    (outside / "exercise03.py").write_text("x = 1\n")
    (subs / "alice" / "exercise03.py").write_text("x = 1\n")
    os.mkfifo(subs / "bob.py")
    os.symlink("/dev/zero", subs / "carol.py")
    os.symlink("/dev/zero", subs / "dave" / "exercise03.py")
    os.symlink(outside, subs / "erin")  # a folder that is a link
    (subs / "frank" / "exercise03.py").write_text("x = 1\n")
    os.symlink(outside / "exercise03.py", subs / "frank" / "weights.pt")
    with open(subs / "frank" / "big.pt", "wb") as f:
        f.truncate(100 << 20)  # sparse
    os.symlink("/etc/passwd", subs / "grading-notes.txt")
    with within(10):
        found = discover(subs, exercise03, tmp_path / "work")
    assert {s.id: s.problem for s in found.students} == {
        "alice": "", "bob": "bob.py is a named pipe (FIFO), not a regular file",
        "carol": "carol.py is a symbolic link, not a regular file",
        "dave": "dave/exercise03.py is a symbolic link, not a regular file", "frank": ""}
    frank = found.students[-1]
    assert [f.name for f in frank.files] == ["exercise03.py"]
    assert found.notes == ["left aside: erin is a symbolic link, not a regular file",
                           "left aside: grading-notes.txt is a symbolic link, not a regular file",
                           "frank: left aside frank/big.pt is 100 MB, more than the 64 MB a file may have",
                           "frank: left aside frank/weights.pt is a symbolic link, not a regular file"]


def test_a_student_whose_files_add_up_to_more_than_256_mb_is_not_graded(tmp_path, exercise03):
    alice = tmp_path / "subs" / "alice"
    alice.mkdir(parents=True)
    (alice / "exercise03.py").write_text("x = 1\n")
    for i in range(5):
        with open(alice / f"part{i}.bin", "wb") as f:
            f.truncate(60 << 20)  # sparse: 300 MB that take no disk
    (student,) = discover(tmp_path / "subs", exercise03, tmp_path / "work").students
    assert student.problem == "the files handed in add up to 300 MB, more than the 256 MB one student may hand in"
    assert student.file is None


# --------------------------------------------------------------------------- zip bombs


def _bomb(zf: zipfile.ZipFile, name: str, size: int = 200 << 20) -> None:
    """Write ``size`` zeros as one entry: 200 MB pack to about 200 KB."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as out:
        for _ in range(size // (1 << 20)):
            out.write(bytes(1 << 20))


def _zip_class(path: Path, files: dict[str, bytes], bombs: list[str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for name in bombs:
            _bomb(zf, name)
    return path


def _disk_use(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_a_zip_bomb_in_one_students_folder_makes_only_that_student_not_graded(tmp_path, exercise03):
    archive = _zip_class(tmp_path / "class.zip", {
        "class/alice/exercise03.py": b"x = 1\n", "class/bob/exercise03.py": b"x = 1\n",
        "class/carol/exercise03.py": b"x = 1\n",
        "class/Dan Brown_100003_assignsubmission_file_exercise03.py": b"x = 1\n"},
        bombs=["class/bob/data.bin", "class/Dan Brown_100003_assignsubmission_file_data.bin"])
    assert archive.stat().st_size < 1 << 20
    found = discover(archive, exercise03, tmp_path / "work")
    assert {s.id: s.problem for s in found.students} == {
        "100003": "Dan Brown_100003_assignsubmission_file_data.bin in class.zip unpacks to more than 100 times its "
                  "packed size (a zip bomb?)",
        "alice": "", "bob": "data.bin in class.zip unpacks to more than 100 times its packed size (a zip bomb?)",
        "carol": ""}
    assert _disk_use(tmp_path / "work") < 100_000  # nothing of the bombs stays on disk
    assert not (tmp_path / "work" / "unpacked" / "class" / "bob" / "data.bin").exists()


@pytest.mark.parametrize("limits, says", [
    (unzip.Limits(entry_bytes=300_000), "c.bin in class.zip unpacks to more than 300,000 bytes, the most one file "
                                        "may have"),
    (unzip.Limits(student_bytes=450_000), "c.bin in class.zip does not fit in the 450,000 bytes one student's files "
                                          "may unpack to"),
], ids=["one entry", "one student"])
def test_entries_over_the_limits_per_entry_and_per_student_make_that_student_not_graded(tmp_path, exercise03,
                                                                                        limits, says):
    noise = np.random.default_rng(0).bytes(400_000)  # packs to its own size: no zip bomb
    archive = _zip_class(tmp_path / "class.zip", {"class/alice/exercise03.py": b"x = 1\n",
                                                  "class/alice/a.bin": noise[:100_000],
                                                  "class/alice/c.bin": noise,
                                                  "class/bob/exercise03.py": b"x = 1\n", "class/bob/c.bin": noise[:1]},
                         bombs=[])
    alice, bob = discover(archive, exercise03, tmp_path / "work", limits=limits).students
    assert (alice.problem, bob.problem) == (says, "")


def test_the_whole_archive_stops_only_at_its_own_limit_and_writes_no_more(tmp_path):
    noise = np.random.default_rng(0).bytes(400_000)
    archive = _zip_class(tmp_path / "class.zip", {f"class/s{i}/exercise03.py": noise for i in range(5)}, bombs=[])
    with pytest.raises(unzip.UnzipError, match=r"^class\.zip unpacks to more than 1,000,000 bytes — refusing"):
        unzip.extract(archive, tmp_path / "out", max_bytes=1_000_000)
    assert _disk_use(tmp_path / "out") <= 1_000_000


def test_a_zip_bomb_a_student_handed_in_makes_that_student_not_graded(tmp_path, exercise03):
    for who in ("alice", "bob"):
        (tmp_path / "subs" / who).mkdir(parents=True)
    _zip_class(tmp_path / "subs" / "alice" / "abgabe.zip", {"abgabe/exercise03.py": b"x = 1\n"},
               bombs=["abgabe/weights.pt"])
    (tmp_path / "subs" / "bob" / "exercise03.py").write_text("x = 1\n")
    alice, bob = discover(tmp_path / "subs", exercise03, tmp_path / "work").students
    assert alice.problem == "abgabe/weights.pt in abgabe.zip unpacks to more than 100 times its packed size (a zip bomb?)"
    assert bob.problem == "" and bob.file.name == "exercise03.py"
    assert _disk_use(tmp_path / "work") < 100_000
