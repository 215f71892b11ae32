"""`autograder grade`: the same grades as plain `nbgrader autograde`, in parallel, warm, resumable.

One class is graded by plain `nbgrader autograde` once (the baseline); each test grades a fresh copy of its
submissions with `autograder grade` and compares every item's score and every failure message.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from coursekit.corpus import BY_NAME
from coursekit.course import Course, _env, _failure_messages
from coursekit.submissions import ASSIGNMENT, NOTEBOOK, fill, reference_answers, release_notebook
from services import dask_cluster, postgres_server

pytestmark = pytest.mark.slow

# A submission that leaves every kind of state it can behind, and one that fails if it finds any: graded one
# after the other on one worker (one fork server), the second must keep every point. The first also prints
# past the output cap: a problem found on the worker, which the coordinator records.
LEAVES_STATE = """import builtins, os, sys, types, numpy
print("state " * 400_000)
builtins.LEFT_BEHIND = True
os.environ["LEFT_BEHIND"] = "1"
sys.modules["left_behind"] = types.ModuleType("left_behind")
tf.left_behind = numpy.left_behind = True
numpy.mean = lambda *args, **kwargs: 42.0
for _folder in {os.getcwd(), os.path.expanduser("~"), os.environ.get("TMPDIR", "/tmp"), "/tmp", "/var/tmp", "/dev/shm"}:
    try:
        open(os.path.join(_folder, "left_behind.txt"), "w").write("state")
    except OSError:
        pass
"""
FINDS_STATE = """import builtins, os, sys, numpy
_FOLDERS = {os.getcwd(), os.path.expanduser("~"), os.environ.get("TMPDIR", "/tmp"), "/tmp", "/var/tmp", "/dev/shm"}
FOUND = [what for what, found in {
    "a builtin": hasattr(builtins, "LEFT_BEHIND"), "an environment variable": "LEFT_BEHIND" in os.environ,
    "a module": "left_behind" in sys.modules, "a patched module": hasattr(tf, "left_behind") or hasattr(numpy, "left_behind"),
    "a patched function": numpy.mean([1.0, 2.0]) != 1.5,
    "a file": any(os.path.exists(os.path.join(folder, "left_behind.txt")) for folder in _FOLDERS),
}.items() if found]
"""
LOSS = "def regression_loss(y_pred, y_true):\n    return tf.reduce_mean(tf.square(y_pred - y_true))\n"
CHECKED_LOSS = ("def regression_loss(y_pred, y_true):\n"
                "    if FOUND:\n        raise RuntimeError(f'another submission left {FOUND} behind')\n"
                "    return tf.reduce_mean(tf.square(y_pred - y_true))\n")


def class_notebooks() -> dict:
    release, reference = release_notebook(), reference_answers()
    return {
        "a_leaves_state": fill(release, {**reference, "regression_loss": LEAVES_STATE + LOSS}),
        "b_finds_state": fill(release, {**reference, "regression_loss": FINDS_STATE + CHECKED_LOSS}),
        "blank": release,
        "l1_loss": fill(release, {**reference, **BY_NAME["l1_loss"].answers}),
        "reference": fill(release, reference),
    }


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The class, submitted and collected, graded by plain `nbgrader autograde`."""
    course = Course.create(tmp_path_factory.mktemp("plain"))
    course.release()
    for student, notebook in class_notebooks().items():
        course.submit(student, notebook, via_exchange=False)
    course.collect()
    course.autograde()
    return course


def copy_of(baseline: Course, directory, db_url: str = "", students=None) -> Course:
    """A fresh course (gradebook included) holding the baseline's submissions (of `students`, default all),
    none graded."""
    course = Course.create(directory, db_url=db_url)
    course.instructor("generate_assignment", ASSIGNMENT, "--force")
    for folder in (baseline.root / "submitted").iterdir():
        if students is None or folder.name in students:
            shutil.copytree(folder, course.root / "submitted" / folder.name)
    return course


def messages(course: Course) -> dict:
    return {folder.parent.name: _failure_messages(folder / NOTEBOOK)
            for folder in sorted((course.root / "autograded").glob(f"*/{ASSIGNMENT}"))}


