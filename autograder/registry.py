"""The check contract: one entry per hidden check, read by everything that runs one.

A hidden check has five parts in four places: what the student's kernel observes (`probe.observe_*`), what
an honest report of it holds (`reports`), how the grader judges it against the reference (`checks.judge_*`),
the inputs both draw from the grading seed (`grading_inputs`), and the mistakes its verdict can name
(`backprop_ref.mistakes`). An entry here ties them together with the item it grades and the student's
functions it is handed. The test-cell parser (`verdicts.asked_checks`) knows a check by its entry's observer,
the judge dispatches on it, and the in-process runner builds each item's check from it; adding a check is one
entry plus its tests (tests/test_checks.py holds each entry to what its parts do).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from backprop_ref.problem import PROBLEMS

from . import checks, grading_inputs, probe, reports
from .checks import Tampering
from .grading_inputs import DEFAULT_SEED

BOTH = tuple(PROBLEMS)


@dataclass(frozen=True)
class Check:
    name: str
    observe: Callable  # in the student's kernel: runs the functions on the grader's inputs, publishes numbers
    shape: Callable  # what an honest report holds (raises reports.Malformed)
    judge: Callable  # in nbgrader's process: (problem, observation, seed) -> None or raises GradingFailure
    inputs: tuple[Callable, ...]  # what the observer and the judge both draw from (problem, seed)
    item: str  # the grade id of the test cell that asks for it, with {problem}
    functions: tuple[str, ...]  # the student's functions it is handed, in order, with {problem}
    mistakes: tuple[str, ...]  # the names in backprop_ref.mistakes its verdicts can give
    problems: tuple[str, ...] = BOTH
    end_to_end: bool = False  # runs everything the student wrote for one example
    extra: tuple[tuple[str, str], ...] = ()  # (problem, function): handed for that problem only, after the others

    def grade_id(self, problem: str) -> str:
        return self.item.format(problem=problem)

    def handed(self, problem: str) -> tuple[str, ...]:
        """The names of the functions the check is handed for `problem`, in the observer's order."""
        return (tuple(name.format(problem=problem) for name in self.functions)
                + tuple(function for of, function in self.extra if of == problem))

    def asks_problem(self) -> bool:
        """Whether the observer takes the problem's name first (a check of one problem does not)."""
        return len(self.problems) > 1


_ANSWER = ("RAISED", "CHANGED_INPUT")  # any function's: it raised, or changed an array it was handed
CHECKS: dict[str, Check] = {check.name: check for check in (
    Check("loss", probe.observe_loss, reports.loss, checks.judge_loss, (grading_inputs.loss_batches,),
          "test_{problem}_loss", ("{problem}_loss",),
          (*_ANSWER, "loss_mistake", "NOT_REDUCED", "KEEPS_A_DIMENSION", "OUTSIDE_TENSORFLOW", "HIDDEN_FROM_THE_TAPE",
           "NAN_GRADIENT_AT_FIT", "UPSTREAM_IGNORED", "large_gradient_mistake", "NAN_HIDDEN")),
    Check("optimizer", probe.observe_optimizer, reports.optimizer, checks.judge_optimizer,
          (grading_inputs.optimizer_gradients,), "test_make_{problem}_optimizer", ("make_{problem}_optimizer",),
          (*_ANSWER, "SHARED_OPTIMIZER", "SKIPPED_UPDATE", "optimizer_mistake")),
    Check("train_step", probe.observe_train_step, reports.train_step, checks.judge_train_step,
          (grading_inputs.step_cases,), "test_{problem}_train_step", ("{problem}_train_step",),
          (*_ANSWER, "TUTORIAL_OPTIMIZER", "UPDATE_NOT_BY_OPTIMIZER", "STEP_KEEPS_STATE", "step_mistake",
           "GRADIENT_NOT_FROM_LOSS", "LOSS_AFTER_UPDATE", "returned_rounded", "RETURNED_BUFFER")),
    Check("train_loop", probe.observe_train_loop, reports.train_loop, checks.judge_train_loop,
          (grading_inputs.trajectory_run, grading_inputs.second_call_run, grading_inputs.long_run),
          "test_train_{problem}", ("train_{problem}",),
          (*_ANSWER, "TRAINED_A_COPY", "LOSS_RECORDED", "INDICES_IGNORED", "FIRST_TARGET", "TARGET_ZERO", "EARLIER_DATA",
           "SKIPS_OPTIMIZER_STEPS", "handed_optimizer_not_used", "count_mistake", "stopped_at", "trajectory_mistake",
           "wrong_sample", "RETURNED_BUFFER")),
    Check("predict", probe.observe_predict, reports.predict, checks.judge_predict, (grading_inputs.predict_cases,),
          "test_predict", ("predict",),
          (*_ANSWER, "NOT_ONE_DIMENSIONAL", "ZERO_DIMENSIONAL", "NOT_NUMPY", "predict_mistake", "RETURNED_BUFFER"),
          problems=("classification",)),
    Check("convergence", probe.observe_convergence, reports.convergence, checks.judge_convergence,
          (grading_inputs.convergence_run, grading_inputs.far_start_run, grading_inputs.fresh_points),
          "test_train_{problem}_converges", ("make_{problem}_optimizer", "train_{problem}"), (*_ANSWER, "count_mistake"), end_to_end=True,
          extra=(("classification", "predict"),)),
)}
OBSERVERS = {check.observe.__name__: check for check in CHECKS.values()}


def judge(observation: dict, seed: int, check: str | None = None, problem_name: str | None = None) -> None:
    """The verdict on one observation made with the grading seed `seed`: None, or GradingFailure.

    `check` and `problem_name`, when given, are what the grader asked for; the report must be of that. A
    report that is not as the probe writes it is tampering (`reports.malformed`); anything else the judgement
    raises is the grader's own error, and goes up as it is.
    """
    how = reports.malformed(observation, {name: entry.shape for name, entry in CHECKS.items()})
    if how is not None:
        raise Tampering(f"the report of this check is malformed: {how}")
    asked = (check or observation["check"], problem_name or observation.get("problem"))
    if (observation["check"], observation.get("problem")) != asked or observation.get("seed") != seed:
        raise Tampering(f"the report is of {observation['check']} ({observation.get('problem')}, seed "
                        f"{observation.get('seed')}), not of what the grader asked")
    CHECKS[observation["check"]].judge(PROBLEMS[observation["problem"]], observation, seed)


def check(name: str, problem: str, *functions, seed: int = DEFAULT_SEED) -> None:
    """One check in one process (the in-process runner, the benches, tests): observe the student's `functions`
    (in the entry's order), then judge. Raises GradingFailure."""
    entry = CHECKS[name]
    judge(entry.observe(*([problem] if entry.asks_problem() else []), *functions, seed=seed), seed, name, problem)


def item_checks(ns: dict, end_to_end: bool = False) -> dict[str, Callable[[int], None]]:
    """Each item's hidden check (seed -> None, or raises GradingFailure), bound to the functions of one
    solution's namespace, and the end-to-end items if asked."""
    return {entry.grade_id(problem): (lambda seed, entry=entry, problem=problem:
                                      check(entry.name, problem, *(ns[f] for f in entry.handed(problem)), seed=seed))
            for entry in CHECKS.values() if end_to_end or not entry.end_to_end for problem in entry.problems}
