"""The hidden checks' verdicts: the student's numbers against the reference's on the same inputs
(PrairieLearn's idea), with the mistake named in the student's terms.

Grading is split in two. `probe` runs in the student's kernel and only reports what the student's
functions returned on the grader's inputs (an *observation*). `judge` runs where student code cannot
reach, in nbgrader's process (`autograder.verdicts`): it draws the same inputs from the grading seed,
runs the reference on them, and compares. Nothing the kernel reports is trusted beyond being numbers: the
inputs are the grader's own, and a malformed or mislabelled report is tampering. `check_*` do both in one
process, for the in-process runner and the benchmarks.

Each item is graded alone: a step is observed with the grader's stand-in loss in place of the student's
(`probe.probe_loss`), a loop with a stand-in step (`probe.probe_step`), so one mistake costs its own item,
plus the end-to-end convergence item that runs everything the student wrote. A step or loop that does not
call the function it should (its own loss inline, say) is judged against the exercise's reference instead.

Tolerances: the student's float32 arithmetic may differ from the reference's in the last bits (another
formula, eager or tf.function, another optimizer class), and both maps are contractions, so trajectories
stay within ~1e-6 of each other. The mistakes named in `diagnosis` differ by factors, not by 1e-3.
`bench/seed_sweep.py` measures the margins over 1,000 grading seeds.
"""
from __future__ import annotations

import numpy as np

from backprop_ref import tf2
from backprop_ref.problem import CLASSIFICATION, PROBLEMS, Problem
from backprop_ref.quiet_tf import tf

from . import diagnosis, grading_inputs, probe
from .grading_inputs import DEFAULT_SEED

VALUE_RTOL, VALUE_ATOL = 1e-3, 1e-6  # loss values and gradients of one batch
UPDATE_RTOL, UPDATE_ATOL = 1e-4, 1e-6  # A after one update
TRAJECTORY_RTOL, TRAJECTORY_ATOL = 1e-4, 1e-4  # A along a run, compared step by step
FINAL_ATOL = 1e-3  # the end of a full run, student vs reference on the same inputs
# |A - ideal| after a full run. Over 1,000 grading seeds the reference ends at most 0.80 from 10 and 0.47
# from -1 (bench/seed_sweep.py): its start, the sample's own optimum and the last steps' noise all vary.
# The bounds leave 25-60% headroom; the tight test is FINAL_ATOL against the reference on the same run.
NEAR_IDEAL = {"regression": 1.0, "classification": 0.75}
MIN_ACCURACY = 0.95  # of the trained classifier, on its training data and on fresh points


class GradingFailure(AssertionError):
    """A check's verdict against the student's code; its message is written for the student."""


class Tampering(GradingFailure):
    """The kernel's report cannot be an honest observation: missing, malformed, or on other inputs."""


def _fail(function: str, what: str, mistake: str | None = None) -> GradingFailure:
    message = f"{function}: {what}"
    if mistake:
        message += f"\nLikely mistake: {mistake}."
    return GradingFailure(message)


def _reported_error(observation: dict, name: str) -> None:
    """The student's function raised while observed: that is the verdict."""
    error = observation.get("error")
    if error is None:
        return
    if error.get("not_written"):
        raise _fail(name, "not written yet (it still raises NotImplementedError).")
    raise _fail(name, f"raised {error['raised']}")


def _array(report: dict, name: str, what: str) -> np.ndarray:
    """A returned value from its report; a value that was no array of numbers is the verdict."""
    if report.get("none"):
        raise _fail(name, f"returned None, expected {what}.")
    if "values" not in report:
        raise _fail(name, f"returned {report['type']} ({report['repr']:.80}), expected {what}.")
    return np.asarray(report["values"], dtype=np.float64).reshape(report["shape"])


def reported_history(report: dict, name: str) -> np.ndarray:
    if report.get("none"):
        raise _fail(name, "returned None; it must return the list of A's values after every step.")
    history = _array(report, name, "a list of floats")
    return history.reshape(len(history), -1)[:, 0] if history.ndim > 1 else history.reshape(-1)


def _fmt(values) -> str:
    return np.array2string(np.asarray(values, np.float64), precision=5, separator=", ", threshold=8)


def _same_length(observed: list, expected: list) -> list:
    if not isinstance(observed, list) or len(observed) != len(expected):
        raise Tampering(f"the report holds {len(observed) if isinstance(observed, list) else 'no'} cases, "
                        f"the grader chose {len(expected)}")
    return observed


