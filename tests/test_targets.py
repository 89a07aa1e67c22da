"""The reproduction targets themselves: every exact (A) target reproduces its lecture numbers, the helpers
of the B/C targets compute what they claim, and short trained targets run end to end."""

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from keras_lecture_zoo.reproductions import targets
from keras_lecture_zoo.reproductions.spec import Profile
from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target

EXACT_A = [n for n in targets.names() if n.split(".")[0] in ("gates", "losses", "params", "linear", "capacity")]


def _run(name, tmp_path, seeds=(0,), quick=False, data_dir=None):
    configure_determinism()
    run_target(
        targets.get(name),
        RunSettings(
            output_dir=tmp_path, profile="quick" if quick else "full", seeds=list(seeds), data_dir=data_dir, verbose=0
        ),
        record={"command": "test"},
    )
    return pd.read_csv(tmp_path / name / "summary.csv"), tmp_path / name


def test_section_a_lists_every_exact_target():
    assert set(EXACT_A) == {
        "gates.and",
        "gates.or",
        "gates.and3_sigmoid",
        "gates.festival",
        "gates.xor_single_unit",
        "losses.examples",
        "losses.ce_sigmoid_delta",
        "params.mlp_784_1000_10",
        "params.softmax_regression",
        "params.fashion_simplenet",
        "params.residual_cifar10",
        "linear.collapse",
        "capacity.vc_line",
    }


@pytest.mark.parametrize("name", EXACT_A)
def test_exact_target_reproduces_every_reference(name, tmp_path):
    claims = any(ref.cls == "claim" for ref in targets.get(name).references)
    summary, _ = _run(name, tmp_path, seeds=(0, 1) if claims else (0,))  # a claim needs two seeds
    assert len(summary) == len(targets.get(name).references)
    missed = summary[summary["verdict"] != "reproduced"]
    assert missed.empty, missed[["metric", "mean", "reference", "verdict"]].to_string()


def test_loss_examples_values():
    from keras_lecture_zoo.reproductions.targets.losses_examples import compute

    class Ctx:
        extras = {}

    m = compute(0, Ctx())
    assert m["quadratic(a=0.5)"] == pytest.approx(0.25, abs=1e-12)
    assert m["quadratic(a=0.01)"] == pytest.approx(0.9801, abs=1e-12)
    assert m["cross_entropy(a=0.01)"] == pytest.approx(-np.log(0.01), abs=1e-9)


def test_xor_grid_search_finds_no_perfect_unit_but_three_of_four():
    from keras_lecture_zoo.reproductions.targets.gates_xor_single_unit import grid_search, two_unit_network
    from keras_lecture_zoo.zoo import data

    best, n_best, n_total, n_perfect = grid_search()
    assert (best, n_perfect, n_total) == (0.75, 0, 61**3)
    assert n_best > 0
    x, y = data.xor()
    np.testing.assert_array_equal(np.asarray(two_unit_network()(x)).reshape(-1), y.reshape(-1))


def test_perceptron_rule_converges_on_and_or_and_cycles_on_xor(tmp_path):
    from keras_lecture_zoo.reproductions.suite import Context, RunSettings
    from keras_lecture_zoo.reproductions.targets.perceptron_rule import train

    target = targets.get("perceptron.rule")
    ctx = Context(target, RunSettings(output_dir=tmp_path), seed=3, seed_dir=tmp_path)
    for gate in ("and", "or"):
        metrics, log = train(gate, 3, ctx)
        assert metrics["converged"] == 1.0 and log[-1]["errors"] == 0
    metrics, log = train("xor", 3, ctx)
    assert metrics["converged"] == 0.0 and metrics["cycle"] == 1.0
    assert metrics["cycle_period"] >= 1 and all(r["errors"] > 0 for r in log)
    # the detected repetition is real: the weights at the two epochs are equal up to float rounding
    start = int(metrics["cycle_start"])
    np.testing.assert_allclose(log[start - 1]["w"], log[-1]["w"], atol=1e-5)


def test_xor_sklearn_lecture_call():
    from keras_lecture_zoo.reproductions.targets.xor_sklearn import fit

    assert fit("relu", 20)[:2] == (1.0, [0, 1, 1, 0])
    assert fit("logistic", 20)[:2] == (0.5, [1, 1, 1, 1])


