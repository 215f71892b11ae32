"""Hostile and broken submissions, graded in one batch by plain `nbgrader autograde` with the course's
config: each loses exactly the items it breaks, and nothing outside its own working copy is harmed."""
import hashlib
import os

import nbformat
import pytest

from coursekit.corpus import ATTACKS_BY_NAME
from coursekit.course import Course
from coursekit.demo import demo_class
from autograder.sandbox import can_contain
from coursekit.submissions import reference_answers, release_notebook

pytestmark = pytest.mark.slow
CELL_TIMEOUT = 25  # seconds; the course's 180 s would make the endless loop cost minutes
# What lies outside the kernel (files, memory, processes, time, output) and the notebook's structure. The
# tampering attacks are graded by the selfcheck's CI subset (tests/test_selfcheck.py), the whole corpus by
# `autograder selfcheck --all`.
CONTAINED = ("deletes_course", "steals_solution", "imports_grader", "memory_bomb", "fork_bomb", "kernel_exit",
             "forged_signature", "infinite_loop", "output_flood", "sleeping_loss", "deleted_test_cell", "deleted_test_after_given_cell",
             "renamed_grade_id")
GRADED_ATTACKS = [ATTACKS_BY_NAME[name] for name in CONTAINED]


def digest(root):
    """Every file under `root` with its content hash."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course.create(tmp_path_factory.mktemp("containment"))
    course.release()
    (course.root / "CANARY.txt").write_text("must survive")
    course.submit("reference", demo_class(())["reference"], via_exchange=False)
    release, reference = release_notebook(), reference_answers()
    for attack in GRADED_ATTACKS:
        course.submit(attack.name, attack.notebook(release, reference, course.root), via_exchange=False)
    course.collect()
    protected = {name: digest(course.root / name) for name in ("source", "release", "submitted")}
    _, problems = course.autograde(f"--Execute.timeout={CELL_TIMEOUT}")
    course.instructor("export")
    return course, course.results(), protected, problems


def test_the_batch_grades_everyone(graded):
    _, results, _, _ = graded
    assert set(results) == {"reference", *(attack.name for attack in GRADED_ATTACKS)}
    assert results["reference"].auto_score == 19


@pytest.mark.parametrize("attack", GRADED_ATTACKS, ids=lambda a: a.name)
def test_attack_loses_exactly_what_it_breaks(graded, attack):
    _, results, _, _ = graded
    result = results[attack.name]
    assert result.lost == set(attack.loses), result.messages


def test_nothing_outside_the_submissions_own_copy_is_harmed(graded):
    course, _, protected, _ = graded
    for name, files in protected.items():
        assert digest(course.root / name) == files, f"{name}/ changed"
    assert (course.root / "CANARY.txt").read_text() == "must survive"
    assert (course.root / "gradebook.db").stat().st_size > 0


@pytest.mark.skipif(not can_contain(), reason="needs root and namespaces")
def test_the_kernel_could_not_read_the_course(graded):
    course, _, _, _ = graded
    notebook = nbformat.read(str(course.root / "autograded" / "deletes_course" / "backprop" / "backprop.ipynb"), 4)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert outputs and not any("LEAK" in str(output) for output in outputs)


def test_a_memory_bomb_meets_a_memory_error(graded):
    _, results, _, _ = graded
    assert "MemoryError" in results["memory_bomb"].messages.get("predict", ""), results["memory_bomb"].messages


def test_a_dead_kernel_is_named_in_the_feedback_cells(graded):
    _, results, _, _ = graded
    messages = results["kernel_exit"].messages
    assert "KernelDied" in messages["test_predict"] or "kernel died" in messages["test_predict"]
    assert "the kernel died in cell" in messages["test_train_classification_converges"]


def test_an_output_flood_is_cut_while_the_cell_runs(graded):
    course, results, _, problems = graded
    autograded = course.root / "autograded" / "output_flood" / "backprop" / "backprop.ipynb"
    assert autograded.stat().st_size < 3 * 2**20, "1 MiB kept of the 200 MB printed, and the rest of the notebook"
    predict = next(cell for cell in nbformat.read(str(autograded), 4).cells
                   if cell.metadata.get("nbgrader", {}).get("grade_id") == "predict")
    assert "only the first 1.0 MiB is kept" in predict.outputs[-1].data["text/plain"]
    assert any(problem.startswith("Student output_flood, notebook backprop.ipynb: cell ") and ", predict printed "
               in problem and "output past 1.0 MiB was dropped" in problem for problem in problems), problems
    assert {(p.kind, p.cell) for p in course.problem_records() if p.student == "output_flood"} == {
        ("output_dropped", "predict")}
    assert results["output_flood"].auto_score == 19


def test_a_kernel_whose_messages_stop_making_sense_keeps_what_it_earned(graded):
    course, results, _, _ = graded
    assert "stopped answering properly" in results["forged_signature"].messages["test_predict"]
    assert ("kernel_broken", "predict") in {
        (p.kind, p.cell) for p in course.problem_records() if p.student == "forged_signature"}


def test_a_sleeping_check_is_stopped_by_the_cell_timeout_and_named(graded):
    course, results, _, problems = graded
    message = results["sleeping_loss"].messages["test_regression_loss"]
    assert f"test_regression_loss ran over its {CELL_TIMEOUT} s time limit" in message, message
    assert any(problem.startswith("Student sleeping_loss, notebook backprop.ipynb: cell ") and
               f"test_regression_loss ran over its {CELL_TIMEOUT} s" in problem for problem in problems), problems
    assert ("cell_timeout", "test_regression_loss") in {
        (p.kind, p.cell) for p in course.problem_records() if p.student == "sleeping_loss"}


def test_no_process_of_the_sandbox_user_is_left(graded):
    """No process of a kernel outlives it. Kernels and fork servers of other gradings running now (their private
    directory still exists) are not this batch's; zombies (exited, waiting for init to reap them) hold nothing."""
    import pwd
    import re

    try:
        uid = pwd.getpwnam("backprop-grader").pw_uid
    except KeyError:
        pytest.skip("no sandbox user on this machine")
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
            if os.stat(f"/proc/{pid}").st_uid != uid or state == "Z":
                continue
            command = open(f"/proc/{pid}/cmdline").read().replace("\0", " ")
        except FileNotFoundError:  # it ended meanwhile
            continue
        directory = re.search(r"(/\S+/backprop-(?:kernel|forks)-[^/\s]+)/", command)
        if directory is None or not os.path.isdir(directory.group(1)):
            left.append(f"{pid}: {command[:120]}")
    assert left == []
