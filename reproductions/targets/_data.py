"""Data helpers shared by the fit targets (cached per process, subset for quick profiles)."""

import functools

from zoo import data


@functools.lru_cache(maxsize=4)
def _splits(name, data_dir, validation_size):
    return data.load(name, data_dir, validation_size=validation_size)


def image_data(name, ctx, validation_size=0.1):
    """Train/val/test arrays of MNIST or Fashion-MNIST; the quick profile keeps the first N train images."""
    s = _splits(name, None if ctx.data_dir is None else str(ctx.data_dir), validation_size)
    n = ctx.profile.train_size
    return {
        "x_train": s.x_train[:n], "y_train": s.y_train[:n],
        "x_val": s.x_val, "y_val": s.y_val,
        "x_test": s.x_test, "y_test": s.y_test,
    }


def xor_data(ctx):
    """The four XOR points; the lecture evaluates on the training set itself."""
    x, y = data.xor()
    return {"x_train": x, "y_train": y, "x_val": None, "y_val": None, "x_test": x, "y_test": y}
