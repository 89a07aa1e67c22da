"""The training-practice lectures' pieces: the activation and regularised MLPs, the training-error tracker,
resumable DeadReLUDetector, the double-descent widths, and the section D targets end to end (quick)."""

import hashlib
import json
import math
from dataclasses import replace

import keras
import numpy as np
import pandas as pd
import pytest

from keras_lecture_zoo import zoo
from keras_lecture_zoo.callbacks import DeadReLUDetector
from keras_lecture_zoo.reproductions import targets
from keras_lecture_zoo.reproductions.spec import Profile
from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target
from keras_lecture_zoo.reproductions.targets import _double_descent as double_descent_mnist
from keras_lecture_zoo.reproductions.targets import activations_dead_relu, optimizers_compare
from keras_lecture_zoo.reproductions.targets._practice import first_reach, training_error_tracker
from keras_lecture_zoo.zoo.mlp import ACTIVATIONS

RNG = np.random.default_rng(0)
SECTION_D = (
    "activations.compare",
    "activations.dead_relu",
    "optimizers.compare",
    "regularization.compare",
    "double_descent.mnist",
    "debugging.overfit_small",
)


# --------------------------------------------------------------------------- builders


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_mlp_counts_and_activation_layers(activation):
    model = zoo.activation_mlp(activation)
    extra = 2 * 256 if activation == "prelu" else 0  # one learned slope per unit
    assert model.count_params() == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10 + extra
    assert [layer.name for layer in model.layers if layer.name.startswith("act_")] == ["act_1", "act_2"]


def test_activation_mlp_details():
    leaky = zoo.activation_mlp("leaky_relu").get_layer("act_1")
    assert float(leaky.negative_slope) == 0.01  # the lecture's, not Keras' 0.2
    z = np.array([[-2.0, 3.0]], "float32")
    np.testing.assert_allclose(leaky(z), [[-0.02, 3.0]], rtol=1e-6)
    assert zoo.activation_mlp("selu").get_layer("dense_1").kernel_initializer.__class__.__name__ == "LecunNormal"
    standard = zoo.activation_mlp("tanh", hidden_units=(1000,), kernel_initializer="standard")
    w = standard.get_layer("dense_1").kernel.numpy()  # U[-1/sqrt(784), 1/sqrt(784)]
    assert np.abs(w).max() <= 1 / math.sqrt(784) and np.abs(w).max() > 0.95 / math.sqrt(784)
    with pytest.raises(ValueError, match="`activation` must be one of \\['sigmoid', 'tanh', 'relu'"):
        zoo.activation_mlp("swishy")


def test_regularized_mlp_switches_and_max_norm_holds_after_training():
    assert zoo.regularized_mlp().count_params() == 2_913_290
    bn = zoo.regularized_mlp(batch_norm=True)
    assert not bn.get_layer("dense_1").use_bias and bn.get_layer("bn_1") is not None
    keras.utils.set_random_seed(0)
    model = zoo.regularized_mlp(
        hidden_units=(64,), input_shape=(20,), max_norm=0.5, l2=1e-3, dropout_rate=0.5, input_dropout=0.2
    )
    assert len(model.losses) == 2  # an L2 penalty per Dense kernel
    model.compile(keras.optimizers.SGD(1.0), "sparse_categorical_crossentropy")
    model.fit(RNG.normal(size=(64, 20)).astype("float32"), RNG.integers(0, 10, 64), epochs=2, verbose=0)
    norms = np.linalg.norm(model.get_layer("dense_1").kernel.numpy(), axis=0)
    assert norms.max() <= 0.5 + 1e-5
    for kwargs, message in (
        (dict(max_norm=0), "`max_norm` must be None or a number > 0"),
        (dict(l1=-1), "`l1` must be a number >= 0"),
        (dict(dropout_rate=1.0), "`dropout_rate` must be a number in \\[0, 1\\)"),
    ):
        with pytest.raises(ValueError, match=message):
            zoo.regularized_mlp(**kwargs)


