"""The catalogue of mistakes: the words a student reads for each common wrong answer, and how to recognise
it from numbers alone.

One catalogue for both places a student reads about a mistake: "Check my work" in the notebook
(`backprop_checks.py`) and the grader's feedback (`autograder.checks`). Each gets the same words for the same
mistake because both call these recognisers, each on its own inputs. A recogniser replays the known mistakes
on the inputs that were tried and returns the words of the first one that reproduces what came back; None
means no known mistake fits, and only expected versus got is said: a diagnosis is right or silent.

It ships to students as `backprop_mistakes.py` (a symlink in `source/backprop/`, copied as a file into
`release/`), so it imports nothing but NumPy and holds no solution beyond what the exercises' text says.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def sigmoid(z):
    """In float64, exact for large |z| (no overflow in exp)."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, np.float64)))


def cross_entropy(logits, labels):
    """sigmoid_cross_entropy_with_logits in float64: max(z, 0) - z y + log(1 + exp(-|z|))."""
    logits, labels = np.asarray(logits, np.float64), np.asarray(labels, np.float64)
    return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))


# --- mistakes seen directly, without replaying anything ----------------------------------------------------

NOT_REDUCED = "the loss is not reduced: take the mean over the batch (tf.reduce_mean)"
KEEPS_A_DIMENSION = "the value is right but keeps a dimension: reduce to a scalar (no keepdims=True, no [1]-shaped result)"
OUTSIDE_TENSORFLOW = ("the loss is computed outside TensorFlow (NumPy, or .numpy()), so backpropagation cannot see it; "
                      "use tf operations on the tensors")
HIDDEN_FROM_THE_TAPE = "part of the computation is hidden from the tape (tf.stop_gradient or a constant)"
NAN_GRADIENT_AT_FIT = ("the gradient is not a number where every error is 0, as with the square of "
                       "tf.math.reduce_euclidean_norm (its derivative divides by the norm, 0 there): take the mean of "
                       "the squared errors (tf.square)")
UPSTREAM_IGNORED = ("the gradient ignores the upstream gradient: a hand-written gradient (tf.custom_gradient) must "
                    "multiply what it returns by the upstream gradient it is handed, or the loss is wrong inside any "
                    "larger computation (3 x the loss, a sum of losses)")
SHARED_OPTIMIZER = ("one optimizer made outside the function and returned at every call: create a new one inside "
                    "the function (an optimizer keeps state for the variables it has updated)")
LOSS_AFTER_UPDATE = "the loss after the update was returned; return the one computed under the tape"
TRAINED_A_COPY = "the loop trained a copy of A, or another variable: train the variable A it is handed"
NOT_FLOATS = "store float(A.numpy()[0]) after each step: a Python float, not the variable or an array"
CHANGED_INPUT = ("it changed an array it was handed, in place (x_vals += A, say): compute new values and leave the "
                 "caller's data as it was (the notebook's later cells use it)")
RAISED = "it raised this error: fix the line it comes from"
NOT_ONE_DIMENSIONAL = "a column or row instead of a 1-D array: flatten it (np.ravel, or [:, 0])"
ZERO_DIMENSIONAL = ("a 0-D value instead of a 1-D array of one class (np.squeeze does that to a single point): "
                    "flatten with np.ravel, or [:, 0]")


# --- losses --------------------------------------------------------------------------------------------

