"""The kernel side of the hidden checks: run the student's functions on the grader's inputs and report the
numbers. No verdict is computed here.

This module runs inside the student's kernel, where student code can change anything (NumPy, TensorFlow,
builtins, this module). So it only reports: each `observe_*` runs one function on inputs drawn from the
grading seed and publishes what came back (values, gradients, A's history) as one display output of type
`OBSERVATION_MIME`. The grader (`autograder.judge`, in nbgrader's own process) compares those numbers
with the reference on the same inputs, and re-runs the student's functions in a fresh kernel on inputs of
its own: a report that disagrees with the re-check is tampering.

It holds no answer of the exercises. Where a function is checked alone, what it calls is swapped for a
*probe* function that is deliberately not the exercise's (`backprop_ref.stand_ins.alone`, as in the visible
tests): a step calls `probe_loss`, a loop calls `probe_step`. The grader knows both, and so what a correct
step or loop does with them.
"""
from __future__ import annotations

import inspect
import os
from typing import Any, Callable

import numpy as np

from backprop_ref.problem import PROBLEMS, Problem
from backprop_ref.stand_ins import alone

from . import grading_inputs
from .grading_inputs import DEFAULT_SEED, SEED_VARIABLE

OBSERVATION_MIME = "application/vnd.backprop.observation+json"
OPTIMIZER_START = 1.0  # the fresh variable an optimizer is tried on
STAND_IN_SLOPE = 0.3  # the stand-in loss's exponent per unit of output (probe_loss)
STAND_IN_PULL = 15.0  # the stand-in step's gradient: this times A's distance from its sample's target
# The stand-in step's returned loss is scaled by 10 ** (DECADES * sin(WAVE * x)): by 1e-6 to 1e6, sample to sample.
STAND_IN_DECADES, STAND_IN_WAVE = 6.0, 97.0


def _tf():
    """TensorFlow, imported when first needed: the setup cell has already imported it quietly."""
    import tensorflow as tf
    return tf


def grading_seed() -> int:
    return int(os.environ.get(SEED_VARIABLE, DEFAULT_SEED))


def _seed(seed: int | None) -> int:
    return grading_seed() if seed is None else seed


def probe_loss(output, target, scale: float = 1.0):
    """Not the exercise's loss: a smooth function of the model's output whose gradient never vanishes;
    `scale` sets the size and sign of its gradient."""
    tf = _tf()
    output = tf.cast(output, tf.float32)
    return scale * tf.reduce_mean(tf.exp(STAND_IN_SLOPE * (output - tf.cast(target, tf.float32))) + output)


def scaled_probe_loss(scale: float, problem: Problem) -> Callable:
    """`probe_loss` at `scale`, called as the exercise's loss may be: by position or by its parameters' names."""
    output_name, target_name = problem.loss_parameters

    def stand_in(*args, **kwargs):
        named = {**dict(zip((output_name, target_name), args)), **kwargs}
        return probe_loss(named[output_name], named[target_name], scale)
    return stand_in


def handed_batch(x, y):
    """(x, y) as float32 tensors, when they are a batch as the notebook's loops hand a step one sample
    (`x_vals[i:i+1]`, `y_vals[i:i+1]`: 1-D, as long as each other); else ValueError, which the loop raises. A
    scalar sample (`x_vals[i]`) is no batch: a step written as the exercise asks may not take it (the
    cross-entropy needs labels shaped as the logits)."""
    tf = _tf()
    x, y = tf.cast(x, tf.float32), tf.cast(y, tf.float32)
    if x.shape.rank == 0 or y.shape.rank == 0 or not x.shape.is_compatible_with(y.shape):
        raise ValueError(f"the step was handed x of shape {x.shape} and y of shape {y.shape}: a loop hands the step "
                         "one sample as a batch, x_vals[i:i+1] and y_vals[i:i+1] (shape (1,)), not x_vals[i]")
    return x, y


