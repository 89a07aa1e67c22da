"""Benchmark: the engine's time per training step against a bare ``model.fit`` at its best
``steps_per_execution``, and the convnet's achieved FLOP/s against this machine's float32 matmul peak.

Two networks of the long, faithful schedules:
- a 5×1000 tanh MLP on MNIST with minibatch 10 (Glorot & Bengio's deep nets; thousands of tiny steps
  per epoch, where Keras' per-step Python work dominates unless several steps run per call);
- He et al.'s ResNet-20 on Fashion-MNIST with batch 128 (the degradation and residual targets).

The engine side is ``engine.train`` as the runner calls it (seeded per-epoch order, the per-epoch
checkpoint, history; final evaluation left out on both sides). The bare side is ``model.fit`` on the
same arrays with ``shuffle=True``, at each candidate ``steps_per_execution`` in a first sweep; the
fastest is its best. Times are per epoch after the first (which pays building and tracing, once
per network: a long schedule pays them once). Rounds alternate the two sides (``side_by_side``); the ratio is
printed best-of-rounds, on medians and as the median of the per-round ratios.
Goal: engine / best bare fit <= 1.05 for both.

FLOP/s: ResNet-20's training FLOPs per image are 3× its forward FLOPs (2 per multiply-add of every
Conv2D and Dense, from the layer shapes; the backward pass costs about twice the forward), times the
images per second of the best bare epoch; the peak is the best of several float32 2048×2048 matmuls
timed in the same run. Goal: >= 50% of that peak.

    python benchmarks/engine_step.py --data-dir ../shared/datasets --rounds 3
"""

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import side_by_side  # noqa: E402
from keras_lecture_zoo import zoo  # noqa: E402
from keras_lecture_zoo.reproductions import engine  # noqa: E402
from keras_lecture_zoo.zoo import data as zdata  # noqa: E402


def _arrays(name, n, data_dir, image):
    a = zdata.load_arrays(name, data_dir)
    x = a["x_train"][:n].astype("float32") / 255.0
    x = x.reshape(n, 28, 28, 1) if image else x.reshape(n, -1)
    return {
        "x_train": x,
        "y_train": a["y_train"][:n].astype("int64"),
        "x_val": None,
        "y_val": None,
        "x_test": x[:10],
        "y_test": a["y_train"][:10].astype("int64"),
    }


def mlp_case(data_dir, n):
    def build(_seed):
        return zoo.build("mlp", input_shape=(784,), hidden_units=(1000,) * 5, hidden_activation="tanh", num_classes=10)

    return {
        "title": f"5×1000 tanh MLP, MNIST {n} images, minibatch 10",
        "d": _arrays("mnist", n, data_dir, False),
        "recipe": engine.Recipe(
            build=build,
            optimizer=lambda: keras.optimizers.SGD(0.01),
            loss="sparse_categorical_crossentropy",
            batch_size=10,
            evaluate=lambda m, d: {},
        ),
    }


def resnet_case(data_dir, n):
    def build(_seed):
        return zoo.build("resnet20", input_shape=(28, 28, 1), num_classes=10)

    return {
        "title": f"ResNet-20, Fashion-MNIST {n} images, batch 128",
        "d": _arrays("fashion_mnist", n, data_dir, True),
        "recipe": engine.Recipe(
            build=build,
            optimizer=lambda: keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=1e-4),
            loss="sparse_categorical_crossentropy",
            batch_size=128,
            evaluate=lambda m, d: {},
        ),
    }


class EpochClock(keras.callbacks.Callback):
    """The time at every epoch's end (an epoch hook only, so it leaves steps_per_execution free)."""

    def __init__(self, marks):
        super().__init__()
        self.marks = marks

    def on_epoch_end(self, epoch, logs=None):
        self.marks.append(time.perf_counter())


def steady(marks):
    """Seconds per epoch after the first (which pays building and tracing): what a long schedule pays."""
    return (marks[-1] - marks[0]) / (len(marks) - 1)


def bare_fit(case, epochs, spe):
    """Seconds per steady epoch of build + compile + fit (shuffle=True), as a user would write it."""
    r, d = case["recipe"], case["d"]
    marks = []
    keras.utils.set_random_seed(0)
    model = r.build(0)
    model.compile(optimizer=r.optimizer(), loss=r.loss, metrics=list(r.metrics), steps_per_execution=spe)
    model.fit(
        d["x_train"],
        d["y_train"],
        batch_size=r.batch_size,
        epochs=epochs,
        shuffle=True,
        verbose=0,
        callbacks=[EpochClock(marks)],
    )
    return steady(marks)


def engine_fit(case, epochs):
    """Seconds per steady epoch of engine.train (each epoch's fit call, seeded order and checkpoint),
    and the steps per call it chose."""
    import dataclasses

    marks = []
    r = dataclasses.replace(case["recipe"], epochs=epochs, callbacks=lambda _work_dir: [EpochClock(marks)])
    with tempfile.TemporaryDirectory() as tmp:
        outcome, _ = engine.train(r, case["d"], seed=0, work_dir=tmp, verbose=0)
    return steady(marks), outcome["recipe"]["steps_per_execution"]


def forward_flops(model):
    """Forward FLOPs per example (2 per multiply-add) of every Conv2D and Dense layer, from their shapes."""
    total = 0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            total += 2 * h * w * kh * kw * c_in * c_out
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.kernel.shape))
    return total


