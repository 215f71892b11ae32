"""The hidden checks: each runs a student's function on inputs the grader chooses and compares with the
reference run on the same inputs (PrairieLearn's idea), then says what is wrong in the student's terms.

The hidden test cells call one check each, for example `check_loss("regression", regression_loss)`. A
check raises `GradingFailure` (an AssertionError, so nbgrader scores the cell 0) or returns None.

Each item is graded alone: while a function is checked, the functions it calls (the loss inside a train
step, the step inside a loop) are the reference's, so one mistake costs its own item, plus the end-to-end
convergence item that runs everything the student wrote.

Tolerances: the student's float32 arithmetic may differ from the reference's in the last bits (another
formula, eager or tf.function, another optimizer class), and both maps are contractions, so trajectories
stay within ~1e-6 of each other. The mistakes named in `diagnosis` differ by factors, not by 1e-3.
`bench/seed_sweep.py` measures the margins over 1,000 grading seeds.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from typing import Callable

import numpy as np

from backprop_ref import tf2
from backprop_ref.problem import CLASSIFICATION, PROBLEMS, Problem
from backprop_ref.quiet_tf import tf

from . import diagnosis, grading_inputs
from .grading_inputs import DEFAULT_SEED

VALUE_RTOL, VALUE_ATOL = 1e-3, 1e-6  # loss values and gradients of one batch
UPDATE_RTOL, UPDATE_ATOL = 1e-4, 1e-6  # A after one update
TRAJECTORY_RTOL, TRAJECTORY_ATOL = 1e-4, 1e-4  # A along a run, compared step by step
FINAL_ATOL = 1e-3  # the end of a full run, student vs reference on the same inputs
# |A - ideal| after a full run. Over 1,000 grading seeds the reference ends at most 0.80 from 10 and 0.47
# from -1 (bench/seed_sweep.py): its start, the sample's own optimum and the last steps' noise all vary.
# The bounds leave 25-60% headroom; the tight test is FINAL_ATOL against the reference on the same run.
NEAR_IDEAL = {"regression": 1.0, "classification": 0.75}
MIN_ACCURACY = grading_inputs.MIN_TRAIN_ACCURACY


class GradingFailure(AssertionError):
    """A check's verdict against the student's code; its message is written for the student."""


def _fail(function: str, what: str, mistake: str | None = None) -> GradingFailure:
    message = f"{function}: {what}"
    if mistake:
        message += f"\nLikely mistake: {mistake}."
    return GradingFailure(message)


def _call(function: Callable, name: str, *args):
    """Call the student's function; an exception in it becomes a failure that says where it came from."""
    try:
        return function(*args)
    except NotImplementedError:
        raise _fail(name, "not written yet (it still raises NotImplementedError).") from None
    except GradingFailure:
        raise
    except Exception as error:  # the student's code may raise anything
        raise _fail(name, f"raised {type(error).__name__}: {error}") from error


def _namespace(function: Callable) -> dict | None:
    """The globals a function looks its helpers up in (through a tf.function's wrapper too)."""
    function = getattr(function, "python_function", function)
    return getattr(function, "__globals__", None)


@contextmanager
def _graded_alone(function: Callable, replacements: dict[str, Callable]):
    """While checking `function`, let the names it calls resolve to the reference's functions."""
    namespace = _namespace(function) or {}
    originals = {name: namespace[name] for name in replacements if name in namespace}
    namespace.update({name: replacements[name] for name in originals})
    try:
        yield
    finally:
        namespace.update(originals)


def _as_array(value, name: str, what: str) -> np.ndarray:
    try:
        return np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=np.float64)
    except Exception:
        raise _fail(name, f"returned {type(value).__name__} ({value!r:.80}), expected {what}.") from None


def _fmt(values) -> str:
    return np.array2string(np.asarray(values, np.float64), precision=5, separator=", ", threshold=8)


def _loss_fn_name(problem: Problem) -> str:
    return f"{problem.name}_loss"