def judge_loss(problem: Problem, observation: dict, seed: int) -> None:
    """The loss's value, shape and gradient with respect to A, on batches of 1, 3 and 10 samples.

    Every batch is looked at before any verdict, so a wrong value is diagnosed from all of them (on one
    sample, for instance, a sum and a mean agree).
    """
    name = f"{problem.name}_loss"
    _reported_error(observation, name)
    batches = grading_inputs.loss_batches(problem, seed)
    cases = []
    for batch, case in zip(batches, _same_length(observation["cases"], batches)):
        A = tf.Variable([batch.A], dtype=tf.float32)
        with tf.GradientTape() as tape:
            output = problem.model(tf.constant(batch.x), A)
            expected = tf2.LOSSES[problem.name](output, batch.y)
        where = f"for {len(batch.x)} sample(s) at A = {batch.A:g}"
        cases.append((where, batch, output.numpy(), _array(case["value"], name, "a scalar tensor"), float(expected),
                      case["gradient"], tape.gradient(expected, A).numpy()))
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
        got_gradient = _array(got_gradient, name, "a gradient")
        if got_gradient.shape != expected_gradient.shape or not np.allclose(
                got_gradient, expected_gradient, rtol=VALUE_RTOL, atol=VALUE_ATOL):
            raise _fail(name, f"{where} the value is right, but its gradient with respect to A is "
                        f"{_fmt(got_gradient)}, expected {_fmt(expected_gradient)}.",
                        "part of the computation is hidden from the tape (tf.stop_gradient or a constant)")


def judge_optimizer(problem: Problem, observation: dict, seed: int) -> None:
    """A new plain gradient-descent optimizer at the right rate, seen over two updates of a fresh variable."""
    name = f"make_{problem.name}_optimizer"
    if observation.get("same_twice"):
        raise _fail(name, "returned the same optimizer twice; it must make a new one on every call (an "
                    "optimizer keeps state for the variables it has updated).")
    if observation.get("has_apply_gradients") is False:
        raise _fail(name, f"returned {observation['type']}, which is not a TensorFlow optimizer "
                    "(it has no apply_gradients).")
    _reported_error(observation, f"{name}() or its apply_gradients")
    values = [float(v) for v in observation["values"]]
    first, second = probe.OPTIMIZER_GRADIENTS
    rates = [(values[0] - values[1]) / first, (values[1] - values[2]) / second]
    lr = problem.learning_rate
    if not np.allclose(rates, lr, rtol=1e-4, atol=1e-7):
        others = {p.name: p.learning_rate for p in PROBLEMS.values() if p is not problem}
        raise _fail(name, f"from 1.0, gradients {first} then {second} should move a variable to "
                    f"{_fmt([1 - first * lr, 1 - (first + second) * lr])}; it moved to {_fmt(values[1:])} "
                    f"(plain gradient descent at {lr:g} expected).",
                    diagnosis.optimizer_mistake(lr, *rates, others))


def _one_step(loss, problem: Problem, batch) -> tuple[float, float, float]:
    """(loss before, its gradient, A after) of a correct step with `loss`, from batch.A."""
    A = tf.Variable([batch.A], dtype=tf.float32)
    with tf.GradientTape() as tape:
        before = loss(problem.model(tf.constant(batch.x), A), batch.y)
    gradient = float(tape.gradient(before, A).numpy()[0])
    after = float(np.float32(batch.A) - np.float32(problem.learning_rate) * np.float32(gradient))
    return float(before), gradient, after


def judge_train_step(problem: Problem, observation: dict, seed: int) -> None:
    """One step updates A by exactly -learning_rate * dL/dA and returns the loss from before the update.

    The step was run with the stand-in loss in place of the student's; a step that computes the
    exercise's loss itself instead is right when it matches the reference's step.
    """
    name = f"{problem.name}_train_step"
    _reported_error(observation, name)
    batches = grading_inputs.step_batches(problem, seed)
    for batch, case in zip(batches, _same_length(observation["cases"], batches)):
        losses = {"the grader's stand-in loss": probe.probe_loss, "the exercise's loss": tf2.LOSSES[problem.name]}
        steps = {label: (loss, *_one_step(loss, problem, batch)) for label, loss in losses.items()}
        got_A = float(case["A"])
        where = (f"on {len(batch.x)} sample(s) from A = {batch.A:g} (learning rate {problem.learning_rate:g}), with "
                 f"the grader's stand-in loss in place of {problem.name}_loss,")
        matched = [step for step in steps.values() if np.isclose(got_A, step[3], rtol=UPDATE_RTOL, atol=UPDATE_ATOL)]
        if not matched:
            _, before, gradient, expected_A = steps["the grader's stand-in loss"]
            raise _fail(name, f"{where} A should become {expected_A:.6g}; it became {got_A:.6g}.",
                        diagnosis.step_mistake(batch.A, got_A, expected_A, problem.learning_rate, gradient))
        loss, before, _, _ = matched[0]
        if case["returned"].get("none"):
            raise _fail(name, f"{where} it returned None; it must return the loss computed before the update.")
        got_loss = _array(case["returned"], name, "the loss, a scalar tensor")
        if got_loss.size != 1 or not np.isclose(got_loss.item(), before, rtol=VALUE_RTOL, atol=VALUE_ATOL):
            after = float(loss(problem.model(tf.constant(batch.x), tf.constant([got_A])), batch.y))
            mistake = ("the loss after the update was returned; return the one computed under the tape"
                       if got_loss.size == 1 and np.isclose(got_loss.item(), after, rtol=VALUE_RTOL) else None)
            raise _fail(name, f"{where} it should return the loss before the update, {before:.6g}; it returned "
                        f"{_fmt(got_loss)}.", mistake)