# --------------------------------------------------------------------------- measuring


def test_training_error_tracker_measures_at_fractional_epochs_and_first_reach():
    keras.utils.set_random_seed(0)
    x = RNG.normal(size=(80, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    tracker = training_error_tracker(x, y, steps_per_epoch=8, checks_per_epoch=4)
    model.fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[tracker])
    assert [p[0] for p in tracker.points] == [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
    final_error = np.mean(np.argmax(model.predict(x, verbose=0), axis=1) != y)
    assert tracker.points[-1][1] == pytest.approx(final_error)
    assert first_reach([(0, 0.5), (0.25, 0.2), (0.5, 0.04), (0.75, 0.01)], 0.05) == 0.5
    assert math.isnan(first_reach([(0, 0.5), (1, 0.2)], 0.05))


def test_dead_relu_detector_resumes_its_records():
    model = zoo.activation_mlp("relu", hidden_units=(8,), input_shape=(3,))
    probe = RNG.normal(size=(16, 3)).astype("float32")
    first = DeadReLUDetector(probe, warn_threshold=None)
    first.set_model(model)
    first.on_train_begin()
    first.on_epoch_end(0)
    state = json.loads(json.dumps(first.get_state()))  # JSON round trip, as the runner stores it
    second = DeadReLUDetector(probe, warn_threshold=None)
    second.set_model(model)
    second.set_state(state)
    second.on_train_begin()  # a resumed run: keeps the records instead of starting over
    second.on_epoch_end(1)
    assert [r["epochs_completed"] for r in second.records] == [0, 1, 2]
    assert "stayed_dead" in second.records[-1]  # compared with the restored masks


def test_spearman_and_time_to_loss_are_exact():
    assert activations_dead_relu._spearman([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.9]) == pytest.approx(0.8)
    rows = [{"Epoch": 1, "Train Loss": 0.5}, {"Epoch": 2, "Train Loss": 0.09}, {"Epoch": 3, "Train Loss": 0.05}]
    assert optimizers_compare._time_to(rows, [2.0, 3.0, 4.0], 0.1) == (2.0, 5.0)
    assert all(math.isnan(v) for v in optimizers_compare._time_to(rows, [1, 1, 1], 0.01))


# --------------------------------------------------------------------------- double descent


def test_double_descent_parameter_counts_and_threshold():
    assert double_descent_mnist.parameters(50) == 785 * 50 + 51 * 10 == 39_760
    assert double_descent_mnist.THRESHOLD == 40_000
    ps = [double_descent_mnist.parameters(h) for h in double_descent_mnist.WIDTHS]
    assert ps[0] < 4_000 and ps[-1] > 700_000 and min(ps) < 40_000 < max(ps)


def test_double_descent_widths_train_through_the_engine_deterministically(tmp_path, data_dir):
    """Each width is an engine recipe (several epochs per fit call): two runs give the same numbers, every
    epoch of every width is in the history, and each width's trained weights are kept with their SHA-256."""
    widths = double_descent_mnist.QUICK_WIDTHS
    short = replace(
        targets.get("double_descent.mnist"),
        quick=Profile(seeds=1, epochs=3, train_size=4000, options={"widths": widths, "passes": 2}),
    )
    configure_determinism()
    tables = []
    for out in (tmp_path / "a", tmp_path / "b"):
        run_target(
            short, RunSettings(output_dir=out, profile="quick", seeds=[0], data_dir=data_dir, verbose=0), record={}
        )
        tables.append(pd.read_csv(out / "double_descent.mnist" / "metrics.csv"))
    cols = [c for c in tables[0].columns if c.startswith(("test_loss", "train_loss"))]
    assert len(cols) == 2 * len(widths)
    np.testing.assert_array_equal(tables[0][cols].to_numpy(), tables[1][cols].to_numpy())
    history = pd.read_csv(tmp_path / "a" / "double_descent.mnist" / "history" / "seed_0.csv")
    assert sorted(history.groupby("Network")["Epoch"].max().items()) == sorted((f"H{h}", 3) for h in widths)
    manifest = json.loads((tmp_path / "a" / "double_descent.mnist" / "networks" / "manifest.json").read_text())
    assert {e["network"] for e in manifest["networks"]} == {f"H{h}" for h in widths}
    for entry in manifest["networks"]:
        data = (tmp_path / "a" / "double_descent.mnist" / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and entry["recipe"]["passes"] == 2


def test_double_descent_weight_reuse_puts_the_smaller_net_in_the_first_units():
    rng = np.random.default_rng(0)
    fresh = [rng.normal(size=s).astype("float32") for s in ((784, 8), (8,), (8, 10), (10,))]
    small = [rng.normal(size=s).astype("float32") for s in ((784, 3), (3,), (3, 10), (10,))]
    out = double_descent_mnist.reused(fresh, small)
    np.testing.assert_array_equal(out[0][:, :3], small[0])
    np.testing.assert_array_equal(out[0][:, 3:], fresh[0][:, 3:])  # new units keep their fresh draws
    np.testing.assert_array_equal(out[1], np.r_[small[1], np.zeros(5, "float32")])  # new biases start at 0
    np.testing.assert_array_equal(out[2][:3], small[2])
    np.testing.assert_array_equal(out[2][3:], fresh[2][3:])
    np.testing.assert_array_equal(out[3], small[3])


def test_double_descent_small_nets_stop_at_zero_training_error_and_large_ones_do_not(tmp_path):
    """Belkin et al.'s rule: an under-parameterised net stops once it classifies every training image; a net
    beyond the threshold trains its whole schedule."""
    from keras_lecture_zoo.reproductions import engine

    configure_determinism()
    rng = np.random.default_rng(1)
    labels = np.arange(40) % 10
    x = (0.3 * rng.random((40, 784)) + np.repeat(np.eye(10), 79, axis=1)[:, :784][labels]).astype("float32")
    d = {
        "x_train": x,
        "y_train": np.eye(10, dtype="float32")[labels],
        "labels": labels,
        "x_val": None,
        "y_val": None,
        "x_test": x,
        "y_test": np.eye(10, dtype="float32")[labels],
        "labels_test": labels,
    }
    small, _ = engine.train(
        double_descent_mnist.width_recipe(50, d, 20, 40), d, seed=0, work_dir=tmp_path / "s", verbose=0
    )
    large, _ = engine.train(
        double_descent_mnist.width_recipe(60, d, 5, 3), d, seed=0, work_dir=tmp_path / "l", verbose=0
    )
    assert small["metrics"]["train_error"] == 0.0 and len(small["history"]) < 40
    assert len(large["history"]) == 3


# --------------------------------------------------------------------------- targets


def test_section_d_targets_are_registered_with_criteria():
    for name in SECTION_D:
        target = targets.get(name)
        assert target.references and target.notes and target.quick.seeds == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["activations.dead_relu", "optimizers.compare"])
def test_section_d_quick_runs_end_to_end(name, tmp_path, data_dir):
    target = replace(targets.get(name), quick=Profile(seeds=1, epochs=1, train_size=1000))
    configure_determinism()
    run_target(
        target, RunSettings(output_dir=tmp_path, profile="quick", seeds=[0], data_dir=data_dir, verbose=0), record={}
    )
    folder = tmp_path / name
    metrics = pd.read_csv(folder / "metrics.csv")
    assert len(metrics) == 1 and (folder / "summary.md").is_file()
    assert any(p.suffix == ".png" and p.name != "curves.png" for p in folder.iterdir())
    if name == "activations.dead_relu":
        assert metrics.loc[0, "dead_fraction_lowest_lr"] < 0.05
    else:  # Adadelta at Keras 3's default rate barely moves in 8 steps; at 1.0 it learns
        assert metrics.loc[0, "adadelta_lr_gap"] > 0.05
