"""The hidden checks' verdicts: the student's numbers against the reference's on the same inputs
(PrairieLearn's idea), with the mistake named in the student's terms.

Grading is split in two. `probe` runs in the student's kernel and only reports what the student's
functions returned on the grader's inputs (an *observation*). `judge` runs where student code cannot
reach, in nbgrader's process (`autograder.verdicts`): it draws the same inputs from the grading seed,
runs the reference on them, and compares. Nothing the kernel reports is trusted beyond being numbers: the
inputs are the grader's own, and a malformed or mislabelled report is tampering. Which judge reads which
observation, and what else makes up each check, is `autograder.registry`.

Each item is graded alone: a step is observed with the grader's stand-in loss in place of the student's
(`probe.probe_loss`), a loop with a stand-in step (`probe.probe_step`), so one mistake costs its own item,
plus the end-to-end convergence item that runs everything the student wrote. A step or loop that does not
call the function it should (its own loss inline, say) is judged against the exercise's reference instead.

Tolerances: the student's float32 arithmetic may differ from the reference's in the last bits (another
formula, eager or tf.function, another optimizer class), and both maps are contractions, so trajectories
stay within ~1e-6 of each other. The mistakes named in `backprop_ref.mistakes` differ by factors, not by 1e-3.
`bench/seed_sweep.py` measures the margins over 1,000 grading seeds.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from backprop_ref import tf2
from backprop_ref.problem import CLASSIFICATION, PROBLEMS, Problem
from backprop_ref.quiet_tf import tf

from backprop_ref import mistakes

from . import grading_inputs, probe

# Loss values and gradients of one batch. The absolute parts are for values near 0. A correct loss is exactly 0
# where every error is 0, and within 2e-9 of a confidently right point's (log(1 + exp(-|z|)) may round it to 0 in
# float32); a constant added, or labels smoothed by 1e-7, is 1e-7 or more off. A gradient near 0 there is a
# difference of float32 numbers near 1 (sigmoid(z) - y, or a softmax's weights): up to ~1e-7 per point.
VALUE_RTOL, VALUE_ATOL, GRADIENT_ATOL = 1e-3, 1e-8, 1e-6
UPDATE_RTOL = 1e-5  # A after one update: of the update's size (float32 rounding of the gradient is ~1e-7 of it)
RETURNED_RTOL = 1e-5  # the loss a step returns, of the size of its terms (_terms_size): float32 rounding is ~1e-7 of it
# A loop's history. With the stand-in step, every correct idiom's is bit-exact; a loop that steps by itself
# (its own loss and update) follows the reference to 3.6e-7 (10 seeds). Rounded values (to 5 decimals or fewer) fail.
LOOP_RTOL, STAND_IN_LOOP_ATOL, OWN_STEP_LOOP_ATOL = 1e-6, 1e-6, 1e-5
FINAL_ATOL = 1e-3  # the end of a full run, student vs reference on the same inputs
# |A - ideal| after a full run. Over 1,000 grading seeds the reference ends at most 0.80 from 10 and 0.47
# from -1 (bench/seed_sweep.py): its start, the sample's own optimum and the last steps' noise all vary.
# The bounds leave 25-60% headroom; the tight test is FINAL_ATOL against the reference on the same run.
NEAR_IDEAL = {"regression": 1.0, "classification": 0.75}
MIN_ACCURACY = 0.95  # of the trained classifier, on its training data and on fresh points


class GradingFailure(AssertionError):
    """A check's verdict against the student's code; its message is written for the student, and `mistake`
    is the catalogue's words for what went wrong, where known (they end the message too)."""

    def __init__(self, message: str, mistake: str | None = None):
        super().__init__(message)
        self.mistake = mistake

    def __reduce__(self):  # pickled between Dask workers and the coordinator with its mistake
        return type(self), (str(self), self.mistake)


class Tampering(GradingFailure):
    """The kernel's report cannot be an honest observation: missing, malformed, or on other inputs."""


def _fail(function: str, what: str, mistake: str | None = None) -> GradingFailure:
    message = f"{function}: {what}"
    if mistake:
        message += f"\nLikely mistake: {mistake}."
    return GradingFailure(message, mistake or None)


def _reported_error(observation: dict, name: str, during: str = "", raised=mistakes.RAISED) -> None:
    """The student's function raised while observed: that is the verdict. `during` says under what inputs (it
    ends in "it "), and `raised` is the mistake an exception there names."""
    error = observation.get("error")
    if error is None:
        return
    if error.get("not_written"):
        raise _fail(name, "not written yet (it still raises NotImplementedError).")
    if error.get("changed_input"):
        raise _fail(name, f"changed the {error['changed_input']} it was handed, in place.", mistakes.CHANGED_INPUT)
    raise _fail(name, f"{during}raised {error['raised']}", raised)


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