def test_knn_matches_brute_force_with_nearest_tie_break():
    from keras_lecture_zoo.reproductions.targets.mnist_knn import knn_predict

    rng = np.random.default_rng(0)
    xtr, ytr, xte = rng.normal(size=(400, 8)), rng.integers(0, 10, 400), rng.normal(size=(60, 8))
    preds = knn_predict(xtr, ytr, xte, ks=(1, 3, 7), chunk=25)
    for k in (1, 3, 7):
        expected = []
        for t in xte:
            labels = ytr[np.argsort(((xtr - t) ** 2).sum(1), kind="stable")[:k]]
            counts = Counter(labels)
            top = max(counts.values())
            expected.append(next(lab for lab in labels if counts[lab] == top))
        np.testing.assert_array_equal(preds[k], expected)


def test_shift_images_moves_pixels_and_fills_zeros():
    from keras_lecture_zoo.reproductions.targets.mnist_shift import DIRECTIONS, shift_images

    x = np.arange(2 * 28 * 28, dtype="float32").reshape(2, 28, 28, 1) + 1
    right = shift_images(x, 2, DIRECTIONS[0])
    np.testing.assert_array_equal(right[:, :, 2:], x[:, :, :-2])
    assert not right[:, :, :2].any()
    up = shift_images(x, 3, DIRECTIONS[3])
    np.testing.assert_array_equal(up[:, :-3], x[:, 3:])
    assert not up[:, -3:].any()
    assert shift_images(x, 0, DIRECTIONS[1]) is x


def test_circle_separability_by_linear_programming():
    from keras_lecture_zoo.reproductions.targets.features_circle import separable
    from keras_lecture_zoo.zoo import data

    xy, y = data.circle(200, seed=1)
    assert not separable(xy, y)
    assert separable(np.hstack([xy, xy**2]), y)
    assert separable(xy, (xy[:, 0] > 0.3).astype(float))


def test_overfitting_metrics_from_history():
    from keras_lecture_zoo.reproductions.targets.fashion_no_early_stopping import overfitting

    rows = [
        {"Epoch": e + 1, "Train Loss": t, "Validation Loss": v}
        for e, (t, v) in enumerate([(1.0, 0.9), (0.6, 0.5), (0.4, 0.45), (0.2, 0.6)])
    ]
    m = overfitting(rows)
    assert m["best_val_loss_epoch"] == 3
    assert m["val_loss_rise"] == pytest.approx(0.15)
    assert m["train_loss_fall_after_best"] == pytest.approx(0.2)


def test_xor_target_end_to_end_report(tmp_path):
    summary, folder = _run("xor.keras_model2", tmp_path, seeds=(0, 1, 5))
    text = (folder / "summary.md").read_text()
    for section in (
        "## Accuracy over seeds",
        "## Mean predicted probabilities",
        "## Dead ReLUs and the failing seeds",
        "## Hidden-unit symmetry",
    ):
        assert section in text
    assert (folder / "boundaries.png").stat().st_size > 10_000
    details = json.loads((folder / "details.json").read_text())
    assert set(details) == {"0", "1", "5"}
    assert np.array(details["0"]["boundary_grid"]).shape == (31, 31)
    metrics = pd.read_csv(folder / "metrics.csv")
    assert {"dead_hidden_units", "switching_units", "hidden_cosine_init"} <= set(metrics.columns)
    assert (metrics["hidden_cosine_init"] > 0.99).all()  # N(0.75, 0.01): the units start nearly parallel


def test_fashion_mlp_trains_end_to_end(tmp_path, data_dir):
    """A short real training run through the runner must clear a threshold and write the lecture's CSV columns."""
    summary, folder = _run("fashion.mlp", tmp_path, quick=True, data_dir=data_dir)
    metrics = pd.read_csv(folder / "metrics.csv")
    assert metrics.loc[0, "test_accuracy"] > 0.70  # 1 epoch on 6,000 images; a broken pipeline gives 0.1
    history = pd.read_csv(folder / "history" / "seed_0.csv")
    assert list(history.columns[:3]) == ["Epoch", "Train Loss", "Train Accuracy"]
    assert set(summary["metric"]) == {"train_accuracy", "train_minus_test_accuracy"}


