"""The inputs the grader chooses: seeded, so every verdict is the same on every run and machine.

Each check draws from its own stream, `default_rng([seed, purpose, problem])`, so adding a case to one
check never changes the inputs of another. `DEFAULT_SEED` is the course's grading seed; the seed sweep in
`bench/seed_sweep.py` runs the reference over many others to show the tolerances hold for any of them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from backprop_ref.problem import CLASSIFICATION, Problem, classification_data

DEFAULT_SEED = 20261126
SEED_VARIABLE = "BACKPROP_GRADING_SEED"  # how the kernel learns the seed (SandboxedKernelManager sets it)


def configured_seed(config) -> int:
    """The course's grading seed: `c.JudgeObservations.grading_seed` in nbgrader_config.py, else DEFAULT_SEED.
    The judge and the kernel it judges both read it here, so they draw the same inputs."""
    return int(config.JudgeObservations.get("grading_seed", DEFAULT_SEED))
FRESH_POINTS = 10_000
# A learning rate that is neither example's: the step and loop are handed an optimizer at this rate too, so
# one that ignores the optimizer it is given (and trains at the course's rate) shows.
OTHER_LEARNING_RATE = 0.037
DIVERGING_RATE = 1.5  # the explorer's demonstration of a rate above 1: a step handed it must use it as it is
SETTLING_STEPS = 30  # one sample repeated in the loop's run (trajectory_run)
# The batch sizes of the step's run of calls on one variable and optimizer; the last is on the first's sample again.
STEPS_IN_A_ROW = (1, 2, 1, 3, 1)
SECOND_CALL_STEPS = 10  # the loop's second call, on the run's first indices: the same start, the same values
LONG_RUN_STEPS = 1_100  # the loop's long run: more calls deep than Python allows (1,000), so a loop that recurses shows
LONG_RUN_SCALE = 1e4  # what the long run's step multiplies x + y by, so that A passes 1e6 within a few dozen steps
HANDED_STEPS = 3  # steps the long run's optimizer has taken before the loop is handed it
OVERFLOW_A = 1e20  # a regression loss batch's A: errors near 1e20, squares past float32's largest (3.4e38)
OVERFLOW_GRADIENT = np.float32(np.inf)  # the optimizer's last update: a diverging run's gradient
TINY_LOSS_SCALE = 1e-6  # the step's last case: a stand-in loss of a few millionths, so a rounded return shows
TINY_START = 0.01  # ... from an A this small, whose float32 spacing (1e-9) shows an update of a few hundredths of a millionth
FAR_X = 1e3  # two of the long run's samples lie this far out (a loop that clips its data shows)
HUGE_LOSS_SCALE = 1e18  # a step case whose stand-in gradient is ~1e18, as a diverging run's become: a cut one shows
# (its square, which tf.clip_by_norm takes, stays within float32)
UPSTREAM = (1.0, 3.0, -0.5)  # the ordinary loss batches' upstream gradients: the loss's gradient is asked of upstream x it
BESIDE = 0.2 * 10.0 ** -np.arange(6)  # how far beside predict's boundary points are placed: 0.2 to 2e-6
# Gradients an optimizer is tried on: magnitudes from 1e-3 to 1e3, both signs, so clipping (small ones pass,
# large ones are cut), weight decay (it shows next to small ones) and any state or schedule show.
OPTIMIZER_GRADIENT_DECADES = (-3.0, 3.0)
_PURPOSES = {"loss": 1, "step": 2, "trajectory": 3, "convergence": 4, "predict": 5, "fresh": 6, "optimizer": 7,
             "far_start": 8, "long": 9}
_PROBLEM_IDS = {"regression": 1, "classification": 2, "predict": 3}


def rng_for(seed: int, purpose: str, problem_name: str) -> np.random.Generator:
    return np.random.default_rng([seed, _PURPOSES[purpose], _PROBLEM_IDS[problem_name]])


@dataclass(frozen=True)
class Batch:
    """A batch to evaluate a loss or a step on, at a chosen value of A."""

    A: float
    x: np.ndarray
    y: np.ndarray
    large: bool = False  # errors or logits beyond the ordinary: where a loss's numerics are tested
    overflow: bool = False  # errors whose squares overflow float32: the mean squared error is then inf
    exact_fit: bool = False  # the model fits every sample exactly: every error is 0, and so is the gradient
    upstream: float = 1.0  # the gradient asked for is of upstream x the loss, as where the loss is part of a larger sum
    diverged: bool = False  # A is NaN, as a diverged run leaves it: the loss must be NaN


def _targets(problem: Problem, rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Targets that differ sample to sample: a function that reads a constant 10 instead of its targets shows.
    (Classification labels already differ.)"""
    if problem is CLASSIFICATION:
        return y
    return rng.normal(problem.ideal, 4.0, len(x)).astype(np.float32)