def _read_alike(returned: np.ndarray, later: np.ndarray) -> bool:
    """Whether a returned value read again once later calls had run is what it was (a buffer they overwrite is not)."""
    return returned.shape == later.shape and np.array_equal(returned, later, equal_nan=True)


def _fmt(values) -> str:
    return np.array2string(np.asarray(values, np.float64), precision=5, separator=", ", threshold=8)


def _same_length(observed: list, expected: list) -> list:
    if not isinstance(observed, list) or len(observed) != len(expected):
        raise Tampering(f"the report holds {len(observed) if isinstance(observed, list) else 'no'} cases, "
                        f"the grader chose {len(expected)}")
    return observed


def exact_loss(problem: Problem, batch: grading_inputs.Batch) -> tuple[np.ndarray, float, float]:
    """(the float32 model output the loss is handed, the loss, its gradient with respect to A), the last two
    in float64 from the exercise's formulas: computed independently of any TensorFlow loss."""
    x = batch.x.astype(np.float32)
    output = np.asarray(problem.model(x, np.float32(batch.A)), np.float32)
    z, y = output.astype(np.float64), batch.y.astype(np.float64)
    if problem is CLASSIFICATION:  # d/dA of the cross-entropy is sigmoid(x + A) - y
        return output, float(np.mean(mistakes.cross_entropy(z, y))), float(np.mean(mistakes.sigmoid(z) - y))
    return output, float(np.mean((z - y) ** 2)), float(np.mean(2 * (z - y) * x))


def judge_loss(problem: Problem, observation: dict, seed: int) -> None:
    """The loss's value, shape and gradient with respect to A, on batches of 1, 3 and 10 samples and on the
    large errors or logits a run can reach, against the exercise's formula in float64.

    Every batch is looked at before any verdict, so a wrong value is diagnosed from all of them (on one
    sample, for instance, a sum and a mean agree).
    """
    name = f"{problem.name}_loss"
    _reported_error(observation, name)
    batches = grading_inputs.loss_batches(problem, seed)
    cases = []
    for batch, case in zip(batches, _same_length(observation["cases"], batches)):
        output, expected, expected_gradient = exact_loss(problem, batch)
        got = _array(case["value"], name, "a scalar tensor")
        cases.append((batch, output, got, expected, case["gradient"], expected_gradient))
    _judge_loss_shape(name, cases)
    non_finite = [case for case in cases if case[0].overflow or case[0].diverged]  # judged once the others are right
    cases = [case for case in cases if not (case[0].overflow or case[0].diverged)]
    wrong = [not _close(float(got), expected, VALUE_RTOL, VALUE_ATOL) for _, _, got, expected, _, _ in cases]
    if any(wrong):
        batch, _, got, expected, _, _ = cases[wrong.index(True)]
        mistake = mistakes.loss_mistake(problem.name, [c[1] for c in cases], [c[0].y for c in cases],
                                        [float(c[2]) for c in cases], [c[3] for c in cases], wrong,
                                        [c[0].large for c in cases])
        raise _fail(name, f"{_where(problem, batch)} expected {expected:.7g}, got {float(got):.7g}.", mistake)
    gradients = []
    for batch, _, _, _, got_gradient, _ in cases:
        if got_gradient is None:
            raise _fail(name, f"{_where(problem, batch)} the value is right, but no gradient reaches A.",
                        mistakes.OUTSIDE_TENSORFLOW)
        gradients.append(_array(got_gradient, name, "a gradient") / np.float64(batch.upstream))
    wrong = [g.size != 1 or not _close(g.item(), case[5], VALUE_RTOL, GRADIENT_ATOL) for g, case in zip(gradients, cases)]
    if any(wrong):
        k = wrong.index(True)
        got_gradient, (batch, _, _, _, _, expected_gradient) = gradients[k], cases[k]
        single = [g.item() if g.size == 1 else np.nan for g in gradients]
        upstream = batch.upstream
        of = "" if upstream == 1 else f" (of {upstream:g} x the loss, as where the loss is part of a larger sum)"
        upstream_ignored = all(cases[j][0].upstream != 1 and _close(single[j] * cases[j][0].upstream, cases[j][5],
                                                                    VALUE_RTOL, GRADIENT_ATOL)
                               for j in range(len(cases)) if wrong[j])  # wrong just where asked of a multiple
        raise _fail(name, f"{_where(problem, batch)} the value is right, but its gradient with respect to A{of} is "
                    f"{_fmt(got_gradient * upstream)}, expected {expected_gradient * upstream:.7g}.",
                    mistakes.UPSTREAM_IGNORED if upstream_ignored else
                    mistakes.HIDDEN_FROM_THE_TAPE if single[k] == 0 else
                    mistakes.NAN_GRADIENT_AT_FIT if batch.exact_fit and np.isnan(single[k]) and sum(wrong) == 1 else
                    mistakes.large_gradient_mistake(problem.name, single, wrong, [c[0].large for c in cases]))
    for batch, _, got, expected, _, _ in non_finite:  # the value only: a correct form's gradient may be inf or nan there
        if batch.diverged and not np.isnan(float(got)):
            raise _fail(name, f"{_where(problem, batch)} expected nan (every output is nan), got {float(got):.7g}.",
                        mistakes.NAN_HIDDEN)
        if batch.overflow and not (float(got) == np.inf or _close(float(got), expected, VALUE_RTOL, 0.0)):  # float32,
            # or float64 throughout
            raise _fail(name, f"{_where(problem, batch)} where the squared errors overflow float32, expected inf (the "
                        f"mean squared error, {expected:.4g}, is past float32's largest number), got {float(got):.7g}.")


