"""Benchmark: training-step time of zoo.resnet20 vs a ResNet-20 written in keras.applications style.

The reference below builds the same network (He et al.'s CIFAR ResNet-20, option-A shortcuts,
same layer shapes and parameter count, checked) the way keras.applications writes its ResNets:
stacked block functions of stock layers, the zero-padding shortcut as a Lambda. Both are compiled
identically and timed on the same synthetic CIFAR-shaped batches, alternating rounds so both see
the same machine state (``side_by_side``); the best round of each is compared (interference only adds time),
beside the medians and the median of the per-round ratios.
Goal: ratio (ours / reference) <= 1.05.

    python benchmarks/resnet20_step.py --rounds 5 --steps 20
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from benchmarks import side_by_side  # noqa: E402
from keras_lecture_zoo import zoo  # noqa: E402


def _pad_shortcut(filters):
    def pad(x):
        x = x[:, ::2, ::2, :]
        extra = filters - x.shape[-1]
        return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]])

    return pad


def _block(x, filters, stride, name):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Lambda(_pad_shortcut(filters), name=name + "_0_pad")(x)
    x = layers.Conv2D(
        filters,
        3,
        strides=stride,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=name + "_1_conv",
    )(x)
    x = layers.BatchNormalization(axis=3, name=name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.Conv2D(
        filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal", name=name + "_2_conv"
    )(x)
    x = layers.BatchNormalization(axis=3, name=name + "_2_bn")(x)
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)


def _stack(x, filters, blocks, stride, name):
    x = _block(x, filters, stride, name=name + "_block1")
    for i in range(2, blocks + 1):
        x = _block(x, filters, 1, name=f"{name}_block{i}")
    return x


def reference_resnet20(input_shape=(32, 32, 3), classes=10):
    """ResNet-20 in keras.applications' idiom (the reference of this benchmark)."""
    inputs = layers.Input(shape=input_shape)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, kernel_initializer="he_normal", name="conv1_conv")(inputs)
    x = layers.BatchNormalization(axis=3, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = _stack(x, 16, 3, 1, name="conv2")
    x = _stack(x, 32, 3, 2, name="conv3")
    x = _stack(x, 64, 3, 2, name="conv4")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="resnet20_reference")


def _compiled(model):
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy")
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed rounds per model")
    parser.add_argument("--steps", type=int, default=20, help="training steps per round")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    ours, reference = _compiled(zoo.resnet20()), _compiled(reference_resnet20())
    counts = [sum(int(np.prod(w.shape)) for w in m.trainable_weights) for m in (ours, reference)]
    shapes = [[tuple(w.shape) for w in m.trainable_weights] for m in (ours, reference)]
    if counts[0] != counts[1] or sorted(shapes[0]) != sorted(shapes[1]):
        raise SystemExit(f"the two networks differ: {counts[0]:,} vs {counts[1]:,} trainable parameters")
    print(f"both networks: {counts[0]:,} trainable parameters, {len(shapes[0])} weight tensors")
    rng = np.random.default_rng(0)
    n = args.steps * args.batch_size
    x = rng.random((n, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, n).astype("int32")
    for model in (ours, reference):  # warm-up: tracing and the first steps
        model.fit(x[: 2 * args.batch_size], y[: 2 * args.batch_size], batch_size=args.batch_size, verbose=0)

    def per_step(model):
        def measure():
            start = time.perf_counter()
            model.fit(x, y, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
            return (time.perf_counter() - start) / args.steps

        return measure

    times = side_by_side.alternate(
        {"ours": per_step(ours), "reference": per_step(reference)},
        args.rounds,
        show=lambda s: f"{1000 * s:.1f} ms/step",
    )
    ratio = side_by_side.ratio(times, "ours", "reference")
    print(
        f"best step: ours {1000 * min(times['ours']):.1f} ms, reference {1000 * min(times['reference']):.1f} ms "
        f"(batch {args.batch_size}, 32x32x3, {os.cpu_count()} cores)"
    )
    print(f"ratio ours/reference: {ratio}  {side_by_side.goal(ratio.best, 1.05)}")
    return 0 if ratio.best <= 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
