"""The reference solution of the backprop course (instructor side only: it holds the answers).

- `problem`: the two examples' data, given models, hyperparameters and exact optima;
- `tf2`: the solution in idiomatic TF2 (eager steps, and a compiled run the grader uses);
- `tf1_seed`: the seed tutorial's TF1 script under `tf.compat.v1`, seeded;
- `python -m backprop_ref`: both examples' tables, as the seed printed them.
"""
from .problem import CLASSIFICATION, PROBLEMS, REGRESSION, Problem

__all__ = ["CLASSIFICATION", "PROBLEMS", "REGRESSION", "Problem"]