def _where(problem: Problem, batch: grading_inputs.Batch) -> str:
    outputs = problem.model(batch.x.astype(np.float64), batch.A)
    what = "logits" if problem is CLASSIFICATION else "outputs"
    fit = " the model fits every sample exactly (every error is 0)," if batch.exact_fit else ""
    return (f"for {len(batch.x)} sample(s) at A = {batch.A:g} ({what} from {outputs.min():.4g} to "
            f"{outputs.max():.4g}),{fit}")


def _close(got: float, expected: float, rtol: float, atol: float) -> bool:
    return bool(np.isfinite(got) and np.isclose(got, expected, rtol=rtol, atol=atol))


def _judge_loss_shape(name: str, cases: list) -> None:
    """A loss must be a scalar; say how it is not, when every batch shows the same."""
    shaped = [(batch, got, expected) for batch, _, got, expected, _, _ in cases if got.shape != ()]
    if not shaped:
        return
    batch, got, _ = shaped[0]
    mistake = None
    if len(shaped) == len(cases):
        ordinary = [(b, g, e) for b, g, e in shaped if not (b.overflow or b.diverged)]  # non-finite ones tell nothing here
        if all(g.shape == (len(b.x),) and _close(g.mean(), e, VALUE_RTOL, VALUE_ATOL) for b, g, e in ordinary):
            mistake = mistakes.NOT_REDUCED
        elif all(g.size == 1 and _close(g.item(), e, VALUE_RTOL, VALUE_ATOL) for b, g, e in ordinary):
            mistake = mistakes.KEEPS_A_DIMENSION
    raise _fail(name, f"for {len(batch.x)} sample(s) at A = {batch.A:g} it returned shape {got.shape}, expected a "
                "scalar.", mistake)


def judge_optimizer(problem: Problem, observation: dict, seed: int) -> None:
    """A new plain gradient-descent optimizer at the right rate: every one of as many updates as the full
    run has steps moves a fresh variable by exactly learning rate x gradient, for gradients from 1e-3 to 1e3."""
    name = f"make_{problem.name}_optimizer"
    if observation.get("same_twice"):
        raise _fail(name, "returned the same optimizer twice.", mistakes.SHARED_OPTIMIZER)
    if observation.get("has_apply_gradients") is False:
        raise _fail(name, f"returned {observation['type']}, which is not a TensorFlow optimizer "
                    "(it has no apply_gradients).")
    _reported_error(observation, f"{name}() or its apply_gradients")
    gradients = grading_inputs.optimizer_gradients(problem, seed)
    values = np.asarray([float(v) for v in observation["values"]], np.float64)
    if len(values) != len(gradients) + 2:
        raise Tampering(f"the report holds {len(values) - 1} updates, the grader applied {len(gradients) + 1}")
    values, overflowed = values[:-1], values[-1]
    lr = np.float32(problem.learning_rate)
    before = values[:-1].astype(np.float32)
    expected = (before - gradients * lr).astype(np.float64)  # float32 arithmetic, as SGD's assign_sub
    slack = 1e-4 * np.abs(gradients * np.float64(lr)) + 4 * np.spacing(np.abs(expected).astype(np.float32))
    wrong = ~(np.abs(values[1:] - expected) <= slack)
    if not wrong.any():
        if overflowed != -np.inf:  # plain gradient descent: the variable minus lr x inf
            raise _fail(name, f"the last update (on a fresh variable at {probe.OPTIMIZER_START:g}), with an infinite "
                        f"gradient as a diverging run makes, should move the variable from {values[-1]:.7g} to -inf "
                        f"(plain gradient descent at {problem.learning_rate:g}); it moved to {overflowed:.7g}.",
                        mistakes.SKIPPED_UPDATE if overflowed == values[-1] else None)
        return
    k = int(np.argmax(wrong))
    others = {p.name: p.learning_rate for p in PROBLEMS.values() if p is not problem}
    raise _fail(name, f"update {k + 1} of {len(gradients)} (on a fresh variable at {probe.OPTIMIZER_START:g}): "
                f"gradient {gradients[k]:.4g} should move the variable from {values[k]:.7g} to {expected[k]:.7g} "
                f"(plain gradient descent at {problem.learning_rate:g}); it moved to {values[k + 1]:.7g}.",
                mistakes.optimizer_mistake(problem.learning_rate, gradients.astype(np.float64), values, others,
                                           observation.get("learning_rate")))


