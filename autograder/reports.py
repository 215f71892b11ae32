"""What an honest report of each check holds: the shape `probe` writes and `checks` reads.

The judge trusts nothing the kernel sends beyond its being numbers in this shape: a report that does not fit
is tampering (`malformed` says how it does not), and once it fits, anything the judge raises is the grader's
own error, reported to the instructor with its traceback, never to the student as tampering.
"""
from __future__ import annotations

import math
from typing import Callable

from backprop_ref.problem import PROBLEMS

NON_FINITE = {"nan", "inf", "-inf"}  # how array_report writes what JSON cannot hold


class Malformed(ValueError):
    pass


def _is(condition: bool, what: str) -> None:
    if not condition:
        raise Malformed(what)


def _number(value, where: str) -> None:
    _is(isinstance(value, (int, float)) and not isinstance(value, bool) or value in NON_FINITE, f"{where} is no number")


def _array(report, where: str) -> None:
    """probe.array_report: {"none"}, {"type", "repr"} or {"shape", "values"} with as many values as the shape holds."""
    _is(isinstance(report, dict), f"{where} is no report")
    if report.get("none") is True:
        return
    if "values" not in report:
        _is(isinstance(report.get("type"), str) and isinstance(report.get("repr"), str), f"{where} holds no values")
        return
    shape, values = report.get("shape"), report["values"]
    _is(isinstance(shape, list) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape),
        f"{where} has no shape")
    _is(isinstance(values, list) and len(values) == math.prod(shape), f"{where} holds other than its shape's values")
    for value in values:
        _number(value, f"a value of {where}")


def _cases(observation: dict, case) -> None:
    cases = observation.get("cases")
    _is(isinstance(cases, list), "it has no cases")
    for number, item in enumerate(cases):
        case(item, f"case {number + 1}")


def loss(observation: dict) -> None:
    def case(item, where):
        _is(isinstance(item, dict) and "gradient" in item, f"{where} is no case")
        _array(item.get("value"), f"{where}'s value")
        if item["gradient"] is not None:
            _array(item["gradient"], f"{where}'s gradient")
    _cases(observation, case)


def optimizer(observation: dict) -> None:
    _is(isinstance(observation.get("same_twice"), bool) and isinstance(observation.get("has_apply_gradients"), bool),
        "it does not say what the optimizer is")
    if "learning_rate" in observation:
        _number(observation["learning_rate"], "the learning rate")
    if observation["has_apply_gradients"] and not observation["same_twice"]:
        values = observation.get("values")
        _is(isinstance(values, list), "it holds no values")
        for value in values:
            _number(value, "a value")


def train_step(observation: dict) -> None:
    def case(item, where):
        _is(isinstance(item, dict), f"{where} is no case")
        _number(item.get("A"), f"{where}'s A")
        if "fresh_A" in item:
            _number(item["fresh_A"], f"{where}'s A on fresh ones")
        _array(item.get("returned"), f"{where}'s returned value")
        _array(item.get("returned_later"), f"{where}'s returned value, read again")
    _cases(observation, case)


def _run(observation: dict, key: str = "") -> None:
    _array(observation.get(f"{key}history"), f"the {key}history")
    _number(observation.get(f"{key}final_A"), f"the {key}final_A")


def predict(observation: dict) -> None:
    _cases(observation, _array)
    later, numpy = observation.get("later"), observation.get("numpy")
    _is(isinstance(later, list) and len(later) == len(observation["cases"]), "it does not read the classes again")
    for number, item in enumerate(later):
        _array(item, f"case {number + 1}, read again")
    _is(isinstance(numpy, list) and len(numpy) == len(later) and all(isinstance(n, bool) for n in numpy),
        "it does not say which classes are NumPy arrays")


def convergence(observation: dict) -> None:
    _run(observation, "far_")
    _run(observation)
    if observation.get("problem") == "classification":
        classes = observation.get("classes")
        _is(isinstance(classes, dict), "it holds no classes")
        for key in ("training", "fresh"):
            _array(classes.get(key), f"the {key} classes")


def train_loop(observation: dict) -> None:
    for key in ("", "again_", "long_"):
        _run(observation, key)
        _array(observation.get(f"{key}history_later"), f"the {key}history, read again")
    calls = observation.get("long_calls")
    _is(isinstance(calls, int) and not isinstance(calls, bool) and calls >= 0, "it does not say how often the step was called")


def malformed(observation, shapes: dict[str, Callable[[dict], None]]) -> str | None:
    """How a report is not one the probe writes, or None when it is; `shapes` holds each check's (the registry's)."""
    try:
        _is(isinstance(observation, dict) and observation.get("check") in shapes, "it is of no check the grader knows")
        _is(isinstance(observation.get("problem"), str) and isinstance(observation.get("seed"), int), "it names no problem or seed")
        _is(observation["problem"] in PROBLEMS, f"it is of a problem the grader does not know ({observation['problem']})")
        error = observation.get("error")
        if error is not None:
            _is(isinstance(error, dict) and (error.get("not_written") is True or isinstance(error.get("raised"), str)
                                             or isinstance(error.get("changed_input"), str)), "its error is no error")
            _is(observation["check"] != "optimizer" or observation.get("values") is None, "it holds values and an error")
            return None
        shapes[observation["check"]](observation)
    except Malformed as how:
        return str(how)
    return None