# (what the student did, what that computes from (model output, targets)), in float64.
LOSS_MISTAKES: dict[str, list[tuple[str, Callable]]] = {
    "regression": [
        ("the L1 loss (mean absolute error) instead of the L2 loss (mean of squared errors)",
         lambda p, t: np.mean(np.abs(p - t))),
        ("tf.nn.l2_loss, which is half the *sum* of the squared errors; the L2 loss here is their mean",
         lambda p, t: np.sum((p - t) ** 2) / 2),
        ("the sum of the squared errors instead of their mean (use tf.reduce_mean)",
         lambda p, t: np.sum((p - t) ** 2)),
        ("half the mean squared error", lambda p, t: np.mean((p - t) ** 2) / 2),
        ("the root of the mean squared error (RMSE) instead of the mean squared error",
         lambda p, t: np.sqrt(np.mean((p - t) ** 2))),
        ("the mean error without squaring it", lambda p, t: np.mean(p - t)),
        ("the target 10 written in: the loss must compare the output with the targets it is handed (y_true)",
         lambda p, t: np.mean((p - 10.0) ** 2)),
    ],
    "classification": [
        ("labels and logits swapped: tf.nn.sigmoid_cross_entropy_with_logits takes labels first when called "
         "positionally; call it with labels=... and logits=... by name",
         lambda z, y: np.mean(cross_entropy(y, z))),
        ("the sigmoid applied twice: sigmoid_cross_entropy_with_logits applies it itself, so pass the logits "
         "x + A, not sigmoid(x + A)",
         lambda z, y: np.mean(cross_entropy(sigmoid(z), y))),
        ("the mean squared error of the probabilities instead of the cross-entropy",
         lambda z, y: np.mean((sigmoid(z) - y) ** 2)),
        ("the sum of the cross-entropies instead of their mean (use tf.reduce_mean)",
         lambda z, y: np.sum(cross_entropy(z, y))),
        ("the labels inverted (1 - y): the loss rewards the wrong class",
         lambda z, y: np.mean(cross_entropy(z, 1 - y))),
        ("binary cross-entropy of sigmoid(x + A) with probabilities clipped to [1e-7, 1 - 1e-7] (Keras's "
         "from_logits=False): wrong once the sigmoid rounds to 0 or 1; pass the logits (from_logits=True)",
         lambda z, y: np.mean(-(y * np.log(_clipped_sigmoid(z)) + (1 - y) * np.log(1 - _clipped_sigmoid(z))))),
        ("binary cross-entropy of the logits as if they were probabilities (from_logits=False)",
         lambda z, y: np.mean(-(y * np.log(np.clip(z, 1e-7, 1 - 1e-7)) + (1 - y) * np.log(np.clip(1 - z, 1e-7, 1 - 1e-7))))),
    ],
}


def _clipped_sigmoid(z):
    """Keras's probabilities: sigmoid in float32, clipped to [1e-7, 1 - 1e-7] (in float32 too)."""
    p = sigmoid(np.float32(z)).astype(np.float32)
    return np.clip(p, np.float32(1e-7), np.float32(1) - np.float32(1e-7)).astype(np.float64)


def _close(a, b, rtol=1e-3, atol=1e-5) -> bool:
    return bool(np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol, equal_nan=False))


LARGE = {"regression": ("errors", "a loss that grows more slowly than the square for large errors (Huber, "
                                  "clipped or capped errors)"),
         "classification": ("logits", "a form that breaks once sigmoid(x + A) rounds to 0 or 1 in float32 (the log "
                                      "of a sigmoid, a clip or an epsilon inside the log); compute it from the "
                                      "logits, as tf.nn.sigmoid_cross_entropy_with_logits does")}


def _wrong_only_for_large(problem_name: str, got: Sequence[float], wrong: Sequence[bool],
                          large: Sequence[bool]) -> tuple[str, str, str] | None:
    """(what the large inputs are, ", even nan or inf," or "", the likely cause) where every wrong case is a
    large one (`large` marks those)."""
    if any(wrong) and not any(w for w, big in zip(wrong, large) if not big):
        what, likely = LARGE[problem_name]
        return what, "" if np.all(np.isfinite(got)) else ", even nan or inf,", likely
    return None


def large_gradient_mistake(problem_name: str, got: Sequence[float], wrong: Sequence[bool],
                           large: Sequence[bool]) -> str | None:
    """Where a loss's values are right everywhere: its gradient right for ordinary inputs and wrong only for
    the large ones, as a formula whose derivative breaks where a sigmoid rounds to 1."""
    found = _wrong_only_for_large(problem_name, got, wrong, large)
    if found is None:
        return None
    what, finite, likely = found
    return (f"the values are right, and so is the gradient for ordinary {what}, but it is wrong{finite} for "
            f"large ones: {likely}")