def check_loss(problem_name: str, loss, seed: int = DEFAULT_SEED) -> None:
    """The loss's value, shape and gradient with respect to A, on batches of 1, 3 and 10 samples.

    The student's loss is evaluated on every batch before any verdict, so a wrong value is diagnosed from
    all of them (on one sample, for instance, a sum and a mean agree).
    """
    problem = PROBLEMS[problem_name]
    name = _loss_fn_name(problem)
    reference = tf2.LOSSES[problem.name]
    cases = []
    for batch in grading_inputs.loss_batches(problem, seed):
        A = tf.Variable([batch.A], dtype=tf.float32)
        with tf.GradientTape(persistent=True) as tape:
            output = problem.model(tf.constant(batch.x), A)
            got = _call(loss, name, output, batch.y)
            expected = reference(output, batch.y)
        got_gradient = tape.gradient(got, A) if tf.is_tensor(got) else None
        where = f"for {len(batch.x)} sample(s) at A = {batch.A:g}"
        cases.append((where, batch, output.numpy(), _as_array(got, name, "a scalar tensor"), float(expected),
                      got_gradient, tape.gradient(expected, A)))
    for where, batch, _, got, expected, _, _ in cases:
        if got.shape != ():
            if got.size == len(batch.x) and np.isclose(got.mean(), expected, rtol=VALUE_RTOL):
                raise _fail(name, f"{where} returned shape {got.shape}, one loss per sample; the loss must be "
                            "a scalar.", "the loss is not reduced: take the mean over the batch (tf.reduce_mean)")
            raise _fail(name, f"{where} returned shape {got.shape}, expected a scalar.")
    for where, batch, output, got, expected, _, _ in cases:
        if not np.isclose(float(got), expected, rtol=VALUE_RTOL, atol=VALUE_ATOL):
            mistake = diagnosis.loss_mistake(problem.name, [c[2] for c in cases], [c[1].y for c in cases],
                                             [float(c[3]) for c in cases])
            raise _fail(name, f"{where} expected {expected:.6g}, got {float(got):.6g}.", mistake)
    for where, _, _, _, _, got_gradient, expected_gradient in cases:
        if got_gradient is None:
            raise _fail(name, f"{where} the value is right, but no gradient reaches A.",
                        "the loss is computed outside TensorFlow (NumPy, or .numpy()), so backpropagation "
                        "cannot see it; use tf operations on the tensors")
        if not np.allclose(got_gradient.numpy(), expected_gradient.numpy(), rtol=VALUE_RTOL, atol=VALUE_ATOL):
            raise _fail(name, f"{where} the value is right, but its gradient with respect to A is "
                        f"{_fmt(got_gradient.numpy())}, expected {_fmt(expected_gradient.numpy())}.",
                        "part of the computation is hidden from the tape (tf.stop_gradient or a constant)")


def check_optimizer(problem_name: str, make_optimizer, seed: int = DEFAULT_SEED) -> None:
    """A new plain gradient-descent optimizer at the right rate, seen over two updates of a fresh variable."""
    problem = PROBLEMS[problem_name]
    name = f"make_{problem.name}_optimizer"
    first_optimizer = _call(make_optimizer, name)
    if _call(make_optimizer, name) is first_optimizer:
        raise _fail(name, "returned the same optimizer twice; it must make a new one on every call (an "
                    "optimizer keeps state for the variables it has updated).")
    if not hasattr(first_optimizer, "apply_gradients"):
        raise _fail(name, f"returned {type(first_optimizer).__name__}, which is not a TensorFlow optimizer "
                    "(it has no apply_gradients).")
    variable = tf.Variable([1.0], dtype=tf.float32)
    values = [1.0]
    for gradient in (0.5, -0.25):
        _call(first_optimizer.apply_gradients, f"{name}().apply_gradients",
              [(tf.constant([gradient], tf.float32), variable)])
        values.append(float(variable.numpy()[0]))
    rates = [(values[0] - values[1]) / 0.5, (values[1] - values[2]) / -0.25]
    if not np.allclose(rates, problem.learning_rate, rtol=1e-4, atol=1e-7):
        others = {p.name: p.learning_rate for p in PROBLEMS.values() if p is not problem}
        raise _fail(name, f"from 1.0, gradients 0.5 then -0.25 should move a variable to {_fmt([1 - 0.5 * problem.learning_rate, 1 - 0.25 * problem.learning_rate])}; "
                    f"it moved to {_fmt(values[1:])} (plain gradient descent at {problem.learning_rate:g} expected).",
                    diagnosis.optimizer_mistake(problem.learning_rate, *rates, others))


