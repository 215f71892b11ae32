"""The reference package reproduces the seed, and its flavours agree with each other."""
import subprocess
import sys

import numpy as np
import pytest

from backprop_ref import tf1_seed, tf2
from backprop_ref.problem import CLASSIFICATION, PROBLEMS, REGRESSION, classification_optimum, regression_optimum


def test_regression_optimum_minimises_the_l2_loss():
    x, y = REGRESSION.make_data(np.random.default_rng(3))
    best = regression_optimum(x, y)
    assert best == pytest.approx(10 * x.astype(float).sum() / (x.astype(float) ** 2).sum(), rel=1e-12)
    grid = best + np.linspace(-0.01, 0.01, 201)
    losses = [np.mean((a * x.astype(float) - y) ** 2) for a in grid]
    assert grid[int(np.argmin(losses))] == pytest.approx(best, abs=1e-4)


def test_classification_optimum_zeroes_the_gradient():
    x, y = CLASSIFICATION.make_data(np.random.default_rng(3))
    best = classification_optimum(x, y)
    residual = np.sum(1 / (1 + np.exp(-(x.astype(float) + best))) - y)
    assert abs(residual) < 1e-8
    assert -2 < best < 0


def test_classification_optimum_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        classification_optimum(np.float32([1, 2]), np.float32([1, 1]))


@pytest.mark.parametrize("problem", PROBLEMS.values(), ids=PROBLEMS.keys())
def test_compiled_run_matches_eager_steps(problem):
    rng = np.random.default_rng(11)
    x, y = problem.make_data(rng)
    start, indices = problem.initial_A(rng), problem.indices(rng, len(x), 300)
    compiled = tf2.run(problem, x, y, start, indices)
    eager = tf2.run_eager(problem, x, y, start, indices)
    np.testing.assert_allclose(compiled, eager, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", ["regression", "classification"])
def test_tf1_seed_script_and_tf2_reference_take_identical_steps(name):
    printed = []
    seed_run = getattr(tf1_seed, name)(seed=4, echo=printed.append)
    problem = PROBLEMS[name]
    replay = tf2.run(problem, seed_run.x_vals.astype(np.float32), seed_run.y_vals.astype(np.float32),
                     seed_run.initial_A, seed_run.indices)
    np.testing.assert_allclose(replay, seed_run.history, rtol=0, atol=1e-5)
    steps = [line for line in printed if line.startswith("Step #")]
    assert len(steps) == problem.steps // problem.print_every
    assert steps[-1].startswith(f"Step #{problem.steps} A = [")


def test_seeded_tf1_script_reproduces_the_seeds_results():
    """The tutorial printed A = 9.89 after 100 steps, -1.09 after 1400, accuracy 1.0."""
    regression = tf1_seed.regression(seed=0, echo=lambda line: None)
    classification = tf1_seed.classification(seed=0, echo=lambda line: None)
    assert abs(regression.history[-1] - 10) < 0.5
    assert abs(classification.history[-1] + 1) < 0.5
    assert classification.accuracy >= 0.95


def test_python_dash_m_backprop_ref_prints_both_tables():
    done = subprocess.run([sys.executable, "-m", "backprop_ref", "--seed", "0"], capture_output=True, text=True,
                          check=True)
    lines = done.stdout.splitlines()
    assert [line.split(" A =")[0] for line in lines if line.startswith("Step #")] == [
        f"Step #{n}" for n in (25, 50, 75, 100, 200, 400, 600, 800, 1000, 1200, 1400)]
    final_regression = float(next(l for l in lines if l.startswith("Step #100 ")).split("[")[1].rstrip("]"))
    final_classification = float(next(l for l in lines if l.startswith("Step #1400 ")).split("[")[1].rstrip("]"))
    assert abs(final_regression - 10) < 0.5 and abs(final_classification + 1) < 0.5
    assert any(line.startswith("Final accuracy = ") for line in lines)
    assert done.stderr == "", "TensorFlow's start-up log must be silenced"
