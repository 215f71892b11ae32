"""Check my work: the visible checks of each exercise, answered in plain words.

`check_my_work("regression_loss")` shows a button; pressing it runs the checks for that function (looked
up by name then, so the latest run of its cell counts) and says what was tried, what was expected, what
came back and, when the answer matches a common mistake, which one, in the words of the grader's feedback
(both name mistakes from `backprop_mistakes.py`). These are the checks of the notebook's
visible test cells, with the arithmetic of the exercise text; the autograder runs more of its own.
"""
from __future__ import annotations

import contextlib
import html
import io
import math
import sys
from dataclasses import dataclass

import numpy as np

import backprop_mistakes as mistakes
from backprop_problem import PROBLEMS

RTOL = 1e-4

@dataclass
class Finding:
    """What a check found: passed, or what was tried, expected, returned and the likely mistake."""

    function: str
    passed: bool
    tried: str
    expected: str = ""
    got: str = ""
    mistake: str = ""

    def text(self) -> str:
        if self.passed:
            return f"✓ {self.function} passes the visible checks: {self.tried}."
        lines = [f"✗ {self.function}: {self.tried}.", f"Expected: {self.expected}.", f"Got: {self.got}."]
        if self.mistake:
            lines.append(f"Likely mistake: {self.mistake}.")
        return "\n".join(lines)

    def html(self) -> str:
        first, *rest = self.text().split("\n")
        colour = "#1b5e20" if self.passed else "#b00020"
        return (f'<div style="color: {colour}"><b>{html.escape(first)}</b>'
                + "".join(f"<br>{html.escape(line)}" for line in rest) + "</div>")


class Mismatch(Exception):
    """A check that failed: what was expected, what came back, the likely mistake (from the catalogue)."""

    def __init__(self, tried: str, expected: str, got: str, mistake: str | None = ""):
        super().__init__(expected)
        self.tried, self.expected, self.got, self.mistake = tried, expected, got, mistake or ""


def _number(value) -> float | None:
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(-1)[0]) if np.size(value) == 1 else None
    except (TypeError, ValueError):
        return None


def _numbers(items) -> list[float]:
    """Each item as a float, nan where it is not one number."""
    return [np.nan if v is None else v for v in map(_number, items)]


def _fmt(values) -> str:
    return "[" + ", ".join(f"{v:.5g}" for v in values) + "]"


def _left_as_it_was(tried: str, name: str, given: np.ndarray, values: list[float]) -> None:
    """A function must not change the arrays it is handed: the notebook's later cells use them."""
    if not np.array_equal(given, np.float32(values)):
        raise Mismatch(tried, f"{name} left as it was, {_fmt(values)}", f"{name} changed to {_fmt(given)}",
                       mistakes.CHANGED_INPUT)


# --- the checks, one per kind of exercise, each taking the example's name ------------------------------

LOSS_INPUTS = {  # (model outputs, targets) for each example's loss: ordinary values, then large ones; for
    # regression, last, outputs equal to their targets (every error 0: so is the gradient)
    "regression": [([2.0, 4.0, 1.0], [0.0, 1.0, 1.0]), ([40.0, -25.0], [10.0, 5.0]), ([10.0, 12.5], [10.0, 12.5])],
    "classification": [([0.5, 2.0, -1.0], [0.0, 1.0, 1.0]), ([30.0, -100.0, 95.0], [0.0, 1.0, 1.0])],
}
LARGE = {"regression": [False, True, False], "classification": [False, True]}  # LOSS_INPUTS' large cases


def _loss_value(example: str, outputs, targets) -> float:
    """The loss the exercise asks for on these inputs, in float64."""
    z, y = np.asarray(outputs, np.float64), np.asarray(targets, np.float64)
    return float(np.mean((z - y) ** 2) if example == "regression" else np.mean(mistakes.cross_entropy(z, y)))


def _loss_gradient(example: str, outputs, targets) -> np.ndarray:
    """d loss / d output of each sample: 2(z - y)/n for the L2 loss, (sigmoid(z) - y)/n for the cross-entropy."""
    z, y = np.asarray(outputs, np.float64), np.asarray(targets, np.float64)
    return (2 * (z - y) if example == "regression" else mistakes.sigmoid(z) - y) / len(z)


