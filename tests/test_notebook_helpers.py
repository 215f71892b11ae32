"""The student's helpers as shipped in release/backprop/: "check my work", the training explorer, and the
notebook run headless with them.

The helpers are imported from release/, the copy students get, and driven in this process with a
submission's functions (`namespace_of`), as a click in Jupyter would drive them. tests/test_browser.py
clicks the same widgets in a real browser.
"""
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from autograder import checks, grading_inputs, registry
from coursekit.corpus import BY_NAME, IDIOMS, MISTAKES
from coursekit.submissions import (ASSIGNMENT, NOTEBOOK, course_root, fill, namespace_of, reference_answers,
                                    release_notebook)
from backprop_ref import tf2
from backprop_ref.problem import PROBLEMS

RELEASE = course_root() / "release" / ASSIGNMENT
sys.path.insert(0, str(RELEASE))
import backprop_checks  # noqa: E402  (the shipped copy)
import backprop_explorer  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def reference():
    return namespace_of(reference_answers())


def submission(**answers):
    return namespace_of({**reference_answers(), **answers})


# --- check my work --------------------------------------------------------------------------------------

def test_the_reference_passes_every_check(reference):
    for name in backprop_checks.CHECKS:
        finding = backprop_checks.check(name, reference)
        assert finding.passed, finding.text()
        assert finding.text().startswith(f"✓ {name} passes the visible checks")


@pytest.mark.parametrize("idiom", sorted(IDIOMS))
def test_other_correct_idioms_pass(idiom):
    namespace = submission(**IDIOMS[idiom])
    failing = [backprop_checks.check(name, namespace) for name in backprop_checks.CHECKS]
    assert [f.text() for f in failing if not f.passed] == []


# mistake -> (the function whose check must fail, a phrase its "likely mistake" must hold)
NAMED = {
    "l1_loss": ("regression_loss", "L1"),
    "tf_nn_l2_loss": ("regression_loss", "tf.nn.l2_loss"),
    "sum_not_mean": ("regression_loss", "sum of the squared errors"),
    "unreduced_loss": ("regression_loss", "not reduced"),
    "numpy_loss": ("regression_loss", "outside TensorFlow"),
    "swapped_labels_logits": ("classification_loss", "swapped"),
    "sigmoid_twice": ("classification_loss", "sigmoid applied twice"),
    "mse_on_probabilities": ("classification_loss", "squared error of the probabilities"),
    "momentum": ("make_regression_optimizer", "momentum 0.9"),
    "adam": ("make_regression_optimizer", "not plain gradient descent"),
    "shared_optimizer": ("make_regression_optimizer", "create a new one inside"),
    "regression_learning_rate": ("make_classification_optimizer", "the regression example's"),
    "gradient_ascent": ("regression_train_step", "gradient ascent"),
    "gradient_not_applied": ("regression_train_step", "never applied"),
    "loss_after_update": ("regression_train_step", "after the update"),
    "step_carries_gradient": ("classification_train_step", "carries something from one call to the next"),
    "indices_ignored": ("train_classification", "indices are ignored"),
    "loss_recorded": ("train_regression", "loss was recorded instead of A"),
    "recorded_before_step": ("train_classification", "before each step"),
    "stored_variable": ("train_classification", "holds A itself"),
    "threshold_logit": ("predict", "logit x + A was compared with 0.5"),
    "threshold_x": ("predict", "A is ignored"),
    "predict_rounds_A": ("predict", "A was rounded to 1 decimal"),
    "probabilities_returned": ("predict", "probabilities returned instead of classes"),
}


@pytest.mark.parametrize("mistake", sorted(NAMED))
def test_a_mistake_is_explained_in_plain_words(mistake):
    function, phrase = NAMED[mistake]
    finding = backprop_checks.check(function, submission(**BY_NAME[mistake].answers))
    assert not finding.passed
    text = finding.text()
    assert phrase in finding.mistake, text
    assert "Expected: " in text and "Got: " in text
    for secret in ("probe", "grading_inputs", "autograder", "backprop_ref", "HIDDEN"):
        assert secret not in text


def _grader_names(check, seed=grading_inputs.DEFAULT_SEED) -> str:
    """The mistake the grader's hidden check names ("" if it passes or names none)."""
    try:
        check(seed)
    except checks.GradingFailure as failure:
        return failure.mistake or ""
    return ""


