"""The engine: one recipe, one seed, one work folder. Resume through the callback state contract, several
epochs per fit call, trained networks as artifacts, and an import graph that points only downward."""

import ast
import hashlib
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_lecture_zoo.reproductions import engine, targets
from keras_lecture_zoo.reproductions.engine import Recipe
from keras_lecture_zoo.reproductions.engine.epochs import PersistentCallbacks
from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target
from tests._tiny_targets import tiny_build, tiny_data, two_network_target

pytestmark = pytest.mark.every_backend

REPO = Path(__file__).resolve().parents[1]


class Counter(keras.callbacks.Callback):
    """A stateful callback by the contract: JSON, an array and a list of arrays, and a reported metric."""

    def __init__(self):
        super().__init__()
        self.epochs, self.total, self.snapshots, self.began = 0, np.zeros(3), [], 0

    def on_train_begin(self, logs=None):
        self.began += 1

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1
        self.total = self.total + logs["loss"]
        self.snapshots.append(np.full(2, float(epoch)))

    def get_state(self):
        return {"epochs": self.epochs, "total": self.total, "snapshots": list(self.snapshots)}

    def set_state(self, state):
        self.epochs, self.total, self.snapshots = state["epochs"], state["total"], state["snapshots"]

    def result_metrics(self):
        return {"counted_epochs": self.epochs}


def _recipe(epochs, callbacks=None, **kw):
    return Recipe(
        build=tiny_build,
        optimizer=lambda: keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        epochs=epochs,
        batch_size=16,
        callbacks=callbacks,
        **kw,
    )


def test_a_resumed_network_ends_with_the_uninterrupted_numbers_and_callback_state(tmp_path):
    configure_determinism()
    made = []

    def callbacks(_work_dir):
        made.append(Counter())
        return [made[-1]]

    d = tiny_data(None)
    whole, _ = engine.train(_recipe(4, callbacks), d, seed=3, work_dir=tmp_path / "whole", verbose=0)
    engine.train(_recipe(2, callbacks), d, seed=3, work_dir=tmp_path / "split", verbose=0)  # stops after epoch 2
    resumed, _ = engine.train(_recipe(4, callbacks), d, seed=3, work_dir=tmp_path / "split", verbose=0)
    assert resumed["history"] == whole["history"] and resumed["metrics"] == whole["metrics"]
    assert whole["metrics"]["counted_epochs"] == 4.0  # result_metrics joins the network's metrics
    np.testing.assert_array_equal(made[-1].total, made[0].total)  # the array came back through the checkpoint
    assert [s.tolist() for s in made[-1].snapshots] == [[e, e] for e in (0.0, 1.0, 2.0, 3.0)]