def loss_batches(problem: Problem, seed: int = DEFAULT_SEED) -> list[Batch]:
    """Batches of 1, 3 and 10 samples at values of A away from the optimum (so the loss is not ~0), then
    the whole range a run can reach and beyond: large errors and errors of a thousandth next to targets of 10
    (regression), logits up to +-105 (classification).

    Targets vary from sample to sample; classification batches hold both labels (but for the single
    sample). Logits stay away from 0, where a correct formula may have a kink its gradient cannot see. On two of
    the ordinary batches the gradient is taken of a multiple of the loss (UPSTREAM): a hand-written gradient
    (tf.custom_gradient) that ignores the upstream gradient it is handed shows.
    """
    rng = rng_for(seed, "loss", problem.name)
    x_all, y_all = problem.make_data(rng)
    y_all = _targets(problem, rng, x_all, y_all)
    A_values = (3.0, -0.5, 7.5) if problem.name == "regression" else (1.5, -2.0, 0.7)
    batches = []
    for size, A, upstream in zip((1, 3, 10), A_values, UPSTREAM):
        if problem is CLASSIFICATION and size > 1:
            half = size // 2
            pick = np.concatenate([rng.choice(50, half, replace=False), 50 + rng.choice(50, size - half, replace=False)])
        else:
            pick = rng.choice(len(x_all), size, replace=False)
        batches.append(Batch(A, x_all[pick], y_all[pick], upstream=upstream))
    if problem is CLASSIFICATION:  # far on either side of every boundary, where sigmoid rounds to 0 or 1; and
        # further out than any run goes (logits to ~105), where exp overflows in float32
        for A in (25.0, -25.0, 90.0, -90.0):
            x = rng.uniform(-15.0, 15.0, 8).astype(np.float32)
            batches.append(Batch(A, x, rng.permutation(np.repeat(np.float32([0, 1]), 4)), large=True))
    else:  # errors in the hundreds, of both signs
        for A in (-40.0, 300.0):
            pick = rng.choice(len(x_all), 5, replace=False)
            batches.append(Batch(A, x_all[pick], y_all[pick], large=True))
        # and errors of a thousandth on targets near 10, as at the optimum: a formula that squares before it
        # subtracts ((p - y)^2 written as p^2 - 2py + y^2) loses them to float32 rounding
        x = x_all[rng.choice(len(x_all), 10, replace=False)]
        near = x.astype(np.float64) * np.float32(problem.ideal) + rng.uniform(-1e-3, 1e-3, len(x))
        batches.append(Batch(problem.ideal, x, near.astype(np.float32)))
        # and a batch the model fits exactly, as a step can leave it on a sample: every error is 0, and so is the
        # gradient (a square of a norm, whose derivative divides by the norm, gives NaN)
        x = x_all[rng.choice(len(x_all), 3, replace=False)]
        batches.append(Batch(problem.ideal, x, x * np.float32(problem.ideal), exact_fit=True))
        # and errors whose squares overflow float32, as a diverging run's do: the mean squared error is inf
        pick = rng.choice(len(x_all), 3, replace=False)
        batches.append(Batch(OVERFLOW_A, x_all[pick], y_all[pick], overflow=True))
    if problem is CLASSIFICATION:  # every point confidently right: each loss is a few billionths, so a constant
        # or a label smoothing, too small to show beside ordinary losses, shows (VALUE_ATOL in checks)
        labels = rng.permutation(np.repeat(np.float32([0, 1]), 4))
        batches.append(Batch(0.0, (2 * labels - 1) * rng.uniform(20.0, 40.0, 8).astype(np.float32), labels, large=True))
    pick = rng.choice(len(x_all), 3, replace=False)  # A is NaN, as a diverged run leaves it: so must the loss be
    batches.append(Batch(np.nan, x_all[pick], y_all[pick], diverged=True))
    return [dataclasses.replace(b, x=_off_kinks(problem, b.A, b.x)) for b in batches]


