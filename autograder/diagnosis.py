"""Naming the likely mistake: what each common wrong answer would have produced on the same inputs.

The checks compare a student's result with the reference; when they differ, the functions here replay the
known mistakes on the same inputs and return the first one that reproduces the student's result, in the
student's terms. None means no known mistake fits, and the check reports expected vs got alone.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _cross_entropy(logits, labels):
    """sigmoid_cross_entropy_with_logits in float64: max(z, 0) - z y + log(1 + exp(-|z|))."""
    return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))


# (what the student did, what that computes from (model output, targets)), in float64.
LOSS_MISTAKES: dict[str, list[tuple[str, Callable]]] = {
    "regression": [
        ("the L1 loss (mean absolute error) instead of the L2 loss (mean of squared errors)",
         lambda p, t: np.mean(np.abs(p - t))),
        ("tf.nn.l2_loss, which is half the *sum* of the squared errors; the L2 loss here is their mean",
         lambda p, t: np.sum((p - t) ** 2) / 2),
        ("the sum of the squared errors instead of their mean (use tf.reduce_mean)",
         lambda p, t: np.sum((p - t) ** 2)),
        ("half the mean squared error", lambda p, t: np.mean((p - t) ** 2) / 2),
        ("the root of the mean squared error (RMSE) instead of the mean squared error",
         lambda p, t: np.sqrt(np.mean((p - t) ** 2))),
        ("the mean error without squaring it", lambda p, t: np.mean(p - t)),
    ],
    "classification": [
        ("labels and logits swapped: tf.nn.sigmoid_cross_entropy_with_logits takes labels first when called "
         "positionally; call it with labels=... and logits=... by name",
         lambda z, y: np.mean(_cross_entropy(y, z))),
        ("the sigmoid applied twice: sigmoid_cross_entropy_with_logits applies it itself, so pass the logits "
         "x + A, not sigmoid(x + A)",
         lambda z, y: np.mean(_cross_entropy(_sigmoid(z), y))),
        ("the mean squared error of the probabilities instead of the cross-entropy",
         lambda z, y: np.mean((_sigmoid(z) - y) ** 2)),
        ("the sum of the cross-entropies instead of their mean (use tf.reduce_mean)",
         lambda z, y: np.sum(_cross_entropy(z, y))),
        ("the labels inverted (1 - y): the loss rewards the wrong class",
         lambda z, y: np.mean(_cross_entropy(z, 1 - y))),
        ("binary cross-entropy of the logits as if they were probabilities (from_logits=False)",
         lambda z, y: np.mean(-(y * np.log(np.clip(z, 1e-7, 1 - 1e-7)) + (1 - y) * np.log(np.clip(1 - z, 1e-7, 1 - 1e-7))))),
    ],
}


def _close(a, b, rtol=1e-3, atol=1e-5) -> bool:
    return bool(np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol, equal_nan=False))


def loss_mistake(problem_name: str, outputs: Sequence[np.ndarray], targets: Sequence[np.ndarray],
                 got: Sequence[float]) -> str | None:
    """The known loss mistake that reproduces `got` on every batch, if one does."""
    for description, mistaken in LOSS_MISTAKES[problem_name]:
        if all(_close(mistaken(np.float64(p), np.float64(t)), g) for p, t, g in zip(outputs, targets, got)):
            return description
    return None


def optimizer_mistake(learning_rate: float, first: float, second: float, other_rates: dict[str, float]) -> str:
    """Name what an optimizer did from its two effective learning rates (update / gradient).

    The grader applies a gradient of 0.5 and then of -0.25 to a fresh variable; plain gradient descent
    shows `learning_rate` both times.
    """
    def same(a, b):
        return _close(a, b, rtol=1e-4, atol=1e-7)

    if same(first, learning_rate):
        return ("the second update depends on the first: momentum or another optimizer with memory "
                "(Adam, RMSProp); plain gradient descent moves by exactly learning rate x gradient each time")
    if not same(first, second):
        return ("the updates do not follow learning rate x gradient: an adaptive or momentum optimizer "
                "(Adam, RMSProp, SGD with momentum) instead of plain gradient descent")
    if same(first, -learning_rate):
        return "gradient ascent: the update goes uphill (a negative learning rate)"
    for name, rate in other_rates.items():
        if same(first, rate):
            return f"learning rate {rate:g}, the {name} example's; this example uses {learning_rate:g}"
    return f"learning rate {first:.4g} instead of {learning_rate:g}"


def step_mistake(initial: float, got: float, expected: float, learning_rate: float, gradient: float) -> str | None:
    """Name what a training step did to A from where A ended."""
    if _close(got, initial, rtol=0, atol=1e-7):
        return ("A did not change: the gradient was computed but never applied "
                "(call optimizer.apply_gradients([(gradient, A)]))")
    if _close(got, initial + learning_rate * gradient, rtol=1e-4, atol=1e-6):
        return "gradient ascent: A moved uphill, by +learning rate x gradient (don't negate the gradient)"
    if _close(got, initial - 2 * learning_rate * gradient, rtol=1e-4, atol=1e-6):
        return "the update was applied twice"
    ratio = (got - initial) / (expected - initial)
    return f"A moved {ratio:.3g} times the expected distance"


def trajectory_mistake(got: np.ndarray, expected: np.ndarray, alternatives: dict[str, np.ndarray],
                       initial: float, final_A: float) -> str | None:
    """Name what a training loop did from the history it returned and where it left A."""
    for description, alternative in alternatives.items():
        if len(alternative) == len(got) and _close(got, alternative, rtol=1e-4, atol=1e-5):
            return description
    if len(got) > 1 and np.all(got == got[-1]) and _close(got[-1], final_A, rtol=1e-5, atol=1e-6):
        return ("every entry is A's final value: the list holds A itself, not a copy of its value "
                "after each step (append float(A.numpy()[0]))")
    if _close(got[1:], expected[:-1], rtol=1e-4, atol=1e-5) and _close(got[0], initial, rtol=1e-5, atol=1e-6):
        return "A recorded before each step instead of after it"
    if _close(final_A, initial, rtol=0, atol=1e-7):
        return "A itself was never trained: its value after the loop is still the initial value"
    return None


def wrong_sample(step: int, got: float, one_step_from: list[float], index: int) -> str | None:
    """Name the sample the first wrong step trained on, if it was not indices[step]."""
    matches = [i for i, value in enumerate(one_step_from) if _close(got, value, rtol=1e-5, atol=1e-6)]
    if matches and index not in matches:
        return (f"step {step + 1} trained on sample {matches[0]}, not the sample indices[{step}] = {index}: "
                "step t must use x_vals[indices[t]] (no sampling of your own)")
    return None


def predict_mistake(x: np.ndarray, A: float, got: np.ndarray) -> str | None:
    """Name what a predict function computed from the classes it returned for (x, A)."""
    logits = np.float64(x) + A
    if not np.all(np.isin(got, (0, 1))):
        if np.all((got >= 0) & (got <= 1)) and _close(got, _sigmoid(logits), rtol=1e-3, atol=1e-4):
            return "probabilities returned instead of classes: return 1 where sigmoid(x + A) >= 0.5, else 0"
        return None
    candidates = {
        "the logit x + A was compared with 0.5; compare the probability sigmoid(x + A) with 0.5 (or the logit with 0)":
            logits >= 0.5,
        "the classes are inverted (1 where sigmoid(x + A) < 0.5)": logits < 0,
        "A is ignored: x is thresholded at a fixed value instead of at the model's boundary x = -A":
            np.float64(x) >= 1.0,
    }
    for description, classes in candidates.items():
        if np.array_equal(got, classes.astype(got.dtype)):
            return description
    return None
