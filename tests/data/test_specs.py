"""One spec per dataset: the registry, unknown names, SOURCES as a view of the specs, and a new
dataset that needs nothing but its spec."""

import numpy as np
import pytest

import grader.data
from grader.data import DataError, load, load_image_folder, load_split, locate
from grader.data import download as dl
from grader.data.specs import DATASETS, NAMES, DatasetSpec, Remote

KNOWN = r"\(known: cifar10, mnist, fashion-mnist, lfw8\)"


def test_the_names_are_the_registry_s_in_its_order():
    assert NAMES == tuple(DATASETS) == grader.data.NAMES == ("cifar10", "mnist", "fashion-mnist", "lfw8")
    assert all(spec.name == name for name, spec in DATASETS.items())


@pytest.mark.parametrize("call", [lambda d: locate("imagenet", d), lambda d: load("imagenet", d),
                                  lambda d: load_split("imagenet", "test", d)], ids=["locate", "load", "load_split"])
def test_an_unknown_dataset_is_a_data_error_naming_the_known_ones(call, tmp_path):
    with pytest.raises(DataError, match=rf"unknown dataset 'imagenet' {KNOWN}"):
        call(tmp_path)


def test_download_of_an_unknown_dataset_is_a_download_error_naming_the_known_ones(tmp_path):
    with pytest.raises(dl.DownloadError, match=rf"unknown dataset 'imagenet' {KNOWN}"):
        dl.download("imagenet", tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_setting_a_source_replaces_the_spec_s_remotes_and_nothing_else(monkeypatch):
    before = DATASETS["mnist"]
    remote = Remote("only.gz", ("http://127.0.0.1:9/",), "0" * 32)
    with monkeypatch.context() as patch:
        patch.setitem(dl.SOURCES, "mnist", [remote])
        assert DATASETS["mnist"].remotes == (remote,) == dl.SOURCES["mnist"]
        assert (DATASETS["mnist"].find, DATASETS["mnist"].classes) == (before.find, before.classes)
    assert DATASETS["mnist"] == before
    assert dict(dl.SOURCES) == {name: spec.remotes for name, spec in DATASETS.items()}


def faces_spec(url: str, md5: str) -> DatasetSpec:
    """A dataset like the course's coming lfw8-gray.zip: one image-folder zip, ROOT/<person>/*.jpg, no splits."""
    return DatasetSpec(
        name="faces",
        remotes=(Remote("faces.zip", (url,), md5),),
        find=lambda root: next((p for p in (root / "faces" / "faces.zip", root / "faces.zip") if p.exists()), None),
        read=lambda where, split, classes: load_image_folder(where, None),
        splits=("all",),
    )


def test_a_new_dataset_needs_only_its_spec(http_server, image_tree, tmp_path, monkeypatch):
    root, url = http_server
    rng = np.random.default_rng(0)
    people = {f"lfw8/{person}/{person}_{i:04d}.jpg": rng.integers(0, 256, (8, 8), dtype=np.uint8)
              for person in ("Ariel_Sharon", "Colin_Powell") for i in range(3)}
    archive = image_tree(root / "faces.zip", people)
    monkeypatch.setitem(DATASETS, "faces", faces_spec(url, dl.md5_of(archive)))
    cache = tmp_path / "cache"

    assert dict(dl.cache_status(cache))["faces"] == "not downloaded — run `grade data download faces`"
    assert dl.download("faces", cache, progress=False, timeout=5) == cache / "faces"
    assert locate("faces", cache) == cache / "faces" / "faces.zip"
    faces = load_split("faces", "all", cache)
    assert faces.images.shape == (6, 1, 8, 8) and faces.classes == ["Ariel_Sharon", "Colin_Powell"]
    assert dict(dl.cache_status(cache))["faces"].startswith(f"cached: {cache / 'faces' / 'faces.zip'}")
    with pytest.raises(ValueError, match=r"split must be 'all', got 'test'"):
        load_split("faces", "test", cache)
    with pytest.raises(DataError, match=r"faces has no train and test splits \(its splits: all\)"):
        load("faces", cache)
