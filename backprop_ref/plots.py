"""Plots of training: how A moved, how the loss fell, where the boundary lies.

Shipped to students as `backprop_plots.py` (a symlink in `source/backprop/`), so it holds no solution and
imports only NumPy and Matplotlib. The notebook's demos, the training explorer (`backprop_explorer.py`)
and the feedback's trajectory plot (`autograder.verdicts`) all draw with these functions.
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

CLASS_COLOURS = ("tab:blue", "tab:orange")


def draw_trajectory(ax, history, optimum: float, ideal: float | None = None, start: float | None = None,
                    label: str = "A after each step", **style) -> None:
    """A after every step on `ax`, with the exact optimum for the data (and the ideal value) marked.

    With `start`, the curve begins at step 0 from A's starting value.
    """
    steps = np.arange(1, len(history) + 1)
    values = np.asarray(history, dtype=float)
    if start is not None:
        steps, values = np.concatenate([[0], steps]), np.concatenate([[start], values])
    ax.plot(steps, values, label=label, **style)
    ax.axhline(optimum, color="tab:red", linestyle="--", linewidth=1, label=f"optimum for this data, A* = {optimum:.3f}")
    if ideal is not None:
        ax.axhline(ideal, color="tab:gray", linestyle=":", linewidth=1, label=f"ideal A = {ideal:g}")
    ax.set(xlabel="step", ylabel="A")


def draw_loss(ax, losses, lowest: float | None) -> None:
    """The loss on the whole training set after every step, with the lowest loss possible marked."""
    losses = np.asarray(losses, dtype=float)
    ax.plot(np.arange(len(losses)), losses, color="tab:green", label="loss on all the data")
    if lowest is not None and np.isfinite(lowest):
        ax.axhline(lowest, color="tab:red", linestyle="--", linewidth=1, label=f"lowest loss, at A*: {lowest:.4g}")
    finite = losses[np.isfinite(losses)]
    if finite.size and finite.min() > 0 and (lowest is None or lowest > 0):
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="step", ylabel="loss")


def draw_classes(ax, x_vals, y_vals, A: float, optimum: float) -> None:
    """Both classes' histograms, the model's boundary x = -A and the optimum's boundary x = -A*."""
    x_vals, y_vals = np.asarray(x_vals), np.asarray(y_vals)
    bins = np.linspace(min(x_vals.min(), -A, -optimum) - 0.5, max(x_vals.max(), -A, -optimum) + 0.5, 30)
    for label, colour in enumerate(CLASS_COLOURS):
        ax.hist(x_vals[y_vals == label], bins=bins, color=colour, alpha=0.6, label=f"class {label}")
    ax.axvline(-A, color="black", linewidth=2, label=f"boundary x = -A = {-A:.3f}")
    ax.axvline(-optimum, color="tab:red", linestyle="--", linewidth=1, label=f"optimum's boundary x = {-optimum:.3f}")
    ax.set(xlabel="x", ylabel="points")


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, without pyplot: the same in a notebook, a widget or nbgrader's process.

    The figure is drawn once (no tight bounding box, which draws it twice): the explorer draws a dozen a run.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def comparison_png(history, reference, start: float, optimum: float, ideal: float, title: str) -> bytes:
    """The student's A over the steps beside the reference's, both from the same start."""
    fig = Figure(figsize=(7.5, 3.4))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.9)
    ax.plot(np.arange(len(reference) + 1), np.concatenate([[start], reference]), color="tab:gray",
            linewidth=3, alpha=0.5, label="reference solution")
    draw_trajectory(ax, history, optimum, ideal, start=start, label="your training", color="tab:blue")
    ax.set_title(title, fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    return png(fig)


def plot_trajectory(history, optimum, title, ideal=None):
    """Show A after every step, with the exact optimum for the data (and the ideal value, if given)."""
    from IPython.display import Image, display

    fig = Figure(figsize=(7.5, 3.4))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.9)
    draw_trajectory(ax, history, optimum, ideal)
    ax.set_title(title)
    ax.legend(loc="best")
    display(Image(png(fig)))
