"""The training explorer: run your own training loop with settings you choose, and watch A learn.

`explore_training("regression", x_vals, y_vals)` shows sliders for the learning rate, the number of steps
and the starting A, and a Train button. Train calls *your* functions, looked up by name when you press it
(so an edited cell counts once you re-run it): `make_<example>_optimizer` (its learning rate set to the
slider's), then `train_<example>` in short runs, drawing A and the loss over the steps as they go. A run
that diverges stops with a message. Run headless (nbconvert, nbgrader) it trains nothing and shows nothing.
"""
from __future__ import annotations

import html
import sys

import numpy as np
from matplotlib.figure import Figure

from backprop_plots import draw_classes, draw_loss, draw_trajectory, png
from backprop_problem import PROBLEMS

FRAMES = 12  # plot updates per run (a frame takes about 0.25 s to draw)
DIVERGENCE = 10.0  # a run has diverged once A is this many times further from A* than where it started (+1)
SAMPLES_SEED = 0  # every run trains on the same samples: only the settings change
WIDE = {"description_width": "initial"}  # sliders' labels in full
# The learning-rate slider moves in steps of 10^0.001 (0.23%): the browser snaps a value to that grid, and a
# coarser one would turn the exercise's 0.05 into 0.0501.


class Stop(Exception):
    """Why a run cannot go on, in words for the student."""


def explore_training(example: str, x_vals, y_vals) -> "TrainingExplorer":
    """The explorer for `example` ("regression" or "classification"), using the caller's functions."""
    return TrainingExplorer(example, x_vals, y_vals, sys._getframe(1).f_globals)


