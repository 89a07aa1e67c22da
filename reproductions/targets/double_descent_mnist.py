"""double_descent.mnist: Belkin et al. (2019)'s fully connected setup: n = 4,000 MNIST training images,
one hidden ReLU layer of width H, squared loss on one-hot targets, no regularisation; test loss and error
against the parameter count, with the interpolation threshold n·K = 40,000 marked."""

from keras_lecture_zoo.reproductions.spec import Change, Retired, Target
from keras_lecture_zoo.reproductions.targets._double_descent import (
    BATCH,
    CAUSES,
    DECAY,
    DECAY_EVERY,
    FULL,
    LR,
    MOMENTUM,
    PAPER_EPOCHS,
    PASSES,
    PROTOCOL_ARTEFACT,
    QUICK,
    WIDTHS,
    N,
    compute,
    derive,
    parameters,
    peak_findings,
    references,
    report,
)

TARGET = Target(
    name="double_descent.mnist",
    title="Double descent: one-hidden-layer nets on 4,000 MNIST images (Belkin et al. 2019)",
    source="L000, L004 (Belkin et al. 2019)",
    kind="custom",
    compute=compute,
    report=report,
    references=references(
        history={
            "peak_log2_distance_to_threshold": (
                Change("every seed <= 1", "2026-11-23", "restated as a claim with the same bound"),
                Change("every seed < 1, with no interpolation condition", "2026-12-07", PROTOCOL_ARTEFACT),
            ),
            "peak_prominence": (
                Change("every seed > 0.1, with no interpolation condition", "2026-12-07", PROTOCOL_ARTEFACT),
            ),
        }
    ),
    derive=derive,
    audit=peak_findings,
    retired=(
        Retired(
            "second_descent_ratio",
            "every seed < 1 (largest width's test loss / the highest within 2× of the "
            "threshold; until 2026-11-22 / the highest of all widths)",
            "2026-11-23",
            "it passed on a curve that falls steadily with no peak, so 'descends again' was not shown; "
            "peak_prominence needs the rise and the fall",
        ),
    ),
    causes=CAUSES,
    full=FULL,
    quick=QUICK,
    notes=(
        f"Belkin et al.'s MNIST setup: the first {N:,} training images (pixels in [0, 1]), one hidden ReLU layer of "
        f"width H in {list(WIDTHS)} ({parameters(WIDTHS[0]):,} to {parameters(WIDTHS[-1]):,} parameters), linear "
        "outputs, "
        "squared loss on one-hot targets (Keras 'mse', the mean over the 10 outputs; the table reports the sum over "
        "outputs per example), no regularisation. Their SGD, from their supplementary material: batch "
        f"{BATCH}, step {LR:g}, momentum {MOMENTUM}, {PAPER_EPOCHS:,} passes over the data. Below the threshold "
        f"(H ≤ 50) the step is multiplied by {DECAY} every {DECAY_EVERY} passes, a net stops once it classifies every "
        "training image correctly (checked after every engine epoch), and each net starts from the next smaller "
        "one's trained weights (weight reuse) with its new units drawn from N(0, 0.01); the smallest starts "
        "Glorot-uniform. Beyond the threshold every net starts afresh from N(0, 0.01) with a constant step: the "
        "figure marks this protocol switch, and `double_descent.mnist_fresh` trains every width with one schedule. "
        f"Each engine epoch is {PASSES} passes, each in its own order default_rng([seed, epoch, pass]) (Recipe.passes: "
        "Keras' per-epoch work would otherwise cost more than the steps of these small nets), with a checkpoint every "
        "10 engine epochs, so a killed run resumes inside the width it was training; the zero-error check therefore "
        f"comes every {PASSES} passes, not after each. Test metrics on all 10,000 test images. The peak claims are "
        "judged only where the first width past n·K interpolates (train_error_at_threshold, from details.json), "
        "since Belkin et al.'s peak is that of nets that just fit the training set; peak_prominence is derived from "
        "the per-width test losses in metrics.csv; the criterion history lists what changed and why."
    ),
)
