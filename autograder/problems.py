"""Problems with a submission, for the instructor, as records rather than log lines to parse back.

Whatever goes wrong with one submission (a file that is not a notebook, a dead kernel, a cell over its time,
tampering, a bug of the grader's own) is a `Problem`: who, which notebook and cell, what kind, what happened.
`report` logs it as one line, as before, and attaches the record to the log line; `ProblemRecords`, a logging
handler on nbgrader's logger, writes every record as one JSON object a line to
`problems/<assignment>/<student>.jsonl` in the course directory, outside `autograded/`, which nbgrader
removes when a submission fails. The file is emptied when that submission's grading starts again, so it
holds the problems of the latest grading. Tools (the course driver, the class report) read them with
`read_problems`.

Records travel with log lines because the problems are found where nbgrader logs: in its process under
`nbgrader autograde`, on a worker under `autograder grade` (whose log lines, records attached, go back to
the coordinator, which logs them again). This module imports nothing heavy: nbgrader_config.py names it.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from traitlets.log import get_logger

# Every kind of problem, with what it costs: one source for the tools that count them.
KINDS = {
    "unreadable": "the submitted file is not a notebook nbgrader can grade; every item scores 0",
    "not_submitted": "the notebook was not submitted under its own name; every item scores 0",
    "foreign_grade_id": "a cell carries a grade id the notebook does not have; it is graded as the student's own",
    "cell_timeout": "a cell ran over its time; it scores 0 if it is a test",
    "submission_timeout": "the submission used up its time; the cells after that score 0",
    "kernel_died": "the kernel died; the cells after it score 0",
    "kernel_broken": "the kernel stopped answering properly; the cells after it score 0",
    "output_dropped": "a cell printed more than it may keep; the rest was dropped",
    "tampering": "a test cell's report did not come from the student's functions as written; the item scores 0",
    "grader_error": "the grader itself failed; the submission is left ungraded",
    "worker_lost": "the grading workers running it died; the submission is left ungraded",
}
RECORD = "autograder_problem"  # the attribute of a log record that carries its Problem


@dataclass(frozen=True)
class Problem:
    student: str
    assignment: str
    notebook: str  # file name, such as backprop.ipynb
    kind: str  # a key of KINDS
    message: str  # a sentence that names the cell, when it is one cell's
    cell: str = ""  # its grade id, or "cell 12" for a cell without one; empty when not one cell's
    recheck: bool = False  # found while the judge re-checked the functions in a second kernel
    traceback: str = ""  # a grader error's, for the course's maintainers

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind of problem {self.kind!r}")

    def line(self) -> str:
        """The problem as the log says it: whose, which notebook, what."""
        run = " (re-check)" if self.recheck else ""
        return f"Student {self.student}, notebook {self.notebook}{run}: {self.message}"


class GradingProblem(Exception):
    """The root of the errors that stop a submission's grading; carries the problem's record."""

    def __init__(self, problem: Problem):
        super().__init__(problem.line())
        self.problem = problem

    def __reduce__(self):  # crosses process boundaries (Dask) whole
        return type(self), (self.problem,)


def submission(resources: dict | None) -> dict:
    """Who and what a preprocessor's resources are about: student, assignment, notebook file name."""
    ids = (resources or {}).get("nbgrader") or {}
    notebook = ids.get("notebook", "?")
    return {"student": ids.get("student", "?"), "assignment": ids.get("assignment", "?"),
            "notebook": notebook if notebook.endswith(".ipynb") else f"{notebook}.ipynb"}


def report(log: logging.Logger | logging.LoggerAdapter, problem: Problem, level: int = logging.ERROR) -> None:
    """Log the problem's line, its record attached, whatever the log's level (the record must not be lost
    to `--log-level=CRITICAL`)."""
    logger = log.logger if isinstance(log, logging.LoggerAdapter) else log
    logger.handle(logger.makeRecord(logger.name, level, __name__, 0, "%s", (problem.line(),), None,
                                    extra={RECORD: problem}))


def records_file(course_root: str | Path, assignment: str, student: str) -> Path:
    return Path(course_root) / "problems" / assignment / f"{student}.jsonl"


def read_problems(course_root: str | Path, assignment: str) -> list[Problem]:
    """Every problem of the latest grading of each of the assignment's submissions, student by student."""
    folder = Path(course_root) / "problems" / assignment
    return [Problem(**json.loads(line)) for path in sorted(folder.glob("*.jsonl"))
            for line in path.read_text().splitlines() if line.strip()]


class ProblemRecords(logging.Handler):
    """Writes the problem record of each log line that carries one to the course's problems folder."""

    def __init__(self, course_root: str | Path):
        super().__init__()
        self.course_root = Path(course_root)

    def emit(self, record: logging.LogRecord) -> None:
        problem = getattr(record, RECORD, None)
        if problem is None:
            return
        path = records_file(self.course_root, problem.assignment, problem.student)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as records:
            records.write(json.dumps(asdict(problem)) + "\n")

    def start(self, assignment: str, student: str) -> None:
        """A submission's grading starts: its earlier problems are gone with the grades they explained."""
        records_file(self.course_root, assignment, student).unlink(missing_ok=True)


def problem_records(course_root: str | Path, log: logging.Logger | None = None) -> ProblemRecords:
    """The records handler of `course_root` on `log` (nbgrader's), added the first time."""
    log = log or get_logger()
    for handler in log.handlers:
        if isinstance(handler, ProblemRecords) and handler.course_root == Path(course_root):
            return handler
    handler = ProblemRecords(course_root)
    log.addHandler(handler)
    return handler