def conv_seconds(model, batch, repeats=5):
    """Seconds of the forward and backward passes of the network's Conv2D layers alone (each on its own
    input shape, gradients for input and kernel), summed: how much of a step the convolutions take.
    TensorFlow only (a tape); None on other backends."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    total = 0.0
    for layer in model._flatten_layers(include_self=False):
        if not isinstance(layer, keras.layers.Conv2D):
            continue
        conv = keras.layers.Conv2D(
            layer.filters, layer.kernel_size, strides=layer.strides, padding=layer.padding, use_bias=layer.use_bias
        )
        x = tf.random.normal((batch, *layer.input.shape[1:]))
        conv.build(x.shape)

        @tf.function
        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = conv(x)
            return tape.gradient(y, [x, *conv.trainable_variables])

        step(x)
        best = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            [g.numpy() for g in step(x)]
            best = min(best, time.perf_counter() - t0)
        total += best
    return total


def matmul_peak(n=2048, repeats=10):
    """Best float32 matmul FLOP/s over ``repeats`` timed products of two n×n matrices."""
    rng = np.random.default_rng(0)
    a = keras.ops.convert_to_tensor(rng.standard_normal((n, n), dtype=np.float32))
    b = keras.ops.convert_to_tensor(rng.standard_normal((n, n), dtype=np.float32))
    keras.ops.convert_to_numpy(keras.ops.matmul(a, b))  # warm-up
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        keras.ops.convert_to_numpy(keras.ops.matmul(a, b))
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def compare(case, epochs, rounds, candidates):
    steps = math.ceil(len(case["d"]["x_train"]) / case["recipe"].batch_size)
    print(
        f"\n{case['title']}: {steps} steps per epoch, {epochs} epochs per run, "
        "timed from the first epoch's end (seconds per epoch)",
        flush=True,
    )
    sweep = {}
    for spe in candidates(steps):
        sweep[spe] = bare_fit(case, epochs, spe)
        print(f"  sweep: bare fit, steps_per_execution={spe}: {sweep[spe]:.2f} s", flush=True)
    best_spe = min(sweep, key=sweep.get)
    chosen = []  # the engine's own steps_per_execution, as engine_fit reports it

    def engine_side():
        seconds, spe = engine_fit(case, epochs)
        chosen.append(spe)
        return seconds

    times = side_by_side.alternate({"bare": lambda: bare_fit(case, epochs, best_spe), "engine": engine_side}, rounds)
    b, e = min(times["bare"]), min(times["engine"])
    ratio = side_by_side.ratio(times, "engine", "bare")
    print(
        f"  bare fit (steps_per_execution={best_spe}, its best): best {b:.3f} s, "
        f"{1000 * b / steps:.2f} ms/step; median {statistics.median(times['bare']):.3f} s"
    )
    print(
        f"  engine (steps_per_execution={chosen[-1]}):               best {e:.3f} s, "
        f"{1000 * e / steps:.2f} ms/step; median {statistics.median(times['engine']):.3f} s"
    )
    print(f"  ratio engine / best bare fit: {ratio}  {side_by_side.goal(ratio.best, 1.05)}", flush=True)
    return b, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("ZOO_DATA_DIR"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mlp-images", type=int, default=5000)
    parser.add_argument("--resnet-images", type=int, default=2560)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    engine.configure_determinism()
    print(f"Keras {keras.__version__} on {keras.backend.backend()}, {os.cpu_count()} CPUs")

    compare(
        mlp_case(args.data_dir, args.mlp_images), args.epochs, args.rounds, lambda steps: sorted({1, 10, 100, steps})
    )
    case = resnet_case(args.data_dir, args.resnet_images)
    best, steps = compare(case, args.epochs, args.rounds, lambda steps: sorted({1, steps}))

    model = case["recipe"].build(0)
    train_flops = 3 * forward_flops(model)
    achieved = train_flops * len(case["d"]["x_train"]) / best
    peaks = [matmul_peak() for _ in range(3)]
    peak = max(peaks)
    print(
        f"\nResNet-20 training FLOPs per image: {train_flops / 1e6:.1f} M "
        f"(3 × forward {forward_flops(model) / 1e6:.1f} M)"
    )
    print(f"achieved (best steady bare epoch): {achieved / 1e9:.1f} GFLOP/s")
    print(
        f"float32 matmul peak (2048², best of 3×10): {peak / 1e9:.1f} GFLOP/s "
        f"(rounds: {', '.join(f'{p / 1e9:.1f}' for p in peaks)})"
    )
    print(
        f"convnet / matmul peak: {achieved / peak:.1%}  (goal >= 50%: {'met' if achieved / peak >= 0.5 else 'MISSED'})"
    )
    convs = conv_seconds(model, case["recipe"].batch_size)
    if convs is not None:
        step = best / steps
        conv_rate = train_flops / 1.0 * case["recipe"].batch_size / convs
        print(
            f"where the step goes: the convolutions alone take {convs * 1000:.1f} ms of the {step * 1000:.1f} ms step "
            f"({convs / step:.0%}), at {conv_rate / 1e9:.1f} GFLOP/s ({conv_rate / peak:.0%} of the peak, Dense "
            "included in the FLOPs); the rest is BatchNorm, ReLU, the shortcuts' adds and the optimizer update, "
            "memory-bound element-wise passes"
        )


if __name__ == "__main__":
    main()
