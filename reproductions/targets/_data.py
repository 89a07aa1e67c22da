"""Data helpers shared by the fit targets (cached per process, subset for quick profiles)."""

import functools

from keras_lecture_zoo.zoo import data


@functools.lru_cache(maxsize=4)
def _splits(name, data_dir, validation_size):
    return data.load(name, data_dir, validation_size=validation_size)


QUICK_EVAL_SIZE = 1000  # the validation and test images a quick profile's ``eval_size`` option keeps


def image_data(name, ctx, validation_size=0.1):
    """Train/val/test arrays of MNIST or Fashion-MNIST; the quick profile keeps the first N train images, and
    with the profile option ``eval_size`` the first N validation and test images (evaluating 10,000 images
    after every epoch was most of some quick runs' time, and a quick run checks the pipeline, not the numbers)."""
    s = _splits(name, None if ctx.data_dir is None else str(ctx.data_dir), validation_size)
    n, m = ctx.profile.train_size, ctx.profile.options.get("eval_size")
    return {
        "x_train": s.x_train[:n],
        "y_train": s.y_train[:n],
        "x_val": None if s.x_val is None else s.x_val[:m],
        "y_val": None if s.y_val is None else s.y_val[:m],
        "x_test": s.x_test[:m],
        "y_test": s.y_test[:m],
    }


def xor_data(ctx):
    """The four XOR points; the lecture evaluates on the training set itself."""
    x, y = data.xor()
    return {"x_train": x, "y_train": y, "x_val": None, "y_val": None, "x_test": x, "y_test": y}