def _gradient(example: str, x: float, y: float, A: float) -> float:
    """d loss / d A on one sample, as the notebook derives it (2x(Ax - y) for the L2 loss, sigmoid(x + A) - y for
    the cross-entropy): the loss's slope at the output times the output's slope in A (each model is affine in A,
    so that is model(x, 1) - model(x, 0)). The checks follow a correct step by hand with it."""
    model = PROBLEMS[example].model
    return float(_loss_gradient(example, [model(x, A)], [y])[0]) * (model(x, 1.0) - model(x, 0.0))


def check_loss(example: str, loss) -> str:
    """Every case is computed before any verdict, so a wrong value is named from all of them."""
    cases = [_loss_case(example, loss, outputs, targets) for outputs, targets in LOSS_INPUTS[example]]
    wrong = [not math.isclose(got, expected, rel_tol=RTOL) for _, expected, got, _ in cases]
    if any(wrong):
        tried, expected, got, _ = cases[wrong.index(True)]
        outputs, targets = zip(*LOSS_INPUTS[example])
        mistake = mistakes.loss_mistake(example, [np.float32(o) for o in outputs], [np.float32(t) for t in targets],
                                        [c[2] for c in cases], [c[1] for c in cases], wrong, LARGE[example])
        raise Mismatch(tried, f"{expected:.5g}", f"{got:.5g}", mistake)
    expected_gradients = [_loss_gradient(example, outputs, targets) for outputs, targets in LOSS_INPUTS[example]]
    for (tried, _, _, gradient), expected_gradient in zip(cases, expected_gradients):
        if gradient is None:
            raise Mismatch(tried, f"a gradient with respect to the outputs, {_fmt(expected_gradient)}",
                           "no gradient: the value is right, but backpropagation cannot see how it was computed",
                           mistakes.OUTSIDE_TENSORFLOW)
    # float32 rounding is relative to the largest of the gradients: a 0 may come back as 1e-7
    wrong = [not np.allclose(case[3], expected, rtol=RTOL, atol=1e-6 * np.max(np.abs(expected)))
             for case, expected in zip(cases, expected_gradients)]
    if any(wrong):
        k = wrong.index(True)
        (tried, _, _, gradient), expected_gradient = cases[k], expected_gradients[k]
        worst = [float(np.max(np.abs(case[3]))) for case in cases]  # nan where any is
        fits = LOSS_INPUTS[example][k][0] == LOSS_INPUTS[example][k][1]
        raise Mismatch(tried, f"the gradient with respect to the outputs {_fmt(expected_gradient)}", _fmt(gradient),
                       mistakes.HIDDEN_FROM_THE_TAPE if not np.any(gradient) else
                       mistakes.NAN_GRADIENT_AT_FIT if fits and np.isnan(gradient).any() and sum(wrong) == 1 else
                       mistakes.large_gradient_mistake(example, worst, wrong, LARGE[example]) or "")
    return "; ".join(f"{tried} = {expected:.5g}, a scalar tensor, with the right gradient" for tried, expected, _, _ in cases)


def _loss_case(example: str, loss, outputs: list[float], targets: list[float]) -> tuple:
    """(what was tried, the expected value, the value returned, its gradient with respect to the outputs or
    None), once the value is a scalar tensor."""
    import tensorflow as tf

    expected = _loss_value(example, outputs, targets)
    tried = f"{example}_loss({outputs}, {targets})"
    output = tf.Variable(outputs)
    with tf.GradientTape() as recorded:
        got = loss(output * 1.0, np.float32(targets))  # a tensor, as the model's output is
    if got is None:
        raise Mismatch(tried, f"{expected:.5g}", "None", "the function returns nothing: add a return")
    if np.ndim(got) != 0:
        per_sample = np.size(got) == len(outputs) and math.isclose(float(np.mean(got)), expected, rel_tol=RTOL)
        one = np.size(got) == 1 and math.isclose(float(np.ravel(got)[0]), expected, rel_tol=RTOL)
        raise Mismatch(tried, f"a scalar, {expected:.5g}", f"shape {tuple(np.shape(got))}",
                       mistakes.NOT_REDUCED if per_sample else mistakes.KEEPS_A_DIMENSION if one else "")
    if not tf.is_tensor(got):
        raise Mismatch(tried, f"a TensorFlow tensor, {expected:.5g}", f"{type(got).__name__} {float(got):.5g}",
                       mistakes.OUTSIDE_TENSORFLOW)
    gradient = recorded.gradient(got, output)
    return tried, expected, float(got), None if gradient is None else gradient.numpy().astype(np.float64)


