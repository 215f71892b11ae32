"""Submissions with a known outcome: correct answers in other idioms, and typical mistakes.

Each entry replaces whole solution cells of the reference answers. An idiom must score full marks: what is
graded is behaviour, never spelling. `loses` is every test item it must score 0 on (all other
items keep their points); `says` is a phrase the failing check's message must contain. The demo class,
the tests and the benchmarks all grade these.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from .submissions import fill


@dataclass(frozen=True)
class Mistake:
    name: str
    description: str
    answers: dict[str, str]
    loses: frozenset[str]
    says: dict[str, str] = field(default_factory=dict)  # test item -> phrase its failure message holds


def _step(problem: str, body: str) -> str:
    return f"def {problem}_train_step(A, x, y, optimizer):\n{body}"


MISTAKES = [
    Mistake(
        "l1_loss", "regression loss: mean absolute error instead of mean squared error",
        {"regression_loss": "def regression_loss(y_pred, y_true):\n    return tf.reduce_mean(tf.abs(y_pred - y_true))"},
        frozenset({"test_regression_loss", "test_train_regression_converges"}),
        {"test_regression_loss": "L1 loss"},
    ),
    Mistake(
        "tf_nn_l2_loss", "regression loss: tf.nn.l2_loss (half the sum of squares)",
        {"regression_loss": "def regression_loss(y_pred, y_true):\n    return tf.nn.l2_loss(y_pred - y_true)"},
        frozenset({"test_regression_loss", "test_train_regression_converges"}),
        {"test_regression_loss": "tf.nn.l2_loss"},
    ),
    Mistake(
        "numpy_loss", "regression loss computed in NumPy: no gradient reaches A, so the student's own training "
        "cannot run; the step and the loop are checked alone (stand-ins in the visible tests too) and keep their "
        "points",
        {"regression_loss": "def regression_loss(y_pred, y_true):\n    return np.mean((np.asarray(y_pred) - y_true) ** 2)"},
        frozenset({"test_regression_loss", "test_train_regression_converges"}),
        {"test_regression_loss": "no gradient reaches A"},
    ),
    Mistake(
        "momentum", "regression optimizer: SGD with momentum 0.9",
        {"make_regression_optimizer":
            "def make_regression_optimizer():\n    return tf.keras.optimizers.SGD(learning_rate=0.02, momentum=0.9)"},
        frozenset({"test_make_regression_optimizer", "test_train_regression_converges"}),
        {"test_make_regression_optimizer": "momentum 0.9"},
    ),
    Mistake(
        "gradient_ascent", "regression step: A moved up the gradient",
        {"regression_train_step": _step("regression", (
            "    with tf.GradientTape() as tape:\n"
            "        loss = regression_loss(regression_model(x, A), y)\n"
            "    A.assign_add(0.02 * tape.gradient(loss, A))\n"
            "    return loss"))},
        frozenset({"test_regression_train_step", "test_train_regression_converges"}),
        {"test_regression_train_step": "gradient ascent"},
    ),
    Mistake(
        "hard_coded_history", "regression loop: returns 10.0 for every step without training",
        {"train_regression":
            "def train_regression(x_vals, y_vals, A, optimizer, indices):\n    return [10.0] * len(indices)"},
        frozenset({"test_train_regression", "test_train_regression_converges"}),
        {"test_train_regression": "A never moved"},
    ),
    Mistake(
        "answer_assigned", "classification loop: sets A to the known answer -1 instead of training",
        {"train_classification": ("def train_classification(x_vals, y_vals, A, optimizer, indices):\n"
                                  "    A.assign([-1.0])\n"
                                  "    return [-1.0] * len(indices)")},
        frozenset({"test_train_classification", "test_train_classification_converges"}),
        {"test_train_classification": "should be"},
    ),
    Mistake(
        "swapped_labels_logits", "classification loss: sigmoid_cross_entropy_with_logits called positionally",
        {"classification_loss": ("def classification_loss(logits, labels):\n"
                                 "    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits, labels))")},
        frozenset({"test_classification_loss", "test_train_classification_converges"}),
        {"test_classification_loss": "labels and logits swapped"},
    ),
    Mistake(
        "regression_learning_rate", "classification optimizer: the regression example's learning rate 0.02",
        {"make_classification_optimizer":
            "def make_classification_optimizer():\n    return tf.keras.optimizers.SGD(learning_rate=0.02)"},
        frozenset({"test_make_classification_optimizer", "test_train_classification_converges"}),
        {"test_make_classification_optimizer": "learning rate 0.02, the regression example's"},
    ),
    Mistake(
        "indices_ignored", "classification loop: steps through samples 0, 1, 2, ... instead of the indices",
        {"train_classification": (
            "def train_classification(x_vals, y_vals, A, optimizer, indices):\n"
            "    history = []\n"
            "    for t in range(len(indices)):\n"
            "        i = t % len(x_vals)\n"
            "        classification_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
            "        history.append(float(A.numpy()[0]))\n"
            "    return history")},
        frozenset({"test_train_classification", "test_train_classification_converges"}),
        {"test_train_classification": "indices are ignored"},
    ),
    Mistake(
        "threshold_logit", "predict: the logit x + A compared with 0.5",
        {"predict": "def predict(x_vals, A):\n    return (classification_model(x_vals, A).numpy() >= 0.5).astype(int)"},
        frozenset({"test_predict"}),
        {"test_predict": "logit x + A was compared with 0.5"},
    ),
    Mistake(
        "threshold_x", "predict: ignores A and thresholds x at 1 (the known answer)",
        {"predict": "def predict(x_vals, A):\n    return (np.asarray(x_vals) >= 1.0).astype(int)"},
        frozenset({"test_predict"}),
        {"test_predict": "A is ignored"},
    ),
    Mistake(
        "sum_not_mean", "regression loss: the sum of squared errors (trains the same on single samples)",
        {"regression_loss": "def regression_loss(y_pred, y_true):\n    return tf.reduce_sum(tf.square(y_pred - y_true))"},
        frozenset({"test_regression_loss"}),
        {"test_regression_loss": "sum of the squared errors instead of their mean"},
    ),
    Mistake(
        "unreduced_loss", "regression loss: the seed's tf.square alone, one loss per sample",
        {"regression_loss": "def regression_loss(y_pred, y_true):\n    return tf.square(y_pred - y_true)"},
        frozenset({"test_regression_loss"}),
        {"test_regression_loss": "not reduced"},
    ),
    Mistake(
        "adam", "regression optimizer: Adam instead of plain gradient descent",
        {"make_regression_optimizer":
            "def make_regression_optimizer():\n    return tf.keras.optimizers.Adam(learning_rate=0.02)"},
        frozenset({"test_make_regression_optimizer", "test_train_regression_converges"}),
        {"test_make_regression_optimizer": "not plain gradient descent"},
    ),
    Mistake(
        "shared_optimizer", "regression optimizer: one optimizer made once and returned by every call",
        {"make_regression_optimizer": ("_optimizer = tf.keras.optimizers.SGD(learning_rate=0.02)\n\n"
                                       "def make_regression_optimizer():\n    return _optimizer")},
        frozenset({"test_make_regression_optimizer", "test_train_regression_converges"}),
        {"test_make_regression_optimizer": "same optimizer twice"},
    ),
    Mistake(
        "gradient_not_applied", "regression step: the gradient is computed but never applied",
        {"regression_train_step": _step("regression", (
            "    with tf.GradientTape() as tape:\n"
            "        loss = regression_loss(regression_model(x, A), y)\n"
            "    gradient = tape.gradient(loss, A)\n"
            "    return loss"))},
        frozenset({"test_regression_train_step", "test_train_regression_converges"}),
        {"test_regression_train_step": "never applied"},
    ),
    Mistake(
        "loss_after_update", "regression step: returns the loss recomputed after the update",
        {"regression_train_step": _step("regression", (
            "    with tf.GradientTape() as tape:\n"
            "        loss = regression_loss(regression_model(x, A), y)\n"
            "    optimizer.apply_gradients([(tape.gradient(loss, A), A)])\n"
            "    return regression_loss(regression_model(x, A), y)"))},
        frozenset({"test_regression_train_step"}),
        {"test_regression_train_step": "loss after the update"},
    ),
    Mistake(
        "fixed_steps", "regression loop: always 100 steps on random samples, whatever the indices",
        {"train_regression": (
            "def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
            "    history = []\n"
            "    for _ in range(100):\n"
            "        i = np.random.randint(len(x_vals))\n"
            "        regression_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
            "        history.append(float(A.numpy()[0]))\n"
            "    return history")},
        frozenset({"test_train_regression", "test_train_regression_converges"}),
        {"test_train_regression": "fixed number of steps (100)"},
    ),
    Mistake(
        "resampled_indices", "regression loop: draws its own random sample each step instead of indices[t]",
        {"train_regression": (
            "def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
            "    history = []\n"
            "    for _ in indices:\n"
            "        i = np.random.choice(len(x_vals))\n"
            "        regression_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
            "        history.append(float(A.numpy()[0]))\n"
            "    return history")},
        frozenset({"test_train_regression", "test_train_regression_converges"}),
        {"test_train_regression": "not the sample indices["},
    ),
    Mistake(
        "loss_recorded", "regression loop: records the loss of each step instead of A",
        {"train_regression": (
            "def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
            "    return [float(regression_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)) for i in indices]")},
        frozenset({"test_train_regression", "test_train_regression_converges"}),
        {"test_train_regression": "loss was recorded instead of A"},
    ),
    Mistake(
        "recorded_before_step", "classification loop: records A before each step instead of after",
        {"train_classification": (
            "def train_classification(x_vals, y_vals, A, optimizer, indices):\n"
            "    history = []\n"
            "    for i in indices:\n"
            "        history.append(float(A.numpy()[0]))\n"
            "        classification_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
            "    return history")},
        frozenset({"test_train_classification", "test_train_classification_converges"}),
        {"test_train_classification": "before each step"},
    ),
    Mistake(
        "stored_variable", "classification loop: appends A itself, so every entry shows A's final value (the "
        "driver cell cannot print such a history, so the end-to-end item fails too)",
        {"train_classification": (
            "def train_classification(x_vals, y_vals, A, optimizer, indices):\n"
            "    history = []\n"
            "    for i in indices:\n"
            "        classification_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
            "        history.append(A)\n"
            "    return history")},
        frozenset({"test_train_classification", "test_train_classification_converges"}),
        {"test_train_classification": "holds A itself"},
    ),
    Mistake(
        "sigmoid_twice", "classification loss: the sigmoid applied before sigmoid_cross_entropy_with_logits",
        {"classification_loss": ("def classification_loss(logits, labels):\n    return tf.reduce_mean("
                                 "tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=tf.sigmoid(logits)))")},
        frozenset({"test_classification_loss", "test_train_classification_converges"}),
        {"test_classification_loss": "sigmoid applied twice"},
    ),
    Mistake(
        "mse_on_probabilities", "classification loss: mean squared error of sigmoid(x + A) against the labels",
        {"classification_loss": ("def classification_loss(logits, labels):\n"
                                 "    return tf.reduce_mean(tf.square(tf.sigmoid(logits) - labels))")},
        frozenset({"test_classification_loss", "test_train_classification_converges"}),
        {"test_classification_loss": "mean squared error of the probabilities"},
    ),
    Mistake(
        "probabilities_returned", "predict: returns sigmoid(x + A) instead of classes",
        {"predict": "def predict(x_vals, A):\n    return tf.sigmoid(classification_model(x_vals, A)).numpy()"},
        frozenset({"test_predict", "test_train_classification_converges"}),
        {"test_predict": "probabilities returned instead of classes"},
    ),
]
MISTAKES += [
    Mistake(
        "log_of_sigmoid", "classification loss: the textbook formula, -y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z)), "
        "which gives nan once a logit passes ~17 (sigmoid rounds to 1): the run from a far start breaks on it",
        {"classification_loss": ("def classification_loss(logits, labels):\n"
                                 "    p = tf.sigmoid(logits)\n"
                                 "    return -tf.reduce_mean(labels * tf.math.log(p) + (1 - labels) * tf.math.log(1 - p))")},
        frozenset({"test_classification_loss", "test_train_classification_converges"}),
        {"test_classification_loss": "wrong, even nan or inf, for large ones",
         "test_train_classification_converges": "overflowed"},
    ),
    Mistake(
        "keras_bce_on_probabilities", "classification loss: Keras's BinaryCrossentropy on sigmoid(logits) (clipped "
        "at 1e-7: wrong for large logits, where its gradient vanishes)",
        {"classification_loss": ("def classification_loss(logits, labels):\n"
                                 "    return tf.keras.losses.BinaryCrossentropy()(labels, tf.sigmoid(logits))")},
        frozenset({"test_classification_loss", "test_train_classification_converges"}),
        {"test_classification_loss": "clipped to [1e-7, 1 - 1e-7]"},
    ),
    Mistake(
        "constant_target", "regression loss: the target 10 written in instead of y_true (right on the course's "
        "data, where every target is 10)",
        {"regression_loss": "def regression_loss(y_pred, y_true):\n    return tf.reduce_mean(tf.square(y_pred - 10.0))"},
        frozenset({"test_regression_loss"}),
        {"test_regression_loss": "target 10 written in"},
    ),
    Mistake(
        "clipnorm", "classification optimizer: SGD with clipnorm=1 (the course's gradients never reach 1)",
        {"make_classification_optimizer":
            "def make_classification_optimizer():\n    return tf.keras.optimizers.SGD(learning_rate=0.05, clipnorm=1.0)"},
        frozenset({"test_make_classification_optimizer"}),
        {"test_make_classification_optimizer": "gradient clipping"},
    ),
    Mistake(
        "step_ignores_optimizer", "regression step: A.assign_sub(0.02 * gradient), the course's rate written in "
        "instead of the optimizer it is handed",
        {"regression_train_step": _step("regression", (
            "    with tf.GradientTape() as tape:\n"
            "        loss = regression_loss(regression_model(x, A), y)\n"
            "    A.assign_sub(0.02 * tape.gradient(loss, A))\n"
            "    return loss"))},
        frozenset({"test_regression_train_step"}),
        {"test_regression_train_step": "optimizer it was handed was not used"},
    ),
    Mistake(
        "loop_makes_own_optimizer", "classification loop: makes its own optimizer instead of using the one it is "
        "handed",
        {"train_classification": (
            "def train_classification(x_vals, y_vals, A, optimizer, indices):\n"
            "    own = make_classification_optimizer()\n"
            "    history = []\n"
            "    for i in indices:\n"
            "        classification_train_step(A, x_vals[i:i+1], y_vals[i:i+1], own)\n"
            "        history.append(float(A.numpy()[0]))\n"
            "    return history")},
        frozenset({"test_train_classification"}),
        {"test_train_classification": "optimizer it was handed was not used"},
    ),
    Mistake(
        "stops_when_loss_is_small", "regression loop: stops early once a step's loss is small (the course's "
        "own run never gets there, so only the loop's item is lost)",
        {"train_regression": (
            "def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
            "    history = []\n"
            "    for i in indices:\n"
            "        loss = regression_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
            "        history.append(float(A.numpy()[0]))\n"
            "        if float(loss) < 1e-6:  # converged\n"
            "            break\n"
            "    return history")},
        frozenset({"test_train_regression"}),
        {"test_train_regression": "then it stopped before the indices ran out"},
    ),
    Mistake(
        "strict_threshold", "predict: > 0.5 instead of >= 0.5 (differs only exactly on the boundary)",
        {"predict": "def predict(x_vals, A):\n    return (tf.sigmoid(x_vals + A).numpy() > 0.5).astype(int)"},
        frozenset({"test_predict"}),
        {"test_predict": "not > 0.5"},
    ),
    Mistake(
        "learning_rate_schedule", "regression optimizer: SGD whose rate halves every 100 updates (ExponentialDecay)",
        {"make_regression_optimizer": (
            "def make_regression_optimizer():\n"
            "    rate = tf.keras.optimizers.schedules.ExponentialDecay(0.02, decay_steps=100, decay_rate=0.5)\n"
            "    return tf.keras.optimizers.SGD(learning_rate=rate)")},
        frozenset({"test_make_regression_optimizer", "test_train_regression_converges"}),
        {"test_make_regression_optimizer": "learning-rate schedule"},
    ),
    Mistake(
        "predict_changes_x", "predict: adds A to x_vals in place (right classes, but the caller's data changes)",
        {"predict": "def predict(x_vals, A):\n    x_vals += A.numpy()[0]\n    return (x_vals >= 0).astype(int)"},
        frozenset({"test_predict", "test_train_classification_converges"}),
        {"test_predict": "changed the x_vals it was handed"},
    ),
    Mistake(
        "predict_math_exp", "predict: the sigmoid with math.exp, which raises OverflowError past 709",
        {"predict": ("import math\n\n"
                     "def predict(x_vals, A):\n"
                     "    a = float(A.numpy()[0])\n"
                     "    return np.array([int(1 / (1 + math.exp(-(x + a))) >= 0.5) for x in x_vals])")},
        frozenset({"test_predict"}),
        {"test_predict": "OverflowError"},
    ),
    Mistake(
        "history_kept_between_calls", "regression loop: the history list is a global, made once and never emptied",
        {"train_regression": (
            "history = []\n\n"
            "def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
            "    for i in indices:\n"
            "        regression_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
            "        history.append(float(A.numpy()[0]))\n"
            "    return history")},
        frozenset({"test_train_regression", "test_train_regression_converges"}),
        {"test_train_regression": "outlives the call"},
    ),
    Mistake(
        "rounded_history", "classification loop: records A rounded to 4 decimals",
        {"train_classification": (
            "def train_classification(x_vals, y_vals, A, optimizer, indices):\n"
            "    history = []\n"
            "    for i in indices:\n"
            "        classification_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
            "        history.append(round(float(A.numpy()[0]), 4))\n"
            "    return history")},
        frozenset({"test_train_classification", "test_train_classification_converges"}),
        {"test_train_classification": "rounded to 4 decimals"},
    ),
]
BY_NAME = {m.name: m for m in MISTAKES}


# Correct answers written differently from the reference: each must keep every point.
IDIOMS: dict[str, dict[str, str]] = {
    "tf1_optimizers_and_keras_losses": {
        "regression_loss": ("def regression_loss(y_pred, y_true):\n"
                            "    return tf.keras.losses.MeanSquaredError()(y_true, y_pred)"),
        "make_regression_optimizer": ("def make_regression_optimizer():\n"
                                      "    return tf.compat.v1.train.GradientDescentOptimizer(0.02)"),
        "classification_loss": ("def classification_loss(logits, labels):\n"
                                "    return tf.keras.losses.BinaryCrossentropy(from_logits=True)(labels, logits)"),
        "make_classification_optimizer": ("def make_classification_optimizer():\n"
                                          "    return tf.compat.v1.train.GradientDescentOptimizer(learning_rate=0.05)"),
    },
    "tf_function_steps": {
        "regression_train_step": "@tf.function\n" + _step("regression", (
            "    with tf.GradientTape() as tape:\n"
            "        loss = regression_loss(regression_model(x, A), y)\n"
            "    gradients = tape.gradient(loss, [A])\n"
            "    optimizer.apply_gradients(zip(gradients, [A]))\n"
            "    return loss")),
        "classification_train_step": "@tf.function\n" + _step("classification", (
            "    with tf.GradientTape() as tape:\n"
            "        loss = classification_loss(classification_model(x, A), y)\n"
            "    optimizer.apply_gradients([(tape.gradient(loss, A), A)])\n"
            "    return loss")),
        "train_regression": ("def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
                             "    return [float(regression_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer) * 0 + A[0])\n"
                             "            for i in indices]"),
        "predict": ("def predict(x_vals, A):\n"
                    "    return np.where(tf.nn.sigmoid(x_vals + A).numpy() >= 0.5, 1, 0)"),
    },
    "compiled_gradient_helper": {  # traced once per input shape: a check's stand-in must not stay in the trace
        "regression_train_step": ("@tf.function\n"
                                  "def regression_gradient(A, x, y):\n"
                                  "    with tf.GradientTape() as tape:\n"
                                  "        loss = regression_loss(regression_model(x, A), y)\n"
                                  "    return loss, tape.gradient(loss, A)\n\n"
                                  + _step("regression", (
                                      "    loss, gradient = regression_gradient(A, x, y)\n"
                                      "    optimizer.apply_gradients([(gradient, A)])\n"
                                      "    return loss"))),
        "classification_train_step": ("compiled_gradient = None  # built on the first step\n\n"
                                      + _step("classification", (
                                          "    global compiled_gradient\n"
                                          "    if compiled_gradient is None:\n"
                                          "        @tf.function\n"
                                          "        def compiled_gradient(A, x, y):\n"
                                          "            with tf.GradientTape() as tape:\n"
                                          "                loss = classification_loss(classification_model(x, A), y)\n"
                                          "            return loss, tape.gradient(loss, A)\n"
                                          "    loss, gradient = compiled_gradient(A, x, y)\n"
                                          "    optimizer.apply_gradients([(gradient, A)])\n"
                                          "    return loss"))),
    },
    "compiled_loops": {  # the whole loop traced by AutoGraph: every stand-in a check hands it must run in a graph
        "train_regression": ("@tf.function\n"
                             "def compiled_regression_run(x_vals, y_vals, A, optimizer, order):\n"
                             "    history = tf.TensorArray(tf.float32, size=tf.size(order))\n"
                             "    for k in tf.range(tf.size(order)):\n"
                             "        i = order[k]\n"
                             "        regression_train_step(A, x_vals[i:i + 1], y_vals[i:i + 1], optimizer)\n"
                             "        history = history.write(k, A[0])\n"
                             "    return history.stack()\n\n"
                             "def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
                             "    order = tf.constant(np.asarray(indices, dtype=np.int32).reshape(-1))\n"
                             "    values = compiled_regression_run(tf.constant(x_vals), tf.constant(y_vals), A, optimizer, order)\n"
                             "    return [float(v) for v in values.numpy()]"),
        "train_classification": ("def train_classification(x_vals, y_vals, A, optimizer, indices):\n"
                                 "    @tf.function\n"
                                 "    def run(order):\n"
                                 "        history = tf.TensorArray(tf.float32, size=0, dynamic_size=True)\n"
                                 "        for i in order:\n"
                                 "            classification_train_step(A, tf.gather(x_vals, [i]), tf.gather(y_vals, [i]), optimizer)\n"
                                 "            history = history.write(history.size(), A[0])\n"
                                 "        return history.stack()\n"
                                 "    return [float(v) for v in run(tf.constant(indices, dtype=tf.int32)).numpy()]"),
    },
    "tf_print_progress": {  # tf.print writes to stderr: shown in the feedback, never scored
        "train_regression": ("def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
                             "    history = []\n"
                             "    for step, i in enumerate(indices):\n"
                             "        loss = regression_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
                             "        history.append(float(A.numpy()[0]))\n"
                             "        if step % 25 == 0:\n"
                             "            tf.print('step', step, 'loss', loss, 'A', A)\n"
                             "    return history"),
        "train_classification": ("def train_classification(x_vals, y_vals, A, optimizer, indices):\n"
                                 "    history = []\n"
                                 "    for i in indices:\n"
                                 "        classification_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
                                 "        history.append(float(A.numpy()[0]))\n"
                                 "    tf.print('trained:', len(history), 'steps, A =', A)\n"
                                 "    return history"),
    },
    "inline_loss_and_step": {  # the notebook does not say a step must call the loss, or a loop the step
        "regression_train_step": _step("regression", (
            "    with tf.GradientTape() as tape:\n"
            "        loss = tf.reduce_mean((x * A - y) ** 2)\n"
            "    optimizer.apply_gradients([(tape.gradient(loss, A), A)])\n"
            "    return loss")),
        "train_classification": ("def train_classification(x_vals, y_vals, A, optimizer, indices):\n"
                                 "    history = []\n"
                                 "    for i in indices:\n"
                                 "        with tf.GradientTape() as tape:\n"
                                 "            loss = classification_loss(classification_model(x_vals[i:i+1], A), y_vals[i:i+1])\n"
                                 "        optimizer.apply_gradients([(tape.gradient(loss, A), A)])\n"
                                 "        history.append(float(A.numpy()[0]))\n"
                                 "    return history"),
    },
    "hand_written_cross_entropy": {  # stable; its kinks at a logit of 0 are where no check may sit
        "classification_loss": ("def classification_loss(logits, labels):\n"
                                "    return tf.reduce_mean(tf.maximum(logits, 0) - logits * labels\n"
                                "                          + tf.math.log1p(tf.exp(-tf.abs(logits))))"),
        "predict": ("def predict(x_vals, A):\n"
                    "    return (classification_model(x_vals, A) >= 0).numpy().astype(np.int32)"),
    },
}


@dataclass(frozen=True)
class Attack:
    """A hostile or broken submission: what it tries, and the items it must lose (the rest keep their points).

    Answers may name `{course_root}`, the course directory the attack aims at; `edit` changes the notebook's
    structure (cells deleted, duplicated, retagged).
    """

    name: str
    description: str
    answers: dict[str, str] = field(default_factory=dict)
    loses: frozenset[str] = frozenset()
    edit: Callable[[NotebookNode], None] | None = None
    blank: bool = False  # built on the blank notebook instead of the reference answers
    says: dict[str, str] = field(default_factory=dict)  # test item -> phrase its failure message holds

    def notebook(self, release: NotebookNode, reference: dict[str, str], course_root: Path) -> NotebookNode:
        """The submission: the reference answers (or none), this attack's cells, and its edits."""
        base = {} if self.blank else reference
        answers = {grade_id: text.replace("{reference}", reference[grade_id]).replace("{course_root}", str(course_root))
                   for grade_id, text in self.answers.items()}
        notebook = fill(release, {**base, **answers})
        if self.edit:
            self.edit(notebook)
        return notebook


