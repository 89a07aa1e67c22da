"""mnist.shift: test accuracy of an MLP and a convnet on test digits shifted by 0-4 pixels (L000, L002)."""

import numpy as np

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.figures import pyplot, save_figure
from keras_lecture_zoo.reproductions.spec import Change, Profile, Reference, Target, Trained
from keras_lecture_zoo.reproductions.targets._data import QUICK_EVAL_SIZE, image_data
from keras_lecture_zoo.reproductions.targets._networks import train_networks

SHIFTS = (0, 1, 2, 3, 4)
DIRECTIONS = ((1, 1), (1, -1), (0, 1), (0, -1))  # (axis, sign) with axis 0 = rows: right, left, down, up
SOURCE = "L002 (a shifted digit misses the neuron's pattern), L000 (convnets: translation invariance)"


def shift_images(x, pixels, axis_sign):
    """Shift (N, 28, 28, 1) images by ``pixels`` along (axis, sign), filling with zeros (background)."""
    axis, sign = axis_sign
    if pixels == 0:
        return x
    out = np.zeros_like(x)
    n = x.shape[1 + axis]
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    if sign > 0:
        src[1 + axis], dst[1 + axis] = slice(0, n - pixels), slice(pixels, n)
    else:
        src[1 + axis], dst[1 + axis] = slice(pixels, n), slice(0, n - pixels)
    out[tuple(dst)] = x[tuple(src)]
    return out


MODELS = {
    "mlp": (lambda _seed: zoo.mnist_mlp_keras(), "rmsprop"),
    "convnet": (lambda _seed: zoo.mnist_convnet(), "adam"),
}


def compute(seed, ctx):
    import keras

    d = image_data("mnist", ctx, validation_size=0)
    d["x_val"] = d["y_val"] = None
    optimizers = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}
    trained = train_networks(
        ctx,
        d,
        {name: build for name, (build, _) in MODELS.items()},
        epochs=ctx.profile.epochs,
        optimizer={name: optimizers[opt] for name, (_, opt) in MODELS.items()},
        batch_size=128,
    )
    out = {}
    for name, (_m, model, _outcome) in trained.items():
        for s in SHIFTS:
            accs = [
                model.evaluate(
                    shift_images(d["x_test"], s, di), d["y_test"], batch_size=1000, verbose=0, return_dict=True
                )["accuracy"]
                for di in (DIRECTIONS if s else DIRECTIONS[:1])
            ]
            out[f"{name}_accuracy(shift={s})"] = float(np.mean(accs))
        for s in SHIFTS[1:]:
            out[f"{name}_drop(shift={s})"] = out[f"{name}_accuracy(shift=0)"] - out[f"{name}_accuracy(shift={s})"]
    for s in SHIFTS[1:]:
        out[f"drop_difference(shift={s})"] = out[f"mlp_drop(shift={s})"] - out[f"convnet_drop(shift={s})"]
    return out


def report(results, folder):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, style in (("mlp", "o-"), ("convnet", "s-")):
        v = np.array([[r["metrics"][f"{name}_accuracy(shift={s})"] for s in SHIFTS] for r in results.values()])
        ax.errorbar(
            SHIFTS, v.mean(0), yerr=v.std(0), fmt=style, capsize=3, label=f"{name} (mean ± std, {len(v)} seeds)"
        )
    ax.set(
        xlabel="shift (pixels, averaged over 4 directions)", ylabel="test accuracy", title="MNIST: accuracy vs shift"
    )
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, folder / "shift.png")
    return "![accuracy vs shift](shift.png)"


TARGET = Target(
    name="mnist.shift",
    title="MNIST under translation: MLP vs convnet",
    source=SOURCE,
    kind="custom",
    compute=compute,
    report=report,
    references=tuple(
        Reference(
            f"drop_difference(shift={s})",
            0.0,
            SOURCE,
            compare=">",
            cls="claim",
            margin=0.005,
            label=f"the MLP loses more accuracy than the convnet at a {s}-pixel shift; accuracy claims need half a "
            "point",
            trained=(
                Trained("mlp_accuracy(shift=0)", ">=", 0.5, "the MLP learned"),
                Trained("convnet_accuracy(shift=0)", ">=", 0.5, "the convnet learned"),
            ),
            history=(Change("every seed > 0", "2026-11-23", "a claim needs an effect size beyond the seed noise"),),
        )
        for s in SHIFTS[1:]
    ),
    full=Profile(seeds=3, epochs=5),
    quick=Profile(seeds=1, epochs=1, train_size=6000, options={"eval_size": QUICK_EVAL_SIZE}),
    notes=(
        "Per seed, two models are trained on unshifted images (all 60,000, batch 128, 5 epochs, the engine's seeded "
        "order): mnist.mlp_keras's "
        "784-512-512-10 MLP with RMSprop, and mnist.convnet's network with Adam. Each is then evaluated on the "
        "10,000 test images shifted right, left, down and up by 1-4 pixels (zero fill); the accuracy at a shift "
        "is the mean over the four directions. `drop_difference` = MLP drop − convnet drop."
    ),
)