OPTIMIZER_GRADIENTS = [1.0, 50.0, -20.0, 0.5, 8.0, 100.0, -3.0, 30.0, 2.0, 1000.0]  # from 0.5 to 1000, both signs


def check_optimizer(example: str, make_optimizer) -> str:
    import tensorflow as tf

    rate = PROBLEMS[example].learning_rate
    others = {p.name: p.learning_rate for p in PROBLEMS.values() if p.name != example}
    tried = f"make_{example}_optimizer(), then {len(OPTIMIZER_GRADIENTS)} updates from A = 1 on gradients {_fmt(OPTIMIZER_GRADIENTS)}"
    optimizer = make_optimizer()
    if optimizer is None:
        raise Mismatch(tried, "an optimizer", "None", "the function returns nothing: return the optimizer")
    if make_optimizer() is optimizer:
        raise Mismatch(tried, "a new optimizer at every call", "the same object twice", mistakes.SHARED_OPTIMIZER)
    A = tf.Variable([1.0])
    values = [1.0]
    for gradient in OPTIMIZER_GRADIENTS:
        optimizer.apply_gradients([(tf.constant([gradient]), A)])
        values.append(float(A.numpy()[0]))
    for k, gradient in enumerate(OPTIMIZER_GRADIENTS):
        moved = values[k] - values[k + 1]
        if not math.isclose(moved, rate * gradient, rel_tol=RTOL, abs_tol=1e-5):  # A is float32
            raise Mismatch(tried, f"update {k + 1}, on gradient {gradient:g}, to move A by {rate} × {gradient:g} = "
                           f"{rate * gradient:.5g}", f"a move of {moved:.5g}",
                           mistakes.optimizer_mistake(rate, np.array(OPTIMIZER_GRADIENTS), np.array(values), others,
                                                       mistakes.stated_rate(optimizer)))
    before = values[-1]
    optimizer.apply_gradients([(tf.constant([math.inf]), A)])
    if float(A.numpy()[0]) != -math.inf:
        raise Mismatch(f"{tried}, then one on an infinite gradient (as a diverging run makes)",
                       f"A to move from {before:.5g} to -inf", f"A = {float(A.numpy()[0]):.5g}",
                       mistakes.SKIPPED_UPDATE if float(A.numpy()[0]) == before else "")
    return (f"a new optimizer at every call, moving A by {rate} × the gradient at every update, however large "
            "(an infinite gradient too)")


STEP_CASES = {  # (A, x, y): one step on one sample, from an A that is not 0 (where an extra term may vanish)
    "regression": (2.0, 1.0, 10.0),
    "classification": (-1.5, 0.5, 1.0),  # a logit of -1: away from 0, where a hand-written loss may have a kink
}
# After a step at the example's own rate, a step (and the loop) is handed an optimizer at another rate: it
# must use the optimizer it is handed. The step is handed the tutorial's (tf.compat.v1) optimizer there, which
# make_*_optimizer may return: it must work with that kind too.
HANDED_RATE = 0.1


STEPS_IN_A_ROW = {  # (x, y) of each step, taken one after another from STEP_CASES's A on one A and one optimizer
    "regression": ((1.0, 10.0), (2.0, 10.0), (1.5, 10.0)),
    "classification": ((0.5, 1.0), (-2.0, 0.0), (3.0, 1.0)),
}


def check_train_step(example: str, train_step) -> str:
    return "; ".join([*(_check_step_case(example, train_step, rate) for rate in (PROBLEMS[example].learning_rate, HANDED_RATE)),
                      _check_steps_in_a_row(example, train_step)])


