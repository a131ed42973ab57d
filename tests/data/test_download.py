"""Downloads against a local HTTP server on 127.0.0.1: checksums, atomic writes, mirrors, the cache folder."""

import os
import urllib.request

import numpy as np
import pytest
from click.testing import CliRunner

from grader.data import DataError, load
from grader.data import download as dl
from grader.data.cli import data as data_group
from grader.data.download import DownloadError, Remote, default_data_dir, download

OFFICIAL_MD5 = "c58f30108f718f92721af3b95e74349a"


@pytest.fixture
def served_cifar(http_server, cifar_archive, monkeypatch):
    """A generated cifar-10-python.tar.gz on the server, and SOURCES expecting its md5: (base URL, arrays)."""
    root, url = http_server
    archive, written = cifar_archive
    (root / archive.name).write_bytes(archive.read_bytes())
    monkeypatch.setitem(dl.SOURCES, "cifar10", (Remote(archive.name, (url,), dl.md5_of(archive)),))
    return url, written


def files_in(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_download_with_the_right_checksum_lands_in_the_cache_and_loads(served_cifar, tmp_path):
    url, written = served_cifar
    folder = download("cifar10", tmp_path / "cache", progress=False, timeout=5)
    assert folder == tmp_path / "cache" / "cifar10"
    assert files_in(folder) == ["cifar-10-python.tar.gz"]
    umask = os.umask(0)
    os.umask(umask)
    assert (folder / "cifar-10-python.tar.gz").stat().st_mode & 0o777 == 0o666 & ~umask  # not a private temp file
    train, test = load("cifar10", tmp_path / "cache")
    assert train.images.shape == (100, 3, 32, 32) and len(test) == 20
    np.testing.assert_array_equal(test.images.reshape(20, -1), written["test_batch"][0])


def test_the_progress_bar_goes_to_stderr(served_cifar, tmp_path, capsys):
    download("cifar10", tmp_path / "cache", progress=True, timeout=5)
    captured = capsys.readouterr()
    assert captured.out == "" and "cifar-10-python.tar.gz" in captured.err


def test_a_wrong_checksum_is_an_error_and_leaves_no_file(http_server, cifar_archive, tmp_path, monkeypatch):
    root, url = http_server
    archive, _ = cifar_archive
    (root / archive.name).write_bytes(archive.read_bytes())  # a valid archive, but not the official one
    monkeypatch.setitem(dl.SOURCES, "cifar10", (Remote(archive.name, (url,), OFFICIAL_MD5),))
    with pytest.raises(DownloadError, match=rf"cifar-10-python\.tar\.gz: checksum mismatch .*expected {OFFICIAL_MD5}"):
        download("cifar10", tmp_path / "cache", progress=False, timeout=5)
    assert files_in(tmp_path / "cache" / "cifar10") == []


def test_ctrl_c_during_the_transfer_leaves_no_partial_file(served_cifar, tmp_path, monkeypatch):
    real_urlopen = urllib.request.urlopen

    def urlopen_interrupted_after_one_block(*args, **kwargs):
        response = real_urlopen(*args, **kwargs)
        real_read, calls = response.read, []

        def read(n=-1):
            calls.append(n)
            if len(calls) > 1:
                raise KeyboardInterrupt
            return real_read(n)
        response.read = read
        return response

    monkeypatch.setattr(urllib.request, "urlopen", urlopen_interrupted_after_one_block)
    with pytest.raises(KeyboardInterrupt):
        download("cifar10", tmp_path / "cache", progress=False, timeout=5)
    assert files_in(tmp_path / "cache" / "cifar10") == []


def test_a_connection_lost_mid_transfer_is_an_error_and_leaves_no_file(http_server, tmp_path, monkeypatch):
    _, url = http_server
    monkeypatch.setitem(dl.SOURCES, "cifar10", (Remote("x.tar.gz", (url + "cut/",), OFFICIAL_MD5),))
    with pytest.raises(DownloadError, match=r"cut/x\.tar\.gz: connection lost after"):
        download("cifar10", tmp_path / "cache", progress=False, timeout=5)
    assert files_in(tmp_path / "cache" / "cifar10") == []


def test_a_failing_host_falls_back_to_the_mirror(served_cifar, tmp_path, monkeypatch):
    url, _ = served_cifar
    (remote,) = dl.SOURCES["cifar10"]
    monkeypatch.setitem(dl.SOURCES, "cifar10", (Remote(remote.filename, (url + "gone/", url), remote.md5),))
    download("cifar10", tmp_path / "cache", progress=False, timeout=5)
    assert files_in(tmp_path / "cache" / "cifar10") == ["cifar-10-python.tar.gz"]


def test_when_every_url_fails_the_error_names_each(http_server, tmp_path):
    _, url = http_server
    with pytest.raises(DownloadError) as info:
        download("mnist", tmp_path / "cache", base_url=url + "nothing", progress=False, timeout=5)
    assert "could not download train-images-idx3-ubyte.gz" in str(info.value)
    assert f"{url}nothing/train-images-idx3-ubyte.gz: HTTP 404" in str(info.value)
    assert files_in(tmp_path / "cache" / "mnist") == []


def test_base_url_replaces_the_official_hosts_and_mnist_loads_from_the_cache(http_server, make_idx, tmp_path, monkeypatch):
    root, url = http_server
    rng = np.random.default_rng(2)
    remotes = []
    for prefix, n in (("train", 30), ("t10k", 10)):
        images = make_idx(root / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), gz=True)
        labels = make_idx(root / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10, gz=True)
        remotes += [Remote(p.name, ("http://unreachable.invalid/",), dl.md5_of(p)) for p in (images, labels)]
    monkeypatch.setitem(dl.SOURCES, "mnist", tuple(remotes))
    download("mnist", tmp_path / "cache", base_url=url, progress=False, timeout=5)
    train, test = load("mnist", tmp_path / "cache")
    assert train.images.shape == (30, 1, 28, 28) and test.images.shape == (10, 1, 28, 28)
    assert train.classes == [str(d) for d in range(10)]