def _one_step(loss, problem: Problem, case: grading_inputs.StepCase, start: float) -> tuple[float, float, float]:
    """(loss before, its gradient, A after) of a correct step with `loss`, from `start` and at the case's rate."""
    batch = case.batch
    A = tf.Variable([start], dtype=tf.float32)
    with tf.GradientTape() as tape:
        before = loss(problem.model(tf.constant(batch.x), A), batch.y)
    gradient = np.float32(tape.gradient(before, A).numpy()[0])
    after = float(np.float32(start) - gradient * np.float32(case.learning_rate))
    return float(before), float(gradient), after


def _terms_size(problem: Problem, case: grading_inputs.StepCase, start: float, loss: str) -> float:
    """The size of what the loss before the step adds up: float32 rounding of a correct evaluation, in any order
    (per sample, compiled, fused), is relative to it, not to the sum, which may cancel to nearly 0. The exercise's
    losses add non-negative terms; the stand-in's, exp(...) + output, may have either sign."""
    if loss == "exercise":
        return abs(exact_loss(problem, dataclasses.replace(case.batch, A=start))[1])
    output = problem.model(case.batch.x.astype(np.float64), start)
    return abs(case.loss_scale) * float(np.mean(np.exp(probe.STAND_IN_SLOPE * (output - case.batch.y)) + np.abs(output)))


def _handed(case: grading_inputs.StepCase) -> str:
    if case.tutorial_optimizer:
        return f"the tutorial's tf.compat.v1.train.GradientDescentOptimizer({case.learning_rate:g})"
    if case.schedule:
        return (f"an SGD whose learning rate changes as it counts its updates "
                f"({', '.join(f'{rate:g}' for rate in case.schedule)} at calls 1 to {len(case.schedule)}), "
                f"{case.learning_rate:g} at this one")
    return f"SGD(learning_rate={case.learning_rate:g})"


def judge_train_step(problem: Problem, observation: dict, seed: int) -> None:
    """One step updates A by exactly -learning_rate * dL/dA, with the optimizer it is handed (either kind the
    notebook allows), and returns the loss from before the update, a value of its own.

    The step was run with a scaled stand-in loss in place of the student's (gradients from hundredths to
    tens); a step that computes the exercise's loss itself instead is right when it matches the reference's.
    """
    name = f"{problem.name}_train_step"
    cases = grading_inputs.step_cases(problem, seed)
    failed = observation.get("case")
    if isinstance(failed, int) and 0 <= failed < len(cases) and cases[failed].tutorial_optimizer:
        _reported_error(observation, name, f"handed {_handed(cases[failed])}, which make_{problem.name}_optimizer may "
                        "return, it ", mistakes.TUTORIAL_OPTIMIZER)
    _reported_error(observation, name)
    reports, got_A = _same_length(observation["cases"], cases), None
    for case, report in zip(cases, reports):
        batch, start = case.batch, got_A if case.in_a_row else case.batch.A
        losses = {"stand-in": probe.scaled_probe_loss(case.loss_scale, problem), "exercise": tf2.LOSSES[problem.name]}
        steps = {label: (loss, *_one_step(loss, problem, case, start)) for label, loss in losses.items()}
        got_A = float(report["A"])
        row = (f" (call {case.in_a_row + 1} in a row on one variable and one optimizer)" if case.in_a_row else "")
        where = (f"on {len(batch.x)} sample(s) from A = {start:.7g}{row}, handed {_handed(case)}, with a stand-in "
                 f"loss in place of {problem.name}_loss (its gradient is {steps['stand-in'][2]:.4g}),")

        def near(A: float, after: float) -> bool:
            return abs(A - after) <= UPDATE_RTOL * abs(after - start) + 4 * np.spacing(np.float32(abs(after)))

        def right(A: float) -> list:
            return [label for label, (_, _, _, after) in steps.items() if near(A, after)]

        matched = right(got_A)
        if not matched:
            _, _, gradient, expected_A = steps["stand-in"]
            first_rate = case.schedule[0] if case.schedule else case.learning_rate  # what an uncounted optimizer states
            at_first_rate = first_rate != case.learning_rate and near(
                got_A, float(np.float32(start) - np.float32(gradient) * np.float32(first_rate)))
            carried = case.in_a_row and right(float(report.get("fresh_A", np.nan)))
            raise _fail(name, f"{where} A should become {expected_A:.7g}; it became {got_A:.7g}.",
                        mistakes.UPDATE_NOT_BY_OPTIMIZER if at_first_rate else
                        mistakes.STEP_KEEPS_STATE if carried else
                        mistakes.step_mistake(start, got_A, expected_A, case.learning_rate, gradient,
                                              problem.learning_rate))
        loss, before, gradient, _ = steps[matched[0]]
        if report["returned"].get("none"):
            raise _fail(name, f"{where} it returned None; it must return the loss computed before the update.")
        got_loss = _array(report["returned"], name, "the loss, a scalar tensor")
        tolerance = RETURNED_RTOL * _terms_size(problem, case, start, matched[0])
        if got_loss.size != 1 or not abs(got_loss.item() - before) <= tolerance:
            stand_in_before = steps["stand-in"][1]
            if matched == ["exercise"] and got_loss.size == 1 and np.isclose(got_loss.item(), stand_in_before,
                                                                            rtol=VALUE_RTOL, atol=VALUE_ATOL):
                raise _fail(name, f"{where} it returned the stand-in's loss, {stand_in_before:.7g}, but moved A by the "
                            f"gradient of the exercise's own loss ({gradient:.4g}), not by the stand-in's; A became "
                            f"{got_A:.7g}.", mistakes.GRADIENT_NOT_FROM_LOSS)
            after = float(loss(problem.model(tf.constant(batch.x), tf.constant([got_A])), batch.y))
            mistake = (None if got_loss.size != 1 else
                       mistakes.LOSS_AFTER_UPDATE if np.isclose(got_loss.item(), after, rtol=VALUE_RTOL) else
                       mistakes.returned_rounded(got_loss.item(), before))
            raise _fail(name, f"{where} it should return the loss before the update, {before:.7g}; it returned "
                        f"{_fmt(got_loss)}.", mistake)
    for number, report in enumerate(reports):
        returned, later = (_array(report[key], name, "the loss") for key in ("returned", "returned_later"))
        if not _read_alike(returned, later):
            raise _fail(name, f"call {number + 1} of {len(reports)} returned {_fmt(returned)}, which read "
                        f"{_fmt(later)} once the calls after it had run.", mistakes.RETURNED_BUFFER)


