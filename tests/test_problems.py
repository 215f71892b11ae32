"""Problem records: written where nbgrader logs, whatever its log level, read back whole, emptied when a
submission's grading starts again, and carried whole across processes."""
import logging
import pickle

import pytest

from autograder.exporter import SubmissionStarts, UnreadableSubmission
from autograder.problems import Problem, ProblemRecords, problem_records, read_problems, records_file, report
from autograder.verdicts import GraderError

TAMPERING = Problem("alice", "backprop", "backprop.ipynb", "tampering", "cell test_predict: TAMPERING: made up",
                    cell="test_predict")
DIED = Problem("bob", "backprop", "backprop.ipynb", "kernel_died", "the kernel died in cell 30, predict; ...",
               cell="predict", recheck=True)


@pytest.fixture
def log():
    logger = logging.getLogger("test_problems")
    logger.handlers, logger.propagate = [], False
    yield logger
    logger.handlers = []


def test_records_are_written_whatever_the_log_level_and_read_back_whole(tmp_path, log):
    log.setLevel(logging.CRITICAL)
    assert problem_records(tmp_path, log) is problem_records(tmp_path, log), "one handler per course on a logger"
    report(log, TAMPERING, logging.WARNING)
    report(log, DIED)
    log.error("a line without a record")
    assert read_problems(tmp_path, "backprop") == [TAMPERING, DIED]
    assert records_file(tmp_path, "backprop", "bob").read_text().count("\n") == 1
    assert DIED.line() == "Student bob, notebook backprop.ipynb (re-check): the kernel died in cell 30, predict; ..."


def test_a_submissions_records_go_when_its_grading_starts_again(tmp_path, log):
    records = ProblemRecords(tmp_path)
    log.addHandler(records)
    report(log, TAMPERING)
    report(log, DIED)
    records.start("backprop", "alice")
    assert read_problems(tmp_path, "backprop") == [DIED]


def test_the_pre_convert_hook_starts_each_submission_and_reports_a_misnamed_notebook(tmp_path):
    (tmp_path / "source" / "backprop").mkdir(parents=True)
    (tmp_path / "source" / "backprop" / "backprop.ipynb").write_text("{}")
    folder = tmp_path / "submitted" / "carol" / "backprop"
    folder.mkdir(parents=True)
    (folder / "Backprop.ipynb").write_text("{}")
    records_file(tmp_path, "backprop", "carol").parent.mkdir(parents=True)
    records_file(tmp_path, "backprop", "carol").write_text('{"stale": "record"}\n')
    hook = SubmissionStarts(str(tmp_path))
    try:
        hook("backprop", "*", [str(folder / "Backprop.ipynb")])
    finally:
        logging.getLogger("traitlets").handlers = [h for h in logging.getLogger("traitlets").handlers
                                                   if not isinstance(h, ProblemRecords)]
    [problem] = read_problems(tmp_path, "backprop")
    assert (problem.student, problem.notebook, problem.kind) == ("carol", "backprop.ipynb", "not_submitted")
    assert "found 'Backprop.ipynb' instead" in problem.message


def test_errors_that_stop_a_submission_carry_their_record_across_processes():
    resources = {"nbgrader": {"student": "dave", "assignment": "backprop", "notebook": "backprop"}}
    error = UnreadableSubmission.reported(logging.getLogger("test_problems.quiet"), resources, "the file is empty")
    assert error.problem == Problem("dave", "backprop", "backprop.ipynb", "unreadable",
                                    "the file is empty; every item scores 0.")
    for original in (error, GraderError(TAMPERING)):
        copy = pickle.loads(pickle.dumps(original))
        assert type(copy) is type(original) and copy.problem == original.problem and str(copy) == str(original)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        Problem("erin", "backprop", "backprop.ipynb", "bad_luck", "?")
