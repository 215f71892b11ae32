"""A bug in the grader itself is the grader's error, for the instructor: plain `nbgrader autograde` names the
student, notebook and cell with the traceback, leaves that submission ungraded, grades the others, and tells
no student "tampering"."""
import pytest
from nbgrader.api import Gradebook

from coursekit.course import Course
from coursekit.demo import demo_class
from coursekit.submissions import ASSIGNMENT

pytestmark = pytest.mark.slow

# Appended to the course's nbgrader_config.py (nbgrader's own process reads it): the predict judgement fails
# on a report that holds classes, as a bug in it would.
INJECTED_BUG = '''
import dataclasses as _dataclasses
import autograder.registry as _registry
_judge_predict = _registry.CHECKS["predict"].judge
def _buggy_judge_predict(problem, observation, seed):
    if "error" in observation:
        return _judge_predict(problem, observation, seed)
    raise ZeroDivisionError("an injected grader bug")
_registry.CHECKS["predict"] = _dataclasses.replace(_registry.CHECKS["predict"], judge=_buggy_judge_predict)
'''


def test_a_grader_bug_is_reported_to_the_instructor_not_to_the_student(tmp_path):
    course = Course.create(tmp_path)
    course.release()
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write(INJECTED_BUG)
    answers = demo_class(())
    for student in ("reference", "blank"):
        course.submit(student, answers[student], via_exchange=False)
    course.collect()
    log, problems = course.autograde()
    assert [p for p in problems if "reference" in p] == [
        "Student reference, notebook backprop.ipynb: cell test_predict: the grader itself failed while judging it "
        "(ZeroDivisionError: an injected grader bug); the submission is left ungraded: report this to the "
        "course's maintainers, then grade it again"], problems
    [record] = course.problem_records()
    assert (record.student, record.kind, record.cell) == ("reference", "grader_error", "test_predict")
    assert 'raise ZeroDivisionError("an injected grader bug")' in record.traceback
    assert "Traceback" in log and 'raise ZeroDivisionError("an injected grader bug")' in log
    assert "TAMPERING" not in log and not any("blank" in p for p in problems), problems
    with Gradebook(course.gradebook_url, course.course_id) as gradebook:
        auto_scores = {submission.student_id: {grade.auto_score for grade in submission.notebooks[0].grades
                                               if grade.name.startswith("test_")}
                       for submission in gradebook.find_assignment(ASSIGNMENT).submissions}
    assert auto_scores == {"reference": {None}, "blank": {0.0}}  # ungraded (not 0), and graded