@pytest.mark.slow
@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_check_my_work_and_the_grader_name_a_mistake_in_the_same_words(mistake):
    """Both name mistakes from one catalogue (backprop_mistakes.py): where both name one, it is the same one,
    word for word; where both see a mistake in the same function, each names it or neither does."""
    np.random.seed(0)  # a mistake that draws its own samples (resampled_indices) may match 5 steps by chance
    namespace = submission(**mistake.answers)
    hidden = registry.item_checks(namespace)
    compared = 0
    for function in backprop_checks.CHECKS:
        item = f"test_{function}"
        if item not in mistake.loses:
            continue
        finding = backprop_checks.check(function, namespace)
        graders = _grader_names(hidden[item])
        if finding.passed or function in backprop_checks.DEPENDS_ON and finding.mistake.endswith("first"):
            continue  # the visible check does not see it (the grader looks further), or blames the function used
        # the same words, or one of the explanations the grader gives where its inputs allow two
        assert _words(finding.mistake) == _words(graders) or finding.mistake and _words(finding.mistake) in _words(graders), \
            (finding.text(), graders)
        compared += 1
    visible_items = {f"test_{f}" for f in backprop_checks.CHECKS} & mistake.loses
    assert compared or not visible_items or mistake.name in HIDDEN_ONLY, f"Check my work sees none of {visible_items}"


# Mistakes that only the grader's longer runs or further inputs show (the notebook says Check my work checks less
# than the grader). Its run of five steps never gets A close enough to stop, a loss over 1,000, or A over a million;
# its losses are never past float32's range, its steps' losses are whole numbers or need no more than 1e-4, its
# data have fewer than 100 samples, none past 5; its optimizers make 10 updates at a fixed rate; its steps'
# gradients are between 0.01 and 1,000; its values of A have at most two decimals. It differentiates each loss
# alone (never a multiple of it), never steps twice on one sample, checks each function where its cell stands (not
# after the whole notebook), and runs a loop with the student's own step and a new optimizer per call. Its losses
# are never below a thousandth nor NaN, and it does not read what a loop or predict returned again later, nor
# whether predict's classes are a NumPy array.
HIDDEN_ONLY = {"stops_when_loss_is_small", "repeats_step_while_loss_large", "loop_stops_when_diverging",
               "loss_skips_overflow", "step_rounds_loss", "loop_wraps_indices", "schedule_after_example_run",
               "step_skips_small_gradient", "step_applies_rate_itself", "step_clips_gradient", "loop_clips_data",
               "predict_rounds_A_finely", "loss_custom_gradient_ignores_upstream", "step_caches_gradient_per_sample",
               "steps_share_rebound_names", "loop_hands_scalar_samples", "loss_plus_epsilon", "loss_smoothed_labels",
               "loss_hides_nan", "loop_trains_a_copy_then_assigns", "loops_share_one_history", "predict_returns_tensor",
               "predict_reuses_output"}


def _words(mistake: str) -> str:
    """A diagnosis without the numbers it read off the inputs it was shown (they differ between the two)."""
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", mistake)


def test_a_step_that_fails_because_of_its_loss_says_so():
    finding = backprop_checks.check("classification_train_step", submission(**BY_NAME["sigmoid_twice"].answers))
    assert not finding.passed and "fix classification_loss first" in finding.mistake, finding.text()


def test_unwritten_and_undefined_functions_are_named():
    blank = {}
    exec(compile("def regression_loss(y_pred, y_true):\n    raise NotImplementedError()", "<cell>", "exec"), blank)
    unwritten = backprop_checks.check("regression_loss", blank)
    assert not unwritten.passed and "not written yet" in unwritten.mistake
    undefined = backprop_checks.check("predict", {})
    assert not undefined.passed and "run it" in undefined.mistake


def test_the_button_puts_the_answer_beside_it(reference):
    control = backprop_checks.CheckMyWork("regression_loss", reference)
    assert control.result.value == ""
    control.run()
    assert "passes the visible checks" in control.result.value and not control.button.disabled
    with pytest.raises(ValueError, match="no checks for 'regression_losss'"):
        backprop_checks.CheckMyWork("regression_losss", reference)


# --- the training explorer ------------------------------------------------------------------------------

def explorer(example, namespace):
    x, y = PROBLEMS[example].make_data(np.random.default_rng(0))
    return backprop_explorer.TrainingExplorer(example, x, y, namespace)


@pytest.mark.parametrize("example, rate, steps, start", [("regression", 0.1, 30, 2.0),
                                                         ("classification", 0.2, 140, -4.0)])