def test_custom_target_history_and_details(tmp_path, data_dir):
    """mnist.softmax's own GradientTape loop: history rows per epoch, the loss falls, accuracy clears chance."""
    target = targets.get("mnist.softmax")
    from dataclasses import replace

    short = replace(target, quick=Profile(seeds=1, epochs=2, train_size=3000))
    configure_determinism()
    run_target(
        short, RunSettings(output_dir=tmp_path, profile="quick", seeds=[0], data_dir=data_dir, verbose=0), record={}
    )
    history = pd.read_csv(tmp_path / "mnist.softmax" / "history" / "seed_0.csv")
    assert list(history["Epoch"]) == [1, 2]
    assert history["Train Loss"].iloc[1] < history["Train Loss"].iloc[0]
    assert pd.read_csv(tmp_path / "mnist.softmax" / "metrics.csv").loc[0, "test_accuracy"] > 0.6


def test_fashion_baselines_draws_the_mlp_training_curve_and_names_each_rows_solver(tmp_path, data_dir):
    """fashion.baselines keeps scikit-learn's MLP loss per epoch as history (one row per epoch it ran, falling)
    and its curves.png; a missed row's cause speaks of its own classifier's solver, not the MLP's."""
    from dataclasses import replace

    target = replace(targets.get("fashion.baselines"), quick=Profile(seeds=1, train_size=500))
    configure_determinism()
    run_target(
        target, RunSettings(output_dir=tmp_path, profile="quick", seeds=[0], data_dir=data_dir, verbose=0), record={}
    )
    folder = tmp_path / "fashion.baselines"
    history = pd.read_csv(folder / "history" / "seed_0.csv")
    details = json.loads((folder / "details.json").read_text())["0"]
    assert set(history["Network"]) == {"mlp_100"}
    assert list(history["Epoch"]) == list(range(1, details["mlp_100"]["iterations"] + 1))
    assert history["Train Loss"].iloc[-1] < history["Train Loss"].iloc[0] / 2
    assert (folder / "curves.png").stat().st_size > 0 and "](curves.png)" in (folder / "summary.md").read_text()
    assert details["knn_k5_p1_distance"]["iterations"] is None
    causes = {name: target.causes[f"{name}_test_accuracy"]({0: {"extras": details}}) for name in details}
    assert "mlp_100 converged" in causes["mlp_100"] and "logistic_regression converged" in causes["logistic_regression"]
    assert "converged" not in causes["knn_k5_p1_distance"]


