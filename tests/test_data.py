"""The data layer: real IDX files, checksum failures, splits, pipelines, cache, toy sets. No network."""

import gzip
import os
import shutil

import numpy as np
import pytest

from keras_lecture_zoo.zoo import data

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def mnist_raw(data_dir):
    return data.load_arrays("mnist", data_dir)


def test_mnist_arrays(mnist_raw):
    assert mnist_raw["x_train"].shape == (60000, 28, 28) and mnist_raw["x_train"].dtype == np.uint8
    assert mnist_raw["x_test"].shape == (10000, 28, 28)
    assert mnist_raw["y_train"].shape == (60000,) and mnist_raw["y_test"].shape == (10000,)
    assert list(mnist_raw["y_train"][:5]) == [5, 0, 4, 1, 9]
    assert list(mnist_raw["y_test"][:5]) == [7, 2, 1, 0, 4]
    assert np.bincount(mnist_raw["y_train"]).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(mnist_raw["y_test"]).tolist() == MNIST_TEST_COUNTS
    assert mnist_raw["x_train"].max() == 255 and mnist_raw["x_train"].min() == 0


def test_fashion_mnist_arrays(data_dir):
    raw = data.load_arrays("fashion_mnist", data_dir)
    assert raw["x_train"].shape == (60000, 28, 28) and raw["x_test"].shape == (10000, 28, 28)
    assert np.bincount(raw["y_train"]).tolist() == [6000] * 10
    assert np.bincount(raw["y_test"]).tolist() == [1000] * 10
    assert list(raw["y_train"][:5]) == [9, 0, 0, 3, 0]
    assert data.load_arrays("fashion-mnist", data_dir)["y_test"][0] == raw["y_test"][0]


def test_environment_variable_is_used(data_dir, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(data_dir))
    assert data.resolve_data_dir() == data_dir
    assert data.load_arrays("mnist")["y_train"][0] == 5


def test_explicit_argument_wins_over_environment(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))  # empty folder
    assert data.resolve_data_dir(data_dir) == data_dir
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        data.load_arrays("mnist")


def test_missing_directory_names_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"\$ZOO_DATA_DIR points at .*nowhere"):
        data.load_arrays("mnist")


def _copy_mnist(data_dir, tmp_path):
    dest = tmp_path / "data"
    shutil.copytree(data_dir / "mnist", dest / "mnist")
    for f in (dest / "mnist").iterdir():
        os.chmod(f, 0o644)
    return dest


def test_corrupted_file_raises_checksum_error(data_dir, tmp_path):
    dest = _copy_mnist(data_dir, tmp_path)
    labels = dest / "mnist" / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[100] = (content[100] + 1) % 10  # one label changed, still a valid IDX file
    labels.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(data.ChecksumError) as info:
        data.load_arrays("mnist", dest)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in message
    assert "expected sha256: ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" in message
    assert "actual sha256:" in message and "fix:" in message


def test_truncated_file_raises_checksum_error(data_dir, tmp_path):
    dest = _copy_mnist(data_dir, tmp_path)
    images = dest / "mnist" / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:1_000_000])
    with pytest.raises(
        data.ChecksumError,
        match=r"(?s)train-images-idx3-ubyte.gz \(the gzip stream ends early.*expected sha256: ba891046",
    ):
        data.load_arrays("mnist", dest)


def test_wrong_file_raises_checksum_error(data_dir, tmp_path):
    dest = _copy_mnist(data_dir, tmp_path)
    mnist = dest / "mnist"
    shutil.copy(data_dir / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz", mnist / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(data.ChecksumError, match="t10k-labels-idx1-ubyte"):
        data.load_arrays("mnist", dest)


def test_corruption_after_a_good_load_is_still_caught(data_dir, tmp_path):
    """The decompressed cache never hides a source file that changed since it was verified."""
    dest = _copy_mnist(data_dir, tmp_path)
    assert data.load_arrays("mnist", dest)["y_test"][0] == 7  # fills the cache
    labels = dest / "mnist" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + bytes(10)))
    with pytest.raises(data.ChecksumError, match="t10k-labels-idx1-ubyte.gz"):
        data.load_arrays("mnist", dest)


def test_decompressed_idx_files_are_read_and_verified(data_dir, tmp_path):
    dest = tmp_path / "raw" / "mnist"
    dest.mkdir(parents=True)
    for gz in (data_dir / "mnist").glob("*.gz"):
        (dest / gz.stem).write_bytes(gzip.decompress(gz.read_bytes()))
    assert list(data.load_arrays("mnist", dest.parent)["y_train"][:5]) == [5, 0, 4, 1, 9]
    (dest / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + (1).to_bytes(4, "big") + b"\x07")
    with pytest.raises(data.ChecksumError, match="expected sha256: ff7bcfd4"):
        data.load_arrays("mnist", dest.parent)


def test_download_from_a_mirror_into_the_cache(data_dir, monkeypatch, tmp_path):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ZOO_DATA_MIRROR", data_dir.as_uri())
    raw = data.load_arrays("mnist")
    assert list(raw["y_test"][:5]) == [7, 2, 1, 0, 4]
    assert sorted(p.name for p in (tmp_path / "cache" / "downloads" / "mnist").iterdir()) == sorted(
        f"{part}.gz" for part in data.idx._PARTS
    )


def test_offline_download_fails_clearly(monkeypatch, tmp_path):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.delenv("ZOO_DATA_MIRROR", raising=False)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"(?s)not fetched because ZOO_OFFLINE=1.*ZOO_DATA_DIR"):
        data.load_arrays("fashion_mnist")


