"""The seed tutorial's two problems: data, given models, hyperparameters and exact optima.

This module holds no solution to the exercises: it is what the student is given (the data and the
models) and what anyone can derive on paper (the optima). The reference solution, the grader and the
notebook all draw their data from here, so every one of them sees the same problem. It ships to students
as `backprop_problem.py` (a symlink in `source/backprop/`, copied as a file into `release/`), so it
imports nothing but NumPy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

REGRESSION_TARGET = 10.0
CLASS_MEANS = (-1.0, 3.0)


def regression_model(x, A):
    """The regression model of the seed: x * A."""
    return x * A


def classification_model(x, A):
    """The classification model's logits, x + A; the model's probability is sigmoid(x + A)."""
    return x + A


def regression_data(rng: np.random.Generator, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """x ~ N(1, 0.1) and the constant target 10, as float32 arrays."""
    x = rng.normal(1.0, 0.1, n)
    y = np.full(n, REGRESSION_TARGET)
    return x.astype(np.float32), y.astype(np.float32)


def classification_data(rng: np.random.Generator, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """n/2 points from N(-1, 1) labelled 0, then n/2 from N(3, 1) labelled 1, as float32 arrays."""
    half = n // 2
    x = np.concatenate([rng.normal(CLASS_MEANS[0], 1.0, half), rng.normal(CLASS_MEANS[1], 1.0, n - half)])
    y = np.concatenate([np.zeros(half), np.ones(n - half)])
    return x.astype(np.float32), y.astype(np.float32)


def regression_optimum(x: np.ndarray, y: np.ndarray) -> float:
    """The A minimising sum((A x - y)^2): sum(x y) / sum(x^2), which is 10 sum(x) / sum(x^2) here."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.dot(x, y) / np.dot(x, x))


def classification_optimum(x: np.ndarray, y: np.ndarray) -> float:
    """The A minimising the mean sigmoid cross-entropy: the root of sum(sigmoid(x + A) - y) = 0.

    The sum rises strictly with A, so bisection finds the root; it exists while both classes are present.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if not 0 < y.sum() < len(y):
        raise ValueError("the optimum exists only when both classes are present")

    def excess(a: float) -> float:
        return float(np.sum(0.5 * (1.0 + np.tanh(0.5 * (x + a)))) - y.sum())

    low, high = -x.max() - 50.0, -x.min() + 50.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if excess(middle) < 0:
            low = middle
        else:
            high = middle
        if high - low < 1e-12:
            break
    return 0.5 * (low + high)


@dataclass(frozen=True)
class Problem:
    """One example of the seed: everything about it except how to train."""

    name: str
    model: Callable
    make_data: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]
    optimum: Callable[[np.ndarray, np.ndarray], float]
    learning_rate: float
    steps: int
    print_every: int
    initial_mean: float  # the seed draws the initial A from N(initial_mean, 1)
    ideal: float  # the value A tends to as the sample grows
    loss_parameters: tuple[str, str]  # the names of the exercise's loss's (output, target) parameters

    @property
    def longest_run(self) -> int:
        """The most steps the notebook trains one optimizer for: the training explorer's longest run."""
        return 3 * self.steps

    def initial_A(self, rng: np.random.Generator) -> float:
        return float(np.float32(rng.normal(self.initial_mean, 1.0)))

    def indices(self, rng: np.random.Generator, n_samples: int, steps: int | None = None) -> np.ndarray:
        """One random sample index per step, as the seed's np.random.choice(100) in its loop."""
        return rng.integers(0, n_samples, size=self.steps if steps is None else steps)


REGRESSION = Problem(
    name="regression", model=regression_model, make_data=regression_data, optimum=regression_optimum,
    learning_rate=0.02, steps=100, print_every=25, initial_mean=0.0, ideal=REGRESSION_TARGET,
    loss_parameters=("y_pred", "y_true"),
)
CLASSIFICATION = Problem(
    name="classification", model=classification_model, make_data=classification_data,
    optimum=classification_optimum, learning_rate=0.05, steps=1400, print_every=200, initial_mean=10.0,
    ideal=-sum(CLASS_MEANS) / 2, loss_parameters=("logits", "labels"),
)
PROBLEMS = {p.name: p for p in (REGRESSION, CLASSIFICATION)}
