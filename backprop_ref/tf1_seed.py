"""The seed's TF1 script, kept faithful: graph mode, Session, placeholders, GradientDescentOptimizer.

Only two things differ from the tutorial: every random draw is seeded (NumPy through a RandomState,
TensorFlow through the graph seed) so the run can be reproduced, and each run returns what it drew and
the value of A after every step, so tests can replay it in TF2 and compare.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problem import CLASSIFICATION, REGRESSION
from .quiet_tf import tf

v1 = tf.compat.v1


@dataclass
class SeedRun:
    """What one run of the seed drew and how A moved."""

    problem: str
    x_vals: np.ndarray
    y_vals: np.ndarray
    initial_A: float
    indices: list[int]
    history: list[float]
    accuracy: float | None = None


def _train(sess, train_step, loss, A, x_data, y_target, x_vals, y_vals, rng, problem, echo):
    """The seed's loop: one random sample per step, A and the loss printed every `print_every` steps."""
    indices, history = [], []
    for i in range(problem.steps):
        rand_index = rng.choice(100)
        rand_x = [x_vals[rand_index]]
        rand_y = [y_vals[rand_index]]
        sess.run(train_step, feed_dict={x_data: rand_x, y_target: rand_y})
        indices.append(int(rand_index))
        history.append(float(sess.run(A)[0]))
        if (i + 1) % problem.print_every == 0:
            echo("Step #" + str(i + 1) + " A = " + str(sess.run(A)))
            echo("Loss = " + str(sess.run(loss, feed_dict={x_data: rand_x, y_target: rand_y})))
    return indices, history


def regression(seed: int = 0, echo=print) -> SeedRun:
    rng = np.random.RandomState(seed)
    with tf.Graph().as_default():
        v1.set_random_seed(seed)
        sess = v1.Session()
        x_vals = rng.normal(1, 0.1, 100)
        y_vals = np.repeat(10.0, 100)
        x_data = v1.placeholder(shape=[1], dtype=tf.float32)
        y_target = v1.placeholder(shape=[1], dtype=tf.float32)
        A = tf.Variable(v1.random_normal(shape=[1]))
        my_output = tf.multiply(x_data, A)
        loss = tf.square(my_output - y_target)
        sess.run(v1.global_variables_initializer())
        initial_A = float(sess.run(A)[0])
        my_opt = v1.train.GradientDescentOptimizer(REGRESSION.learning_rate)
        train_step = my_opt.minimize(loss)
        indices, history = _train(sess, train_step, loss, A, x_data, y_target, x_vals, y_vals, rng, REGRESSION, echo)
        sess.close()
    return SeedRun("regression", x_vals, y_vals, initial_A, indices, history)


def classification(seed: int = 0, echo=print) -> SeedRun:
    rng = np.random.RandomState(seed)
    with tf.Graph().as_default():
        v1.set_random_seed(seed)
        sess = v1.Session()
        x_vals = np.concatenate((rng.normal(-1, 1, 50), rng.normal(3, 1, 50)))
        y_vals = np.concatenate((np.repeat(0.0, 50), np.repeat(1.0, 50)))
        x_data = v1.placeholder(shape=[1], dtype=tf.float32)
        y_target = v1.placeholder(shape=[1], dtype=tf.float32)
        A = tf.Variable(v1.random_normal(mean=10, shape=[1]))
        # The sigmoid is inside the loss; the loss expects a batch dimension, hence expand_dims.
        my_output = tf.add(x_data, A)
        my_output_expanded = tf.expand_dims(my_output, 0)
        y_target_expanded = tf.expand_dims(y_target, 0)
        sess.run(v1.global_variables_initializer())
        initial_A = float(sess.run(A)[0])
        xentropy = tf.nn.sigmoid_cross_entropy_with_logits(logits=my_output_expanded, labels=y_target_expanded)
        my_opt = v1.train.GradientDescentOptimizer(CLASSIFICATION.learning_rate)
        train_step = my_opt.minimize(xentropy)
        indices, history = _train(sess, train_step, xentropy, A, x_data, y_target, x_vals, y_vals, rng,
                                  CLASSIFICATION, echo)
        predictions = []
        for i in range(len(x_vals)):
            x_val = [x_vals[i]]
            prediction = sess.run(tf.round(tf.sigmoid(my_output)), feed_dict={x_data: x_val})
            predictions.append(prediction[0])
        accuracy = sum(x == y for x, y in zip(predictions, y_vals)) / 100.0
        echo("最终精确度 = " + str(np.round(accuracy, 2)))
        sess.close()
    return SeedRun("classification", x_vals, y_vals, initial_A, indices, history, float(accuracy))