@pytest.fixture
def silent_server():
    """A loopback HTTP 'mirror' that accepts connections and never answers (a dropped connection),
    or with ``truncated=True`` sends headers for 1000 bytes and hangs up after 10."""
    import socket
    import threading

    def serve(truncated):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        held = []

        def loop():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                if truncated:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + bytes(10))
                    conn.close()
                else:
                    held.append(conn)

        threading.Thread(target=loop, daemon=True).start()
        servers.append(listener)
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    servers = []
    yield serve
    for listener in servers:
        listener.close()


@pytest.mark.parametrize("truncated", [False, True], ids=["no answer", "cut off"])
def test_a_mirror_that_does_not_deliver_fails_in_seconds_with_one_error(
    silent_server, truncated, monkeypatch, tmp_path
):
    import time

    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)  # loopback only
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("ZOO_DATA_MIRROR", silent_server(truncated))
    monkeypatch.setenv("ZOO_DOWNLOAD_TIMEOUT", "1")
    t0 = time.monotonic()
    with pytest.raises(data.MissingDataError, match="no local mnist data and no download: http://127.0.0.1:"):
        data.load_arrays("mnist")
    assert time.monotonic() - t0 < 20  # one 1 s timeout (and a small margin for a loaded machine), not minutes


def test_a_bad_download_timeout_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("ZOO_DOWNLOAD_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="ZOO_DOWNLOAD_TIMEOUT must be a positive number of seconds, got 'soon'"):
        data.download("mnist")


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match=r"`name` must be one of \['fashion_mnist', 'mnist'\]"):
        data.load("cifar10")


def test_load_normalises_and_splits_like_keras(data_dir, mnist_raw):
    s = data.load("mnist", data_dir, validation_size=0.1)
    assert s.x_train.shape == (54000, 28, 28, 1) and s.x_val.shape == (6000, 28, 28, 1)
    assert s.x_train.dtype == np.float32 and float(s.x_train.max()) == 1.0
    np.testing.assert_array_equal(s.y_val, mnist_raw["y_train"][54000:])  # the last 10%, as fit(validation_split)
    assert s.x_test.shape == (10000, 28, 28, 1) and s.y_test.dtype == np.int32


def test_seeded_split_is_deterministic_and_disjoint(data_dir):
    a = data.load("mnist", data_dir, validation_size=5000, split_seed=3, flatten=True)
    b = data.load("mnist", data_dir, validation_size=5000, split_seed=3, flatten=True)
    c = data.load("mnist", data_dir, validation_size=5000, split_seed=4, flatten=True)
    assert a.x_train.shape == (55000, 784) and a.x_val.shape == (5000, 784)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert not np.array_equal(a.y_val, c.y_val)
    train_rows = {r.tobytes() for r in a.x_train[:2000]}
    assert not any(r.tobytes() in train_rows for r in a.x_val[:2000] if r.any())


@pytest.mark.parametrize("bad", [1.5, -0.1, 60000, True, "10%"])
def test_bad_validation_size(data_dir, bad):
    with pytest.raises(ValueError, match="`validation_size`"):
        data.load("mnist", data_dir, validation_size=bad)


def test_tf_data_pipelines(data_dir):
    train, val, test = data.load_datasets("fashion_mnist", data_dir, batch_size=256, validation_size=0.1)
    x, y = next(iter(train))
    assert tuple(x.shape) == (256, 28, 28, 1) and tuple(y.shape) == (256,)
    assert sum(int(b[1].shape[0]) for b in val) == 6000
    assert test.cardinality().numpy() == int(np.ceil(10000 / 256))
    second_epoch = next(iter(train))[1].numpy()
    assert not np.array_equal(second_epoch, y.numpy())  # reshuffled every epoch
    again = data.load_datasets("fashion_mnist", data_dir, batch_size=256, validation_size=0.1)[0]
    np.testing.assert_array_equal(next(iter(again))[1].numpy(), y.numpy())  # same shuffle seed, same order
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        data.to_dataset(np.zeros((4, 2)), batch_size=0)


def test_truth_tables():
    x, y = data.truth_table("and")
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y.reshape(-1), [0, 0, 0, 1])
    x3, y3 = data.truth_table("and", 3)
    assert x3.shape == (8, 3) and y3.reshape(-1).tolist() == [0] * 7 + [1]
    assert data.truth_table("not")[1].reshape(-1).tolist() == [1, 0]
    assert data.truth_table("xor")[1].reshape(-1).tolist() == [0, 1, 1, 0]
    with pytest.raises(ValueError, match="`gate` must be one of"):
        data.truth_table("xnor")
    with pytest.raises(ValueError, match=r"`n_inputs` for gate 'not' must be one of \[1\]"):
        data.truth_table("not", 2)


def test_xor_matches_the_lecture():
    x, y = data.xor()
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [[0], [1], [1], [0]])


def test_circle_data_is_seeded():
    x, y = data.circle(300, seed=5)
    x2, y2 = data.circle(300, seed=5)
    np.testing.assert_array_equal(x, x2)
    assert x.shape == (300, 2) and set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_array_equal(y.reshape(-1), (np.hypot(x[:, 0], x[:, 1]) < 1).astype("float32"))
    with pytest.raises(ValueError, match="`radius`"):
        data.circle(10, radius=0)


def test_target_functions():
    x, y = data.function_samples("sine", 101)
    assert x.shape == (101, 1) and y.shape == (101, 1)
    assert abs(float(y[25, 0]) - 1.0) < 1e-6  # sin(2π·0.25)
    assert np.all(np.abs(data.function_samples("wiggle", 50, seed=1)[1]) <= 1.5)
    with pytest.raises(ValueError, match="`name` must be one of"):
        data.target_function("tan")
