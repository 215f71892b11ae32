"""The inputs the grader chooses: seeded, so every verdict is the same on every run and machine.

Each check draws from its own stream, `default_rng([seed, purpose, problem])`, so adding a case to one
check never changes the inputs of another. `DEFAULT_SEED` is the course's grading seed; the seed sweep in
`bench/seed_sweep.py` runs the reference over many others to show the tolerances hold for any of them.
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from backprop_ref.problem import CLASSIFICATION, Problem, classification_data

DEFAULT_SEED = 20261126
FRESH_POINTS = 10_000
_PURPOSES = {"loss": 1, "step": 2, "trajectory": 3, "convergence": 4, "predict": 5, "fresh": 6}
_PROBLEM_IDS = {"regression": 1, "classification": 2, "predict": 3}


def rng_for(seed: int, purpose: str, problem_name: str) -> np.random.Generator:
    return np.random.default_rng([seed, _PURPOSES[purpose], _PROBLEM_IDS[problem_name]])


@dataclass(frozen=True)
class Batch:
    """A batch to evaluate a loss or a step on, at a chosen value of A."""

    A: float
    x: np.ndarray
    y: np.ndarray


def loss_batches(problem: Problem, seed: int = DEFAULT_SEED) -> list[Batch]:
    """Batches of 1, 3 and 10 samples at values of A away from the optimum (so the loss is not ~0).

    Classification batches always hold both labels (but for the single sample), and the logits stay
    within |x + A| < 9, where every correct float32 formula of the cross-entropy agrees to 1e-4.
    """
    rng = rng_for(seed, "loss", problem.name)
    x_all, y_all = problem.make_data(rng)
    A_values = (3.0, -0.5, 7.5) if problem.name == "regression" else (1.5, -2.0, 0.7)
    batches = []
    for size, A in zip((1, 3, 10), A_values):
        if problem is CLASSIFICATION and size > 1:
            half = size // 2
            pick = np.concatenate([rng.choice(50, half, replace=False), 50 + rng.choice(50, size - half, replace=False)])
        else:
            pick = rng.choice(len(x_all), size, replace=False)
        batches.append(Batch(A, x_all[pick], y_all[pick]))
    return batches


def step_batches(problem: Problem, seed: int = DEFAULT_SEED) -> list[Batch]:
    """A single sample and a batch of 4, each from its own starting A."""
    rng = rng_for(seed, "step", problem.name)
    x_all, y_all = problem.make_data(rng)
    starts = (2.0, 12.5) if problem.name == "regression" else (4.0, -3.0)
    return [
        Batch(A, x_all[pick], y_all[pick])
        for A, pick in zip(starts, (rng.choice(len(x_all), 1), rng.choice(len(x_all), 4, replace=False)))
    ]


@dataclass(frozen=True)
class Run:
    """A whole training run: data, a starting A and one sample index per step."""

    x: np.ndarray
    y: np.ndarray
    initial_A: float
    indices: np.ndarray


def trajectory_run(problem: Problem, seed: int = DEFAULT_SEED, steps: int = 37) -> Run:
    """A short run whose indices repeat some samples and skip others, so ignoring them shows."""
    rng = rng_for(seed, "trajectory", problem.name)
    x, y = problem.make_data(rng)
    return Run(x, y, problem.initial_A(rng), problem.indices(rng, len(x), steps))


def convergence_run(problem: Problem, seed: int = DEFAULT_SEED) -> Run:
    """The seed's full run: 100 samples, the seed's initial A distribution and number of steps."""
    rng = rng_for(seed, "convergence", problem.name)
    x, y = problem.make_data(rng)
    return Run(x, y, problem.initial_A(rng), problem.indices(rng, len(x)))


def fresh_points(seed: int = DEFAULT_SEED, n: int = FRESH_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """New points from the classification example's two classes, to test generalisation."""
    return classification_data(rng_for(seed, "fresh", "classification"), n)


def predict_cases(seed: int = DEFAULT_SEED, margin: float = 1e-3) -> list[tuple[float, np.ndarray]]:
    """(A, x) pairs: several values of A, each with points on both sides of its boundary x = -A.

    Points within `margin` of the boundary are dropped: there sigmoid(x + A) rounds to 0.5 in float32,
    and a correct answer may fall either way.
    """
    rng = rng_for(seed, "predict", "predict")
    cases = []
    for A in (-3.0, -1.0, 0.5, 2.5):
        x = np.concatenate([classification_data(rng, 60)[0], rng.uniform(-8, 8, 40).astype(np.float32)])
        cases.append((A, x[np.abs(x + np.float32(A)) > margin]))
    return cases


__all__ = [
    "DEFAULT_SEED", "Batch", "Run", "loss_batches", "step_batches", "trajectory_run", "convergence_run",
    "fresh_points", "predict_cases",
]