def _check_step_case(example: str, train_step, rate: float) -> str:
    import tensorflow as tf

    problem = PROBLEMS[example]
    start, x, y = STEP_CASES[example]
    before = _loss_value(example, [problem.model(x, start)], [y])
    gradient = _gradient(example, x, y, start)
    after_A = start - rate * gradient
    after = _loss_value(example, [problem.model(x, after_A)], [y])
    tutorial = rate == HANDED_RATE
    handed = f"the tutorial's GradientDescentOptimizer({rate})" if tutorial else f"SGD({rate})"
    tried = f"from A = {start:g}, one step on x = {x:g}, y = {y:g} with {handed}"
    A = tf.Variable([start])
    optimizer = (tf.compat.v1.train.GradientDescentOptimizer(rate) if tutorial else
                 tf.keras.optimizers.SGD(learning_rate=rate))
    try:
        returned = train_step(A, np.float32([x]), np.float32([y]), optimizer)
    except Exception as error:  # the student's code may raise anything
        if not tutorial:
            raise
        raise Mismatch(tried, "a step", f"{type(error).__name__}: {error}"[:200], mistakes.TUTORIAL_OPTIMIZER)
    got_A = float(A.numpy()[0])
    if not math.isclose(got_A, after_A, rel_tol=RTOL):
        raise Mismatch(tried, f"A = {after_A:.5g} after the step", f"A = {got_A:.5g}",
                       mistakes.step_mistake(start, got_A, after_A, rate, gradient, problem.learning_rate))
    value = _number(returned)
    if value is None or not math.isclose(value, before, rel_tol=RTOL):
        mistake = ("nothing returned: return the loss" if returned is None else "" if value is None else
                   mistakes.LOSS_AFTER_UPDATE if math.isclose(value, after, rel_tol=RTOL) else
                   mistakes.returned_rounded(value, before) or "")
        raise Mismatch(tried, f"the loss before the update, {before:.5g}", repr(returned)[:80], mistake)
    return f"{tried}, A moves to {after_A:.5g} and the step returns the loss before it, {before:.5g}"


def _check_steps_in_a_row(example: str, train_step) -> str:
    """Each step from where the one before left A: a step that keeps something between calls shows (and is
    named when the same step on a fresh A and optimizer is right)."""
    import tensorflow as tf

    problem = PROBLEMS[example]
    rate, start, samples = problem.learning_rate, STEP_CASES[example][0], STEPS_IN_A_ROW[example]
    tried = f"from A = {start:g}, {len(samples)} steps in a row with one SGD({rate}), on (x, y) = {', '.join(map(str, samples))}"
    A, optimizer, returned = tf.Variable([start]), tf.keras.optimizers.SGD(learning_rate=rate), []
    for k, (x, y) in enumerate(samples):
        before_A = float(A.numpy()[0])
        value = train_step(A, np.float32([x]), np.float32([y]), optimizer)
        returned.append((value, _number(value)))
        got_A, gradient = float(A.numpy()[0]), _gradient(example, x, y, before_A)
        after_A = before_A - rate * gradient
        if not math.isclose(got_A, after_A, rel_tol=RTOL):
            fresh = tf.Variable([before_A])
            train_step(fresh, np.float32([x]), np.float32([y]), tf.keras.optimizers.SGD(learning_rate=rate))
            carried = math.isclose(float(fresh.numpy()[0]), after_A, rel_tol=RTOL)
            raise Mismatch(tried, f"step {k + 1} to move A from {before_A:.5g} to {after_A:.5g}", f"A = {got_A:.5g}",
                           mistakes.STEP_KEEPS_STATE if carried else
                           mistakes.step_mistake(before_A, got_A, after_A, rate, gradient, rate))
    for k, (value, then) in enumerate(returned):
        if then is not None and _number(value) != then:
            raise Mismatch(tried, f"step {k + 1}'s returned loss to stay {then:.5g}", f"{_number(value)} after the "
                           "steps that followed", mistakes.RETURNED_BUFFER)
    return f"{tried}, each step moves A from where the one before left it"


LOOP_CASES = {  # (x_vals, y_vals, indices): three samples, five steps; the indices repeat and are not sorted; no
    # logit is exactly 0 at any step, the samples in either order (a correct hand-written cross-entropy has a kink there)
    "regression": ([1.0, 2.0, 1.5], [10.0, 10.0, 10.0], [2, 0, 2, 1, 0]),
    "classification": ([0.5, 5.0, -2.0], [1.0, 0.0, 0.0], [2, 0, 2, 1, 0]),
}


def _by_hand(example: str, x_vals, y_vals, samples, rate: float = HANDED_RATE,
             start: float = 0.0) -> tuple[list[float], list[float]]:
    """A after each correct step on these samples, and each step's loss before it."""
    problem = PROBLEMS[example]
    A, history, losses = start, [], []
    for i in samples:
        losses.append(_loss_value(example, [problem.model(x_vals[i], A)], [y_vals[i]]))
        A = float(np.float32(A - rate * _gradient(example, x_vals[i], y_vals[i], A)))
        history.append(A)
    return history, losses