def _off_kinks(problem: Problem, A: float, x: np.ndarray) -> np.ndarray:
    """x moved off the points where the model's output is exactly 0 (a logit of 0, a kink of |z| or
    max(z, 0) in a correct hand-written formula); no drawn sample is ever there, this makes it certain."""
    output = problem.model(x.astype(np.float64), A)
    return np.where(np.abs(output) < 1e-3, x + np.float32(0.01), x).astype(np.float32)


@dataclass(frozen=True)
class StepCase:
    """One training step to observe: a batch, the scale of the stand-in loss (so gradients range from
    hundredths to tens), and the learning rate of the optimizer the step is handed (Keras's SGD, or the
    tutorial's tf.compat.v1 GradientDescentOptimizer, which the notebook lets make_*_optimizer return)."""

    batch: Batch
    loss_scale: float
    learning_rate: float
    in_a_row: int = 0  # 0: on a fresh variable and optimizer; k > 0: the k-th call after, on the same ones
    tutorial_optimizer: bool = False
    schedule: tuple[float, ...] = ()  # the calls in a row: the handed SGD's rate at each call (learning_rate: this one's)


def step_cases(problem: Problem, seed: int = DEFAULT_SEED) -> list[StepCase]:
    """Single samples and batches, each from its own starting A: small, ordinary and large stand-in
    gradients of both signs at the course's rate, one step handed an optimizer at a diverging rate, one from
    an A further out than any run goes (a step that clamps or rescales A shows), and one whose gradient is ~1e18 (a
    step that cuts large gradients shows); then STEPS_IN_A_ROW steps one after another on one variable and one
    optimizer whose rate changes from call to call (in_a_row_rates: a step that carries anything from one call to
    the next, or applies the update itself at a rate it read, shows: the cases before each start afresh; the last
    of them is on the first's sample again, so a step that reuses what it computed for a sample shows); then one
    handed the tutorial's optimizer at another rate (a step that works only with Keras's optimizers, or falls back
    to a rate of its own, shows); last, one whose loss and gradient are a few millionths, from an A near 0 (a step
    that rounds what it returns, or skips a small update, shows). A continued case's batch.A is NaN: it starts
    where the step before left A."""
    rng = rng_for(seed, "step", problem.name)
    x_all, y_all = problem.make_data(rng)
    y_all = _targets(problem, rng, x_all, y_all)
    starts = ((2.0, 12.5, 7.0, -1.5, -150.0, -2.0) if problem.name == "regression" else
              (4.0, -3.0, 1.0, -6.0, -150.0, -4.0))
    sizes, scales = (1, 4, 1, 3, 1, 2), (1.0, -0.01, 60.0, 2.0, 1.0, HUGE_LOSS_SCALE)
    rates = (problem.learning_rate,) * 3 + (DIVERGING_RATE,) + (problem.learning_rate,) * 2
    cases = []
    for A, size, scale, rate in zip(starts, sizes, scales, rates):
        pick = rng.choice(len(x_all), size, replace=False)
        cases.append(StepCase(Batch(A, _off_kinks(problem, A, x_all[pick]), y_all[pick]), scale, rate))
    start = 3.0 if problem.name == "regression" else 2.0
    schedule, first_in_a_row = in_a_row_rates(problem), len(cases)
    for k, size in enumerate(STEPS_IN_A_ROW):
        pick = rng.choice(len(x_all), size, replace=False)
        x, y = (_off_kinks(problem, start, x_all[pick]) if k == 0 else x_all[pick]), y_all[pick]
        if k == len(STEPS_IN_A_ROW) - 1:  # the first call's sample again, from where the calls between left A
            x, y = cases[first_in_a_row].batch.x, cases[first_in_a_row].batch.y
        cases.append(StepCase(Batch(start if k == 0 else np.nan, x, y), 1.0, schedule[k], k, schedule=schedule))
    pick = rng.choice(len(x_all), 2, replace=False)
    cases.append(StepCase(Batch(-start, _off_kinks(problem, -start, x_all[pick]), y_all[pick]), 1.0,
                          OTHER_LEARNING_RATE, tutorial_optimizer=True))
    pick = rng.choice(len(x_all), 2, replace=False)
    cases.append(StepCase(Batch(TINY_START, _off_kinks(problem, TINY_START, x_all[pick]), y_all[pick]), TINY_LOSS_SCALE,
                          problem.learning_rate))
    return cases


