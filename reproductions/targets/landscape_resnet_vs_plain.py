"""landscape.resnet_vs_plain: Li et al.'s filter-normalised 1-D and 2-D loss surfaces of trained plain
and residual nets (depth 20 and 56). The claim (their Fig. 5, L004's pictures): with shortcuts the
surface stays smooth and convex-looking; without them the 56-layer surface turns sharp and chaotic."""

import numpy as np

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.figures import pyplot, save_figure
from keras_lecture_zoo.reproductions.landscape import filter_normalized_direction, loss_surface, nonconvex_fraction
from keras_lecture_zoo.reproductions.report import section
from keras_lecture_zoo.reproductions.spec import CLAIM_MIN_SEEDS, Change, Profile, Reference, Target, learned, spread
from keras_lecture_zoo.reproductions.targets._residual import (
    DATASETS,
    DEGRADATION,
    QUICK_TEST_SIZE,
    SCHEDULE,
    nan_if_missing,
    residual_data,
)

TRAINED_BY = "residual.degradation"

SOURCE = f"Li et al. 2018, Fig. 5 (CIFAR-10; {DEGRADATION.ran})"
# Li et al.'s surfaces are of trained minima (their 56-layer nets reach 5.89% and 13.31% test error)
LEARNED = tuple(learned(f"test_error_{n}", n) for n in ("plain56", "resnet56"))
HISTORY = (
    "it compared two 56-layer nets that had not trained (test error 0.72 and 0.71); a claim about trained "
    "minima now needs them to have learned, and an effect size"
)
ONE_SEED = Change(
    "every seed beyond the margin, one seed allowed",
    "2026-12-07",
    "one seed shows no seed-to-seed noise for an effect to stand out of; a claim now needs n ≥ 2",
)
LEARNED_ALL = tuple(learned(f"test_error_{n}", n) for n in DEGRADATION.networks)
STEP = 0.5  # sharpness: log10 of the mean loss at α = ±STEP over the loss at α = 0 (1-D direction)
FULL_GRID = {"eval_size": 500, "points_1d": 41, "points_2d": 15}
QUICK_GRID = {"eval_size": 128, "points_1d": 9, "points_2d": 5}


def derive(m, _extras=None):
    """How much each plain − ResNet gap grows from depth 20 to depth 56 (Li et al.: similar at 20, apart at 56)."""
    out = {}
    for kind in ("nonconvex", "sharpness"):
        deep, shallow = m.get(f"{kind}_gap_plain56_minus_resnet56"), m.get(f"{kind}_gap_plain20_minus_resnet20")
        if deep is not None and shallow is not None:
            out[f"{kind}_gap_growth_20_to_56"] = deep - shallow
    return out