def check_train_loop(example: str, train) -> str:
    import tensorflow as tf

    problem = PROBLEMS[example]
    x_vals, y_vals, indices = LOOP_CASES[example]
    expected, losses = _by_hand(example, x_vals, y_vals, indices)
    tried = f"from A = 0 on x_vals = {x_vals}, indices = {indices}, with SGD({HANDED_RATE})"
    A = tf.Variable([0.0])
    got, final_A = _run_loop(tried, train, x_vals, y_vals, indices, A)
    if len(got) != len(indices):
        raise Mismatch(tried, f"{len(indices)} values, one per index", f"{len(got)} values",
                       mistakes.count_mistake(_numbers(got), expected, len(x_vals), problem.steps))
    if not all(isinstance(a, float) for a in got):
        values = [_number(a) for a in got]
        held = None if None in values else mistakes.trajectory_mistake(values, expected, {}, 0.0, final_A)
        raise Mismatch(tried, "Python floats", ", ".join(sorted({type(a).__name__ for a in got})), held or mistakes.NOT_FLOATS)
    if not np.allclose(got, expected, rtol=RTOL):
        alternatives = {
            mistakes.INDICES_IGNORED: _by_hand(example, x_vals, y_vals, [t % len(x_vals) for t in range(len(indices))])[0],
            mistakes.LOSS_RECORDED: losses,
            mistakes.handed_optimizer_not_used(example, problem.learning_rate, HANDED_RATE):
                _by_hand(example, x_vals, y_vals, indices, problem.learning_rate)[0],
        }
        t = int(np.argmax(~np.isclose(got, expected, rtol=RTOL)))
        start = 0.0 if t == 0 else got[t - 1]
        one_step = [_by_hand(example, x_vals, y_vals, [i], start=start)[0][0] for i in range(len(x_vals))]
        raise Mismatch(tried, f"A after each step: {_fmt(expected)}", _fmt(got),
                       mistakes.trajectory_mistake(got, expected, alternatives, 0.0, final_A)
                       or mistakes.wrong_sample(t, got[t], one_step, indices[t]))
    if got[-1] != final_A:
        raise Mismatch(tried, "the history to end at A's final value", f"{got[-1]} while A is {final_A}",
                       mistakes.TRAINED_A_COPY)
    # Again on the same A, with the samples in reverse order: other data of the same size, trained on afresh.
    x_back, y_back = x_vals[::-1], y_vals[::-1]
    tried_again = f"then from A = 0 again, on the same A, with the samples in reverse order (x_vals = {x_back})"
    expected_again = _by_hand(example, x_back, y_back, indices)[0]
    again = _numbers(_run_loop(tried_again, train, x_back, y_back, indices, A)[0])
    if not (len(again) == len(indices) and np.allclose(again, expected_again, rtol=RTOL)):
        raise Mismatch(tried_again, f"A after each step: {_fmt(expected_again)}", _fmt(again),
                       mistakes.count_mistake(again, expected_again, len(x_vals), problem.steps)
                       if len(again) != len(indices) else
                       mistakes.EARLIER_DATA if np.allclose(again, _by_hand(example, x_vals, y_vals, indices)[0], rtol=RTOL)
                       else "")
    return f"{tried}, A goes {_fmt(expected)}; {tried_again}, A goes {_fmt(expected_again)}"


def _run_loop(tried: str, train, x_vals: list[float], y_vals: list[float], indices: list[int], A) -> tuple[list, float]:
    """What the loop returns from A set to 0 with a new optimizer, as a list, and where it leaves A."""
    import tensorflow as tf

    A.assign([0.0])
    given_x, given_y = np.float32(x_vals), np.float32(y_vals)
    got = train(given_x, given_y, A, tf.keras.optimizers.SGD(learning_rate=HANDED_RATE), indices)
    _left_as_it_was(tried, "x_vals", given_x, x_vals)
    _left_as_it_was(tried, "y_vals", given_y, y_vals)
    if got is None:
        raise Mismatch(tried, f"A's {len(indices)} values, one per step", "None", "nothing returned: return the history")
    return list(got), float(A.numpy()[0])


PREDICT_CASES = (([-3.0, 0.5, 1.0, 1.2, 3.0], -1.0),  # the boundary is x = -A = 1; x = 1 is on it
                 ([-1000.0, -1.0, -0.5, 0.2, 0.8, 1.5], 0.5),  # exp(1000.5) overflows
                 ([1.3, 1.36, 1.38, 1.45], -1.37),  # points 0.01 beside the boundary: A must not be rounded
                 ([2.5], -1.0))  # one point: still a 1-D array


