"""double_descent.mnist_fresh: Belkin et al.'s MNIST setup with one schedule for every width (a fresh
N(0, 0.01) start, a constant step, all 6,000 passes), so that nothing but the width changes at the
interpolation threshold; beside double_descent.mnist, which follows their protocol."""

import functools

from keras_lecture_zoo.reproductions.spec import Target
from keras_lecture_zoo.reproductions.targets import _double_descent as belkin

TARGET = Target(
    name="double_descent.mnist_fresh",
    title="Double descent without weight reuse: one schedule for every width on 4,000 MNIST images",
    source="L000, L004 (Belkin et al. 2019), every width trained alike",
    kind="custom",
    compute=functools.partial(belkin.compute, belkin=False),
    report=belkin.report,
    references=belkin.references(),
    derive=belkin.derive,
    audit=belkin.peak_findings,
    causes=belkin.CAUSES,
    full=belkin.FULL,
    quick=belkin.QUICK,
    notes=(
        f"The data, widths, loss, batch ({belkin.BATCH}), step ({belkin.LR:g}), momentum ({belkin.MOMENTUM}) and "
        f"{belkin.PAPER_EPOCHS:,} passes of double_descent.mnist, but every width starts afresh from N(0, 0.01) and "
        "trains at the constant step for every pass: no weight reuse, no step decay and no stop at zero training "
        "error below the threshold. Belkin et al. reuse weights below the threshold to get a clean curve; here the "
        "only thing that changes from one width to the next is the width. The peak claims are judged only where the "
        "first width past n·K interpolates its training set (train error ≤ 0.001)."
    ),
)
