"""The reproduction machinery of the residual targets: several networks per seed, loss surfaces, the deep MLPs,
CIFAR-10 through tensorflow-datasets (mocked, no network), and the residual targets' quick runs."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions import targets
from keras_lecture_zoo.reproductions.__main__ import main
from keras_lecture_zoo.reproductions.landscape import filter_normalized_direction, loss_surface, nonconvex_fraction
from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target
from tests._tiny_targets import two_network_target

RESIDUAL_TARGETS = (
    "residual.degradation",
    "landscape.resnet_vs_plain",
    "residual.fashion_resnet20",
    "residual.fashion_densenet",
)


def _run(target, out, resume=False, seeds=(0,)):
    configure_determinism()
    return run_target(
        target,
        RunSettings(output_dir=out, profile="full", seeds=list(seeds), resume=resume, verbose=0),
        record={"command": "test"},
    )


# --------------------------------------------------------------------------- several networks per seed


def test_networks_share_a_seed_history_with_a_network_column_and_time_each_epoch(tmp_path):
    _run(two_network_target(), tmp_path)
    folder = tmp_path / "tiny.two_networks"
    history = pd.read_csv(folder / "history" / "seed_0.csv")
    assert history["Network"].tolist() == ["a"] * 3 + ["b"] * 3
    assert history["Epoch"].tolist() == [1, 2, 3] * 2
    record = json.loads((folder / "run.json").read_text())
    assert set(record["seconds_per_epoch"]) == {"a", "b"}
    assert all(t["epochs"] == 3 and 0 < t["min"] <= t["mean"] <= t["max"] for t in record["seconds_per_epoch"].values())
    assert "wall time per training epoch on this CPU: a " in (folder / "summary.md").read_text()


def test_a_crash_between_networks_resumes_without_retraining_the_first(tmp_path, capsys):
    _run(two_network_target(), tmp_path / "clean")
    marker = tmp_path / "failed-once"
    with pytest.raises(RuntimeError, match="simulated crash"):
        _run(two_network_target(fail_marker=marker), tmp_path / "crashed")
    first = tmp_path / "crashed" / ".work" / "tiny.two_networks" / "seed_0" / "a"
    with np.load(first / "checkpoint.npz") as ckpt:
        assert json.loads(ckpt["__state__"].tobytes())["epochs_done"] == 3
    capsys.readouterr()
    _run(two_network_target(fail_marker=marker), tmp_path / "crashed", resume=True)
    assert capsys.readouterr().out.count("resuming seed 0 after epoch 3") == 1  # network a: restored, not retrained
    clean = pd.read_csv(tmp_path / "clean" / "tiny.two_networks" / "metrics.csv").drop(columns=["wall_time_s"])
    resumed = pd.read_csv(tmp_path / "crashed" / "tiny.two_networks" / "metrics.csv").drop(columns=["wall_time_s"])
    pd.testing.assert_frame_equal(clean, resumed, check_exact=True)


# --------------------------------------------------------------------------- loss surfaces


def _small_resnet():
    import keras

    keras.utils.set_random_seed(0)
    model = zoo.resnet20(input_shape=(8, 8, 1))
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    return model, rng.random((32, 8, 8, 1), dtype=np.float32), rng.integers(0, 10, 32).astype("int32")


def test_a_resnet_trains_bitwise_repeatably_through_the_fused_batchnorm_and_resumes_to_the_same_weights(tmp_path):
    """zoo.resnet20's fused BatchNorm (TensorFlow's kernel) under op determinism: two runs, and a run stopped
    after 2 of 3 epochs and resumed, end with the same weights, bit for bit."""
    import keras

    from keras_lecture_zoo.reproductions import engine

    configure_determinism()
    rng = np.random.default_rng(0)
    x = rng.random((64, 8, 8, 1), dtype=np.float32)
    d = {
        "x_train": x,
        "y_train": rng.integers(0, 10, 64),
        "x_val": None,
        "y_val": None,
        "x_test": x[:8],
        "y_test": rng.integers(0, 10, 8),
    }

    def recipe(epochs):
        return engine.Recipe(
            build=lambda _s: zoo.resnet20(input_shape=(8, 8, 1)),
            epochs=epochs,
            batch_size=16,
            optimizer=lambda: keras.optimizers.SGD(0.1, momentum=0.9),
            loss="sparse_categorical_crossentropy",
        )

    _, first = engine.train(recipe(3), d, seed=1, work_dir=tmp_path / "a", verbose=0)
    _, again = engine.train(recipe(3), d, seed=1, work_dir=tmp_path / "b", verbose=0)
    engine.train(recipe(2), d, seed=1, work_dir=tmp_path / "c", verbose=0)
    _, resumed = engine.train(recipe(3), d, seed=1, work_dir=tmp_path / "c", verbose=0)
    for a, b, c in zip(first.get_weights(), again.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert not np.allclose(first.get_layer("stem_bn").moving_variance.numpy(), 1.0)  # the fused path trained


def test_filter_normalised_direction_matches_each_filter_norm_and_skips_biases_and_batchnorm():
    model, _, _ = _small_resnet()
    direction = filter_normalized_direction(model, seed=3)
    assert len(direction) == len(model.trainable_weights)
    for w, d in zip(model.trainable_weights, direction):
        w = np.asarray(w.numpy(), dtype=np.float64)
        assert d.shape == w.shape
        if w.ndim <= 1:
            assert not d.any(), w.shape
        else:
            axes = tuple(range(w.ndim - 1))
            np.testing.assert_allclose(
                np.linalg.norm(d.reshape(-1, d.shape[-1]), axis=0), np.sqrt((w**2).sum(axis=axes)), rtol=1e-6
            )
    again = filter_normalized_direction(model, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(direction, again))


def test_loss_surface_centre_equals_evaluate_and_restores_the_weights():
    model, x, y = _small_resnet()
    before = [np.array(w) for w in model.get_weights()]
    loss, acc = model.evaluate(x, y, verbose=0)
    d1, d2 = filter_normalized_direction(model, 1), filter_normalized_direction(model, 2)
    losses, accs = loss_surface(model, x, y, [d1, d2], [[0.0, 0.0], [0.5, -0.5], [1.0, 1.0]], batch_size=10)
    assert losses[0] == pytest.approx(loss, rel=1e-5) and accs[0] == pytest.approx(acc)
    assert losses[1] != pytest.approx(losses[0])
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(ValueError, match="`coordinates` must have 2 columns"):
        loss_surface(model, x, y, [d1, d2], [[0.0]])


def test_nonconvex_fraction_is_zero_for_a_bowl_and_one_for_a_saddle():
    a = np.linspace(-1, 1, 11)
    xx, yy = np.meshgrid(a, a, indexing="ij")
    assert nonconvex_fraction(xx**2 + yy**2) == 0.0
    assert nonconvex_fraction(xx**2 - yy**2) == 1.0
    assert nonconvex_fraction(-(xx**2) - yy**2) == 1.0


# --------------------------------------------------------------------------- deep MLPs


@pytest.mark.parametrize(
    "kwargs",
    [dict(hidden_activation="sigmoid"), dict(hidden_activation="relu"), dict(hidden_activation="relu", residual=True)],
)
def test_deep_mlp_variants_have_the_same_layers_and_parameters(kwargs):
    model = zoo.deep_mlp(**kwargs)
    assert model.count_params() == 784 * 128 + 128 + 18 * (128 * 128 + 128) + 1290 == 398_986
    assert [layer.name for layer in model.layers if layer.name.startswith("dense_")] == [
        f"dense_{i}" for i in range(1, 20)
    ]
    init = model.get_layer("dense_2").kernel_initializer
    assert type(init).__name__ == ("GlorotUniform" if kwargs["hidden_activation"] == "sigmoid" else "HeNormal")


def test_residual_deep_mlp_scales_its_branches_and_keeps_activations_bounded():
    import keras

    keras.utils.set_random_seed(0)
    model = zoo.deep_mlp(hidden_activation="relu", residual=True)
    assert model.get_layer("dense_3").kernel_initializer.scale == pytest.approx(2.0 / 9)
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    probe = keras.Model(model.input, model.get_layer("block9_out").output)
    assert float(np.std(probe(x))) < 50.0  # unscaled branches reach ~100× (2^9 variance growth)
    with pytest.raises(ValueError, match="`depth` must be even with residual=True"):
        zoo.deep_mlp(depth=7, residual=True)


# ------------------------------------------------------------------- CIFAR-10 through tensorflow-datasets (mocked)


@pytest.fixture
def mock_cifar10():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=40, policy=tfds.testing.MockPolicy.USE_CODE):
        yield


def test_load_tfds_gives_cifar_shaped_float_splits(mock_cifar10, tmp_path):
    from keras_lecture_zoo.zoo import data

    s = data.load_tfds("cifar10", data_dir=str(tmp_path), validation_size=10)
    assert s.x_train.shape == (30, 32, 32, 3) and s.x_val.shape == (10, 32, 32, 3) and s.x_test.shape == (40, 32, 32, 3)
    assert s.x_train.dtype == np.float32 and 0.0 <= s.x_train.min() and s.x_train.max() <= 1.0
    assert s.y_train.dtype == np.int32 and set(np.unique(s.y_train)) <= set(range(10))
    assert s.class_names[0] == "airplane"
    with pytest.raises(ValueError, match="`name` must be one of"):
        data.load_tfds("imagenet2012")


def test_load_tfds_offline_refuses_in_one_line_through_the_real_builder(tmp_path, monkeypatch):
    from keras_lecture_zoo.zoo import data

    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(data.MissingDataError, match="cifar10 is not in .*ZOO_OFFLINE=1 forbids the download"):
        data.load_tfds("cifar10", data_dir=str(tmp_path))


def test_load_tfds_reaches_the_download_without_an_import_error(tmp_path, monkeypatch):
    """tfds' real builder path up to its first network call, which is refused here: an undeclared
    dependency of tfds (importlib_resources) fails before that point, as it did out of the box."""
    from tensorflow_datasets.core.download import downloader

    from keras_lecture_zoo.zoo import data

    class NetworkReached(OSError):
        pass

    def refuse(url, **kwargs):
        raise NetworkReached(f"network reached: {url}")

    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    monkeypatch.setattr(downloader, "_open_url", refuse)
    with pytest.raises(data.MissingDataError, match="could not download cifar10 .*network reached: https://"):
        data.load_tfds("cifar10", data_dir=str(tmp_path))


def test_residual_data_switches_to_cifar10(mock_cifar10):
    from keras_lecture_zoo.reproductions.spec import Profile
    from keras_lecture_zoo.reproductions.suite import Context, RunSettings
    from keras_lecture_zoo.reproductions.targets._residual import residual_data

    profiles = {"full": Profile(seeds=1), "quick": Profile(seeds=1, train_size=20)}
    target = dataclasses.replace(targets.get("residual.degradation"), **profiles)
    ctx = Context(target, RunSettings(output_dir=Path("."), dataset="cifar10"))
    d = residual_data(ctx, train_size=25, test_size=15)
    assert d["x_train"].shape == (25, 32, 32, 3) and d["x_test"].shape == (15, 32, 32, 3) and d["x_val"] is None
    quick = Context(target, RunSettings(output_dir=Path("."), profile="quick", dataset="cifar10"))
    assert residual_data(quick, train_size=25)["x_train"].shape == (20, 32, 32, 3)  # the profile's size wins


def test_residual_data_reads_cifar10_from_the_runs_data_dir(monkeypatch, tmp_path):
    from keras_lecture_zoo.reproductions.spec import Profile
    from keras_lecture_zoo.reproductions.suite import Context, RunSettings
    from keras_lecture_zoo.reproductions.targets import _residual
    from keras_lecture_zoo.zoo import data

    asked = []
    fake = data.Splits(*(np.zeros((4, 32, 32, 3), "float32"), np.zeros(4, "int32")) * 3)
    monkeypatch.setattr(data, "load_tfds", lambda name, **kw: asked.append((name, kw["data_dir"])) or fake)
    _residual._tfds_splits.cache_clear()
    target = dataclasses.replace(targets.get("residual.degradation"), full=Profile(seeds=1))
    for data_dir in (tmp_path, None):
        settings = RunSettings(output_dir=Path("."), data_dir=data_dir, dataset="cifar10")
        _residual.residual_data(Context(target, settings))
    _residual._tfds_splits.cache_clear()
    assert asked == [("cifar10", str(tmp_path)), ("cifar10", None)]  # --data-dir is tfds' folder; none: tfds' default


def test_dataset_option_is_checked_against_each_target(tmp_path, capsys):
    assert main(["run", "gates.and", "--dataset", "cifar10", "--output-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--dataset 'cifar10' is not offered by target 'gates.and'" in err
    assert "residual.degradation" in err and not any(tmp_path.iterdir())
    for name in RESIDUAL_TARGETS:
        assert targets.get(name).datasets == ("fashion_mnist", "cifar10")


@pytest.mark.long  # 54 s; CI runs the degradation quick profile on Fashion-MNIST and tests the cifar10 data switch
def test_degradation_quick_runs_end_to_end_on_mocked_cifar10(mock_cifar10, tmp_path):
    out = tmp_path / "out"
    assert (
        main(
            [
                "run",
                "residual.degradation",
                "--quick",
                "--dataset",
                "cifar10",
                "--output-dir",
                str(out),
                "--verbose",
                "0",
            ]
        )
        == 0
    )
    record = json.loads((out / "residual.degradation" / "run.json").read_text())
    assert record["dataset"] == "cifar10" and set(record["seconds_per_epoch"]) == {
        "plain20",
        "plain56",
        "resnet20",
        "resnet56",
    }
    metrics = pd.read_csv(out / "residual.degradation" / "metrics.csv")
    assert np.isfinite(metrics["train_error_gap_plain56_minus_plain20"]).all()
    assert (out / "residual.degradation" / "training_error.png").stat().st_size > 10_000


# --------------------------------------------------------------------------- gradients.vanishing, a real (quick) run


def test_vanishing_quick_run_shows_sigmoid_gradients_vanish_and_residual_ones_stay_flat(tmp_path, data_dir):
    out = tmp_path / "out"
    assert main(["run", "gradients.vanishing", "--quick", "--output-dir", str(out), "--verbose", "0"]) == 0
    metrics = pd.read_csv(out / "gradients.vanishing" / "metrics.csv").iloc[0]
    assert metrics["log10_grad_ratio_sigmoid_init"] < -5  # 19 sigmoid layers: ~1e-11 here
    assert abs(metrics["log10_grad_ratio_relu_init"]) < 1 and abs(metrics["log10_grad_ratio_residual_init"]) < 1
    assert metrics["test_accuracy_relu"] > metrics["test_accuracy_sigmoid"]
    details = json.loads((out / "gradients.vanishing" / "details.json").read_text())
    assert len(details["0"]["gradient_norms"]["sigmoid"]["init"]) == 19


def test_batchnorm_recalibration_sets_the_plain_average_of_batch_statistics():
    import keras

    from keras_lecture_zoo.callbacks.batchnorm import recalibrate_batchnorm

    inputs = keras.Input((3,))
    bn = keras.layers.BatchNormalization(momentum=0.99)
    model = keras.Model(inputs, bn(keras.layers.Dense(3, use_bias=False, kernel_initializer="identity")(inputs)))
    x = np.random.default_rng(0).normal(loc=5.0, scale=2.0, size=(120, 3)).astype("float32")
    recalibrate_batchnorm(model, x, batch_size=40)
    batches = x.reshape(3, 40, 3)
    np.testing.assert_allclose(bn.moving_mean.numpy(), batches.mean(axis=1).mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), batches.var(axis=1).mean(axis=0), rtol=1e-4)
    assert bn.momentum == 0.99  # restored