def test_files_already_cached_with_the_right_checksum_are_not_fetched_again(served_cifar, tmp_path, monkeypatch):
    download("cifar10", tmp_path / "cache", progress=False, timeout=5)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("fetched again"))
    download("cifar10", tmp_path / "cache", progress=False, timeout=5)


def test_a_cached_file_with_a_wrong_checksum_is_fetched_again(served_cifar, tmp_path):
    target = tmp_path / "cache" / "cifar10" / "cifar-10-python.tar.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"half a file")
    download("cifar10", tmp_path / "cache", progress=False, timeout=5)
    assert dl.md5_of(target) == dl.SOURCES["cifar10"][0].md5


def test_the_data_folder_is_the_option_then_the_environment_then_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path / "env"))
    assert default_data_dir(tmp_path / "opt") == tmp_path / "opt"
    assert default_data_dir() == tmp_path / "env"
    monkeypatch.delenv("DLCOURSE_DATA")
    assert default_data_dir().name == "dlcourse-grader"


def test_the_official_sources_are_https_or_listed_mirrors_with_md5s():
    assert dl.SOURCES["cifar10"][0].urls() == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    assert dl.SOURCES["cifar10"][0].md5 == OFFICIAL_MD5
    mnist_images = dl.SOURCES["mnist"][2]
    assert mnist_images.filename == "t10k-images-idx3-ubyte.gz"
    assert mnist_images.md5 == "9fb629c4189551a2d022fa330f9573f3"  # = ../shared/data's copy
    assert len(mnist_images.urls()) == 2  # canonical host, then the mirror
    assert all(len(r.md5) == 32 for rs in dl.SOURCES.values() for r in rs)


def test_load_says_how_to_get_a_dataset_that_is_not_cached(tmp_path):
    with pytest.raises(DataError, match=r"cifar10 not found in .* run `grade data download cifar10`"):
        load("cifar10", tmp_path)


# --------------------------------------------------------------------------- grade data ...

def test_grade_data_download_then_info_shows_it_cached(served_cifar, tmp_path):
    url, _ = served_cifar
    runner = CliRunner()
    result = runner.invoke(data_group, ["download", "cifar10", "--data-dir", str(tmp_path), "--base-url", url],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"cifar10: ready in {tmp_path / 'cifar10'}" in result.stdout
    info = runner.invoke(data_group, ["info", "--data-dir", str(tmp_path)], catch_exceptions=False)
    assert info.exit_code == 0
    assert f"data folder: {tmp_path}" in info.stdout
    assert "cifar10: cached:" in info.stdout
    assert "mnist: not downloaded — run `grade data download mnist`" in info.stdout


def test_grade_data_download_with_a_wrong_checksum_exits_2_with_one_line(http_server, cifar_archive, tmp_path):
    root, url = http_server
    archive, _ = cifar_archive
    (root / archive.name).write_bytes(archive.read_bytes())
    result = CliRunner().invoke(data_group, ["download", "cifar10", "--data-dir", str(tmp_path), "--base-url", url],
                                catch_exceptions=False)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("grade: could not download cifar-10-python.tar.gz:") and "checksum mismatch" in lines[-1]
    assert "Traceback" not in result.output
    assert files_in(tmp_path / "cifar10") == []


def test_grade_data_info_uses_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"x")
    (tmp_path / "mnist" / ".t10k-images-idx3-ubyte.gz.abc.part").write_bytes(b"x")
    result = CliRunner().invoke(data_group, ["info"], catch_exceptions=False)
    assert f"data folder: {tmp_path}" in result.stdout
    assert "mnist: incomplete: 1 of 4 files" in result.stdout
    assert "1 leftover partial download(s)" in result.stdout


def test_grade_data_download_refuses_an_unknown_name():
    result = CliRunner().invoke(data_group, ["download", "imagenet"])
    assert result.exit_code == 2 and "imagenet" in result.output
