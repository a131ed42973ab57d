"""LFW-8 for the project: the faces as the grader sees them, an instructor's own folder, the
students' hand-out (train and validation only; the test faces without names), and the
one-line errors of `grade data` — on generated faces; the real zip behind a skip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.data import load_image_folder, load_split
from grader.data.faces import face, read_faces, face_ids

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "lfw8-gray.zip"


def test_an_lfw_sized_image_becomes_its_centre_face_and_any_other_its_centre_square():
    lfw = np.zeros((1, 250, 250), np.uint8)
    lfw[0, 55:195, 55:195] = 200                      # the face box, 140 px
    assert face(lfw).shape == (1, 64, 64) and face(lfw).min() == 200
    wide = np.zeros((3, 100, 300), np.uint8)
    wide[:, :, 100:200] = 90                          # the centre square of a colour image
    assert face(wide).shape == (1, 64, 64) and np.all(face(wide) == 90)


def test_an_instructors_own_folder_of_any_sizes_and_colours_is_read_like_lfw(tmp_path):
    from PIL import Image

    for person, size in (("Ada", (120, 160)), ("Bob", (90, 90))):
        (tmp_path / "lfw8" / person).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", size, (i * 40, 100, 200)).save(tmp_path / "lfw8" / person / f"{i}.jpg")
    data = read_faces(tmp_path / "lfw8")
    assert data.classes == ["Ada", "Bob"] and data.images.shape == (6, 1, 64, 64)
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_the_handout_holds_train_and_val_only_as_image_folders_the_loader_reads(fake_lfw8, tmp_path):
    out = tmp_path / "faces"
    result = CliRunner().invoke(main, ["data", "handout", "lfw8", "--data-dir", str(fake_lfw8), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["train", "val"]
    for split in ("train", "val"):
        got, want = load_image_folder(out, split), load_split("lfw8", split, fake_lfw8)
        assert got.classes == want.classes
        assert sorted(i.tobytes() for i in got.images) == sorted(i.tobytes() for i in want.images)


def test_the_unlabelled_test_faces_carry_ids_and_no_names(fake_lfw8, tmp_path):
    out = tmp_path / "faces"
    result = CliRunner().invoke(main, ["data", "handout", "lfw8", "--data-dir", str(fake_lfw8), "--out", str(out),
                                       "--unlabelled-test"])
    assert result.exit_code == 0, result.output
    test = load_split("lfw8", "test", fake_lfw8)
    files = sorted((out / "test").iterdir())
    assert [p.stem for p in files] == sorted(face_ids(len(test)))
    assert not any(name.lower() in p.name.lower() for p in files for name in test.classes)
    assert [p for p in (out / "test").rglob("*") if p.is_dir()] == []


def test_grade_data_errors_are_one_line(fake_lfw8, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["data", "handout", "lfw8", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 2 and "lfw8 is not in" in missing.output and missing.output.count("\n") == 1
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    full = runner.invoke(main, ["data", "handout", "lfw8", "--data-dir", str(fake_lfw8), "--out", str(tmp_path / "full")])
    assert full.exit_code == 2 and "is not empty" in full.output
    download = runner.invoke(main, ["data", "download", "lfw8", "--data-dir", str(tmp_path)])
    assert download.exit_code == 2 and "lfw8-gray.zip" in download.output and download.output.count("\n") == 1


@pytest.mark.skipif(not REAL.is_file(), reason="needs ../shared/data/lfw8-gray.zip (the real LFW-8 faces)")
def test_the_real_split_has_the_documented_sizes_per_person():
    parts = [load_split("lfw8", s, REAL.parent) for s in ("train", "val", "test")]
    assert [len(p) for p in parts] == [809, 270, 269]
    assert parts[2].classes[3] == "George_W_Bush" and parts[2].counts().tolist() == [15, 47, 24, 106, 22, 14, 12, 29]