def compute(seed, ctx):
    d = residual_data(ctx, train_size=DEGRADATION.train_size)
    grid = ctx.options["grid"]
    shape = d["x_train"].shape[1:]
    trained = {}
    for name in DEGRADATION.networks:  # the degradation target's trained networks of this seed, SHA-256-checked
        model, entry = ctx.trained_network(TRAINED_BY, name, lambda name=name: zoo.build(name, input_shape=shape))
        trained[name] = (None if model is None else entry["metrics"], model)
    x, y = d["x_train"][: grid["eval_size"]], d["y_train"][: grid["eval_size"]]
    alphas = np.linspace(-1, 1, grid["points_1d"])
    axis = np.linspace(-1, 1, grid["points_2d"])
    metrics, surfaces = {}, {}
    for k, (name, (m, model)) in enumerate(trained.items()):
        metrics[f"test_error_{name}"] = nan_if_missing(m, "test_error")
        if m is None:
            continue
        print(f"  surfaces of {name}: {len(alphas)} + {len(axis) ** 2} evaluations on {len(x)} images", flush=True)
        # three directions per network, each its own stream of the seed (the suite's seed rule)
        d1 = filter_normalized_direction(model, [seed, k, 0])
        line, _ = loss_surface(model, x, y, [d1], alphas[:, None])
        d2a, d2b = filter_normalized_direction(model, [seed, k, 1]), filter_normalized_direction(model, [seed, k, 2])
        mesh = np.array([(a, b) for a in axis for b in axis])
        plane, plane_acc = loss_surface(model, x, y, [d2a, d2b], mesh)
        plane = plane.reshape(len(axis), len(axis))
        center = float(line[len(alphas) // 2])
        away = np.mean([float(np.interp(s, alphas, line)) for s in (-STEP, STEP)])
        metrics[f"sharpness_{name}"] = float(np.log10(away / center))
        metrics[f"nonconvex_fraction_{name}"] = nonconvex_fraction(plane)
        surfaces[name] = {
            "alphas": alphas.tolist(),
            "loss_1d": line.tolist(),
            "axis": axis.tolist(),
            "loss_2d": plane.tolist(),
            "accuracy_2d": plane_acc.reshape(plane.shape).tolist(),
        }
    for depth in (20, 56):
        metrics[f"sharpness_gap_plain{depth}_minus_resnet{depth}"] = metrics.get(
            f"sharpness_plain{depth}", np.nan
        ) - metrics.get(f"sharpness_resnet{depth}", np.nan)
        metrics[f"nonconvex_gap_plain{depth}_minus_resnet{depth}"] = metrics.get(
            f"nonconvex_fraction_plain{depth}", np.nan
        ) - metrics.get(f"nonconvex_fraction_resnet{depth}", np.nan)
    ctx.extras["surfaces"] = surfaces
    return metrics


def report(results, folder):
    """Contour plots of every 2-D surface, the 1-D curves, and a table of the shape numbers."""

    plt = pyplot()
    first = results[min(results)]["extras"]["surfaces"]
    names = [n for n in DEGRADATION.networks if n in first]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.8), squeeze=False, layout="constrained")
    surfaces = {}
    for name in names:
        z = np.log10(np.maximum(np.array(first[name]["loss_2d"], dtype=float).T, 1e-12))
        top = np.nanmax(np.where(np.isfinite(z), z, np.nan))
        surfaces[name] = np.nan_to_num(z, nan=top, posinf=top)  # an overflowing corner shows as the highest level
    # one colour scale for the whole row, so equal colours mean equal losses in every panel
    levels = np.linspace(min(z.min() for z in surfaces.values()), max(z.max() for z in surfaces.values()), 21)
    for ax, name in zip(axes[0], names):
        s = first[name]
        filled = ax.contourf(s["axis"], s["axis"], surfaces[name], levels=levels, cmap="viridis")
        ax.contour(s["axis"], s["axis"], surfaces[name], levels=levels, colors="k", linewidths=0.3)
        ax.plot(0, 0, "r+")
        ax.set_title(name)
        ax.set_xlabel("δ")
    fig.colorbar(filled, ax=list(axes[0]), label="log10 training loss (one scale for the row)")
    axes[0][0].set_ylabel("η")
    fig.suptitle(f"Training loss around the trained weights, filter-normalised directions (seed {min(results)})")
    save_figure(fig, folder / "contours.png")

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name in names:
        ax.plot(first[name]["alphas"], first[name]["loss_1d"], "--" if name.startswith("plain") else "-", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("α (filter-normalised step)")
    ax.set_ylabel("training loss")
    ax.set_title("1-D loss curves through the trained weights")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, folder / "curves_1d.png")

    rows = []
    for name in DEGRADATION.networks:

        def mean(key):
            vals = [r["metrics"].get(f"{key}_{name}", np.nan) for r in results.values()]
            return float(np.nanmean(vals)) if any(np.isfinite(vals)) else np.nan

        rows.append(
            {
                "network": name,
                f"sharpness log10(L(±{STEP}) / L(0))": f"{mean('sharpness'):.4f}",
                "non-convex share of the 2-D grid": f"{mean('nonconvex_fraction'):.3f}",
                "test error %": f"{100 * mean('test_error'):.2f}",
            }
        )
    return section(
        "Surface shape per network (mean over seeds)",
        rows,
        "![contours](contours.png)",
        "![1-D curves](curves_1d.png)",
    )