def probe_step(A, x, y, optimizer):
    """Not the exercise's step: the optimizer it is handed pulls A towards a mix of its sample's x and y, so a
    loop's use of indices, targets and optimizer shows. Returns a number that is not A: the pull's loss, times
    a factor from 1e-6 to 1e6 that differs sample to sample, so a loop that acts on the loss's size (stops,
    skips or repeats a step past some value) shows. TensorFlow operations only, so a loop compiled with
    tf.function can call it too; float32 throughout, as `checks.stand_in_run` follows it."""
    tf = _tf()
    x, y = handed_batch(x, y)
    x_mean = tf.reduce_mean(x)
    target = (0.6 * x_mean) + (0.4 * tf.reduce_mean(y))
    before = tf.reshape(tf.cast(A, tf.float32), [-1])[0]
    optimizer.apply_gradients([(tf.reshape(STAND_IN_PULL * (before - target), [1]), A)])
    return tf.square(before - target) * tf.pow(10.0, STAND_IN_DECADES * tf.sin(STAND_IN_WAVE * x_mean))


def counting_step(A, x, y, optimizer, jump):
    """Not the exercise's step: adds (x + y) x LONG_RUN_SCALE to A, or `jump` where it is not 0 (this call's entry
    of LONG_RUN_JUMPS: +inf or -inf), leaves the optimizer alone and returns 1. For the loop's long run
    (grading_inputs.long_run), where what shows is which samples are stepped on, how many times, and that the loop
    goes on whatever A becomes. TensorFlow operations only, as `probe_step`."""
    tf = _tf()
    x, y = handed_batch(x, y)
    moved = (tf.reduce_mean(x) + tf.reduce_mean(y)) * grading_inputs.LONG_RUN_SCALE
    A.assign_add(tf.reshape(tf.where(jump == 0.0, moved, jump), tf.shape(A)))
    return tf.constant(1.0)  # finite, whatever A becomes: a loop may build its values from what the step returns


def gradient_descent(learning_rate: float):
    """The optimizer a step or loop is handed: plain gradient descent, at the course's rate or another."""
    return _tf().keras.optimizers.SGD(learning_rate=learning_rate)