def _after(grade_id: str, code: str) -> dict[str, str]:
    """The reference answer of a solution cell, followed by `code` in the same cell."""
    return {grade_id: "{reference}\n" + code}


def _delete_cell(grade_id: str) -> Callable[[NotebookNode], None]:
    def edit(notebook: NotebookNode) -> None:
        notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return edit


def _duplicate_cell(grade_id: str) -> Callable[[NotebookNode], None]:
    def edit(notebook: NotebookNode) -> None:
        index = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        notebook.cells.insert(index, copy.deepcopy(notebook.cells[index]))
    return edit


def _cell_index(notebook: NotebookNode, grade_id: str) -> int:
    return next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _edit_cell(grade_id: str, change: Callable[[NotebookNode], None]) -> Callable[[NotebookNode], None]:
    def edit(notebook: NotebookNode) -> None:
        change(notebook.cells[_cell_index(notebook, grade_id)])
    return edit


def _move_before(grade_id: str, other: str) -> Callable[[NotebookNode], None]:
    def edit(notebook: NotebookNode) -> None:
        cell = notebook.cells.pop(_cell_index(notebook, grade_id))
        notebook.cells.insert(_cell_index(notebook, other), cell)
    return edit


def _replayed_observation(notebook: NotebookNode) -> None:
    """After train_regression, a cell that makes the probe report the reference loop's observation for the
    course's grading seed, computed here beforehand (what a student who had the grader's code could do)."""
    import json

    from backprop_ref import tf2

    from . import probe
    from .grading_inputs import DEFAULT_SEED

    replay = json.dumps(probe.observe_train_loop("regression", tf2.train_regression, DEFAULT_SEED))
    notebook.cells.insert(_cell_index(notebook, "train_regression") + 1, new_code_cell(
        "import json\nimport autograder.probe as _probe\n"
        f"_replay = json.loads({replay!r})\n"
        "def _forged(*args, **kwargs):\n    _probe.publish(_replay)\n    return _replay\n"
        "_probe.observe_train_loop = _forged"))