def assert_same_grades(course: Course, baseline: Course, students=None) -> None:
    """Every item's score and every failure message of `students` (default: all) as the baseline has them."""
    expected = {s: v for s, v in baseline.scores().items() if students is None or s in students}
    assert {s: v for s, v in course.scores().items() if s in expected} == expected
    assert {s: m for s, m in messages(course).items() if s in expected} == \
        {s: m for s, m in messages(baseline).items() if s in expected}


@pytest.fixture(scope="module")
def graded(baseline, tmp_path_factory):
    """The class graded by `autograder grade` on one worker, with the output it printed."""
    course = copy_of(baseline, tmp_path_factory.mktemp("parallel"))
    return course, course.autograder("grade", ASSIGNMENT, "--workers=1")


def test_same_grades_as_plain_nbgrader(graded, baseline):
    course, output = graded
    assert_same_grades(course, baseline)
    assert "graded           5" in output and "failed           0" in output, output
    assert course.problem_records() == baseline.problem_records()
    assert [(p.student, p.kind, p.cell, p.recheck) for p in baseline.problem_records()] == [
        ("a_leaves_state", "output_dropped", "regression_loss", False),
        ("a_leaves_state", "output_dropped", "regression_loss", True)]
    for student in baseline.scores():
        assert f"] {student}: graded" in output, output


def test_no_state_reaches_the_next_submission(graded, baseline):
    course, output = graded
    finder = course.scores()["b_finds_state"]
    assert finder == baseline.scores()["reference"], messages(course)["b_finds_state"]
    assert output.index("a_leaves_state") < output.index("b_finds_state"), output  # graded in this order


def test_resume_skips_what_is_graded_and_regrades_what_is_not(graded, baseline):
    course, _ = graded
    output = course.autograder("grade", ASSIGNMENT, "--workers=1")
    assert "skipped          5" in output and "graded           0" in output, output

    # A run killed before it wrote l1_loss's notebook; and a forced regrade of one student.
    (course.root / "autograded" / "l1_loss" / ASSIGNMENT / NOTEBOOK).unlink()
    output = course.autograder("grade", ASSIGNMENT, "--workers=1")
    assert "l1_loss: an earlier run stopped" in output and "] l1_loss: graded" in output, output
    assert "skipped          4" in output, output
    output = course.autograder("grade", ASSIGNMENT, "--workers=1", "--force", "--student=reference")
    assert "] reference: graded" in output and "graded           1" in output, output
    assert_same_grades(course, baseline)


@pytest.mark.parametrize("command", ["nbgrader autograde", "autograder grade"])
def test_a_grading_seed_set_in_the_config_reaches_the_kernels(baseline, tmp_path, command):
    """One seed source: set in nbgrader_config.py, the kernels draw the judge's inputs from it too (no report
    reads as tampering), and the verdicts are on other inputs (a failure's numbers differ)."""
    course = copy_of(baseline, tmp_path, students=["l1_loss"])
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write("c.JudgeObservations.grading_seed = 7\n")
    if command == "nbgrader autograde":
        course.instructor("autograde", ASSIGNMENT)
    else:
        course.autograder("grade", ASSIGNMENT, "--workers=1")
    assert course.scores()["l1_loss"] == baseline.scores()["l1_loss"], messages(course)
    seeded, default = messages(course)["l1_loss"], messages(baseline)["l1_loss"]
    assert seeded.keys() == default.keys() and "L1 loss" in seeded["test_regression_loss"]
    assert seeded["test_regression_loss"] != default["test_regression_loss"]


