"""Figures of a run (matplotlib, headless): the lecture's per-epoch curves over seeds, per network, on axes a
reader can read."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from keras_lecture_zoo.reproductions.fileio import (
    atomic_path,
)


def pyplot():
    """matplotlib.pyplot on the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi=110):
    """Write ``fig`` to ``path`` as PNG atomically and close it."""
    with atomic_path(Path(path), suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    pyplot().close(fig)


def finish(fig, ax, path, labels, legend=None):
    """The last steps of a one-panel figure: ``labels`` (x label, y label, title) on ``ax``, a light grid, its
    legend (``legend``: ax.legend's keyword arguments; None for none), the layout, and the PNG at ``path``."""
    xlabel, ylabel, title = labels
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    if legend is not None:
        ax.legend(**legend)
    fig.tight_layout()
    save_figure(fig, path)


def draw_curves(path, target, results):
    """Train (solid) and validation (dashed) loss and accuracy per epoch: one line per seed for up to
    five seeds, else the mean over seeds with a min-max band (seeds that stopped early drop out).
    Targets that train several networks get one panel per network, so every line is named."""
    histories = {seed: pd.DataFrame(r["history"]) for seed, r in sorted(results.items()) if r["history"]}
    if any("Network" in h for h in histories.values()):
        network_curves(path, target, histories)
        return
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    losses = []
    if len(histories) <= 5:
        for seed, h in histories.items():
            for ax, kind in zip(axes, ("Loss", "Accuracy")):
                if f"Train {kind}" not in h:
                    continue
                (line,) = ax.plot(h["Epoch"], h[f"Train {kind}"], lw=1, label=f"train, seed {seed}")
                shown = [h[f"Train {kind}"]]
                if f"Validation {kind}" in h and h[f"Validation {kind}"].notna().any():
                    ax.plot(
                        h["Epoch"],
                        h[f"Validation {kind}"],
                        lw=1,
                        ls="--",
                        color=line.get_color(),
                        label=f"val, seed {seed}",
                    )
                    shown.append(h[f"Validation {kind}"])
                if kind == "Loss":
                    losses += shown
    else:
        for ax, kind in zip(axes, ("Loss", "Accuracy")):
            for split, style in (("Train", "-"), ("Validation", "--")):
                table = seed_table(histories, f"{split} {kind}")
                if table is None:
                    continue
                mean = table.mean(axis=1)
                (line,) = ax.plot(
                    mean.index, mean, ls=style, lw=1.5, label=f"{split.lower()}, mean of {table.shape[1]} seeds"
                )
                ax.fill_between(
                    mean.index,
                    table.min(axis=1),
                    table.max(axis=1),
                    color=line.get_color(),
                    alpha=0.2,
                    label=f"{split.lower()}, min-max",
                )
                if kind == "Loss":
                    losses += [table.min(axis=1), table.max(axis=1)]
    for ax, kind in zip(axes, ("Loss", "Accuracy")):
        _readable_axes(ax, losses if kind == "Loss" else [])
        ax.set_xlabel("epoch")
        ax.set_ylabel(kind.lower())
        ax.set_title(f"{target.name}: {kind.lower()}")
        ax.grid(alpha=0.3)
    if axes[0].get_legend_handles_labels()[1]:
        axes[0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


LOG_LOSS_SPAN = 30  # max/min of a panel's positive losses above which its loss axis is logarithmic


def _compact_number(x, _pos=None):
    """Tick label without a run of zeros: 250, 5k, 200k, 1.5M."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:g}{suffix}"
    return f"{x:g}"


def _readable_axes(ax, losses):
    """At most six compact epoch ticks (a 200,000-epoch axis ran its labels together), and a log loss axis
    where the plotted losses are positive and span more than 1.5 decades (a fit's last decades are flat
    lines on a linear axis)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(_compact_number))
    values = pd.concat([pd.Series(v, dtype=float) for v in losses]) if losses else pd.Series(dtype=float)
    values = values[values.notna() & values.abs().lt(float("inf"))]
    if len(values) and values.min() > 0 and values.max() / values.min() > LOG_LOSS_SPAN:
        ax.set_yscale("log")


def seed_table(histories, column, network=None):
    """Epoch × seed table of one history column (one network's rows if given); None if empty."""
    parts = {
        s: (h[h["Network"] == network] if network is not None else h).set_index("Epoch")[column]
        for s, h in histories.items()
        if column in h and (network is None or "Network" in h)
    }
    table = pd.concat(parts, axis=1) if parts else None
    return None if table is None or table.empty or table.isna().all().all() else table


def network_curves(path, target, histories):
    """One panel per network: loss (left axis) and accuracy (right axis), train solid and validation
    dashed, mean over seeds with a min-max band; one legend names the four kinds of line."""
    plt = pyplot()
    networks = list(dict.fromkeys(n for h in histories.values() if "Network" in h for n in h["Network"]))
    cols = min(4, len(networks))
    rows = -(-len(networks) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.ravel()[len(networks) :]:
        ax.axis("off")
    named = {}
    for ax, network in zip(axes.ravel(), networks):
        right, losses = None, []
        for kind, color in (("Loss", "tab:blue"), ("Accuracy", "tab:orange")):
            for split, style in (("Train", "-"), ("Validation", "--")):
                table = seed_table(histories, f"{split} {kind}", network)
                if table is None:
                    continue
                if kind == "Accuracy" and right is None:
                    right = ax.twinx()
                    right.set_ylim(-0.02, 1.02)
                    right.tick_params(labelsize=6)
                where = right if kind == "Accuracy" else ax
                mean = table.mean(axis=1)
                label = f"{split.lower()} {kind.lower()}" + (" (right axis)" if kind == "Accuracy" else "")
                (line,) = where.plot(mean.index, mean, ls=style, lw=1.2, color=color)
                named.setdefault(label, line)
                if table.shape[1] > 1:
                    where.fill_between(mean.index, table.min(axis=1), table.max(axis=1), color=color, alpha=0.15)
                if kind == "Loss":
                    losses += [table.min(axis=1), table.max(axis=1)]
        _readable_axes(ax, losses)
        ax.set_title(network, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
    for i, ax in enumerate(axes.ravel()[: len(networks)]):
        if i + cols >= len(networks):  # the lowest panel of its column
            ax.set_xlabel("epoch", fontsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel("loss", fontsize=7)
    seeds = len(histories)
    title = f"{target.name}: per network, " + (f"mean of {seeds} seeds with min-max band" if seeds > 1 else "one seed")
    # wrapped to the figure's width: a one-panel figure cut a one-line title at both sides
    title = textwrap.fill(title, width=max(30, int(fig.get_figwidth() * 14)))
    fig.suptitle(title, fontsize=9)
    # the legend in one row where the panels are wide enough (3 or more columns), else two to a row
    ncol = max(1, len(named) if cols >= 3 else min(2, len(named)))
    legend_rows = -(-len(named) // ncol)
    if named:
        fig.legend(list(named.values()), list(named), loc="lower center", ncol=ncol, fontsize=7, frameon=False)
    # the title's and the legend's extra lines get height of their own rather than the panels'
    fig.set_figheight(fig.get_figheight() + 0.16 * title.count("\n") + 0.17 * (legend_rows - 1))
    fig.tight_layout(rect=(0, (0.05 + 0.17 * legend_rows) / fig.get_figheight(), 1, 1))
    save_figure(fig, path)