def set_learning_rate(optimizer, rate: float) -> None:
    """Give a Keras or a tf.compat.v1 optimizer another learning rate."""
    if hasattr(optimizer, "learning_rate"):
        optimizer.learning_rate = rate
    elif hasattr(optimizer, "_learning_rate"):
        optimizer._learning_rate = rate
    else:
        raise Stop(f"the explorer cannot set the learning rate of {type(optimizer).__name__}; return "
                   "tf.keras.optimizers.SGD or tf.compat.v1.train.GradientDescentOptimizer")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class TrainingExplorer:
    """Sliders, a Train button, a live plot and a status line for one example."""

    def __init__(self, example: str, x_vals, y_vals, namespace: dict):
        import ipywidgets as widgets

        self.problem = PROBLEMS[example]
        self.x_vals, self.y_vals = np.asarray(x_vals, np.float32), np.asarray(y_vals, np.float32)
        self.optimum = self.problem.optimum(self.x_vals, self.y_vals)
        self._namespace = namespace
        self.history: list[float] = []  # the last run: A after each step
        self.losses: list[float] = []  # and the loss on all the data at the start and after each step
        p = self.problem
        low, high = sorted((p.initial_mean, p.ideal))
        self.learning_rate = widgets.FloatLogSlider(value=p.learning_rate, base=10, min=-3, max=1, step=0.001,
                                                    description="learning rate", readout_format=".3g", style=WIDE)
        self.steps = widgets.IntSlider(value=p.steps, min=max(1, p.steps // 20), max=p.longest_run,
                                       step=max(1, p.steps // 20), description="steps", style=WIDE)
        self.initial_A = widgets.FloatSlider(value=p.initial_mean, min=low - 10, max=high + 10, step=0.1,
                                             description="initial A", style=WIDE)
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play",
                                           tooltip=f"run your train_{example} with these settings")
        self.status = widgets.HTML(f"Press Train to run your <code>train_{example}</code>.")
        self.plot = widgets.Image(format="png", value=self._frame([], [], p.initial_mean, p.steps))
        for control, name in ((self.learning_rate, "learning-rate"), (self.steps, "steps"),
                              (self.initial_A, "initial-A"), (self.train_button, "train"),
                              (self.status, "status"), (self.plot, "plot")):
            control.add_class(f"explorer-{name}")
        self.widget = widgets.VBox([widgets.HBox([self.learning_rate, self.steps, self.initial_A]),
                                    widgets.HBox([self.train_button, self.status]), self.plot])
        self.widget.add_class("backprop-explorer")
        self.widget.add_class(f"backprop-explorer-{example}")
        self.train_button.on_click(lambda _: self.train())

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"Training explorer for {self.problem.name}: open the notebook in Jupyter to use it."
        return bundle

    def train(self) -> None:
        """Run the student's loop with the sliders' settings; never raises into the widget's callback."""
        self.train_button.disabled = True
        try:
            self._run(self.learning_rate.value, self.steps.value, self.initial_A.value)
        except Stop as stop:
            self._say(str(stop), problem=True)
        except Exception as error:  # the student's code may fail anywhere: say so, in the widget
            self._say(f"Training failed: {html.escape(_describe(error))}", problem=True)
        finally:
            self.train_button.disabled = False

    def _function(self, name: str):
        function = self._namespace.get(name)
        if not callable(function):
            raise Stop(f"<code>{name}</code> is not defined yet: run its cell first.")
        return function

    def _call(self, name: str, *args):
        try:
            return self._function(name)(*args)
        except Stop:
            raise
        except Exception as error:
            raise Stop(f"Your <code>{name}</code> raised <code>{html.escape(_describe(error))}</code>.") from None

    def _run(self, rate: float, steps: int, start: float) -> None:
        import tensorflow as tf

        name = self.problem.name
        optimizer = self._call(f"make_{name}_optimizer")
        set_learning_rate(optimizer, rate)
        A = tf.Variable([np.float32(start)])
        indices = np.random.default_rng(SAMPLES_SEED).integers(0, len(self.x_vals), size=steps)
        self.history, self.losses = history, losses = [], [self._loss_at(start)]
        lowest = self._loss_at(self.optimum)
        for chunk in np.array_split(indices, min(FRAMES, steps)):
            returned = self._call(f"train_{name}", self.x_vals, self.y_vals, A, optimizer, chunk)
            values = self._history(returned, len(chunk))
            diverged = self._diverged(values, start)
            kept = values if diverged is None else values[:diverged]
            history += kept
            losses += [self._loss_at(a) for a in kept]
            if diverged is not None:
                self._show(history, losses, start, steps, lowest)
                raise Stop(f"<b>Diverged</b> at step {len(history) + 1}: A moved further from the optimum "
                           f"A* = {self.optimum:.4f} with every step, so the run was stopped. A learning rate "
                           f"of {rate:.3g} is too large here: each step overshoots A* by more than the last. "
                           "Try a smaller one.")
            self._show(history, losses, start, steps, lowest)
            self._say(f"Training: step {len(history)} of {steps}, A = {history[-1]:.4f}")
        no_loss = "" if np.isfinite(losses).any() else (
            f" The loss plot is empty: your <code>{name}_loss</code> could not be evaluated.")
        self._say(f"A = {history[-1]:.4f} after {steps} steps at learning rate {rate:.3g} from A = {start:g}; "
                  f"the optimum is A* = {self.optimum:.4f} ({abs(history[-1] - self.optimum):.3g} away).{no_loss}")

    def _history(self, returned, expected: int) -> list[float]:
        """The loop's history as floats, or a Stop saying what is wrong with it."""
        name = f"train_{self.problem.name}"
        try:
            values = [float(np.asarray(a).reshape(-1)[0]) for a in returned]
        except Exception:
            raise Stop(f"Your <code>{name}</code> returned {html.escape(repr(returned)[:80])}; it should "
                       "return the list of A's values after every step.") from None
        if len(values) != expected:
            raise Stop(f"Your <code>{name}</code> returned {len(values)} values for {expected} indices; it "
                       "should make one step per index and return A after each.")
        return values

    def _diverged(self, values: list[float], start: float) -> int | None:
        """The index of the first value that is not finite or has run away from the optimum, if any."""
        limit = DIVERGENCE * (abs(start - self.optimum) + 1)
        for index, value in enumerate(values):
            if not np.isfinite(value) or abs(value - self.optimum) > limit:
                return index
        return None

    def _loss_at(self, A_value: float) -> float:
        """The student's loss on all the data at this A (NaN where their loss cannot say)."""
        import tensorflow as tf

        name = self.problem.name
        try:
            A = tf.constant([A_value], dtype=tf.float32)
            logits = self._function(f"{name}_model")(self.x_vals, A)
            return float(np.mean(self._function(f"{name}_loss")(logits, self.y_vals)))
        except Exception:
            return float("nan")

    def _show(self, history: list[float], losses: list[float], start: float, steps: int, lowest: float) -> None:
        self.plot.value = self._frame(history, losses, start, steps, lowest)

    def _frame(self, history: list[float], losses: list[float], start: float, steps: int,
               lowest: float | None = None) -> bytes:
        """A and the loss so far; for classification also the classes and the boundary x = -A."""
        classes = self.problem.name == "classification"
        fig = Figure(figsize=(13 if classes else 9, 3.4))
        axes = fig.subplots(1, 3 if classes else 2)
        fig.subplots_adjust(left=0.07 if classes else 0.08, right=0.98, bottom=0.16, top=0.9, wspace=0.3)
        draw_trajectory(axes[0], history, self.optimum, self.problem.ideal, start=start)
        axes[0].set_xlim(0, steps)
        axes[0].set_title("A over the steps")
        draw_loss(axes[1], losses, lowest)
        axes[1].set_xlim(0, steps)
        axes[1].set_title("your loss on all the data")
        if classes:
            draw_classes(axes[2], self.x_vals, self.y_vals, history[-1] if history else start, self.optimum)
            axes[2].set_title("the classes and the boundary")
        for ax in axes:
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="upper right", fontsize="x-small")  # "best" searches every point: slow
        return png(fig)

    def _say(self, message: str, problem: bool = False) -> None:
        colour = "#b00020" if problem else "inherit"
        self.status.value = f'<span style="color: {colour}">{message}</span>'