def loss_mistake(problem_name: str, outputs: Sequence[np.ndarray], targets: Sequence[np.ndarray],
                 got: Sequence[float], expected: Sequence[float], wrong: Sequence[bool],
                 large: Sequence[bool]) -> str | None:
    """The known loss mistake that reproduces `got` on every batch, if one does; else what was observed of
    the difference: right on the ordinary batches but not on the large ones (`large` marks those), or a
    constant factor."""
    for description, mistaken in LOSS_MISTAKES[problem_name]:
        if all(_close(mistaken(np.float64(p), np.float64(t)), g) for p, t, g in zip(outputs, targets, got)):
            return description
    found = _wrong_only_for_large(problem_name, got, wrong, large)
    if found:
        what, finite, likely = found
        return f"right for ordinary {what}, wrong{finite} for large ones: {likely}"
    ratios, sizes = [g / e for g, e in zip(got, expected) if e != 0], [np.size(p) for p, e in zip(outputs, expected) if e != 0]
    if ratios and all(n > 1 for n in sizes) and _close(ratios, [n / (n - 1) for n in sizes], rtol=1e-4, atol=0):
        return "divided by n - 1 instead of n: take the mean over the batch"
    if len(ratios) == len(got) and np.all(np.isfinite(ratios)) and _close(ratios, ratios[0], rtol=1e-4, atol=0):
        return f"on every batch the value is {ratios[0]:.6g} times the expected one: a constant factor"
    return None


# --- optimizers ----------------------------------------------------------------------------------------

SKIPPED_UPDATE = ("an update with an infinite gradient left the variable where it was: plain gradient descent applies "
                  "every gradient as it is, even one a diverging run makes (no loss scaling, no skipping)")


def optimizer_mistake(learning_rate: float, gradients: np.ndarray, values: np.ndarray,
                      other_rates: dict[str, float], stated_rate: float | None = None) -> str | None:
    """Name what an optimizer did from how each update's move differs from learning rate x gradient.

    Plain gradient descent moves by exactly that at every update, whatever the gradient's size, the
    variable's value or the updates before. Only updates large enough to measure well are read.
    `stated_rate`: the optimizer's own learning_rate, where it has one (a right one that moves by another
    rate is scaled by something else).
    """
    gradients, values = np.asarray(gradients, np.float64), np.asarray(values, np.float64)
    moves = values[:-1] - values[1:]
    plain = learning_rate * gradients
    excess = moves - plain
    right = np.abs(excess) <= 1e-4 * np.abs(plain) + 1e-6
    clear = np.abs(plain) > 1e-3  # moves far above float32 rounding of the variable
    rates = moves / gradients
    # How far float32 rounding of the variable alone can move each update's rate.
    rounding = 4 * np.spacing(np.maximum(np.abs(values[:-1]), np.abs(values[1:])).astype(np.float32)) / np.abs(gradients)
    rate = float(np.median(rates[clear])) if clear.any() else float(np.median(rates))
    if np.all(np.abs(rates - rate) <= 1e-4 * abs(rate) + rounding) and not _close(rate, learning_rate, rtol=1e-3, atol=0):
        if stated_rate is not None and _close(stated_rate, learning_rate, rtol=1e-6, atol=0):
            return (f"every update moved by {rate:.4g} x the gradient, though the optimizer's learning rate is "
                    f"{learning_rate:g}: something else scales the gradients it applies (loss_scale_factor, say); "
                    "plain gradient descent applies them as they are")
        if _close(rate, -learning_rate, rtol=1e-3, atol=0):
            return "gradient ascent: the update goes uphill (a negative learning rate)"
        for name, other in other_rates.items():
            if _close(rate, other, rtol=1e-3, atol=0):
                return f"learning rate {other:g}, the {name} example's; this example uses {learning_rate:g}"
        return f"learning rate {rate:.4g} instead of {learning_rate:g}"
    rates = rates[clear]
    still = moves == 0
    if still.any() and np.all(still[::2]) != np.all(still[1::2]):
        return "every other update left the variable where it was: gradients accumulated over several updates"
    carried = clear[1:] & (np.abs(moves[:-1]) > 0.1)  # the previous move, large enough to see a share of it
    if _fits(excess[1:][carried] / moves[:-1][carried]):
        beta = float(np.median(excess[1:][carried] / moves[:-1][carried]))
        return (f"each update also carried {beta:.2g} of the previous one: momentum {beta:.2g}; plain gradient "
                "descent has none")
    decayed = clear & (np.abs(values[:-1]) > 1.0)
    if _fits(excess[decayed] / values[:-1][decayed]):
        shrink = float(np.median(excess[decayed] / values[:-1][decayed]))
        return f"every update also shrank the variable by {shrink:.2g} of its value: weight decay"
    small, large = np.abs(gradients) < 1.0, np.abs(gradients) > 10.0
    cut = np.abs(moves[~right])
    if (np.all(right[small]) and np.any(~right[large]) and np.all(cut < np.abs(plain[~right]))
            and len(cut) >= 2 and np.allclose(cut, cut.max(), rtol=1e-2)):  # every cut update moved by the same cap
        cap = np.abs(gradients[right]).max()
        return (f"gradients up to {cap:.3g} were applied in full, larger ones were cut: gradient clipping "
                "(clipvalue, clipnorm or global_clipnorm); plain gradient descent applies every gradient in full")
    if len(rates) >= 5:
        chunks = [np.median(chunk) for chunk in np.array_split(rates, 5)]
        wrong_from = int(np.argmax(~right))  # a falling rate stays fallen: every clear update after the first wrong one
        if (right[0] and np.sum(~right) >= 2 and np.all(~right[wrong_from:][clear[wrong_from:]])
                and np.all(np.diff(chunks) <= 1e-3 * learning_rate) and chunks[-1] < 0.99 * chunks[0]):
            return (f"the learning rate fell from {learning_rate:g} to about {chunks[-1]:.3g} over the updates: a "
                    "learning-rate schedule or decay; plain gradient descent keeps it fixed")
    return ("the updates do not follow learning rate x gradient: not plain gradient descent (an adaptive optimizer "
            "such as Adam, momentum, weight decay, clipping or a schedule)")


