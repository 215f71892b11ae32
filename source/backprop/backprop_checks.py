"""Check my work: the visible checks of each exercise, answered in plain words.

`check_my_work("regression_loss")` shows a button; pressing it runs the checks for that function (looked
up by name then, so the latest run of its cell counts) and says what was tried, what was expected, what
came back and, when the answer matches a common mistake, which one. These are the checks of the notebook's
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

from backprop_problem import PROBLEMS

RTOL = 1e-4


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


# dA of one sample's loss, as the notebook derives them: 2x(Ax - y) for the L2 loss, sigmoid(x + A) - y
# for the cross-entropy. The checks follow a correct step by hand with them.
GRADIENT = {
    "regression": lambda x, y, A: 2 * x * (A * x - y),
    "classification": lambda x, y, A: _sigmoid(x + A) - y,
}


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
    """A check that failed: what was expected, what came back, the likely mistake."""

    def __init__(self, tried: str, expected: str, got: str, mistake: str = ""):
        super().__init__(expected)
        self.tried, self.expected, self.got, self.mistake = tried, expected, got, mistake


def _number(value) -> float | None:
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(-1)[0]) if np.size(value) == 1 else None
    except (TypeError, ValueError):
        return None


def _likely(got: float, mistakes: dict[str, float]) -> str:
    return next((m for m, value in mistakes.items() if math.isclose(got, value, rel_tol=RTOL, abs_tol=1e-6)), "")


def _fmt(values) -> str:
    return "[" + ", ".join(f"{v:.5g}" for v in values) + "]"


# --- the checks, one per kind of exercise, each taking the example's name ------------------------------

LOSS_INPUTS = {  # (model outputs, targets) for each example's loss: ordinary values, then large ones
    "regression": [([2.0, 4.0, 1.0], [0.0, 1.0, 1.0]), ([40.0, -25.0], [10.0, 5.0])],
    "classification": [([0.5, 2.0, -1.0], [0.0, 1.0, 1.0]), ([30.0, -30.0, 25.0], [0.0, 1.0, 1.0])],
}


def _cross_entropy(z, y):
    """-y log p - (1 - y) log(1 - p) with p = sigmoid(z), written so that it stays exact for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    return np.logaddexp(0.0, z) - y * z


def _loss_values(example: str, outputs, targets) -> tuple[float, dict[str, float]]:
    """The loss the exercise asks for on these inputs, and what common mistakes give instead."""
    z, y = np.asarray(outputs, np.float64), np.asarray(targets, np.float64)
    if example == "regression":
        squares = (z - y) ** 2
        return squares.mean(), {
            "the sum of the squared errors instead of their mean: use tf.reduce_mean": squares.sum(),
            "tf.nn.l2_loss, which is half the sum of the squares, not their mean": squares.sum() / 2,
            "absolute errors (an L1 loss): square the errors instead": np.abs(z - y).mean(),
            "the square root of the mean (RMSE): leave the mean of the squares as it is": math.sqrt(squares.mean()),
        }
    losses = _cross_entropy(z, y)
    return losses.mean(), {
        "the sum over the batch instead of the mean: use tf.reduce_mean": losses.sum(),
        "labels and logits swapped: pass labels=labels, logits=logits": _cross_entropy(y, z).mean(),
        "the sigmoid applied twice: the cross-entropy with logits applies it itself": _cross_entropy(_sigmoid(z), y).mean(),
        "the squared error of the probabilities, not the cross-entropy": ((_sigmoid(z) - y) ** 2).mean(),
    }


def check_loss(example: str, loss) -> str:
    (ordinary, large) = LOSS_INPUTS[example]  # the large case runs once the ordinary one passes
    return "; ".join([_check_loss_case(example, loss, *ordinary), _check_loss_case(example, loss, *large, large=True)])


LARGE_LOSS_MISTAKE = {
    "regression": "right for small errors, wrong for large ones",
    "classification": "right for small logits, wrong for large ones, where sigmoid(x + A) rounds to 0 or 1: compute "
                      "the loss from the logits (tf.nn.sigmoid_cross_entropy_with_logits), not as the log of a sigmoid, "
                      "and with no clipping or epsilon",
}


