"""init.scale: L000's "weights should be small: too small results in vanishing gradients, too big in
exploding". A 10-layer ReLU MLP with He-normal weights multiplied by a scale s: the gradient norm of the
input-side layer at initialisation, for s from 0.25 to 4, on MNIST."""

import math

import numpy as np

from keras_lecture_zoo import zoo
from keras_lecture_zoo.callbacks import kernel_gradient_norms
from keras_lecture_zoo.reproductions.figures import pyplot, save_figure
from keras_lecture_zoo.reproductions.report import section
from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target
from keras_lecture_zoo.reproductions.targets._practice import mnist

SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
DEPTH, WIDTH, PROBE = 10, 128, 1000
SOURCE = "L000 (weight initialisation: too small vanishes, too big explodes)"


def _key(scale):
    return f"s{scale:g}"


def compute(seed, ctx):
    import keras

    d = mnist(ctx)
    x, y = d["x_train"][:PROBE], d["y_train"][:PROBE]
    metrics, norms = {}, {}
    for scale in SCALES:
        keras.utils.set_random_seed(seed)
        init = keras.initializers.VarianceScaling(2.0 * scale**2, mode="fan_in", distribution="truncated_normal")
        # logits and a from-logits loss: a saturated softmax output would clip the loss's gradient to 0 on JAX and
        # PyTorch at s = 4 (TensorFlow's Keras recovers the logits from the softmax by itself)
        model = zoo.deep_mlp(
            depth=DEPTH, width=WIDTH, hidden_activation="relu", kernel_initializer=init, classifier_activation=None
        )
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        per_layer = kernel_gradient_norms(model, x, y, loss, layers=["dense_*"])
        norms[_key(scale)] = [float(v) for v in per_layer.values()]
        metrics[f"log10_grad_norm_first_layer_{_key(scale)}"] = math.log10(norms[_key(scale)][0])
    base = metrics[f"log10_grad_norm_first_layer_{_key(1.0)}"]
    metrics["log10_vanishing_s0.5_vs_s1"] = metrics[f"log10_grad_norm_first_layer_{_key(0.5)}"] - base
    metrics["log10_exploding_s2_vs_s1"] = metrics[f"log10_grad_norm_first_layer_{_key(2.0)}"] - base
    ctx.extras["gradient_norms"] = norms
    return metrics


def report(results, folder):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    cmap = plt.get_cmap("coolwarm")
    for i, scale in enumerate(SCALES):
        stack = np.array([r["extras"]["gradient_norms"][_key(scale)] for r in results.values()])
        layers = np.arange(1, stack.shape[1] + 1)
        ax.semilogy(
            layers,
            np.exp(np.log(stack).mean(axis=0)),
            "o-",
            ms=3,
            color=cmap(i / (len(SCALES) - 1)),
            label=f"s = {scale:g}",
        )
    ax.set_xlabel("hidden layer (1 = input side)")
    ax.set_ylabel("‖∂L/∂W‖ at initialisation (geometric mean over seeds)")
    ax.set_title(f"{DEPTH}-layer ReLU MLP, He-normal × s, {PROBE} MNIST images")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, folder / "init_scale.png")
    rows = [
        {
            "scale s": f"{s:g}",
            "log10 ‖∂L/∂W₁‖ (mean over seeds)": (
                f"{np.mean([r['metrics'][f'log10_grad_norm_first_layer_{_key(s)}'] for r in results.values()]):.3f}"
            ),
        }
        for s in SCALES
    ]
    return section("Gradient norm per layer by initial scale", "![init scale](init_scale.png)", rows)


TARGET = Target(
    name="init.scale",
    title="Initial weight scale: too small vanishes, too big explodes (10-layer ReLU MLP)",
    source=SOURCE,
    kind="custom",
    compute=compute,
    report=report,
    references=(
        Reference(
            "log10_vanishing_s0.5_vs_s1",
            0.0,
            SOURCE + ": halving the initial weights shrinks the input-side gradient",
            compare="<",
            cls="claim",
            margin=1.0,
            label="log10 of the ratio to s = 1; needs 10×",
        ),
        Reference(
            "log10_exploding_s2_vs_s1",
            0.0,
            SOURCE + ": doubling them grows it",
            compare=">",
            cls="claim",
            margin=1.0,
            label="log10 of the ratio to s = 1; needs 10×",
        ),
    ),
    full=Profile(seeds=3),
    quick=Profile(seeds=1, train_size=2000),
    notes=(
        f"`zoo.deep_mlp(depth={DEPTH}, width={WIDTH}, hidden_activation='relu')` with its kernels drawn from a "
        "truncated normal of variance 2·s²/fan_in (He-normal at s = 1), biases zero, the same seed for every s. "
        f"Gradient of the mean sparse cross-entropy on the first {PROBE} MNIST training images w.r.t. each hidden "
        "kernel, in inference mode (`callbacks.kernel_gradient_norms`), no training. A ReLU net is positively "
        f"homogeneous, so the input-side gradient scales about as s^{DEPTH - 1} until the softmax saturates; the "
        "10× effect size was fixed before the first run."
    ),
)