def _fits(ratios: np.ndarray) -> bool:
    """A mistake's share of each update, read off many updates: the same (within 5%) and not 0 every time."""
    if len(ratios) < 3:
        return False
    middle = float(np.median(ratios))
    return middle != 0 and bool(np.all(np.abs(ratios - middle) <= 0.05 * abs(middle)))


# --- training steps ------------------------------------------------------------------------------------

def step_mistake(initial: float, got: float, expected: float, learning_rate: float, gradient: float,
                 course_rate: float) -> str | None:
    """Name what a training step did to A from where A ended (`course_rate`: the example's own rate, which
    a step that ignores the optimizer it is handed would use)."""
    if learning_rate != course_rate and _close(got, initial - course_rate * gradient, rtol=1e-4, atol=1e-6):
        return (f"the optimizer it was handed was not used: A moved by {course_rate:g} x gradient (the course's "
                f"rate), but the optimizer passed in has learning rate {learning_rate:g}; let that optimizer "
                "apply the gradient (optimizer.apply_gradients)")
    if _close(got, initial, rtol=0, atol=1e-7):
        return ("A did not change: the gradient was computed but never applied "
                "(call optimizer.apply_gradients([(gradient, A)]))")
    if _close(got, initial + learning_rate * gradient, rtol=1e-4, atol=1e-6):
        return "gradient ascent: A moved uphill, by +learning rate x gradient (don't negate the gradient)"
    if _close(got, initial - 2 * learning_rate * gradient, rtol=1e-4, atol=1e-6):
        return "the update was applied twice"
    ratio = (got - initial) / (expected - initial)
    if abs(ratio - 1) < 1e-2:
        return (f"A moved {ratio:.7g} times the expected distance: close, but not by the tape's gradient of the loss, "
                "which is exact to float32 rounding (ask the tape, not an estimate)")
    return f"A moved {ratio:.4g} times the expected distance"


def returned_rounded(got: float, expected: float) -> str | None:
    """Name a returned loss that is the right one rounded to a few decimals (how many, where only one count fits)."""
    fits = [d for d in range(0, 9) if np.round(expected, d) != expected and _close(got, np.round(expected, d), 1e-6, 1e-15)]
    if not fits:
        return None
    count = "" if len(fits) > 1 else " to a whole number" if fits[0] == 0 else f" to {fits[0]} decimals"
    return f"the loss it returned is rounded{count}: return the loss as computed (round only where you print it)"


def stated_rate(optimizer) -> float | None:
    """The optimizer's own learning_rate, where it states a finite one (a schedule, or an object without one,
    does not); read before any update."""
    try:
        rate = float(optimizer.learning_rate)
    except Exception:  # the student's object may raise anything
        return None
    return rate if np.isfinite(rate) else None