def handed_optimizer(case: grading_inputs.StepCase, variable=None):
    """The optimizer a step case hands the step: Keras's SGD, or the tutorial's GradientDescentOptimizer. For
    the calls in a row, an SGD whose rate follows case.schedule as it counts its updates; handed with `variable`,
    one that has already made the case's in_a_row updates (of 0, to `variable`), so its rate is this call's."""
    tf = _tf()
    if case.tutorial_optimizer:
        return tf.compat.v1.train.GradientDescentOptimizer(case.learning_rate)
    if not case.schedule:
        return gradient_descent(case.learning_rate)
    rates = tf.constant(case.schedule, tf.float32)

    class CallRates(tf.keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return tf.gather(rates, tf.minimum(tf.cast(step, tf.int32), len(case.schedule) - 1))

        def get_config(self):
            return {}

    optimizer = tf.keras.optimizers.SGD(learning_rate=CallRates())
    for _ in range(case.in_a_row if variable is not None else 0):
        optimizer.apply_gradients([(tf.zeros_like(variable), variable)])
    return optimizer


# --- reporting -------------------------------------------------------------------------------------------

def _plain(value) -> Any:
    return value.numpy() if hasattr(value, "numpy") else value


def json_number(value: float) -> float | str:
    """A number as JSON can hold it: a non-finite one as its string ("nan", "inf", "-inf")."""
    return value if np.isfinite(value) else str(value)


def array_report(value) -> dict:
    """A returned value as numbers (non-finite ones as strings, which JSON cannot hold otherwise)."""
    if value is None:
        return {"none": True}
    try:
        plain = [_plain(v) for v in value] if isinstance(value, (list, tuple)) else _plain(value)
        array = np.asarray(plain, dtype=np.float64)
    except Exception:
        return {"type": type(value).__name__, "repr": repr(value)[:200]}
    values = [json_number(v) for v in array.reshape(-1).tolist()]
    return {"shape": list(array.shape), "values": values}


def _call(function: Callable, *args) -> tuple[Any, dict | None]:
    """The student's function's result, or what went wrong in it: it raised, or it changed an array it was
    handed (in place: the notebook's later cells would see other data)."""
    given = [(k, arg.copy()) for k, arg in enumerate(args) if isinstance(arg, np.ndarray)]
    try:
        result = function(*args)
    except NotImplementedError as error:
        if not error.args:  # the template's bare `raise NotImplementedError()`; TensorFlow's own say why
            return None, {"not_written": True}
        return None, {"raised": f"NotImplementedError: {error}"[:1000]}
    except Exception as error:  # the student's code may raise anything
        return None, {"raised": f"{type(error).__name__}: {error}"[:1000]}
    changed = [k for k, before in given if not np.array_equal(args[k], before, equal_nan=before.dtype.kind == "f")]
    if changed:
        return None, {"changed_input": _parameter(function, changed[0])}
    return result, None


def _parameter(function: Callable, position: int) -> str:
    try:
        return list(inspect.signature(function).parameters)[position]
    except (TypeError, ValueError, IndexError):
        return f"argument {position + 1}"


def _publish(check: str, problem: str, seed: int, **numbers) -> dict:
    """One observation, shown to nbgrader as a display output of the test cell."""
    observation = {"check": check, "problem": problem, "seed": seed, **numbers}
    publish(observation)
    return observation


def show(observation: dict) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import publish_display_data
    except ImportError:
        return
    if get_ipython() is not None:
        publish_display_data({OBSERVATION_MIME: observation, "text/plain": f"observed: {observation['check']}"})


publish: Callable[[dict], None] = show  # the in-process runner collects observations instead


# --- the observations ------------------------------------------------------------------------------------

def observe_loss(problem_name: str, loss, seed: int | None = None) -> dict:
    """The loss's value and its gradient with respect to A (of the batch's upstream x the loss) on the grader's
    batches (grading_inputs.loss_batches)."""
    tf, problem, seed = _tf(), PROBLEMS[problem_name], _seed(seed)
    cases = []
    for batch in grading_inputs.loss_batches(problem, seed):
        A = tf.Variable([batch.A], dtype=tf.float32)
        with tf.GradientTape() as tape:
            got, error = _call(loss, problem.model(tf.constant(batch.x), A), batch.y)
            try:  # what flows back into the loss: the gradient of upstream x the loss
                weighted = got * tf.cast(batch.upstream, got.dtype) if tf.is_tensor(got) else None
            except Exception:
                weighted = None
        if error:
            return _publish("loss", problem.name, seed, error=error)
        try:
            gradient = tape.gradient(weighted, A) if weighted is not None else None
        except Exception:
            gradient = None
        cases.append({"value": array_report(got), "gradient": None if gradient is None else array_report(gradient)})
    return _publish("loss", problem.name, seed, cases=cases)


def observe_optimizer(problem_name: str, make_optimizer, seed: int | None = None) -> dict:
    """Two new optimizers, and what the first does to a fresh variable under the grader's gradients, one
    update per step of the example's full run, then one with an infinite gradient (a diverging run's)."""
    tf, problem, seed = _tf(), PROBLEMS[problem_name], _seed(seed)
    first, error = _call(make_optimizer)
    second, error_again = _call(make_optimizer)
    if error or error_again:
        return _publish("optimizer", problem.name, seed, error=error or error_again)
    numbers = {"type": type(first).__name__, "same_twice": first is second,
               "has_apply_gradients": hasattr(first, "apply_gradients")}
    stated, error = _call(lambda: float(first.learning_rate))  # what it says its rate is, before any update
    if not error and np.isfinite(stated):
        numbers["learning_rate"] = stated
    if numbers["has_apply_gradients"]:
        variable, values = tf.Variable([OPTIMIZER_START], dtype=tf.float32), [OPTIMIZER_START]
        for gradient in (*grading_inputs.optimizer_gradients(problem, seed), grading_inputs.OVERFLOW_GRADIENT):
            _, error = _call(first.apply_gradients, [(tf.constant([gradient], tf.float32), variable)])
            if error:
                return _publish("optimizer", problem.name, seed, error=error, **numbers)
            values.append(json_number(float(variable.numpy()[0])))  # -inf after the last
        numbers["values"] = values
    return _publish("optimizer", problem.name, seed, **numbers)


def observe_train_step(problem_name: str, train_step, seed: int | None = None) -> dict:
    """Where one step leaves A, and what it returns, with the loss it calls swapped for a scaled `probe_loss`
    and the optimizer it is handed at the case's learning rate. A step in a row on one variable and optimizer
    is also taken from the same A on fresh ones ("fresh_A"): what the step carries between calls shows. What
    every call returned is read again after the last ("returned_later"): a step that returns one buffer and
    overwrites it at the next call shows."""
    tf, problem, seed = _tf(), PROBLEMS[problem_name], _seed(seed)
    cases, returns, A = [], [], None
    for number, case in enumerate(grading_inputs.step_cases(problem, seed)):
        swapped = {f"{problem.name}_loss": scaled_probe_loss(case.loss_scale, problem), f"{problem.name}_model": problem.model}
        step = alone(train_step, **swapped)
        report = {}
        if case.in_a_row:
            fresh = tf.Variable(A.numpy(), dtype=tf.float32)
            _, error = _call(step, fresh, case.batch.x, case.batch.y, handed_optimizer(case, fresh))
            if error:
                return _publish("train_step", problem.name, seed, error=error, case=number)
            report["fresh_A"] = float(fresh.numpy().reshape(-1)[0])
        else:
            A, optimizer = tf.Variable([case.batch.A], dtype=tf.float32), handed_optimizer(case)
        returned, error = _call(step, A, case.batch.x, case.batch.y, optimizer)
        if error:
            return _publish("train_step", problem.name, seed, error=error, case=number)
        cases.append({"A": float(A.numpy().reshape(-1)[0]), "returned": array_report(returned), **report})
        returns.append(returned)
    for report, returned in zip(cases, returns):
        report["returned_later"] = array_report(returned)
    return _publish("train_step", problem.name, seed, cases=cases)


def observe_train_loop(problem_name: str, train, seed: int | None = None) -> dict:
    """The history a loop returns and where it leaves A, with the step it calls swapped for `probe_step`
    and an optimizer at a rate that is not the course's; then on the first SECOND_CALL_STEPS indices again,
    from the same start, on the same variable set back and the same optimizer, with the samples in reverse order
    (grading_inputs.second_call_run: a loop that keeps state or data between calls, or per variable, shows); then
    the long
    run (grading_inputs.long_run) with `counting_step`, handed an optimizer that has already taken steps (a
    loop that skips as many indices shows), counting the step's calls (a loop may step by itself). Each history
    is read again once every call has run."""
    tf, problem, seed = _tf(), PROBLEMS[problem_name], _seed(seed)
    run, long = grading_inputs.trajectory_run(problem, seed), grading_inputs.long_run(problem, seed)
    second = grading_inputs.second_call_run(run)
    calls, jumps = tf.Variable(0), tf.constant(grading_inputs.LONG_RUN_JUMPS)

    def counting(A, x, y, optimizer):
        jump = tf.gather(jumps, tf.minimum(calls.read_value(), len(grading_inputs.LONG_RUN_JUMPS) - 1))
        calls.assign_add(1)
        return counting_step(A, x, y, optimizer, jump)

    step_name, numbers, returns = f"{problem.name}_train_step", {}, {}
    stepping = alone(train, **{step_name: probe_step})
    for key, data in (("", run), ("again_", second), ("long_", long)):
        if key == "again_":  # the same variable, set back, and the same optimizer, as the explorer hands one to its
            A.assign([data.initial_A])  # short runs: a loop that keeps anything per variable, or trains a copy, shows
        else:
            A, optimizer = tf.Variable([data.initial_A], dtype=tf.float32), gradient_descent(grading_inputs.OTHER_LEARNING_RATE)
        loop = stepping
        if key == "long_":
            for _ in range(grading_inputs.HANDED_STEPS):
                optimizer.apply_gradients([(tf.zeros_like(A), A)])
            loop = alone(stepping, **{step_name: counting})  # its namespace as the calls before left it: kept data shows
        returned, error = _call(loop, data.x, data.y, A, optimizer, data.indices)
        if error:
            return _publish("train_loop", problem.name, seed, error=error, run=key)
        numbers.update({f"{key}history": array_report(returned),
                        f"{key}final_A": json_number(float(A.numpy().reshape(-1)[0]))})  # inf or NaN on the long run
        returns[key] = returned
    numbers["long_calls"] = int(calls.numpy())
    for key, returned in returns.items():  # read again once every call has run: a history the next call overwrites shows
        numbers[f"{key}history_later"] = array_report(returned)
    return _publish("train_loop", problem.name, seed, **numbers)


def observe_predict(predict, seed: int | None = None) -> dict:
    """The classes predict returns for the grader's (A, x) cases, whether each is a NumPy array, and each read
    again once every case has run (an array that the next call overwrites shows)."""
    tf, seed = _tf(), _seed(seed)
    cases, returns = [], []
    for A_value, x in grading_inputs.predict_cases(seed):
        classes, error = _call(predict, x, tf.Variable([A_value], dtype=tf.float32))
        if error:
            return _publish("predict", "classification", seed, error=error)
        cases.append(array_report(classes))
        returns.append(classes)
    return _publish("predict", "classification", seed, cases=cases, later=[array_report(c) for c in returns],
                    numpy=[isinstance(c, np.ndarray) for c in returns])


def _train_with_everything(problem: Problem, make_optimizer, train, run) -> tuple[Any, Any, dict | None]:
    """(A, what train returned, None), or (None, None, the error and the function that raised) for one run."""
    tf = _tf()
    optimizer, error = _call(make_optimizer)
    if error:
        return None, None, {"error": error, "function": f"make_{problem.name}_optimizer"}
    A = tf.Variable([run.initial_A], dtype=tf.float32)
    returned, error = _call(train, run.x, run.y, A, optimizer, run.indices)
    if error:
        return None, None, {"error": error, "function": f"train_{problem.name}"}
    return A, returned, None


def observe_convergence(problem_name: str, make_optimizer, train, predict=None, seed: int | None = None) -> dict:
    """A short run from far on the other side of the optimum, then the full run, with everything the student
    wrote; for classification, the trained model's classes."""
    problem, seed = PROBLEMS[problem_name], _seed(seed)
    run = grading_inputs.convergence_run(problem, seed)
    numbers = {}
    for key, this_run in (("far_", grading_inputs.far_start_run(problem, seed)), ("", run)):
        A, returned, failure = _train_with_everything(problem, make_optimizer, train, this_run)
        if failure:
            return _publish("convergence", problem.name, seed, **failure, **numbers)
        numbers.update({f"{key}history": array_report(returned),
                        f"{key}final_A": json_number(float(A.numpy().reshape(-1)[0]))})  # inf or NaN if it diverged
    if predict is not None:
        fresh_x, _ = grading_inputs.fresh_points(seed)
        numbers["classes"] = {}
        for label, x in (("training", run.x), ("fresh", fresh_x)):
            classes, error = _call(predict, x, A)
            if error:
                return _publish("convergence", problem.name, seed, error=error, function="predict", **numbers)
            numbers["classes"][label] = array_report(classes)
    return _publish("convergence", problem.name, seed, **numbers)
