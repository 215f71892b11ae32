"""The feedback's picture of a full training run: the student's A beside the reference's, from the same start.

The end-to-end convergence items observe the student's whole run on the grader's data; `trajectory_output`
turns that observation into a plot under the item's test cell, so the feedback shows where the run went,
not only whether it ended in the right place. The reference's run is the judge's (checks.reference_run).
"""
from __future__ import annotations

import base64

import numpy as np
from nbformat import NotebookNode

from backprop_ref.plots import comparison_png
from backprop_ref.problem import PROBLEMS

from .checks import GradingFailure, reference_run, reported_history


def trajectory_output(problem_name: str, observation: dict, seed: int) -> NotebookNode | None:
    """A display output plotting the observed run against the reference's; None when there is no run."""
    problem = PROBLEMS[problem_name]
    if "history" not in observation:
        return None  # the student's code raised before training: the item's message says so
    try:
        history = reported_history(observation["history"], f"train_{problem.name}")
    except GradingFailure:
        return None
    finite = history[np.isfinite(history)]
    run, reference = reference_run(problem.name, seed, "convergence")
    title = f"{problem.name.capitalize()}: your training run and the reference's, from A = {run.initial_A:.3f}"
    picture = comparison_png(finite, reference, run.initial_A, problem.optimum(run.x, run.y), problem.ideal, title)
    ending = f"yours ends at {finite[-1]:.4f}" if finite.size else "yours has no finite value"
    return NotebookNode(output_type="display_data", metadata={}, data={
        "image/png": base64.b64encode(picture).decode("ascii"),
        "text/plain": f"Your training run beside the reference's, both from A = {run.initial_A:.4f}: the reference "
                      f"ends at {reference[-1]:.4f}, {ending}.",
    })