def test_a_quick_profiles_eval_size_keeps_the_first_validation_and_test_images(data_dir):
    """``eval_size`` (quick profiles) cuts the validation and test sets to their first N images and leaves the
    training set to ``train_size``; without it, and where there is no validation split, nothing else changes."""
    from types import SimpleNamespace

    from keras_lecture_zoo.reproductions.targets._data import image_data

    def data(profile, validation_size):
        return image_data("mnist", SimpleNamespace(data_dir=data_dir, profile=profile), validation_size=validation_size)

    full = data(Profile(seeds=1), 0.1)
    cut = data(Profile(seeds=1, train_size=100, options={"eval_size": 50}), 0.1)
    assert (len(full["x_val"]), len(full["x_test"])) == (6000, 10_000)
    assert (len(cut["x_train"]), len(cut["x_val"]), len(cut["x_test"])) == (100, 50, 50)
    for key in ("x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(cut[key], full[key][:50])
    none = data(Profile(seeds=1, options={"eval_size": 50}), None)
    assert len(none["x_val"]) == 0 and len(none["x_test"]) == 50 and len(none["x_train"]) == 60_000


QUICK_SHARDS = 6  # the slow test below runs in this many processes; pytest-xdist spreads them over the cores


def quick_shards():
    """Every target in QUICK_SHARDS lists: a target and those that use its networks (`needs`) stay in one list,
    so that one `run NAMES` process trains the networks once and no list adds a target from another."""
    groups = {}
    for name in targets.names():
        root = name
        while targets.get(root).needs:
            root = targets.get(root).needs[0]
        groups.setdefault(root, []).append(name)
    return [[n for group in list(groups.values())[i::QUICK_SHARDS] for n in group] for i in range(QUICK_SHARDS)]


def test_run_all_names_every_target_and_the_quick_shards_cover_each_once(tmp_path, capsys):
    """`run --all` is every registered target, and the slow test below names each in exactly one shard."""
    from keras_lecture_zoo.reproductions.__main__ import main

    assert main(["run", "--all", "--quick", "--dry-run", "--output-dir", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"would run {len(targets.names())} targets")
    assert sorted(line.split()[0] for line in printed[1 : len(targets.names()) + 1]) == sorted(targets.names())
    assert not (tmp_path / "out").exists()
    shards = quick_shards()
    assert sorted(n for shard in shards for n in shard) == sorted(targets.names())
    for shard in shards:
        assert all(set(targets.get(n).needs) <= set(shard) for n in shard), shard


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(QUICK_SHARDS))
def test_every_target_runs_its_quick_profile_to_a_summary(shard, tmp_path, data_dir):
    """Every target's quick profile as a user runs it (`run NAMES --quick`, a fresh process per shard): a target
    that cannot run cannot land. The shards are separate tests so that `pytest -n` runs them side by side (the
    whole, serially, is the slow run's longest: about 8 minutes). The process says it ran only its own shard (no
    needed target was added from another), and each target's summary has its references' rows."""
    import subprocess
    import sys

    names, out = quick_shards()[shard], tmp_path / "quick"
    proc = subprocess.run(
        [sys.executable, "-m", "reproductions", "run", *names, "--quick", "--output-dir", str(out), "--verbose", "0"],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = proc.stdout.splitlines()
    assert printed[-1].startswith(f"results in {out}/")
    assert printed[0].startswith(f"[target 1/{len(names)} "), printed[0]
    for name in names:
        summary = pd.read_csv(out / name / "summary.csv")
        assert summary["metric"].tolist() == [r.metric for r in targets.get(name).references], name


def test_rising_momentum_sgd_makes_hintons_updates():
    """v ← p·v − (1 − p)·ε·g, w ← w + v, with p rising linearly over the ramp and ε decaying once per epoch:
    three steps on a constant gradient against the closed form."""
    import keras

    from keras_lecture_zoo.reproductions.targets import regularization_dropout_max_norm as t

    epochs, steps = 12, 1  # the ramp takes round(12 / 6) = 2 epochs = 2 steps; ε × decay per step (one step per epoch)
    opt = t.rising_momentum_sgd(2.0, epochs, steps)
    w = keras.Variable(np.zeros(3, dtype="float32"))
    g = np.array([1.0, -2.0, 0.5], dtype="float32")
    decay = t.FINAL_RATE_FACTOR ** (1 / (epochs - 1))
    v, expect = np.zeros(3), np.zeros(3)
    for step in range(3):
        opt.apply([keras.ops.convert_to_tensor(g)], [w])
        p = t.MOMENTUM_START + (t.MOMENTUM_END - t.MOMENTUM_START) * min(step / 2, 1.0)
        v = p * v - (1 - p) * 2.0 * decay**step * g
        expect = expect + v
        np.testing.assert_allclose(keras.ops.convert_to_numpy(w), expect, rtol=1e-5)


def test_approx_universal_draws_every_widths_training_mse(tmp_path, monkeypatch):
    """The figure's third panel: the training MSE of every width against the step, log-log, mean over seeds,
    where a wide net stalling above a narrower one shows (the not-reproduced ordering's cause)."""
    from keras_lecture_zoo.reproductions.targets import approx_universal as au

    figures = []
    monkeypatch.setattr(au, "save_figure", lambda fig, path: figures.append(fig))
    steps = (250, 500, 1000)
    results = {}
    for seed in (0, 1):
        metrics = {f"{k}(width={w})": 0.1 / w for w in au.WIDTHS for k in ("rmse", "max_error")}
        history = [
            {"Epoch": s, "Train Loss": (seed + 1) / (w * s), "Network": f"width_{w}"} for w in au.WIDTHS for s in steps
        ]
        results[seed] = {
            "metrics": metrics,
            "history": history,
            "extras": {"curves": {str(w): [0.0] * 201 for w in au.WIDTHS}},
        }
    assert "](approximation.png)" in au.report(results, tmp_path)
    panel = figures[0].axes[2]
    assert (panel.get_xscale(), panel.get_yscale()) == ("log", "log")
    lines = {line.get_label(): line for line in panel.get_lines()}
    assert list(lines) == [f"width {w}" for w in au.WIDTHS]
    assert np.allclose(lines["width 4"].get_ydata(), [1.5 / (4 * s) for s in steps])  # the mean of seeds 1/.. and 2/..


def test_approx_universal_float64_forward_and_jacobian_are_the_keras_models():
    """The Levenberg–Marquardt fit works on a float64 copy of zoo.universal_approximator's arithmetic: its output
    is the Keras model's (to float32 precision) and its Jacobian is the finite-difference one."""
    import keras

    from keras_lecture_zoo import zoo
    from keras_lecture_zoo.reproductions.targets import approx_universal as au

    keras.utils.set_random_seed(3)
    model = zoo.universal_approximator(width=5)
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape) for w in model.get_weights()]
    model.set_weights([w.astype("float32") for w in weights])
    x = np.linspace(0, 1, 17).reshape(-1, 1)
    out, _ = au.forward(weights, x)
    np.testing.assert_allclose(out, model.predict(x.astype("float32"), verbose=0), rtol=1e-5, atol=1e-5)
    theta = np.concatenate([w.ravel() for w in weights])
    sizes = np.cumsum([w.size for w in weights])[:-1]

    def f(t):
        return au.forward([p.reshape(w.shape) for p, w in zip(np.split(t, sizes), weights)], x)[0].reshape(-1)

    h = 1e-6
    numeric = np.stack([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(len(theta))], axis=1)
    np.testing.assert_allclose(au.jacobian(weights, x), numeric, rtol=1e-6, atol=1e-8)


