"""Files that are not a gradable notebook: plain `nbgrader autograde` names the student, the file and
the reason, grades everyone else, and leaves every submitted file as it was."""
import hashlib

import nbformat
import pytest

from autograder.course import Course
from autograder.demo import demo_class

pytestmark = pytest.mark.slow

BAD_FILES = {
    "invalid_json": (b"{not json", "not a notebook: the file is not JSON"),
    "empty": (b"", "the file is empty"),
    "not_notebook": (b'{"hello": 1}', "not a valid notebook"),
    "huge": (None, "over the 50 MiB limit"),
}


def huge_notebook() -> bytes:
    notebook = demo_class(())["blank"]
    notebook.cells.append(nbformat.v4.new_markdown_cell("x" * (60 * 2**20)))
    return nbformat.writes(notebook).encode()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course.create(tmp_path_factory.mktemp("badfiles"))
    course.release()
    reference = demo_class(())["reference"]
    course.submit("reference", reference)
    for student, (content, _) in BAD_FILES.items():
        course.submit_file(student, "backprop.ipynb", huge_notebook() if content is None else content)
    foreign = nbformat.from_dict(reference)
    foreign.metadata.kernelspec = {"name": "julia-1.9", "display_name": "Julia", "language": "julia"}
    course.submit("wrong_kernel", foreign)
    course.instructor("collect", "backprop", "--update", "--ExchangeCollect.check_owner=False")
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in (course.root / "submitted").rglob("*")
              if path.is_file()}
    log = course.instructor("autograde", "backprop", allowed_returncodes=(0, 1))
    course.instructor("export")
    return course, course.results(), log, before


def test_good_submissions_are_graded_as_usual(graded):
    _, results, _, _ = graded
    assert results["reference"].auto_score == 19
    assert results["wrong_kernel"].auto_score == 19, "the course's kernel grades a notebook naming another"


@pytest.mark.parametrize("student", BAD_FILES)
def test_a_bad_file_fails_alone_and_says_why(graded, student):
    _, results, log, _ = graded
    lines = [line for line in log.splitlines() if f"student {student}, notebook backprop.ipynb: " in line]
    assert lines and BAD_FILES[student][1] in lines[0], lines
    assert results[student].auto_score == 0


def test_submitted_files_are_untouched(graded):
    course, _, _, before = graded
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in (course.root / "submitted").rglob("*")
             if path.is_file()}
    assert after == before
