"""Files that are not a gradable notebook: plain `nbgrader autograde` names the student, the file and
the reason, grades everyone else, and leaves every submitted file as it was; `Course.autograde` lists
each such submission among its problems, and each scores 0 on every item."""
import hashlib

import nbformat
import pytest

from coursekit.course import Course
from coursekit.demo import demo_class

pytestmark = pytest.mark.slow


def huge_notebook() -> bytes:
    notebook = demo_class(())["blank"]
    notebook.cells.append(nbformat.v4.new_markdown_cell("x" * (60 * 2**20)))
    return nbformat.writes(notebook).encode()


def foreign_notebook() -> bytes:
    """Another assignment's notebook: one code cell, no grade id of this one."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("print('homework 3')"))
    return nbformat.writes(notebook).encode()


def reference() -> bytes:
    return nbformat.writes(demo_class(())["reference"]).encode()


# student: (the file submitted instead of backprop.ipynb, its content, the reason the log gives)
BAD_FILES = {
    "invalid_json": ("backprop.ipynb", lambda: b"{not json", "not a notebook: the file is not JSON"),
    "empty": ("backprop.ipynb", lambda: b"", "the file is empty"),
    "not_notebook": ("backprop.ipynb", lambda: b'{"hello": 1}', "not a valid notebook"),
    "huge": ("backprop.ipynb", huge_notebook, "over the 50 MiB limit"),
    "foreign": ("backprop.ipynb", foreign_notebook,
                "this is not the backprop notebook (none of its grade ids are in it)"),
    "misnamed": ("Backprop.ipynb", reference, "not submitted; found 'Backprop.ipynb' instead"),
    "copy_named": ("backprop (1).ipynb", reference, "not submitted; found 'backprop (1).ipynb' instead"),
}
# No notebook at all: nbgrader's log only warns that no notebook matched; the problems name it.
NO_NOTEBOOK = ("notes.txt", lambda: b"I could not finish", "not submitted; the submission holds no notebook")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course.create(tmp_path_factory.mktemp("badfiles"))
    course.release()
    course.submit("reference", demo_class(())["reference"], via_exchange=False)
    for student, (name, content, _) in {**BAD_FILES, "no_notebook": NO_NOTEBOOK}.items():
        course.submit_file(student, name, content(), via_exchange=False)
    wrong_kernel = demo_class(())["reference"]
    wrong_kernel.metadata.kernelspec = {"name": "julia-1.9", "display_name": "Julia", "language": "julia"}
    course.submit("wrong_kernel", wrong_kernel, via_exchange=False)
    course.collect()
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in (course.root / "submitted").rglob("*")
              if path.is_file()}
    log, problems = course.autograde()
    course.instructor("export")
    return course, course.results(), log, problems, before


def test_good_submissions_are_graded_as_usual(graded):
    _, results, _, _, _ = graded
    assert results["reference"].auto_score == 19
    assert results["wrong_kernel"].auto_score == 19, "the course's kernel grades a notebook naming another"


@pytest.mark.parametrize("student", BAD_FILES)
def test_a_bad_file_fails_alone_and_says_why(graded, student):
    _, results, log, _, _ = graded
    lines = [line for line in log.splitlines() if f"student {student}, notebook backprop.ipynb: " in line.lower()]
    assert lines and BAD_FILES[student][2] in lines[0], lines
    assert results[student].auto_score == 0 and results[student].auto_max == 19


@pytest.mark.parametrize("student", [*BAD_FILES, "no_notebook"])
def test_the_problems_name_each_bad_file_once(graded, student):
    _, results, _, problems, _ = graded
    reason = {**BAD_FILES, "no_notebook": NO_NOTEBOOK}[student][2]
    named = [problem for problem in problems if problem.startswith(f"Student {student}, notebook backprop.ipynb: ")]
    assert len(named) == 1 and reason in named[0], problems
    assert results[student].auto_score == 0 and results[student].auto_max == 19


def test_each_bad_file_is_a_problem_record_of_its_kind(graded):
    course = graded[0]
    kinds = {problem.student: problem.kind for problem in course.problem_records()}
    assert kinds == {student: "not_submitted" if reason.startswith("not submitted") else "unreadable"
                     for student, (_, _, reason) in {**BAD_FILES, "no_notebook": NO_NOTEBOOK}.items()}, kinds


def test_submitted_files_are_untouched(graded):
    course, _, _, _, before = graded
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in (course.root / "submitted").rglob("*")
             if path.is_file()}
    assert after == before