def test_approx_universal_levenberg_marquardt_recovers_a_net_and_never_raises_the_loss():
    """Points made by a width-3 net are fitted from a start near its weights to a ten-billionth of the start's
    MSE, which never rises on the way; a fit that starts at zero error stops at once, unchanged."""
    from keras_lecture_zoo.reproductions.targets import approx_universal as au

    rng = np.random.default_rng(1)
    truth = [rng.normal(size=(1, 3)) * 4, rng.normal(size=3), rng.normal(size=(3, 1)), rng.normal(size=1)]
    x = np.linspace(0, 1, 64).reshape(-1, 1)
    y = au.forward(truth, x)[0]
    start = [w + 0.3 * rng.normal(size=w.shape) for w in truth]
    start_mse = float(np.mean((au.forward(start, x)[0] - y) ** 2))
    fitted, rows = au.levenberg_marquardt(start, x, y, 400)
    mses = [mse for _, mse in rows]
    assert [it for it, _ in rows] == list(range(50, 401, 50))
    assert mses[-1] < 1e-10 * start_mse and all(b <= a for a, b in zip(mses, mses[1:]))
    assert [np.shape(w) for w in fitted] == [np.shape(w) for w in truth]
    same, rows = au.levenberg_marquardt(truth, x, y, 400)
    assert rows == [(0, 0.0)] and all(np.array_equal(a, b) for a, b in zip(same, truth))


def test_approx_universal_fit_that_stops_early_logs_each_iteration_once(monkeypatch):
    """A fit that stops right after a logged iteration does not log that iteration twice (the history's
    iterations index the training-MSE panel)."""
    from keras_lecture_zoo.reproductions.targets import approx_universal as au

    monkeypatch.setattr(au, "LOG_EVERY", 1)
    x = np.linspace(0, 1, 32).reshape(-1, 1)
    truth = [np.array([[6.0, -4.0]]), np.array([-3.0, 2.0]), np.array([[1.0], [0.5]]), np.array([0.1])]
    start = [w + 0.05 for w in truth]
    _, rows = au.levenberg_marquardt(start, x, au.forward(truth, x)[0], 1000)
    iterations = [it for it, _ in rows]
    assert iterations[-1] < 1000, "the fit should reach float64's floor and stop before the budget"
    assert iterations == list(range(1, iterations[-1] + 1))


def test_approx_universal_fits_the_same_bits_whatever_blas_threads_the_process_has():
    """Two BLAS threads sum J^T J in another order than one, and 300 Levenberg–Marquardt steps of a width-64
    net amplify that to the third digit; the fit pins one thread, so a serial run (BLAS on every core) and a
    --jobs worker give the same numbers."""
    import types

    from threadpoolctl import threadpool_limits

    from keras_lecture_zoo.reproductions.targets import approx_universal as au

    def rmse(blas_threads):
        ctx = types.SimpleNamespace(
            options={"iterations": 300, "restarts": 1}, history=[], keep_network=lambda *a: None
        )
        with threadpool_limits(limits=blas_threads):
            return au.fit_width(64, 0, ctx)[0]

    assert rmse(1) == rmse(2)