class StopAfter(keras.callbacks.Callback):
    """Stops training at the end of epoch ``n`` (1-based), like an early stop on a threshold."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.n:
            self.model.stop_training = True


def test_a_network_stopped_early_is_not_trained_on_when_its_run_resumes(tmp_path):
    """A kill after a network's early stop (its last checkpoint written, its outcome not yet kept) must not make
    the resumed run train it further: the stop is part of the checkpoint."""
    configure_determinism()
    d = tiny_data(None)
    recipe = _recipe(6, lambda _work_dir: [StopAfter(2)])
    first, m1 = engine.train(recipe, d, seed=5, work_dir=tmp_path / "net", verbose=0)
    again, m2 = engine.train(recipe, d, seed=5, work_dir=tmp_path / "net", verbose=0)  # resumes from that checkpoint
    assert [r["Epoch"] for r in first["history"]] == [1, 2]
    assert again["history"] == first["history"] and again["metrics"] == first["metrics"]
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)


def _dense_build(_seed):
    inputs = keras.Input((6,))
    return keras.Model(
        inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Dense(8, activation="tanh")(inputs))
    )


def test_an_epoch_of_several_passes_makes_each_pass_in_its_own_seeded_order(tmp_path):
    """``passes=3``: each epoch is three passes, pass p of epoch e in the order default_rng([seed, e, p]), each
    ending with its own partial batch; the same updates as those batches one by one."""
    configure_determinism()
    d = tiny_data(None)  # 160 training examples: batches of 24 make 7 steps a pass, the last of 16
    recipe = Recipe(
        build=_dense_build,
        optimizer=lambda: keras.optimizers.SGD(0.05),
        loss="sparse_categorical_crossentropy",
        epochs=2,
        batch_size=24,
        passes=3,
    )
    outcome, model = engine.train(recipe, d, seed=4, work_dir=tmp_path / "net", verbose=0)
    assert [r["Epoch"] for r in outcome["history"]] == [1, 2] and outcome["recipe"]["passes"] == 3
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 2 * 3 * 7
    keras.utils.set_random_seed(4)
    by_hand = _dense_build(4)
    by_hand.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    for e in range(2):
        for p in range(3):
            order = np.random.default_rng([4, e, p]).permutation(160)
            for start in range(0, 160, 24):
                batch = order[start : start + 24]
                by_hand.train_on_batch(d["x_train"][batch], d["y_train"][batch])
    for a, b in zip(model.get_weights(), by_hand.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_passes_refuses_what_it_cannot_run():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="`passes` must be a positive integer"):
            Recipe(build=_dense_build, optimizer=lambda: None, loss="mse", passes=bad)
    with pytest.raises(ValueError, match="takes neither `augment` nor `full_batch_steps`"):
        Recipe(build=_dense_build, optimizer=lambda: None, loss="mse", passes=2, full_batch_steps=True)


def test_several_epochs_per_fit_call_make_the_same_updates(tmp_path):
    configure_determinism()
    d = tiny_data(None)
    one, m1 = engine.train(_recipe(5), d, seed=1, work_dir=tmp_path / "one", verbose=0)
    three, m3 = engine.train(_recipe(5, checkpoint_every=3), d, seed=1, work_dir=tmp_path / "three", verbose=0)
    assert [r["Epoch"] for r in three["history"]] == [1, 2, 3, 4, 5]
    assert three["history"] == one["history"] and three["metrics"] == one["metrics"]
    for a, b in zip(m1.get_weights(), m3.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_saved_network_reloads_to_the_same_predictions_and_its_digest_matches(tmp_path):
    configure_determinism()
    d = tiny_data(None)
    _, model = engine.train(_recipe(2), d, seed=0, work_dir=tmp_path / "w", verbose=0)
    entry = engine.save_network(model, tmp_path / "net.weights.h5")
    data = (tmp_path / "net.weights.h5").read_bytes()
    assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    again = tiny_build(0)
    again.load_weights(tmp_path / "net.weights.h5")
    np.testing.assert_array_equal(again.predict(d["x_test"], verbose=0), model.predict(d["x_test"], verbose=0))


def test_the_run_record_holds_every_recipe_and_the_results_every_network(tmp_path):
    configure_determinism()
    run_target(two_network_target(), RunSettings(output_dir=tmp_path, profile="full", seeds=[0], verbose=0), record={})
    folder = tmp_path / "tiny.two_networks"
    record = json.loads((folder / "run.json").read_text())
    assert set(record["recipes"]) == {"a", "b"}
    recipe = record["recipes"]["a"]
    assert recipe["epochs"] == 3 and recipe["train_size"] == 160 and recipe["batch_size"] == 16
    assert recipe["optimizer"]["class"] == "SGD" and recipe["parameters"] > 0
    manifest = json.loads((folder / "networks" / "manifest.json").read_text())["networks"]
    assert [(e["network"], e["seed"]) for e in manifest] == [("a", 0), ("b", 0)]
    for e in manifest:
        assert hashlib.sha256((folder / e["file"]).read_bytes()).hexdigest() == e["sha256"]
        assert e["metrics"]["test_error"] == pytest.approx(e["metrics"]["test_error"])


def test_a_fit_target_records_its_recipe_in_full(tmp_path):
    record = targets.get("mnist.convnet").config("full")
    assert record["epochs"] == 15 and record["recipe"]["batch_size"] == 128
    assert (
        record["recipe"]["optimizer"]["class"] == "Adam"
        and record["recipe"]["loss"] == "sparse_categorical_crossentropy"
    )


def _imports(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_the_engine_and_the_suite_import_neither_targets_nor_the_command_line():
    above = tuple(f"keras_lecture_zoo.reproductions.{m}" for m in ("targets", "__main__", "cli"))
    below = [
        p
        for p in (REPO / "reproductions").rglob("*.py")
        if p.parts[-2] not in ("targets", "cli") and p.stem != "__main__"
    ]
    assert len(below) > 20
    for path in below:
        upward = {n for n in _imports(path) if n.startswith(above)}
        assert not upward, f"{path.relative_to(REPO)} imports {sorted(upward)}"


def test_no_target_imports_another_target():
    folder = REPO / "reproductions" / "targets"
    modules = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    for path in folder.glob("*.py"):
        found = _imports(path)
        others = {n for n in found for m in modules if n == f"keras_lecture_zoo.reproductions.targets.{m}"}
        assert not others, f"{path.name} imports the target module(s) {sorted(others)}; share through a _helper"


def test_a_fit_recipe_takes_its_epochs_from_the_profiles():
    from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target

    with pytest.raises(ValueError, match="epochs come from its profiles"):
        Target(
            name="t.x",
            title="t",
            source="s",
            references=(Reference("m", 1, "s", compare=">=", cls="sanity"),),
            full=Profile(1, 2),
            quick=Profile(1, 1),
            data=tiny_data,
            recipe=_recipe(3),
        )


class BatchLog(keras.callbacks.Callback):
    """Records every training batch it is shown."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)


def test_batch_hooks_reach_only_recipes_that_watch_batches(tmp_path):
    """Keras dispatches the end of each call asynchronously only when no callback has a batch hook; the
    engine's own callbacks add none unless a recipe callback needs them, and then every batch reaches it."""
    epochs_only = PersistentCallbacks([Counter()], tiny_build(0))
    assert not engine.watches_batches(epochs_only.forward)
    log = BatchLog()
    assert engine.watches_batches(PersistentCallbacks([log], tiny_build(0)).forward)
    outcome, _ = engine.train(_recipe(2, lambda _w: [log]), tiny_data(None), seed=0, work_dir=tmp_path, verbose=0)
    assert outcome["recipe"]["steps_per_execution"] == 1 and log.batches == list(range(10)) * 2
    fast, _ = engine.train(
        _recipe(2, lambda _w: [Counter()]), tiny_data(None), seed=0, work_dir=tmp_path / "b", verbose=0
    )
    assert fast["recipe"]["steps_per_execution"] == (1 if engine.backend_name() == "torch" else 10)