def _check_loss_case(example: str, loss, outputs: list[float], targets: list[float], large: bool = False) -> str:
    import tensorflow as tf

    expected, mistakes = _loss_values(example, outputs, targets)
    tried = f"{example}_loss({outputs}, {targets})"
    got = loss(tf.constant(outputs), np.float32(targets))
    if got is None:
        raise Mismatch(tried, f"{expected:.5g}", "None", "the function returns nothing: add a return")
    if np.ndim(got) != 0:
        mistake = ("the loss of each sample, not reduced to one number: take the mean with tf.reduce_mean"
                   if np.size(got) == len(outputs) else
                   "one number, but with a dimension kept: return a scalar (no keepdims=True)" if np.size(got) == 1 else "")
        raise Mismatch(tried, f"a scalar, {expected:.5g}", f"shape {tuple(np.shape(got))}", mistake)
    if not tf.is_tensor(got):
        raise Mismatch(tried, f"a TensorFlow tensor, {expected:.5g}", f"{type(got).__name__} {float(got):.5g}",
                       "computed with NumPy or Python: the gradient cannot flow back through it; use tf operations")
    value = float(got)
    if not math.isclose(value, expected, rel_tol=RTOL):
        mistake = _likely(value, mistakes) or (LARGE_LOSS_MISTAKE[example] if large else "")
        raise Mismatch(tried, f"{expected:.5g}", f"{value:.5g}", mistake)
    return f"{tried} = {expected:.5g}, a scalar tensor"


def check_optimizer(example: str, make_optimizer) -> str:
    import tensorflow as tf

    rate = PROBLEMS[example].learning_rate
    other = next(p.learning_rate for p in PROBLEMS.values() if p.name != example)
    tried = f"make_{example}_optimizer(), then steps on gradients 1 and 50 from A = 1"
    optimizer = make_optimizer()
    if optimizer is None:
        raise Mismatch(tried, "an optimizer", "None", "the function returns nothing: return the optimizer")
    if make_optimizer() is optimizer:
        raise Mismatch(tried, "a new optimizer at every call", "the same object twice",
                       "one optimizer made outside the function: create it inside, at every call")
    A = tf.Variable([1.0])
    optimizer.apply_gradients([(tf.constant([1.0]), A)])
    moved = 1.0 - float(A.numpy()[0])
    if not math.isclose(moved, rate, rel_tol=RTOL):
        mistake = (f"the other example's learning rate, {other}" if math.isclose(moved, other, rel_tol=RTOL)
                   else f"a learning rate of about {moved:.3g} instead of {rate}" if moved > 0 else "")
        raise Mismatch(tried, f"one step on gradient 1 to move A from 1 to {1 - rate:g}", f"A = {A.numpy()[0]:.5g}", mistake)
    optimizer.apply_gradients([(tf.constant([50.0]), A)])
    second = 1.0 - rate - float(A.numpy()[0])
    if not math.isclose(second, 50 * rate, rel_tol=RTOL):
        raise Mismatch(tried, f"a second step, on gradient 50, to move A by 50 × {rate} = {50 * rate:g}",
                       f"a move of {second:.5g}", "momentum, an adaptive optimizer (Adam, RMSprop), clipping or weight "
                       "decay changes the step: plain gradient descent moves by exactly learning rate × gradient, "
                       "however large")
    return f"a new optimizer at every call, moving A by {rate} × the gradient at every step"


STEP_CASES = {  # (A, x, y): from A = 0, one step on one sample
    "regression": (0.0, 1.0, 10.0),
    "classification": (0.0, 0.5, 1.0),  # a logit of 0.5: away from 0, where a hand-written loss may have a kink
}


def check_train_step(example: str, train_step) -> str:
    import tensorflow as tf

    problem = PROBLEMS[example]
    start, x, y = STEP_CASES[example]
    before, _ = _loss_values(example, [problem.model(x, start)], [y])
    after_A = start - problem.learning_rate * GRADIENT[example](x, y, start)
    after, _ = _loss_values(example, [problem.model(x, after_A)], [y])
    tried = f"from A = {start:g}, one step on x = {x:g}, y = {y:g} with SGD({problem.learning_rate})"
    A = tf.Variable([start])
    returned = train_step(A, np.float32([x]), np.float32([y]), tf.keras.optimizers.SGD(learning_rate=problem.learning_rate))
    got_A = float(A.numpy()[0])
    if not math.isclose(got_A, after_A, rel_tol=RTOL):
        mistakes = {"A did not move: the gradient was never applied (optimizer.apply_gradients)": start,
                    "A moved up the gradient (gradient ascent): the optimizer subtracts the gradient itself":
                        2 * start - after_A,
                    "the gradient was applied twice": 2 * after_A - start}
        raise Mismatch(tried, f"A = {after_A:.5g} after the step", f"A = {got_A:.5g}", _likely(got_A, mistakes))
    value = _number(returned)
    if value is None or not math.isclose(value, before, rel_tol=RTOL):
        mistake = ("nothing returned: return the loss" if returned is None else
                   "the loss after the update: return the one computed under the tape"
                   if value is not None and math.isclose(value, after, rel_tol=RTOL) else "")
        raise Mismatch(tried, f"the loss before the update, {before:.5g}", repr(returned)[:80], mistake)
    return f"{tried}, A moves to {after_A:.5g} and the step returns the loss before it, {before:.5g}"


LOOP_CASES = {  # (x_vals, y_vals, indices): three samples, two steps
    "regression": ([1.0, 2.0, 1.5], [10.0, 10.0, 10.0], [1, 0]),
    "classification": ([0.0, 5.0, -2.0], [1.0, 0.0, 0.0], [1, 0]),
}


