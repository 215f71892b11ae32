"""A test cell's stderr is shown, not scored: verdicts are the judge's and the assertions'."""
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbgrader import utils

from autograder.execute import STDERR_SHOWN, UnscoredStderr


def graded_cell(*outputs, grade=True):
    cell = new_code_cell("train_regression(...)", outputs=list(outputs))
    cell.metadata["nbgrader"] = {"grade": grade, "solution": False, "locked": True, "grade_id": "test_x",
                                 "points": 2, "schema_version": 3}
    return cell


def after(*cells):
    notebook, _ = UnscoredStderr().preprocess(new_notebook(cells=list(cells)), {})
    return notebook.cells


def test_a_test_cell_with_stderr_keeps_its_points_and_shows_the_text():
    printed = new_output("stream", name="stderr", text="step 0 loss 9.98 A [2.05]\n")
    before = graded_cell(printed)
    assert utils.determine_grade(before) == (0, 2)  # nbgrader's own rule, which this step undoes
    (cell,) = after(graded_cell(printed))
    assert utils.determine_grade(cell) == (2, 2)
    assert cell.outputs[0].data["text/plain"] == STDERR_SHOWN + "step 0 loss 9.98 A [2.05]\n"


def test_a_failed_assertion_still_fails():
    error = new_output("error", ename="AssertionError", evalue="A is 0.0", traceback=[])
    (cell,) = after(graded_cell(new_output("stream", name="stderr", text="warning\n"), error))
    assert utils.determine_grade(cell) == (0, 2)


def test_other_cells_and_stdout_are_left_as_they_are():
    stderr = new_output("stream", name="stderr", text="a warning\n")
    stdout = new_output("stream", name="stdout", text="Step #25 A = 9.1\n")
    plain = new_code_cell("print('hi')", outputs=[stderr])
    given, graded = after(plain, graded_cell(stdout))
    assert given.outputs == [stderr] and graded.outputs == [stdout]