def check_train_step(problem_name: str, train_step, seed: int = DEFAULT_SEED) -> None:
    """One step updates A by exactly -learning_rate * dL/dA and returns the loss from before the update."""
    problem = PROBLEMS[problem_name]
    name = f"{problem.name}_train_step"
    reference_loss = tf2.LOSSES[problem.name]
    alone = {_loss_fn_name(problem): reference_loss, f"{problem.name}_model": problem.model}
    for batch in grading_inputs.step_batches(problem, seed):
        x = tf.constant(batch.x)
        start = tf.Variable([batch.A], dtype=tf.float32)
        with tf.GradientTape() as tape:
            loss_before = reference_loss(problem.model(x, start), batch.y)
        gradient = float(tape.gradient(loss_before, start).numpy()[0])
        expected_A = float(np.float32(batch.A) - np.float32(problem.learning_rate) * np.float32(gradient))
        A = tf.Variable([batch.A], dtype=tf.float32)
        with _graded_alone(train_step, alone):
            returned = _call(train_step, name, A, batch.x, batch.y, tf2.make_optimizer(problem))
        got_A = float(A.numpy()[0])
        where = f"on {len(batch.x)} sample(s) from A = {batch.A:g} (learning rate {problem.learning_rate:g})"
        if not np.isclose(got_A, expected_A, rtol=UPDATE_RTOL, atol=UPDATE_ATOL):
            raise _fail(name, f"{where} A should become {expected_A:.6g}; it became {got_A:.6g}.",
                        diagnosis.step_mistake(batch.A, got_A, expected_A, problem.learning_rate, gradient))
        if returned is None:
            raise _fail(name, f"{where} returned None; it must return the loss computed before the update.")
        got_loss = _as_array(returned, name, "the loss, a scalar tensor")
        if got_loss.size != 1 or not np.isclose(got_loss.item(), float(loss_before), rtol=VALUE_RTOL, atol=VALUE_ATOL):
            loss_after = float(reference_loss(problem.model(x, A), batch.y))
            mistake = ("the loss after the update was returned; return the one computed under the tape"
                       if got_loss.size == 1 and np.isclose(got_loss.item(), loss_after, rtol=VALUE_RTOL) else None)
            raise _fail(name, f"{where} should return the loss before the update, {float(loss_before):.6g}; "
                        f"it returned {_fmt(got_loss)}.", mistake)


def _history(returned, name: str) -> np.ndarray:
    if returned is None:
        raise _fail(name, "returned None; it must return the list of A's values after every step.")
    values = [v.numpy() if hasattr(v, "numpy") else v for v in returned] if hasattr(returned, "__iter__") else returned
    history = _as_array(values, name, "a list of floats")
    return history.reshape(len(history), -1)[:, 0] if history.ndim > 1 else history


def check_train_loop(problem_name: str, train, seed: int = DEFAULT_SEED) -> None:
    """One step per index, on sample indices[t]; returns A's value after every step."""
    problem = PROBLEMS[problem_name]
    name = f"train_{problem.name}"
    run = grading_inputs.trajectory_run(problem, seed)
    expected = tf2.run(problem, run.x, run.y, run.initial_A, run.indices)
    A = tf.Variable([run.initial_A], dtype=tf.float32)
    alone = {f"{problem.name}_train_step": partial(tf2.train_step, problem)}
    with _graded_alone(train, alone):
        returned = _call(train, name, run.x, run.y, A, tf2.make_optimizer(problem), run.indices)
    got = _history(returned, name)
    final_A = float(A.numpy()[0])
    where = f"with {len(run.indices)} indices from A = {run.initial_A:.5g}"
    if len(got) != len(run.indices):
        mistake = {len(run.x): "one step per sample of x_vals instead of one per index",
                   problem.steps: f"a fixed number of steps ({problem.steps}) instead of one per index"}.get(len(got))
        raise _fail(name, f"{where} returned {len(got)} values, expected {len(run.indices)} (one per step).", mistake)
    if not np.allclose(got, expected, rtol=TRAJECTORY_RTOL, atol=TRAJECTORY_ATOL) or not np.isclose(
            final_A, expected[-1], rtol=TRAJECTORY_RTOL, atol=TRAJECTORY_ATOL):
        alternatives = {
            "the indices are ignored: step t used sample t instead of sample indices[t]":
                tf2.run(problem, run.x, run.y, run.initial_A, np.arange(len(run.indices)) % len(run.x)),
            "the loss was recorded instead of A": _loss_history(problem, run, expected),
        }
        t = int(np.argmax(~np.isclose(got, expected, rtol=TRAJECTORY_RTOL, atol=TRAJECTORY_ATOL))) if len(got) else 0
        start = run.initial_A if t == 0 else float(got[t - 1])
        one_step = [tf2.run(problem, run.x, run.y, start, [i])[0] for i in range(len(run.x))]
        raise _fail(name, f"{where} A after step {t + 1} should be {expected[t]:.6g}, got {got[t]:.6g} "
                    f"(expected {_fmt(expected)}, got {_fmt(got)}; A ended at {final_A:.6g}).",
                    diagnosis.trajectory_mistake(got, expected, alternatives, run.initial_A, final_A)
                    or diagnosis.wrong_sample(t, got[t], one_step, int(run.indices[t])))