def check_predict(predict) -> str:
    """Every case is run before any verdict, so a mistake is named only if it gives every case's classes."""
    import tensorflow as tf

    returned = []
    for x, A in PREDICT_CASES:
        tried = f"predict({x}, A = {A:g}), boundary x = {-A:g}"
        x_vals = np.float32(x)
        got = predict(x_vals, tf.Variable([A]))
        _left_as_it_was(tried, "x_vals", x_vals, x)
        if got is None:
            raise Mismatch(tried, str([int(v >= -A) for v in x]), "None", "nothing returned: return the classes")
        array = np.asarray(got)
        if array.shape != (len(x),):
            raise Mismatch(tried, f"a 1-D array of {len(x)} classes", f"shape {array.shape}",
                           "" if array.size != len(x) else
                           mistakes.ZERO_DIMENSIONAL if array.ndim == 0 else mistakes.NOT_ONE_DIMENSIONAL)
        returned.append((tried, x, A, array))
    for tried, x, A, array in returned:
        expected = [int(np.float32(v) + np.float32(A) >= 0) for v in x]
        classes = np.isin(array, (0, 1)).all()
        if not classes or array.astype(int).tolist() != expected:
            raise Mismatch(tried, str(expected), str(array.astype(int).tolist()) if classes else _fmt(array),
                           mistakes.predict_mistake([(np.float32(x), A, a) for _, x, A, a in returned]))
    return "; ".join(f"{tried} gives {[int(v) for v in array]}" for tried, _, _, array in returned)


DEPENDS_ON = {  # a step calls the example's loss, a loop its step: their mistakes show up here too
    **{f"{e}_train_step": f"{e}_loss" for e in PROBLEMS},
    **{f"train_{e}": f"{e}_train_step" for e in PROBLEMS},
}

CHECKS = {
    **{f"{e}_loss": (check_loss, e) for e in PROBLEMS},
    **{f"make_{e}_optimizer": (check_optimizer, e) for e in PROBLEMS},
    **{f"{e}_train_step": (check_train_step, e) for e in PROBLEMS},
    **{f"train_{e}": (check_train_loop, e) for e in PROBLEMS},
    "predict": (check_predict, None),
}


def check(name: str, namespace: dict) -> Finding:
    """Run the visible checks of the function `name` found in `namespace`; never raises."""
    kind, example = CHECKS[name]
    function = namespace.get(name)
    if not callable(function):
        return Finding(name, False, "looking for the function", f"{name} defined", "not defined yet",
                       "its cell has not been run: run it (Shift+Enter), then check again")
    quiet = io.StringIO()  # what the student's code prints stays out of the answer
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            passed = kind(function) if example is None else kind(example, function)
        return Finding(name, True, passed)
    except Mismatch as mismatch:
        finding = Finding(name, False, mismatch.tried, mismatch.expected, mismatch.got, mismatch.mistake)
    except Exception as error:
        if isinstance(error, NotImplementedError) and not error.args:  # the template's (TensorFlow's say why)
            return Finding(name, False, "calling it", "an answer", "NotImplementedError",
                           "not written yet: replace raise NotImplementedError() with your code")
        finding = Finding(name, False, "calling it", "an answer", f"{type(error).__name__}: {error}",
                          mistakes.RAISED)
    used = DEPENDS_ON.get(name)
    if used and not check(used, namespace).passed:
        finding.mistake = f"your {used} does not pass its check yet, and {name} uses it: fix {used} first"
    return finding


class CheckMyWork:
    """A "Check my work" button and the answer beside it, for one function."""

    def __init__(self, name: str, namespace: dict):
        import ipywidgets as widgets

        if name not in CHECKS:
            raise ValueError(f"no checks for {name!r}; the functions are {', '.join(CHECKS)}")
        self.name, self._namespace = name, namespace
        self.button = widgets.Button(description="Check my work", icon="check", tooltip=f"run the checks of {name}")
        self.result = widgets.HTML("")
        self.result.add_class("check-my-work-result")
        self.widget = widgets.HBox([self.button, self.result])
        self.widget.add_class("check-my-work")
        self.widget.add_class(f"check-my-work-{name}")
        self.button.on_click(lambda _: self.run())

    def run(self) -> Finding:
        self.button.disabled = True
        try:
            finding = check(self.name, self._namespace)
            self.result.value = finding.html()
            return finding
        finally:
            self.button.disabled = False

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"Check my work ({self.name}): a button, in Jupyter."
        return bundle


def check_my_work(name: str) -> CheckMyWork:
    """The "Check my work" control for the function `name`, looked up in the caller's namespace."""
    return CheckMyWork(name, sys._getframe(1).f_globals)