TARGET = Target(
    name="landscape.resnet_vs_plain",
    title="Filter-normalised loss surfaces: ResNet vs plain, depth 20 and 56",
    source="L004",
    kind="custom",
    compute=compute,
    report=report,
    datasets=DATASETS,
    needs=(TRAINED_BY,),
    references=(
        Reference(
            "sharpness_gap_plain56_minus_resnet56",
            0.0,
            SOURCE + ": without shortcuts the 56-layer minimum is sharper",
            compare=">",
            cls="claim",
            margin=0.1,
            label="log10 claims need 0.1 (a factor 1.26)",
            trained=LEARNED,
            history=(Change("every seed > 0", "2026-11-23", HISTORY), ONE_SEED),
        ),
        Reference(
            "nonconvex_gap_plain56_minus_resnet56",
            0.0,
            SOURCE + ": without shortcuts the 56-layer surface is more chaotic (less convex)",
            compare=">",
            cls="claim",
            margin=0.05,
            label="share claims need 5 points",
            trained=LEARNED,
            history=(Change("every seed > 0", "2026-11-23", HISTORY), ONE_SEED),
        ),
        Reference(
            "nonconvex_gap_growth_20_to_56",
            0.0,
            SOURCE + ": the surface turns chaotic with depth without "
            "shortcuts (similar at depth 20, chaotic at 56): the plain − ResNet non-convexity gap is larger at 56 "
            "than at 20",
            compare=">",
            cls="claim",
            margin=0.05,
            label="share claims need 5 points",
            trained=LEARNED_ALL,
            history=(ONE_SEED,),
        ),
        Reference(
            "sharpness_gap_growth_20_to_56",
            0.0,
            SOURCE + ": the plain − ResNet sharpness gap is larger at depth 56 than at 20",
            compare=">",
            cls="claim",
            margin=0.1,
            label="log10 claims need 0.1 (a factor 1.26)",
            trained=LEARNED_ALL,
            history=(ONE_SEED,),
        ),
    ),
    derive=derive,
    # its claims need CLAIM_MIN_SEEDS seeds of residual.degradation's networks
    full=Profile(
        seeds=CLAIM_MIN_SEEDS,
        train_size=DEGRADATION.train_size,
        options={"grid": FULL_GRID},
        short_of="its networks are residual.degradation's: " + DEGRADATION.short_of,
    ),
    quick=Profile(seeds=1, train_size=512, options={"grid": QUICK_GRID, "test_size": QUICK_TEST_SIZE}),
    causes={
        "*": lambda results: (
            "test error per network: "
            + ", ".join(f"{n} {spread(results, f'test_error_{n}', 3)}" for n in DEGRADATION.networks)
            + f": after {DEGRADATION.epochs} epochs on {DEGRADATION.train_size:,} images "
            + "the 56-layer nets are far from the paper's 64k-step "
            "CIFAR minima, so their surfaces are not those of trained minima"
        )
    },
    notes=(
        "The four networks are residual.degradation's trained networks of the same seed "
        f"({DEGRADATION.train_size} Fashion-MNIST images, {DEGRADATION.epochs} epochs, {SCHEDULE}; BatchNorm's "
        "statistics recalibrated on the training images), loaded "
        "from its kept weights after their SHA-256 is checked, so both targets judge the same networks; a run of this "
        "target runs residual.degradation first when the output folder does not keep them. Surfaces: mean "
        f"cross-entropy of the first {FULL_GRID['eval_size']} training images in inference mode, at "
        f"{FULL_GRID['points_1d']} points on α ∈ [−1, 1] along one filter-normalised direction and on a "
        f"{FULL_GRID['points_2d']}×{FULL_GRID['points_2d']} grid over [−1, 1]² along two more (biases and "
        f"BatchNorm parameters unperturbed, `reproductions.landscape`; direction j of network k draws from "
        "default_rng([seed, k, j])). Sharpness = log10 of the mean loss at α = ±{STEP} over the "
        "loss at the trained weights; "
        "non-convex share = fraction of interior grid points whose finite-difference Hessian has a negative "
        "eigenvalue (a cheap stand-in for Li et al.'s |λmin/λmax| maps). Li et al. report depth 20 as similar "
        "with and without shortcuts and depth 56 as apart, so the depth claim is judged as a contrast: the plain − "
        "ResNet gap at 56 minus the gap at 20 (derived from metrics.csv). One seed (n = 1)."
    ),
)