def _loss_history(problem: Problem, run, history: np.ndarray) -> np.ndarray:
    """The loss on each step's sample, before its update: what a loop that records the loss returns."""
    before = np.concatenate([[run.initial_A], history[:-1]]).astype(np.float32)
    return np.array([float(tf2.LOSSES[problem.name](problem.model(run.x[i : i + 1], a), run.y[i : i + 1]))
                     for a, i in zip(before, run.indices)])


def check_predict(predict, seed: int = DEFAULT_SEED) -> None:
    """Classes 0/1 from sigmoid(x + A) >= 0.5, for several A, as a 1-D array."""
    for A_value, x in grading_inputs.predict_cases(seed):
        expected = (x + np.float32(A_value) >= 0).astype(np.int64)
        got = _as_array(_call(predict, "predict", x, tf.Variable([A_value], dtype=tf.float32)), "predict",
                        "an array of classes 0/1")
        where = f"for {len(x)} points at A = {A_value:g}"
        if got.shape != expected.shape:
            raise _fail("predict", f"{where} returned shape {got.shape}, expected {expected.shape}.")
        if not np.array_equal(got, expected):
            wrong = int(np.sum(got != expected))
            raise _fail("predict", f"{where} {wrong} of {len(x)} classes are wrong (e.g. x = {x[got != expected][0]:.4g}: "
                        f"expected {expected[got != expected][0]}, got {got[got != expected][0]:.4g}).",
                        diagnosis.predict_mistake(x, A_value, got))


def check_convergence(problem_name: str, make_optimizer, train, predict=None, seed: int = DEFAULT_SEED) -> None:
    """End to end, with everything the student wrote: the seed's full run lands where the reference's does,
    near the ideal A; for classification the trained model also classifies >= 95% of the training data and
    of 10,000 fresh points correctly."""
    problem = PROBLEMS[problem_name]
    name = f"train_{problem.name}"
    run = grading_inputs.convergence_run(problem, seed)
    expected = tf2.run(problem, run.x, run.y, run.initial_A, run.indices)
    A = tf.Variable([run.initial_A], dtype=tf.float32)
    history = _history(_call(train, name, run.x, run.y, A, _call(make_optimizer, f"make_{problem.name}_optimizer"),
                             run.indices), name)
    final_A = float(A.numpy()[0])
    optimum = problem.optimum(run.x, run.y)
    where = (f"{problem.steps} steps from A = {run.initial_A:.4g} on the grader's data: the reference ends at "
             f"A = {expected[-1]:.4f} (exact optimum {optimum:.4f}, ideal {problem.ideal:g})")
    if len(history) != len(run.indices) or not np.isclose(history[-1], final_A, atol=1e-6):
        raise _fail(name, f"{where}; the returned history ({len(history)} values, last "
                    f"{history[-1] if len(history) else None}) does not end at A's value {final_A:.4f}.")
    if abs(final_A - expected[-1]) > FINAL_ATOL or abs(final_A - problem.ideal) > NEAR_IDEAL[problem.name]:
        raise _fail(name, f"{where}; yours ends at A = {final_A:.4f}.",
                    "see the first failing item above (loss, optimizer, step or loop); this item passes when they do")
    if problem is CLASSIFICATION:
        fresh_x, fresh_y = grading_inputs.fresh_points(seed)
        for label, x, y in (("the training data", run.x, run.y), ("10,000 fresh points", fresh_x, fresh_y)):
            classes = _as_array(_call(predict, "predict", x, A), "predict", "an array of classes 0/1")
            accuracy = float(np.mean(classes.reshape(-1) == y)) if classes.size == len(y) else 0.0
            if accuracy < MIN_ACCURACY:
                raise _fail("predict", f"after training (A = {final_A:.4f}) the accuracy on {label} is "
                            f"{accuracy:.3f}, at least {MIN_ACCURACY} expected.")
