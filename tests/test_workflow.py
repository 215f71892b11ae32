"""The instructor's workflow, for real: nbgrader's own commands on a fresh course with a local exchange.

generate_assignment -> release_assignment -> (each student) fetch_assignment, answer, submit -> collect ->
autograde -> generate_feedback -> export.
"""
import nbformat
import pytest

from coursekit.corpus import BY_NAME
from coursekit.course import Course
from coursekit.demo import demo_class
from coursekit.submissions import release_notebook

MISTAKES = ("numpy_loss", "momentum", "threshold_logit")
SKIP_TAG_ATTEMPT = "tagged_tests_skip_execution"


def blank_with_test_cells_tagged_skip_execution():
    """nbclient skips cells tagged "skip-execution" by default: with that default, this scores full marks."""
    notebook = release_notebook()
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            cell.metadata["tags"] = ["skip-execution"]
    return notebook


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = Course.create(tmp_path_factory.mktemp("workflow"))
    course.release()
    students = {**demo_class(MISTAKES), SKIP_TAG_ATTEMPT: blank_with_test_cells_tagged_skip_execution()}
    for student_id, notebook in students.items():
        course.submit(student_id, notebook)
    course.grade()
    return course, course.results()


pytestmark = pytest.mark.slow


def test_every_submission_is_graded_and_exported(graded_course):
    course, results = graded_course
    assert set(results) == {"reference", "blank", SKIP_TAG_ATTEMPT, *MISTAKES}
    for student_id in results:
        assert course.feedback_file(student_id).is_file()


def test_reference_scores_full_marks(graded_course):
    _, results = graded_course
    reference = results["reference"]
    assert reference.auto_max == 19 and reference.auto_score == 19, reference.messages
    assert reference.manual == ["explain_classification_optimum"]


@pytest.mark.parametrize("student_id", ["blank", SKIP_TAG_ATTEMPT])
def test_blank_scores_zero(graded_course, student_id):
    _, results = graded_course
    assert results[student_id].auto_score == 0


@pytest.mark.parametrize("name", MISTAKES)
def test_mistake_loses_exactly_the_points_of_its_items(graded_course, name):
    _, results = graded_course
    result, mistake = results[name], BY_NAME[name]
    assert result.lost == mistake.loses, result.messages
    assert result.auto_score == result.auto_max - sum(result.items[item][1] for item in mistake.loses)
    for item, phrase in mistake.says.items():
        assert phrase in result.messages[item]


def test_feedback_shows_verdicts_but_no_hidden_test_code(graded_course):
    course, _ = graded_course
    for student_id in ("reference", *MISTAKES):
        html = course.feedback_file(student_id).read_text()
        for hidden in ("BEGIN HIDDEN TESTS", "from autograder", "probe.observe_", "grading_inputs"):
            assert hidden not in html, f"{student_id}'s feedback shows {hidden!r}"
    for name in MISTAKES:
        html = course.feedback_file(name).read_text()
        assert all(phrase.split()[0] in html for phrase in BY_NAME[name].says.values())


def test_feedback_plots_each_examples_run_beside_the_reference(graded_course):
    """Under each end-to-end item, the student's trajectory of A and the reference's from the same start;
    no plot where the student's training raised (a NumPy loss, a blank notebook), only the verdict."""
    course, _ = graded_course

    def plots(student_id, example):
        autograded = nbformat.read(str(course.root / "autograded" / student_id / "backprop" / "backprop.ipynb"), 4)
        (cell,) = [c for c in autograded.cells
                   if c.metadata.get("nbgrader", {}).get("grade_id") == f"test_train_{example}_converges"]
        return [o for o in cell.outputs if "image/png" in o.get("data", {})]

    for student_id in ("reference", "momentum", "threshold_logit"):
        html = course.feedback_file(student_id).read_text()
        for example in ("regression", "classification"):
            (plot,) = plots(student_id, example)
            assert plot.data["text/plain"].startswith("Your training run beside the reference's, both from A = ")
            assert plot.data["image/png"][:400] in html, f"{student_id}'s feedback lacks the {example} plot"
    assert plots("numpy_loss", "regression") == [] and plots("blank", "classification") == []


def test_the_widget_cells_run_quietly_under_nbgrader(graded_course):
    """Under `nbgrader autograde` the "Check my work" and explorer cells raise nothing and print nothing to
    stderr; they leave their text line, and no widget state is kept."""
    course, _ = graded_course
    autograded = nbformat.read(str(course.root / "autograded" / "reference" / "backprop" / "backprop.ipynb"), 4)
    widget_cells = [c for c in autograded.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith(("check_", "explore_"))]
    assert len(widget_cells) == 11
    for cell in widget_cells:
        assert [o.output_type for o in cell.outputs] == ["execute_result"], cell.outputs
        assert cell.outputs[0].data["text/plain"].startswith(("Check my work", "Training explorer"))
    assert "widgets" not in autograded.metadata