_CLASSIFICATION_TAIL = frozenset({"test_predict", "test_train_classification_converges"})
ALL_TESTS = frozenset({
    "test_regression_loss", "test_make_regression_optimizer", "test_regression_train_step", "test_train_regression",
    "test_train_regression_converges", "test_classification_loss", "test_make_classification_optimizer",
    "test_classification_train_step", "test_train_classification", "test_predict", "test_train_classification_converges",
})


def _empty_test_cells(notebook: NotebookNode) -> None:
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            cell.source = "pass"

ATTACKS = [
    Attack(
        "deletes_course", "deletes the gradebook, every submission and the source, and walks up from its cwd "
        "deleting what it can; reads the gradebook and the hidden tests if it can",
        _after("regression_loss", (
            "import os, shutil\n"
            "for _target in ['{course_root}/gradebook.db', '{course_root}/submitted', '{course_root}/autograded',\n"
            "                '{course_root}/source', '{course_root}/release', '{course_root}/CANARY.txt']:\n"
            "    try:\n"
            "        print('LEAK', open(_target, 'rb').read(64))\n"
            "    except OSError:\n"
            "        pass\n"
            "    shutil.rmtree(_target, ignore_errors=True)\n"
            "    try:\n"
            "        os.remove(_target)\n"
            "    except OSError:\n"
            "        pass\n"
            "_here = os.getcwd()\n"
            "for _ in range(6):\n"
            "    _here = os.path.dirname(_here)\n"
            "    for _name in os.listdir(_here) if os.access(_here, os.R_OK) else []:\n"
            "        shutil.rmtree(os.path.join(_here, _name), ignore_errors=True)\n")),
    ),
    Attack(
        "memory_bomb", "allocates 256 MiB after 256 MiB until memory runs out: a MemoryError, and the machine is "
        "untouched; IPython keeps the error's traceback, and with it the memory, so the last and largest test "
        "cell no longer fits and the kernel dies there",
        _after("predict", "def _bomb():\n    hog = []\n    while True:\n        hog.append(bytearray(2**28))\n_bomb()"),
        frozenset({"test_train_classification_converges"}), says={"test_train_classification_converges": "died"},
    ),
    Attack("kernel_exit", "the kernel process exits in the predict cell",
           _after("predict", "import os\nos._exit(1)"), _CLASSIFICATION_TAIL),
    Attack(
        "fork_bomb", "forks until the system says no; the children exit but are never reaped, so the kernel "
        "cannot start a thread again and breaks in the last test cell, which needs one",
        _after("predict", (
            "import os, time\n"
            "try:\n"
            "    while True:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(3)\n"
            "            os._exit(0)\n"
            "except OSError as error:\n"
            "    print('fork stopped:', error)\n"
            "time.sleep(5)")),
        frozenset({"test_train_classification_converges"}),
    ),
    Attack(
        "infinite_loop", "train_regression never returns",
        {"train_regression": "def train_regression(x_vals, y_vals, A, optimizer, indices):\n    while True:\n        pass"},
        frozenset({"test_train_regression", "test_train_regression_converges"}),
    ),
    Attack("deleted_test_cell", "deletes the test cell of predict", edit=_delete_cell("test_predict")),
    Attack("deleted_test_after_given_cell", "deletes the regression's end-to-end test cell, which follows the "
           "given demo (nbgrader's own OverwriteCells fails on that: the submission went ungraded)",
           edit=_delete_cell("test_train_regression_converges")),
    Attack(
        "shadowed_builtins_blank", "a blank notebook that shadows the names tests use (len, abs, all, isinstance, "
        "float) in the notebook's namespace",
        {"regression_loss": ("def regression_loss(y_pred, y_true):\n    raise NotImplementedError()\n"
                             "len = lambda *args: 3\nabs = lambda *args: 0.0\nall = any = lambda *args: True\n"
                             "isinstance = lambda *args: True\nfloat = lambda *args: 10.0")},
        ALL_TESTS, blank=True,
    ),
    Attack("emptied_test_cells_blank", "a blank notebook whose test cells are replaced by `pass`",
           loses=ALL_TESTS, edit=_empty_test_cells, blank=True),
    Attack("duplicated_test_cell", "duplicates a test cell (its grade id twice)",
           edit=_duplicate_cell("test_regression_loss")),
    Attack(
        "numpy_patched", "an L1 loss, and NumPy patched so that every closeness test says yes (np.isclose, "
        "np.allclose, np.array_equal): the visible tests pass, the grader's do not run in the kernel",
        {"regression_loss": ("import numpy\n"
                             "def regression_loss(y_pred, y_true):\n    return tf.reduce_mean(tf.abs(y_pred - y_true))\n"
                             "numpy.isclose = lambda *args, **kwargs: numpy.True_\n"
                             "numpy.allclose = numpy.array_equal = lambda *args, **kwargs: True")},
        frozenset({"test_regression_loss", "test_train_regression_converges"}), says={"test_regression_loss": "L1 loss"},
    ),
    Attack(
        "math_and_builtins_patched", "predict inverted, and math.isclose, abs, all, any, min and max patched to "
        "lie in the builtins module itself",
        {"predict": ("def predict(x_vals, A):\n    return (classification_model(x_vals, A) < 0).numpy().astype(int)\n"
                     "import builtins, math\nmath.isclose = lambda *args, **kwargs: True\n"
                     "builtins.all = builtins.any = lambda *args: True\nbuiltins.abs = lambda value: 0.0")},
        _CLASSIFICATION_TAIL, says={"test_predict": "inverted"},
    ),
    Attack(
        "tf_optimizer_patched", "TensorFlow patched: every SGD update sets the variable to 10, the regression "
        "answer; each item whose behaviour goes through an optimizer (the loops' too: their stand-in step updates "
        "through the optimizer it is handed) loses, the others keep their points",
        _after("regression_loss", ("def _to_the_answer(self, grads_and_vars, *args, **kwargs):\n"
                                   "    for _, variable in grads_and_vars:\n        variable.assign([10.0])\n"
                                   "tf.keras.optimizers.SGD.apply_gradients = _to_the_answer")),
        frozenset({"test_make_regression_optimizer", "test_regression_train_step", "test_train_regression",
                   "test_train_regression_converges", "test_make_classification_optimizer",
                   "test_classification_train_step", "test_train_classification", "test_train_classification_converges"}),
    ),
    Attack(
        "probe_module_replaced", "predict thresholds x at 1, the known boundary (the visible test cannot tell), and "
        "the grading helper is replaced in sys.modules (and on its package) by a module whose checks do nothing",
        {"predict": ("def predict(x_vals, A):\n    return (np.asarray(x_vals) >= 1.0).astype(int)\n"
                     "import sys, types, autograder\n_fake = types.ModuleType('autograder.probe')\n"
                     "for _name in ('observe_predict', 'observe_convergence', 'observe_loss', 'observe_optimizer',\n"
                     "              'observe_train_step', 'observe_train_loop'):\n"
                     "    setattr(_fake, _name, lambda *args, **kwargs: None)\n"
                     "sys.modules['autograder.probe'] = autograder.probe = _fake")},
        _CLASSIFICATION_TAIL, says={"test_predict": "did not run as written"},
    ),
    Attack(
        "replayed_observation", "train_regression trains only as long as the visible test's three indices, and "
        "the probe is made to report the reference loop's observation, computed beforehand for the course's "
        "grading seed: it passes the notebook's own check and visible test, and the re-check on the grader's "
        "second seed flags it; the classification loop's cell, which now reports the same forgery, is flagged too",
        {"train_regression": ("def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
                              "    if len(indices) > 3:\n"
                              "        return [float(A.numpy()[0])] * len(indices)\n"
                              "    history = []\n"
                              "    for i in indices:\n"
                              "        regression_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
                              "        history.append(float(A.numpy()[0]))\n"
                              "    return history")},
        frozenset({"test_train_regression", "test_train_regression_converges", "test_train_classification"}),
        edit=_replayed_observation,
        says={"test_train_regression": "re-check", "test_train_classification": "not of what the grader asked"},
    ),
    Attack(
        "forged_extra_observation", "predict thresholds x at 1, the known boundary (the visible test cannot tell), "
        "and after every cell a forged observation is published, so the checks' reports cannot be told from the "
        "forgery",
        {"predict": ("def predict(x_vals, A):\n    return (np.asarray(x_vals) >= 1.0).astype(int)\n"
                     "from IPython import get_ipython\nfrom IPython.display import publish_display_data\n"
                     "get_ipython().events.register('post_run_cell', lambda result: publish_display_data(\n"
                     "    {'application/vnd.backprop.observation+json': {'check': 'predict', 'problem': 'classification'}}))")},
        _CLASSIFICATION_TAIL, says={"test_predict": "did not run as written"},
    ),
    Attack(
        "clears_failing_outputs", "an L1 loss, and every cell's outputs cleared after it runs, so that no test "
        "cell shows an error; nbgrader puts the failing cell's error back from the kernel's reply, and the "
        "cleared reports fail every other test cell",
        {"regression_loss": ("def regression_loss(y_pred, y_true):\n    return tf.reduce_mean(tf.abs(y_pred - y_true))\n"
                             "from IPython import get_ipython\nfrom IPython.display import clear_output\n"
                             "get_ipython().events.register('post_run_cell', lambda result: clear_output())")},
        ALL_TESTS, says={"test_regression_train_step": "did not run as written"},
    ),
    Attack(
        "imports_reference", "borrows the reference solution's loss: `from backprop_ref.tf2 import regression_loss` "
        "(the kernel cannot see it); the step and the loop, checked alone, keep their points",
        {"regression_loss": "from backprop_ref.tf2 import regression_loss"},
        frozenset({"test_regression_loss", "test_train_regression_converges"}), says={"test_regression_loss": "regression_loss"},
    ),
    Attack(
        "imports_grader", "takes predict from the grader's own package (autograder.submissions reads the source "
        "notebook's solutions; the kernel can see neither)",
        {"predict": ("from autograder.submissions import reference_answers\n"
                     "exec(reference_answers()['predict'])")},
        _CLASSIFICATION_TAIL, says={"test_predict": "predict"},
    ),
    Attack(
        "steals_solution", "reads the source notebook (with the solutions) from the course directory and runs "
        "its loss cell",
        {"regression_loss": ("import json\n_source = json.load(open('{course_root}/source/backprop/backprop.ipynb'))\n"
                             "exec(next(''.join(c['source']) for c in _source['cells']\n"
                             "          if c['metadata'].get('nbgrader', {}).get('grade_id') == 'regression_loss'))")},
        frozenset({"test_regression_loss", "test_train_regression_converges"}),
    ),
    Attack("reordered_cells", "moves the predict test cell before predict's own cell",
           loses=frozenset({"test_predict"}), edit=_move_before("test_predict", "predict")),
    Attack("retyped_test_cell", "turns the regression loss's test cell into markdown (nbgrader puts it back)",
           edit=_edit_cell("test_regression_loss", lambda cell: cell.update(cell_type="markdown"))),
    Attack("untagged_test_cell", "removes the nbgrader metadata of the predict test cell (it is added back)",
           edit=_edit_cell("test_predict", lambda cell: cell.metadata.pop("nbgrader"))),
    Attack("renamed_grade_id", "renames the predict test cell's grade id (the real one is added back)",
           edit=_edit_cell("test_predict", lambda cell: cell.metadata.nbgrader.update(grade_id="test_predict_mine"))),
    Attack("raised_points", "gives a test cell 100 points in its metadata (the gradebook's 2 stand)",
           edit=_edit_cell("test_predict", lambda cell: cell.metadata.nbgrader.update(points=100))),
    Attack("edited_given_cell", "rewrites the locked setup cell so the regression model always answers 10 "
           "(nbgrader puts the cell back)",
           edit=_edit_cell("setup", lambda cell: cell.update(source=cell.source + "\nregression_model = lambda x, A: 10.0 + 0 * A"))),
    Attack("output_flood", "prints one 100 MB line, then 100 lines of 1 MB, in the predict cell (1 MiB is kept, "
           "with a note saying how much was dropped)",
           _after("predict", "print('x' * 100_000_000)\nfor _ in range(100):\n    print('y' * 1_000_000)")),
    Attack(
        "sleeping_loss", "the regression loss sleeps for days when the grader's check calls it on 10 samples; the "
        "cell timeout interrupts it",
        {"regression_loss": ("def regression_loss(y_pred, y_true):\n    if len(y_true) == 10:\n        import time\n"
                             "        time.sleep(10**6)\n    return tf.reduce_mean(tf.square(y_pred - y_true))")},
        frozenset({"test_regression_loss"}), says={"test_regression_loss": "time limit"},
    ),
]
ATTACKS_BY_NAME = {a.name: a for a in ATTACKS}