def _by_hand(example: str, x_vals, y_vals, samples) -> tuple[list[float], list[float]]:
    """A after each correct step on these samples from A = 0, and each step's loss before it."""
    problem = PROBLEMS[example]
    A, history, losses = 0.0, [], []
    for i in samples:
        losses.append(_loss_values(example, [problem.model(x_vals[i], A)], [y_vals[i]])[0])
        A = float(np.float32(A - problem.learning_rate * GRADIENT[example](x_vals[i], y_vals[i], A)))
        history.append(A)
    return history, losses


def check_train_loop(example: str, train) -> str:
    import tensorflow as tf

    x_vals, y_vals, indices = LOOP_CASES[example]
    rate = PROBLEMS[example].learning_rate
    expected, losses = _by_hand(example, x_vals, y_vals, indices)
    A = tf.Variable([0.0])
    tried = f"from A = 0 on x_vals = {x_vals}, indices = {indices}"
    got = train(np.float32(x_vals), np.float32(y_vals), A, tf.keras.optimizers.SGD(learning_rate=rate), indices)
    if got is None:
        raise Mismatch(tried, f"A's {len(indices)} values, one per step", "None", "nothing returned: return the history")
    got = list(got)
    if len(got) != len(indices):
        mistake = "one step per sample of x_vals instead of one per index" if len(got) == len(x_vals) else ""
        raise Mismatch(tried, f"{len(indices)} values, one per index", f"{len(got)} values", mistake)
    if not all(isinstance(a, float) for a in got):
        raise Mismatch(tried, "Python floats", ", ".join(sorted({type(a).__name__ for a in got})),
                       "store float(A.numpy()[0]), not the variable or an array")
    if not np.allclose(got, expected, rtol=RTOL):
        mistakes = {
            "the indices are ignored: step t used sample t instead of sample indices[t]":
                _by_hand(example, x_vals, y_vals, range(len(indices)))[0],
            "A recorded before each step instead of after it": [0.0, *expected[:-1]],
            "the loss recorded instead of A": losses,
        }
        mistake = next((m for m, values in mistakes.items() if np.allclose(got, values, rtol=RTOL)), "")
        raise Mismatch(tried, f"A after each step: {_fmt(expected)}", _fmt(got), mistake)
    if got[-1] != float(A.numpy()[0]):
        raise Mismatch(tried, "the history to end at A's final value", f"{got[-1]} while A is {A.numpy()[0]}")
    return f"{tried}, A goes {_fmt(expected)}"


PREDICT_CASES = (([-3.0, 0.5, 1.0, 1.2, 3.0], -1.0),  # the boundary is x = -A = 1; x = 1 is on it
                 ([-1.0, -0.5, 0.2, 0.8, 1.5], 0.5))


def check_predict(predict) -> str:
    return "; ".join(_check_predict_case(predict, x, A) for x, A in PREDICT_CASES)


def _check_predict_case(predict, x: list[float], A: float) -> str:
    import tensorflow as tf

    expected = [int(v >= -A) for v in x]
    tried = f"predict({x}, A = {A:g}), boundary x = {-A:g}"
    got = predict(np.float32(x), tf.Variable([A]))
    if got is None:
        raise Mismatch(tried, str(expected), "None", "nothing returned: return the classes")
    array = np.asarray(got)
    if array.shape != (len(x),):
        raise Mismatch(tried, f"a 1-D array of {len(x)} classes", f"shape {array.shape}", "flatten it to 1-D")
    if not np.all(np.isin(array, (0, 1))):
        raise Mismatch(tried, str(expected), _fmt(array), "probabilities, not classes: 1 where the probability is "
                       "at least 0.5, else 0")
    got_classes = array.astype(int).tolist()
    if got_classes != expected:
        mistakes = {
            "the logit x + A compared with 0.5: compare the probability sigmoid(x + A) with 0.5":
                [int(v + A >= 0.5) for v in x],
            "> instead of >=: a point on the boundary has probability exactly 0.5, and is class 1":
                [int(v > -A) for v in x],
            "the classes swapped: class 1 is where the probability is high": [1 - c for c in expected],
            "a boundary that stays put: it moves with A, to x = -A": [int(v >= 1) for v in x],
        }
        raise Mismatch(tried, str(expected), str(got_classes), next((m for m, c in mistakes.items() if c == got_classes), ""))
    return f"{tried} gives {expected}"


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
    except NotImplementedError:
        return Finding(name, False, "calling it", "an answer", "NotImplementedError",
                       "not written yet: replace raise NotImplementedError() with your code")
    except Exception as error:
        finding = Finding(name, False, "calling it", "an answer", f"{type(error).__name__}: {error}",
                          "it raised this error: fix the line it comes from")
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