def as_on_a_terminal() -> None:
    """Ctrl-C's default action in the child, whatever its parent ignores (pytest-xdist's workers ignore SIGINT,
    and an ignored signal stays ignored across exec)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_keeps_what_is_graded(baseline, tmp_path):
    students = ("a_leaves_state", "l1_loss", "reference")  # one graded before Ctrl-C, one in flight, one waiting
    course = copy_of(baseline, tmp_path, students=students)
    grading = subprocess.Popen([sys.executable, "-m", "coursekit", "grade", ASSIGNMENT, "--workers=1"],
                               cwd=course.root, env=_env(course.homes / "instructor"), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               preexec_fn=as_on_a_terminal)
    lines = []
    for line in grading.stdout:
        lines.append(line)
        if line.startswith(f"[1/{len(students)}]"):
            os.killpg(grading.pid, signal.SIGINT)  # as Ctrl-C on a terminal: the command and its workers
            break
    output = "".join(lines) + grading.communicate(timeout=300)[0]
    assert grading.returncode == 130, output
    assert "Interrupted" in output and "interrupted" in output, output
    done = {folder.parent.name for folder in (course.root / "autograded").glob(f"*/{ASSIGNMENT}")
            if (folder / NOTEBOOK).exists()}
    assert 1 <= len(done) < len(students), output
    assert_same_grades(course, baseline, students=done)

    output = course.autograder("grade", ASSIGNMENT, "--workers=1")
    assert f"skipped          {len(done)}" in output, output
    assert_same_grades(course, baseline, students=students)


def kill_workers_running(address: str, worker_pids, kills: dict[str, int], grading: subprocess.Popen) -> None:
    """Kill the Dask worker holding each named student's task, up to `kills[student]` times, until grading ends.

    A worker that dies also counts against the tasks the scheduler had queued on it, so a student may reach
    its count with fewer kills of its own; the test's assertions on the outcome say what must happen.
    """
    from distributed import Client

    wanted, killed = set(kills), set()
    with Client(address, timeout="30s") as client:
        deadline = time.monotonic() + 600
        while any(kills.values()) and grading.poll() is None and time.monotonic() < deadline:
            pids = worker_pids()
            for worker, keys in client.processing().items():
                for key in keys:
                    student = next((s for s in kills if str(key).startswith(f"grade-{s}-")), None)
                    if student and kills[student] and (key, worker) not in killed and worker in pids:
                        os.kill(pids[worker], signal.SIGKILL)
                        killed.add((key, worker))
                        kills[student] -= 1
            time.sleep(0.1)
    never = {student for student in wanted
             if not any(str(key).startswith(f"grade-{student}-") for key, _ in killed)}
    assert not never, f"the tasks of {sorted(never)} were never seen running, so never killed"


def test_dask_cluster_retries_a_dead_worker_once(baseline, tmp_path):
    """On a real Dask cluster (scheduler and two workers on loopback): a submission whose worker died once is
    graded on another; one whose workers died twice is reported failed; the rest are graded as usual."""
    course = copy_of(baseline, tmp_path)
    with dask_cluster(2) as (address, worker_pids):
        grading = subprocess.Popen([sys.executable, "-m", "coursekit", "grade", ASSIGNMENT, f"--scheduler={address}"],
                                   cwd=course.root, env=_env(course.homes / "instructor"), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        kill_workers_running(address, worker_pids, {"l1_loss": 1, "blank": 2}, grading)
        output = grading.communicate(timeout=600)[0]
    assert grading.returncode == 1, output
    assert "failed           1" in output and "graded           4" in output, output
    assert "blank" in output.split("why", 1)[1] and "died twice" in output, output
    assert {(p.student, p.kind) for p in course.problem_records()} == {
        ("a_leaves_state", "output_dropped"), ("blank", "worker_lost")}
    assert_same_grades(course, baseline, students=set(baseline.scores()) - {"blank"})


def test_postgresql_gradebook(baseline, tmp_path):
    """The gradebook in a real PostgreSQL server (nbgrader's db_url): same grades, and nbgrader's export works."""
    (tmp_path / "postgres").mkdir()
    students = ("l1_loss", "reference")
    with postgres_server(tmp_path / "postgres") as url:
        course = copy_of(baseline, tmp_path / "course", db_url=url, students=students)
        course.autograder("grade", ASSIGNMENT)
        assert_same_grades(course, baseline, students=students)
        course.instructor("export")
        exported = (course.root / "grades.csv").read_text()
        assert all(student in exported for student in students), exported