TUTORIAL_OPTIMIZER = ("the step must work with every optimizer the notebook allows, the tutorial's "
                      "tf.compat.v1.train.GradientDescentOptimizer too: let the optimizer it is handed apply the "
                      "gradient, with optimizer.apply_gradients([(gradient, A)])")
GRADIENT_NOT_FROM_LOSS = ("the update does not come from the loss the step computes and returns: ask the tape for "
                          "that loss's gradient (tape.gradient(loss, A)) and apply it")
RETURNED_BUFFER = ("a value it returned changed when it was called again: return a new value at every call "
                   "(for a step, the loss tensor itself), not an array, list or variable that the next call overwrites")
NOT_NUMPY = ("not a NumPy array: build the classes with NumPy (np.where, or a comparison's .astype(int)), or take "
             ".numpy() of a tensor")
NAN_HIDDEN = ("the loss is a number where every output is NaN (as a diverged run leaves A): NaN terms are dropped "
              "or replaced, which hides the divergence; let NaN through")
UPDATE_NOT_BY_OPTIMIZER = ("the step applied the update itself, at the rate the optimizer stated, instead of letting "
                           "the optimizer apply it: an optimizer's rate can change as it counts its updates, which only "
                           "its own apply_gradients counts (optimizer.apply_gradients([(gradient, A)]))")
STEP_KEEPS_STATE = ("the step carries something from one call to the next: it is right on a fresh variable and "
                    "optimizer, and wrong when called again on the same ones; keep nothing between calls (no "
                    "global or saved gradients, no counters)")


# --- training loops ------------------------------------------------------------------------------------

# What a loop's history would be had it made one of these mistakes: the caller replays each on its inputs.
INDICES_IGNORED = "the indices are ignored: step t used sample t instead of sample indices[t]"
LOSS_RECORDED = "the loss was recorded instead of A"
FIRST_TARGET = "every step used the first sample's target: step t must use y_vals[indices[t]]"
TARGET_ZERO = "every step used the target y_vals[0]: step t must use y_vals[indices[t]]"
HISTORY_KEPT = ("the history list outlives the call: a later call returns the earlier calls' values too; create "
                "the list inside the function")


SKIPS_OPTIMIZER_STEPS = ("it skipped as many indices as the optimizer it was handed had already taken steps "
                         "(optimizer.iterations): every call takes one step per index, whatever the optimizer did before")
EARLIER_DATA = ("a step used an earlier call's data, not the x_vals and y_vals this call was handed: keep no data "
                "between calls")


def stopped_at(A: float) -> str:
    return (f"its steps were right, then it stopped before the indices ran out, with A at {A:.4g}: take one step per "
            "index, however large A grows, even when it is no longer a finite number (a rate that diverges)")


