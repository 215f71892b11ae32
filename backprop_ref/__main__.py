"""`python -m backprop_ref`: both examples trained by the reference, printed as the seed printed them."""
from __future__ import annotations

import argparse

import numpy as np

from . import tf1_seed, tf2
from .problem import CLASSIFICATION, PROBLEMS, REGRESSION, Problem
from .quiet_tf import tf


def print_run(problem: Problem, seed: int, echo=print) -> float:
    """Train `problem` eagerly on seeded data, echo the seed's table; return the final A."""
    rng = np.random.default_rng(seed)
    x_vals, y_vals = problem.make_data(rng)
    A = tf.Variable([problem.initial_A(rng)], dtype=tf.float32)
    optimizer = tf2.make_optimizer(problem)
    for step, i in enumerate(problem.indices(rng, len(x_vals)), start=1):
        x, y = x_vals[i : i + 1], y_vals[i : i + 1]
        tf2.train_step(problem, A, x, y, optimizer)
        if step % problem.print_every == 0:
            echo(f"Step #{step} A = {A.numpy()}")
            echo(f"Loss = {np.atleast_1d(tf2.LOSSES[problem.name](problem.model(x, A), y).numpy())}")
    final_A = float(A.numpy()[0])
    echo(f"Exact optimum for this data: A* = {problem.optimum(x_vals, y_vals):.4f}")
    if problem is CLASSIFICATION:
        echo(f"Final accuracy = {np.mean(tf2.predict(x_vals, A) == y_vals):.2f}")
    return final_A


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m backprop_ref", description=__doc__)
    parser.add_argument("--seed", type=int, default=0, help="seed of the data, the initial A and the sample order")
    parser.add_argument("--tf1", action="store_true", help="run the seed's own TF1 script (graph mode) instead")
    args = parser.parse_args(argv)
    for problem in (REGRESSION, CLASSIFICATION):
        print(f"# {problem.name}: learning rate {problem.learning_rate}, {problem.steps} single-sample steps")
        if args.tf1:
            getattr(tf1_seed, problem.name)(args.seed)
        else:
            print_run(PROBLEMS[problem.name], args.seed)


if __name__ == "__main__":
    main()