def _probe_run(run: grading_inputs.Run, indices, start: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """What a correct loop does with `probe.probe_step`: A after each step, and what each step returned."""
    A = tf.Variable([run.initial_A if start is None else start], dtype=tf.float32)
    history, returned = [], []
    for i in indices:
        returned.append(float(probe.probe_step(A, run.x[i : i + 1], run.y[i : i + 1], None)))
        history.append(float(A.numpy()[0]))
    return np.array(history), np.array(returned)


def judge_train_loop(problem: Problem, observation: dict, seed: int) -> None:
    """One step per index, on sample indices[t]; returns A's value after every step."""
    name = f"train_{problem.name}"
    _reported_error(observation, name)
    run = grading_inputs.trajectory_run(problem, seed)
    got, final_A = reported_history(observation["history"], name), float(observation["final_A"])
    where = f"with {len(run.indices)} indices from A = {run.initial_A:.5g}"
    if len(got) != len(run.indices):
        mistake = {len(run.x): "one step per sample of x_vals instead of one per index",
                   problem.steps: f"a fixed number of steps ({problem.steps}) instead of one per index"}.get(len(got))
        raise _fail(name, f"{where} returned {len(got)} values, expected {len(run.indices)} (one per step).", mistake)
    expected, probe_returns = _probe_run(run, run.indices)

    def follows(trajectory) -> bool:
        return bool(np.allclose(got, trajectory, rtol=TRAJECTORY_RTOL, atol=TRAJECTORY_ATOL)
                    and np.isclose(final_A, trajectory[-1], rtol=TRAJECTORY_RTOL, atol=TRAJECTORY_ATOL))

    # A loop that steps by itself follows the reference; run it only for a loop that did not use the stand-in.
    if follows(expected) or follows(tf2.run(problem, run.x, run.y, run.initial_A, run.indices)):
        return
    alternatives = {
        "the indices are ignored: step t used sample t instead of sample indices[t]":
            _probe_run(run, np.arange(len(run.indices)) % len(run.x))[0],
        "the loss was recorded instead of A": probe_returns,
    }
    t = int(np.argmax(~np.isclose(got, expected, rtol=TRAJECTORY_RTOL, atol=TRAJECTORY_ATOL)))
    start = run.initial_A if t == 0 else float(got[t - 1])
    one_step = [_probe_run(run, [i], start)[0][0] for i in range(len(run.x))]
    raise _fail(name, f"{where}, with the grader's stand-in step in place of {problem.name}_train_step, A after "
                f"step {t + 1} should be {expected[t]:.6g}, got {got[t]:.6g} (expected {_fmt(expected)}, got "
                f"{_fmt(got)}; A ended at {final_A:.6g}).",
                diagnosis.trajectory_mistake(got, expected, alternatives, run.initial_A, final_A)
                or diagnosis.wrong_sample(t, got[t], one_step, int(run.indices[t])))


def judge_predict(problem: Problem, observation: dict, seed: int) -> None:
    """Classes 0/1 from sigmoid(x + A) >= 0.5, for several A, as a 1-D array."""
    _reported_error(observation, "predict")
    cases = grading_inputs.predict_cases(seed)
    for (A_value, x), report in zip(cases, _same_length(observation["cases"], cases)):
        expected = (x + np.float32(A_value) >= 0).astype(np.int64)
        got = _array(report, "predict", "an array of classes 0/1")
        where = f"for {len(x)} points at A = {A_value:g}"
        if got.shape != expected.shape:
            raise _fail("predict", f"{where} returned shape {got.shape}, expected {expected.shape}.")
        if not np.array_equal(got, expected):
            wrong = got != expected
            raise _fail("predict", f"{where} {int(np.sum(wrong))} of {len(x)} classes are wrong (e.g. x = "
                        f"{x[wrong][0]:.4g}: expected {expected[wrong][0]}, got {got[wrong][0]:.4g}).",
                        diagnosis.predict_mistake(x, A_value, got))


def judge_convergence(problem: Problem, observation: dict, seed: int) -> None:
    """End to end, with everything the student wrote: the seed's full run lands where the reference's does,
    near the ideal A; for classification the trained model also classifies >= 95% of the training data and
    of 10,000 fresh points correctly."""
    name = f"train_{problem.name}"
    _reported_error(observation, observation.get("function", name))
    run = grading_inputs.convergence_run(problem, seed)
    expected = tf2.run(problem, run.x, run.y, run.initial_A, run.indices)
    history, final_A = reported_history(observation["history"], name), float(observation["final_A"])
    where = (f"{problem.steps} steps from A = {run.initial_A:.4g} on the grader's data: the reference ends at "
             f"A = {expected[-1]:.4f} (exact optimum {problem.optimum(run.x, run.y):.4f}, ideal {problem.ideal:g})")
    if len(history) != len(run.indices) or not np.isclose(history[-1], final_A, atol=1e-6):
        raise _fail(name, f"{where}; the returned history ({len(history)} values, last "
                    f"{history[-1] if len(history) else None}) does not end at A's value {final_A:.4f}.")
    if not abs(final_A - expected[-1]) <= FINAL_ATOL or not abs(final_A - problem.ideal) <= NEAR_IDEAL[problem.name]:
        raise _fail(name, f"{where}; yours ends at A = {final_A:.4f}.",
                    "see the first failing item above (loss, optimizer, step or loop); this item passes when they do")
    if problem is CLASSIFICATION:
        fresh_x, fresh_y = grading_inputs.fresh_points(seed)
        for label, key, x, y in (("the training data", "training", run.x, run.y),
                                 ("10,000 fresh points", "fresh", fresh_x, fresh_y)):
            classes = _array(observation["classes"][key], "predict", "an array of classes 0/1")
            accuracy = float(np.mean(classes.reshape(-1) == y)) if classes.size == len(y) else 0.0
            needed = required_accuracy(x, y, float(expected[-1]))
            if accuracy < needed:
                raise _fail("predict", f"after training (A = {final_A:.4f}) the accuracy on {label} is "
                            f"{accuracy:.3f}, at least {needed:.3f} expected.")


def required_accuracy(x: np.ndarray, y: np.ndarray, reference_A: float) -> float:
    """MIN_ACCURACY, or the reference's own accuracy where the sample is too mixed for it to reach that
    (about 4% of samples), less the points so near the reference's boundary that a correct run ending
    FINAL_ATOL away may put them on the other side."""
    logits = x.astype(np.float64) + reference_A
    reachable = float(np.mean((logits >= 0) == (y == 1)))
    return min(MIN_ACCURACY, reachable) - float(np.mean(np.abs(logits) <= FINAL_ATOL))


JUDGES = {"loss": judge_loss, "optimizer": judge_optimizer, "train_step": judge_train_step,
          "train_loop": judge_train_loop, "predict": judge_predict, "convergence": judge_convergence}


def judge(observation: dict, seed: int, check: str | None = None, problem_name: str | None = None) -> None:
    """The verdict on one observation made with the grading seed `seed`: None, or GradingFailure.

    `check` and `problem_name`, when given, are what the grader asked for; the report must be of that.
    """
    if not isinstance(observation, dict) or observation.get("check") not in JUDGES:
        raise Tampering("the report of this check is not an observation the grader knows")
    asked = (check or observation["check"], problem_name or observation.get("problem"))
    if (observation["check"], observation.get("problem")) != asked or observation.get("seed") != seed:
        raise Tampering(f"the report is of {observation['check']} ({observation.get('problem')}, seed "
                        f"{observation.get('seed')}), not of what the grader asked")
    try:
        JUDGES[observation["check"]](PROBLEMS[observation["problem"]], observation, seed)
    except GradingFailure:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        raise Tampering(f"the report of this check is malformed ({type(error).__name__}: {error})") from None


def check_loss(problem_name: str, loss, seed: int = DEFAULT_SEED) -> None:
    judge(probe.observe_loss(problem_name, loss, seed), seed)


def check_optimizer(problem_name: str, make_optimizer, seed: int = DEFAULT_SEED) -> None:
    judge(probe.observe_optimizer(problem_name, make_optimizer, seed), seed)


def check_train_step(problem_name: str, train_step, seed: int = DEFAULT_SEED) -> None:
    judge(probe.observe_train_step(problem_name, train_step, seed), seed)


def check_train_loop(problem_name: str, train, seed: int = DEFAULT_SEED) -> None:
    judge(probe.observe_train_loop(problem_name, train, seed), seed)


def check_predict(predict, seed: int = DEFAULT_SEED) -> None:
    judge(probe.observe_predict(predict, seed), seed)


def check_convergence(problem_name: str, make_optimizer, train, predict=None, seed: int = DEFAULT_SEED) -> None:
    judge(probe.observe_convergence(problem_name, make_optimizer, train, predict, seed), seed)