def count_mistake(got: Sequence[float], expected: Sequence[float], samples: int, steps: int) -> str | None:
    """Name why a loop returned len(got) values where a correct one returns `expected` (`samples`: len(x_vals);
    `steps`: the example's own run)."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    count, indices = len(got), len(expected)
    if count > indices and _close(got[-indices:], expected, rtol=1e-4, atol=1e-5):
        return HISTORY_KEPT
    named = [words for n, words in ((samples, "one step per sample of x_vals instead of one per index"),
                                    (steps, f"a fixed number of steps ({steps}) instead of one per index"),
                                    (indices - 1, "one index skipped (the first or the last)")) if n == count]
    if named:  # where two explanations fit the count (100 samples, 100 steps), both are said
        return named[0] if len(named) == 1 else f"{count} steps: " + ", or ".join(named)
    if 0 < count < indices and _close(got, expected[:count], rtol=1e-4, atol=1e-5):
        return (f"its {count} steps were right, then it stopped before the indices ran out (when A moved little, "
                "say): take one step per index, every time")
    return None


def handed_optimizer_not_used(problem_name: str, course_rate: float, handed_rate: float) -> str:
    return (f"the optimizer it was handed was not used: the steps moved A at learning rate {course_rate:g} "
            f"(make_{problem_name}_optimizer's), not at the handed optimizer's {handed_rate:g}; pass `optimizer` "
            "to every step")


def rounded_to(got: np.ndarray, expected: np.ndarray) -> int | None:
    """The number of decimals `got` is `expected` rounded to (1 to 6), or None."""
    for decimals in range(1, 7):
        rounded = np.round(expected, decimals)
        if not _close(rounded, expected, rtol=0, atol=1e-9) and _close(got, rounded, rtol=1e-9, atol=1e-12):
            return decimals
    return None


def trajectory_mistake(got: np.ndarray, expected: np.ndarray, alternatives: dict[str, np.ndarray],
                       initial: float, final_A: float) -> str | None:
    """Name what a training loop did from the history it returned and where it left A (`alternatives`:
    a mistake's words, the history it gives on the same inputs)."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    for description, alternative in alternatives.items():
        if len(alternative) == len(got) and _close(got, alternative, rtol=1e-4, atol=1e-5):
            return description
    decimals = rounded_to(got, expected)
    if decimals is not None:
        return (f"the values are rounded to {decimals} decimals: record A's value itself "
                "(float(A.numpy()[0])), unrounded")
    moved = not _close(final_A, initial, rtol=0, atol=1e-7)
    if len(got) > 1 and moved and np.all(got == got[-1]) and _close(got[-1], final_A, rtol=1e-5, atol=1e-6):
        return ("every entry is A's final value: the list holds A itself, not a copy of its value "
                "after each step (append float(A.numpy()[0]))")
    if _close(got[1:], expected[:-1], rtol=1e-4, atol=1e-5) and _close(got[0], initial, rtol=1e-5, atol=1e-6):
        return "A recorded before each step instead of after it"
    if not moved:
        return "A never moved: after the loop it still holds its initial value"
    return None


def wrong_sample(step: int, got: float, one_step_from: list[float], index: int) -> str | None:
    """Name the sample the first wrong step trained on, if it was not indices[step]."""
    matches = [i for i, value in enumerate(one_step_from) if _close(got, value, rtol=1e-5, atol=1e-6)]
    if matches and index not in matches:
        return (f"step {step + 1} trained on sample {matches[0]}, not the sample indices[{step}] = {index}: "
                "step t must use x_vals[indices[t]] (no sampling of your own)")
    return None


# --- predict -------------------------------------------------------------------------------------------

def predict_mistake(cases: Sequence[tuple[np.ndarray, float, np.ndarray]]) -> str | None:
    """Name what a predict function computed from the classes it returned for every (x, A, classes) it was
    shown: a mistake is named only when it gives them all (0.5 rounded to 0 and a logit compared with 0.5 agree
    on one case, not on all)."""
    cases = [(np.asarray(x, np.float32), A, np.asarray(got)) for x, A, got in cases]

    def logits(x: np.ndarray, A: float) -> np.ndarray:
        return (x + np.float32(A)).astype(np.float64)  # as float32 code computes them

    if not all(np.all(np.isin(got, (0, 1))) for _, _, got in cases):
        if all(np.all((got >= 0) & (got <= 1)) and _close(got, sigmoid(logits(x, A)), rtol=1e-3, atol=1e-4)
               for x, A, got in cases):
            return "probabilities returned instead of classes: return 1 where sigmoid(x + A) >= 0.5, else 0"
        return None
    candidates = {
        "a point exactly on the boundary (probability exactly 0.5) must be class 1: compare with >= 0.5, not > 0.5":
            lambda x, A: logits(x, A) > 0,
        "the logit x + A was compared with 0.5; compare the probability sigmoid(x + A) with 0.5 (or the logit with 0)":
            lambda x, A: logits(x, A) >= 0.5,
        "the classes are inverted (1 where sigmoid(x + A) < 0.5)": lambda x, A: logits(x, A) < 0,
        "A is ignored: x is thresholded at a fixed value instead of at the model's boundary x = -A": lambda x, A: x >= 1.0,
        **{f"A was rounded to {to}, which moves the boundary x = -A: use A as it is":
           lambda x, A, decimals=decimals: logits(x, round(A, decimals)) >= 0
           for decimals, to in enumerate(("a whole number", "1 decimal", *(f"{d} decimals" for d in range(2, 6))))},
    }
    for description, classes in candidates.items():
        if all(np.array_equal(got, classes(x, A).astype(got.dtype)) for x, A, got in cases):
            return description
    return None
