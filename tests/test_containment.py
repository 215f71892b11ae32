"""Hostile and broken submissions, graded in one batch by plain `nbgrader autograde` with the course's
config: each loses exactly the items it breaks, and nothing outside its own working copy is harmed."""
import hashlib
import os

import nbformat
import pytest

from autograder.corpus import ATTACKS
from autograder.course import Course
from autograder.demo import demo_class
from autograder.sandbox import can_contain
from autograder.submissions import reference_answers, release_notebook

pytestmark = pytest.mark.slow
CELL_TIMEOUT = 25  # seconds; the course's 180 s would make the endless loop cost minutes


def digest(root):
    """Every file under `root` with its content hash."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course.create(tmp_path_factory.mktemp("containment"))
    course.release()
    (course.root / "CANARY.txt").write_text("must survive")
    course.submit("reference", demo_class(())["reference"])
    release, reference = release_notebook(), reference_answers()
    for attack in ATTACKS:
        course.submit(attack.name, attack.notebook(release, reference, course.root))
    course.instructor("collect", "backprop", "--update", "--ExchangeCollect.check_owner=False")
    protected = {name: digest(course.root / name) for name in ("source", "release", "submitted")}
    course.instructor("autograde", "backprop", f"--Execute.timeout={CELL_TIMEOUT}")
    course.instructor("export")
    return course, course.results(), protected


def test_the_batch_grades_everyone(graded):
    _, results, _ = graded
    assert set(results) == {"reference", *(attack.name for attack in ATTACKS)}
    assert results["reference"].auto_score == 19


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_loses_exactly_what_it_breaks(graded, attack):
    _, results, _ = graded
    result = results[attack.name]
    assert result.lost == set(attack.loses), result.messages


def test_nothing_outside_the_submissions_own_copy_is_harmed(graded):
    course, _, protected = graded
    for name, files in protected.items():
        assert digest(course.root / name) == files, f"{name}/ changed"
    assert (course.root / "CANARY.txt").read_text() == "must survive"
    assert (course.root / "gradebook.db").stat().st_size > 0


@pytest.mark.skipif(not can_contain(), reason="needs root and namespaces")
def test_the_kernel_could_not_read_the_course(graded):
    course, _, _ = graded
    notebook = nbformat.read(str(course.root / "autograded" / "deletes_course" / "backprop" / "backprop.ipynb"), 4)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert outputs and not any("LEAK" in str(output) for output in outputs)


def test_a_memory_bomb_meets_a_memory_error(graded):
    _, results, _ = graded
    assert "MemoryError" in results["memory_bomb"].messages.get("predict", ""), results["memory_bomb"].messages


def test_a_dead_kernel_is_named_in_the_feedback_cells(graded):
    _, results, _ = graded
    messages = results["kernel_exit"].messages
    assert "KernelDied" in messages["test_predict"] or "kernel died" in messages["test_predict"]
    assert "the kernel died in cell" in messages["test_train_classification_converges"]


def test_no_process_of_the_sandbox_user_is_left(graded):
    import pwd

    try:
        uid = pwd.getpwnam("backprop-grader").pw_uid
    except KeyError:
        pytest.skip("no sandbox user on this machine")
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == uid]
    assert left == []