def in_a_row_rates(problem: Problem) -> tuple[float, ...]:
    """The learning rate of the SGD handed to the calls in a row, call by call: it changes as the optimizer counts
    its updates (a schedule), so a step that applies the update itself at the rate the optimizer states shows (the
    count stays 0). It starts at another rate than the course's, so that mistake and the course's rate written
    in are told apart."""
    return (OTHER_LEARNING_RATE, OTHER_LEARNING_RATE, problem.learning_rate, problem.learning_rate,
            OTHER_LEARNING_RATE)[:len(STEPS_IN_A_ROW)]


def optimizer_gradients(problem: Problem, seed: int = DEFAULT_SEED) -> np.ndarray:
    """As many gradients as the notebook's longest run with one optimizer has steps (the explorer's: three times
    the example's), to apply one after another to a fresh variable: a schedule that changes the rate anywhere in
    a run shows."""
    rng = rng_for(seed, "optimizer", problem.name)
    magnitudes = 10.0 ** rng.uniform(*OPTIMIZER_GRADIENT_DECADES, problem.longest_run)
    return (magnitudes * rng.choice([-1.0, 1.0], problem.longest_run)).astype(np.float32)


@dataclass(frozen=True)
class Run:
    """A whole training run: data, a starting A and one sample index per step."""

    x: np.ndarray
    y: np.ndarray
    initial_A: float
    indices: np.ndarray


def trajectory_run(problem: Problem, seed: int = DEFAULT_SEED) -> Run:
    """A run longer than the example's own, on targets that differ sample to sample, whose indices repeat
    some samples and skip others: a loop that stops early, ignores its indices or reads one target shows."""
    rng = rng_for(seed, "trajectory", problem.name)
    x, y = problem.make_data(rng)
    y = _targets(problem, rng, x, y)
    initial_A, indices = problem.initial_A(rng), problem.indices(rng, len(x), problem.steps + 50)
    # One sample again and again, somewhere in the run: a correct loop's steps then move A less and less, down
    # to nothing, and a loop that stops once A settles (or the loss is small) shows.
    settle = int(rng.integers(1, len(indices)))
    indices = np.insert(indices, settle, np.full(SETTLING_STEPS, indices[settle - 1]))
    return Run(x, y, initial_A, indices)


def second_call_run(run: Run) -> Run:
    """The loop's second call, after the trajectory run `run`: from its start, on its first SECOND_CALL_STEPS
    indices, on its samples in reverse order (other data of the same size: a loop that keeps data between calls,
    by size say, shows)."""
    return Run(run.x[::-1].copy(), run.y[::-1].copy(), run.initial_A, run.indices[:SECOND_CALL_STEPS])


def long_run(problem: Problem, seed: int = DEFAULT_SEED) -> Run:
    """The loop's long run, stepped by `probe.counting_step` (A += (x + y) x LONG_RUN_SCALE, with the jumps of
    LONG_RUN_JUMPS): other data than the trajectory run's (a loop that keeps an earlier call's data shows),
    drawn as the example draws it (a loop may check its data: labels are 0 or 1), LONG_RUN_STEPS indices (a loop
    that recurses once per index shows); A passes 1e6, then the step takes it to inf, then NaN, as a diverging rate
    does in the explorer (a loop that stops once A is large or not finite shows). Twice the example's samples, so a
    loop that wraps its indices at the example's size (i % 100) shows. Two of the samples its first steps use are
    at x = +-FAR_X: a loop that clips or rescales its data shows."""
    rng = rng_for(seed, "long", problem.name)
    x, y = (np.concatenate(halves) for halves in zip(problem.make_data(rng), problem.make_data(rng)))
    indices = rng.integers(0, len(x), LONG_RUN_STEPS)
    far = list(dict.fromkeys(indices.tolist()))[:2]
    x[far] = np.float32([FAR_X, -FAR_X])
    return Run(x, _targets(problem, rng, x, y), problem.initial_A(rng), indices)