def test_train_runs_the_students_loop_with_the_sliders_settings(reference, example, rate, steps, start):
    shown = explorer(example, reference)
    first_frame = shown.plot.value
    shown.learning_rate.value, shown.steps.value, shown.initial_A.value = rate, steps, start
    shown.train()
    indices = np.random.default_rng(backprop_explorer.SAMPLES_SEED).integers(0, len(shown.x_vals), size=steps)
    expected = tf2.run(shown.problem, shown.x_vals, shown.y_vals, start, indices, learning_rate=rate)
    np.testing.assert_allclose(shown.history, expected, rtol=1e-5, atol=1e-5)
    assert len(shown.losses) == steps + 1 and shown.losses[-1] < shown.losses[0]
    assert shown.plot.value != first_frame
    assert f"after {steps} steps at learning rate {rate:.3g}" in shown.status.value
    assert not shown.train_button.disabled


def test_a_diverging_rate_stops_with_a_message_not_nans(reference):
    shown = explorer("regression", reference)
    shown.learning_rate.value = 1.5
    shown.train()
    assert "Diverged" in shown.status.value and "nan" not in shown.status.value.lower()
    assert shown.history and np.all(np.isfinite(shown.history)) and len(shown.history) < shown.steps.value
    assert max(abs(a - shown.optimum) for a in shown.history) <= backprop_explorer.DIVERGENCE * (abs(0 - shown.optimum) + 1)


def test_a_broken_loop_is_named_in_the_status_and_nothing_raises():
    unwritten = submission(train_regression="def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
                                            "    raise NotImplementedError()")
    shown = explorer("regression", unwritten)
    shown.train()
    assert "train_regression</code> raised <code>NotImplementedError" in shown.status.value
    hard_coded = submission(**BY_NAME["fixed_steps"].answers)
    shown = explorer("regression", hard_coded)
    shown.steps.value = 40
    shown.train()
    assert "returned 100 values for" in shown.status.value and "one step per index" in shown.status.value
    no_loss = submission(regression_loss="def regression_loss(y_pred, y_true):\n    raise NotImplementedError()",
                         regression_train_step=reference_answers()["regression_train_step"].replace(
                             "regression_loss(regression_model(x, A), y)", "tf.reduce_mean((x * A - y) ** 2)"))
    shown = explorer("regression", no_loss)
    shown.train()
    assert "after 100 steps" in shown.status.value and "regression_loss</code> could not be evaluated" in shown.status.value


# --- shipped with the assignment, holding no solution ---------------------------------------------------

def test_the_release_ships_the_helpers_and_no_solution():
    shipped = {path.name: path.read_text() for path in RELEASE.glob("*.py")}
    assert {"backprop_checks.py", "backprop_explorer.py", "backprop_plots.py", "backprop_problem.py",
            "backprop_stand_ins.py", "backprop_mistakes.py"} <= set(shipped)
    for grade_id, answer in reference_answers().items():
        for line in answer.split("\n"):
            line = line.strip()
            if len(line) > 24 and not line.startswith(("def ", '"""', "#")):
                for name, text in shipped.items():
                    assert line not in text, f"{name} holds a line of the {grade_id} solution: {line}"
    for name, text in shipped.items():
        assert "import autograder" not in text and "from autograder" not in text and "backprop_ref" not in text, name


@pytest.mark.slow
def test_the_notebook_runs_headless_without_errors_or_stderr(tmp_path):
    """`jupyter nbconvert --execute`, a real kernel: the widgets raise nothing, print nothing to stderr, and
    leave a plain-text line where a browser would show them."""
    for path in RELEASE.glob("*.py"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    nbformat.write(fill(release_notebook(), reference_answers()), str(tmp_path / NOTEBOOK))
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", NOTEBOOK,
                    "--output", "executed.ipynb", "--ExecutePreprocessor.timeout=300"],
                   cwd=tmp_path, check=True, capture_output=True, timeout=600)
    executed = nbformat.read(str(tmp_path / "executed.ipynb"), as_version=4)
    widgets = {}
    for cell in executed.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{grade_id}: {output.ename}: {output.evalue}"
            assert output.get("name") != "stderr", f"{grade_id} printed to stderr: {output.text}"
        if grade_id.startswith(("check_", "explore_")):
            (output,) = cell.outputs
            widgets[grade_id] = output.data["text/plain"]
            assert WIDGET_VIEW in output.data
    assert widgets["explore_regression"].startswith("Training explorer for regression")
    assert sum(grade_id.startswith("check_") for grade_id in widgets) == len(backprop_checks.CHECKS)