def stand_in_run(run: grading_inputs.Run, indices, learning_rate: float, start: float | None = None,
                 targets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """What a correct loop does with `probe.probe_step` and SGD at `learning_rate`, in float32 as TensorFlow
    computes it: A after each step, and what each step returned. `targets` replaces run.y (a mistake's)."""
    y = run.y if targets is None else targets
    A, lr, pull = np.float32(run.initial_A if start is None else start), np.float32(learning_rate), np.float32(probe.STAND_IN_PULL)
    history, returned = [], []
    for i in indices:
        target = np.float32(0.6) * run.x[i] + np.float32(0.4) * y[i]
        spread = np.float32(10.0) ** (np.float32(probe.STAND_IN_DECADES) * np.sin(np.float32(probe.STAND_IN_WAVE) * run.x[i]))
        returned.append(float(np.square(A - target) * spread))
        A = np.float32(A - (pull * (A - target)) * lr)
        history.append(float(A))
    return np.array(history), np.array(returned)


def judge_train_loop(problem: Problem, observation: dict, seed: int) -> None:
    """One step per index, on sample indices[t], with the optimizer it is handed; returns A's value after every
    step. Observed over more steps than the example's own run, on targets that differ sample to sample, and
    twice: a second call from the same start returns the same history; then on the long run (_judge_long_run)."""
    name = f"train_{problem.name}"
    during = {"long_": f"on a long run ({len(grading_inputs.long_run(problem, seed).indices)} indices, with a stand-in "
                       "step), it ",
              "again_": "called a second time, with the optimizer it was handed the first time (as the training "
                        "explorer hands one optimizer to its short runs), it "}.get(observation.get("run"), "")
    _reported_error(observation, name, during)
    run, lr = grading_inputs.trajectory_run(problem, seed), grading_inputs.OTHER_LEARNING_RATE
    got, final_A = reported_history(observation["history"], name), float(observation["final_A"])
    where = f"with {len(run.indices)} indices from A = {run.initial_A:.7g}, handed SGD(learning_rate={lr:g})"
    expected, stand_in_returns = stand_in_run(run, run.indices, lr)

    def close(values, trajectory, atol: float = STAND_IN_LOOP_ATOL) -> bool:
        return len(values) == len(trajectory) and bool(np.allclose(values, trajectory, rtol=LOOP_RTOL, atol=atol))

    if len(got) != len(run.indices):
        raise _fail(name, f"{where} returned {len(got)} values, expected {len(run.indices)} (one per step).",
                    mistakes.count_mistake(got, expected, len(run.x), problem.steps))
    if close(got, expected):
        followed = expected
    else:  # a loop that steps by itself (its own loss and update) follows the reference
        followed = tf2.run(problem, run.x, run.y, run.initial_A, run.indices, lr)
        if not close(got, followed, OWN_STEP_LOOP_ATOL):
            raise _loop_failure(problem, run, got, expected, stand_in_returns, final_A, where)
    if not close([final_A], followed[-1:], OWN_STEP_LOOP_ATOL):
        raise _fail(name, f"{where}, the returned history is right, but A itself ends at {final_A:.7g} "
                    f"instead of {followed[-1]:.7g}.", mistakes.TRAINED_A_COPY)
    second = grading_inputs.second_call_run(run)
    again = reported_history(observation["again_history"], name)
    stepped = followed is expected  # through the stand-in step, or by itself
    expected_again = (stand_in_run(second, second.indices, lr)[0] if stepped else
                      tf2.run(problem, second.x, second.y, second.initial_A, second.indices, lr))
    if not close(again, expected_again, STAND_IN_LOOP_ATOL if stepped else OWN_STEP_LOOP_ATOL):
        with_first_data = stand_in_run(run, second.indices, lr)[0]
        raise _fail(name, f"called a second time from A = {run.initial_A:.7g} (the same variable, set back) with the "
                    f"same optimizer, on {len(second.indices)} indices of the samples in reverse order, it returned "
                    f"{_fmt(again)}, expected {_fmt(expected_again)}.",
                    mistakes.count_mistake(again, expected_again, len(run.x), problem.steps)
                    if len(again) != len(expected_again) else
                    mistakes.EARLIER_DATA if close(again, with_first_data) else None)
    _judge_long_run(problem, observation, seed)
    for key, call in (("", "first"), ("again_", "second"), ("long_", "third")):
        returned, later = (_array(observation[f"{key}{history}"], name, "the history") for history in ("history", "history_later"))
        if not _read_alike(returned, later):
            raise _fail(name, f"the history its {call} call returned, {_fmt(returned)}, read {_fmt(later)} once the calls "
                        "after it had run.", mistakes.RETURNED_BUFFER)


def counting_run(run: grading_inputs.Run, indices, x: np.ndarray | None = None, y: np.ndarray | None = None) -> np.ndarray:
    """A after each step of a correct loop with `probe.counting_step` (A += (x + y) x LONG_RUN_SCALE, or the
    call's jump), in float32 as TensorFlow computes it; `x`, `y` replace run's data (an earlier call's, for a
    loop that keeps it)."""
    x, y = (run.x if x is None else x), (run.y if y is None else y)
    jumps, scale = grading_inputs.LONG_RUN_JUMPS, np.float32(grading_inputs.LONG_RUN_SCALE)
    A, history = np.float32(run.initial_A), []
    with np.errstate(over="ignore", invalid="ignore"):
        for call, i in enumerate(indices):
            jump = jumps[min(call, len(jumps) - 1)]
            A = np.float32(A + (np.float32(np.float32(x[i]) + np.float32(y[i])) * scale if jump == 0 else jump))
            history.append(float(A))
    return np.array(history)


def _judge_long_run(problem: Problem, observation: dict, seed: int) -> None:
    """The long run (grading_inputs.long_run): one step per index, on the data of this call, however large or
    non-finite A becomes, whatever the optimizer has done before. A loop that never called the step steps by
    itself (its steps were judged on the trajectory run); its number of values is still judged."""
    name, run = f"train_{problem.name}", grading_inputs.long_run(problem, seed)
    n, got = len(run.indices), reported_history(observation["long_history"], name)
    where = (f"on a long run ({n} indices, other data, large steps, handed an optimizer that had already taken "
             f"{grading_inputs.HANDED_STEPS} steps), with a stand-in step that adds each sample's (x + y) x "
             f"{grading_inputs.LONG_RUN_SCALE:g} to A, and near the end inf, then -inf,")
    expected = counting_run(run, run.indices)
    if len(got) != n:
        raise _fail(name, f"{where} it returned {len(got)} values, expected {n} (one per step).",
                    _long_run_count_mistake(run, got, expected))
    if observation["long_calls"] == 0:
        return
    wrong = ~np.isclose(got, expected, rtol=LOOP_RTOL, atol=0, equal_nan=True)
    if wrong.any():
        t = int(np.argmax(wrong))
        earlier = grading_inputs.trajectory_run(problem, seed)
        first_of_earlier = counting_run(run, run.indices[:1], earlier.x, earlier.y) if run.indices[0] < len(earlier.x) else []
        raise _fail(name, f"{where} A after step {t + 1} should be {expected[t]:.7g}, got {got[t]:.7g} (expected "
                    f"{_fmt(expected)}, got {_fmt(got)}).",
                    mistakes.EARLIER_DATA if t == 0 and len(first_of_earlier) and np.isclose(got[0], first_of_earlier[0], rtol=LOOP_RTOL) else None)


def _long_run_count_mistake(run: grading_inputs.Run, got: np.ndarray, expected: np.ndarray) -> str | None:
    """Why a loop returned too few values on the long run, when the numbers say: it skipped as many indices as the
    handed optimizer had taken steps, or it stopped once A was large or not finite."""
    skipped = counting_run(run, run.indices[grading_inputs.HANDED_STEPS:])
    if len(got) == len(skipped) and np.allclose(got, skipped, rtol=LOOP_RTOL, atol=0, equal_nan=True):
        return mistakes.SKIPS_OPTIMIZER_STEPS
    k = len(got)
    if 0 < k < len(expected) and np.allclose(got, expected[:k], rtol=LOOP_RTOL, atol=0, equal_nan=True) and (
            not np.isfinite(expected[k]) or abs(got[-1]) > 1e5):
        return mistakes.stopped_at(float(got[-1]))
    return None


def _loop_failure(problem: Problem, run: grading_inputs.Run, got: np.ndarray, expected: np.ndarray,
                  stand_in_returns: np.ndarray, final_A: float, where: str) -> GradingFailure:
    """Where a loop's history first leaves a correct one's with the stand-in step, and why, if known."""
    lr = grading_inputs.OTHER_LEARNING_RATE
    alternatives = {
        mistakes.INDICES_IGNORED: stand_in_run(run, np.arange(len(run.indices)) % len(run.x), lr)[0],
        mistakes.LOSS_RECORDED: stand_in_returns,
        mistakes.handed_optimizer_not_used(problem.name, problem.learning_rate, lr):
            stand_in_run(run, run.indices, problem.learning_rate)[0],
        mistakes.FIRST_TARGET: stand_in_run(run, run.indices, lr, targets=np.full_like(run.y, run.y[run.indices[0]]))[0],
        mistakes.TARGET_ZERO: stand_in_run(run, run.indices, lr, targets=np.full_like(run.y, run.y[0]))[0],
    }
    t = int(np.argmax(~np.isclose(got, expected, rtol=LOOP_RTOL, atol=STAND_IN_LOOP_ATOL)))
    start = run.initial_A if t == 0 else float(got[t - 1])
    one_step = [stand_in_run(run, [i], lr, start)[0][0] for i in range(len(run.x))]
    return _fail(f"train_{problem.name}", f"{where}, with a stand-in step in place of {problem.name}_train_step, A "
                 f"after step {t + 1} should be {expected[t]:.7g}, got {got[t]:.7g} (expected {_fmt(expected)}, got "
                 f"{_fmt(got)}; A ended at {final_A:.7g}).",
                 mistakes.trajectory_mistake(got, expected, alternatives, run.initial_A, final_A)
                 or mistakes.wrong_sample(t, got[t], one_step, int(run.indices[t])))


def judge_predict(problem: Problem, observation: dict, seed: int) -> None:
    """Classes 0/1 from sigmoid(x + A) >= 0.5, for several A, as a 1-D array."""
    _reported_error(observation, "predict")
    cases, returned = grading_inputs.predict_cases(seed), []
    for (A_value, x), report, numpy in zip(cases, _same_length(observation["cases"], cases), observation["numpy"]):
        got = _array(report, "predict", "an array of classes 0/1")
        if not numpy:
            raise _fail("predict", f"for {len(x)} point(s) at A = {A_value:.7g} returned {_fmt(got)}, but not as a "
                        "NumPy array (the notebook asks for a 1-D NumPy array).", mistakes.NOT_NUMPY)
        if got.shape != x.shape:
            raise _fail("predict", f"for {len(x)} point(s) at A = {A_value:.7g} returned shape {got.shape}, expected "
                        f"{x.shape}.", None if got.size != len(x) else
                        mistakes.ZERO_DIMENSIONAL if got.ndim == 0 else mistakes.NOT_ONE_DIMENSIONAL)
        returned.append((x, A_value, got))
    for x, A_value, got in returned:
        expected = (x + np.float32(A_value) >= 0).astype(np.int64)
        if not np.array_equal(got, expected):
            wrong = got != expected
            on_boundary = " (exactly on the boundary x = -A)" if x[wrong][0] + np.float32(A_value) == 0 else ""
            raise _fail("predict", f"for {len(x)} point(s) at A = {A_value:.7g} {int(np.sum(wrong))} of {len(x)} classes "
                        f"are wrong (e.g. x = {x[wrong][0]:.7g}{on_boundary}: expected {expected[wrong][0]}, got "
                        f"{got[wrong][0]:.4g}).", mistakes.predict_mistake(returned))
    for number, ((A_value, x), later) in enumerate(zip(cases, observation["later"])):
        got, read_again = returned[number][2], _array(later, "predict", "an array of classes 0/1")
        if not _read_alike(got, read_again):
            raise _fail("predict", f"for {len(x)} point(s) at A = {A_value:.7g} it returned {_fmt(got)}, which read "
                        f"{_fmt(read_again)} once the calls after it had run.", mistakes.RETURNED_BUFFER)


RUNS = {"convergence": grading_inputs.convergence_run, "far": grading_inputs.far_start_run}


@functools.lru_cache(maxsize=8)
def reference_run(problem_name: str, seed: int, which: str) -> tuple[grading_inputs.Run, np.ndarray]:
    """One of the grader's runs (RUNS) and the reference's trajectory on it: computed once per (problem, seed,
    run) and reused by every judgement and plot that needs it (read-only)."""
    problem = PROBLEMS[problem_name]
    run = RUNS[which](problem, seed)
    trajectory = tf2.run(problem, run.x, run.y, run.initial_A, run.indices)
    trajectory.setflags(write=False)
    return run, trajectory


def judge_convergence(problem: Problem, observation: dict, seed: int) -> None:
    """End to end, with everything the student wrote: a short run from far on the other side of the optimum
    follows the reference's, and the seed's full run lands where the reference's does, near the ideal A; for
    classification the trained model also classifies >= 95% of the training data and of 10,000 fresh points
    correctly."""
    name = f"train_{problem.name}"
    _reported_error(observation, observation.get("function", name))
    far, far_reference = reference_run(problem.name, seed, "far")
    _judge_run(problem, far, far_reference, observation, "far_", f"{len(far.indices)} steps from A = "
               f"{far.initial_A:g}, far on the other side of the optimum (a start the training explorer offers)")
    run, expected = reference_run(problem.name, seed, "convergence")
    final_A = _judge_run(problem, run, expected, observation, "", f"the tutorial's run, {problem.steps} steps from "
                         f"A = {run.initial_A:.4g} on the grader's data (exact optimum "
                         f"{problem.optimum(run.x, run.y):.4f}, ideal {problem.ideal:g})")
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


def _judge_run(problem: Problem, run: grading_inputs.Run, reference: np.ndarray, observation: dict, key: str,
               what: str) -> float:
    """One run of everything the student wrote against the reference's from the same start: it must end
    where the reference ends (and near the ideal, for the full run). Returns where A ended."""
    name = f"train_{problem.name}"
    history, final_A = reported_history(observation[f"{key}history"], name), float(observation[f"{key}final_A"])
    where = f"{what}: the reference ends at A = {reference[-1]:.4f}"
    if len(history) != len(run.indices):
        raise _fail(name, f"{where}; the returned history holds {len(history)} values for {len(run.indices)} steps "
                    f"(one per index).", mistakes.count_mistake(history, reference, len(run.x), problem.steps))
    if not np.isclose(history[-1], final_A, atol=1e-6, equal_nan=True):
        raise _fail(name, f"{where}; the returned history ends at {history[-1]:.7g}, but A ends at {final_A:.7g}.")
    near_ideal = bool(key) or abs(final_A - problem.ideal) <= NEAR_IDEAL[problem.name]
    if abs(final_A - reference[-1]) <= FINAL_ATOL and near_ideal:
        return final_A
    leaves = ~(np.abs(history - reference) <= FINAL_ATOL)
    if not leaves.any():  # it follows the reference, which itself ends too far from the ideal (never seen)
        raise _fail(name, f"{where}; yours ends at A = {final_A:.4f}, more than {NEAR_IDEAL[problem.name]:g} from the "
                    f"ideal {problem.ideal:g}.")
    t = int(np.argmax(leaves))
    before = run.initial_A if t == 0 else history[t - 1]
    i = int(run.indices[t])
    sample = (f"on sample {i} (x = {run.x[i]:.4g}, y = {run.y[i]:g}; "
              f"{'logit' if problem is CLASSIFICATION else 'output'} "
              f"{problem.model(float(run.x[i]), float(before)):.4g} from A = {before:.6g})")
    mistake = (f"A became {history[t]} at step {t + 1}: the loss or its gradient overflowed {sample}" if not
               np.isfinite(history[t]) else None)
    raise _fail(name, f"{where}; yours ends at A = {final_A:.4f}. Your run first leaves the reference's at step "
                f"{t + 1} {sample}: A = {history[t]:.6g}, the reference's {reference[t]:.6g}.", mistake)


def required_accuracy(x: np.ndarray, y: np.ndarray, reference_A: float) -> float:
    """MIN_ACCURACY, or the reference's own accuracy where the sample is too mixed for it to reach that
    (about 4% of samples), less the points so near the reference's boundary that a correct run ending
    FINAL_ATOL away may put them on the other side."""
    logits = x.astype(np.float64) + reference_A
    reachable = float(np.mean((logits >= 0) == (y == 1)))
    return min(MIN_ACCURACY, reachable) - float(np.mean(np.abs(logits) <= FINAL_ATOL))