# What the long run's step adds to A at each call, where it does not add (x + y) x LONG_RUN_SCALE (0 there): +inf four
# calls from the end, -inf two from the end (inf - inf: NaN). One entry past the last call, 0, for any call after it.
LONG_RUN_JUMPS = np.zeros(LONG_RUN_STEPS + 1, np.float32)
LONG_RUN_JUMPS[LONG_RUN_STEPS - 4], LONG_RUN_JUMPS[LONG_RUN_STEPS - 2] = np.inf, -np.inf


def convergence_run(problem: Problem, seed: int = DEFAULT_SEED) -> Run:
    """The seed's full run: 100 samples, the seed's initial A distribution and number of steps."""
    rng = rng_for(seed, "convergence", problem.name)
    x, y = problem.make_data(rng)
    return Run(x, y, problem.initial_A(rng), problem.indices(rng, len(x)))


def far_start_run(problem: Problem, seed: int = DEFAULT_SEED, steps: int = 60) -> Run:
    """A short run from a start the training explorer offers, far on the other side of the optimum (A = 20
    for classification: logits above 20, where a loss that is not stable for large logits breaks)."""
    rng = rng_for(seed, "far_start", problem.name)
    x, y = problem.make_data(rng)
    start = problem.initial_mean + (10.0 if problem.ideal < problem.initial_mean else -10.0)
    return Run(x, y, start, problem.indices(rng, len(x), steps))


def fresh_points(seed: int = DEFAULT_SEED, n: int = FRESH_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """New points from the classification example's two classes, to test generalisation."""
    return classification_data(rng_for(seed, "fresh", "classification"), n)


def predict_cases(seed: int = DEFAULT_SEED, margin: float = 1e-3) -> list[tuple[float, np.ndarray]]:
    """(A, x) pairs: several values of A, each with points on both sides of its boundary x = -A, the
    point exactly on it (probability exactly 0.5: class 1, as the notebook says), two 1,000 away from it
    (where exp of the logit overflows: a sigmoid that raises then shows), and points BESIDE it on both sides.

    Drawn points within `margin` of the boundary are dropped (they could fall as close as float32 rounding of
    x + A); the points beside it are placed, 2e-6 or more away, where every correct form agrees. The last two
    values of A have no short decimal form: rounded to 0-5 decimals, each moves by more than 2e-6, past a point
    beside the boundary, so a predict that rounds A shows, whichever way it rounds. Last, one point alone, twice:
    the classes are still a 1-D array (np.squeeze would make it 0-D), and a new one at every call.
    """
    rng = rng_for(seed, "predict", "predict")
    cases = []
    for A in (-3.0, -1.0, 0.5, 2.5, -2.636347, 1.373726):
        x = np.concatenate([classification_data(rng, 60)[0], rng.uniform(-8, 8, 40).astype(np.float32)])
        x = np.append(x[np.abs(x + np.float32(A)) > margin],
                      np.float32([-A, -A - 1000, -A + 1000, *(-A - BESIDE), *(-A + BESIDE)]))
        cases.append((A, rng.permutation(x)))
    cases.append((-1.0, np.float32([2.5])))
    cases.append((2.0, np.float32([-4.5])))  # one point again, the other class: a predict that returns one array
    return cases                              # per size, overwritten at the next call, shows


__all__ = [
    "DEFAULT_SEED", "SEED_VARIABLE", "configured_seed", "OTHER_LEARNING_RATE", "Batch", "StepCase", "Run",
    "loss_batches", "step_cases", "optimizer_gradients", "trajectory_run", "convergence_run", "far_start_run",
    "fresh_points", "predict_cases",
]
