"""Drive the real nbgrader commands through a course: release, student submissions, grading, feedback.

Every step is the nbgrader command an instructor or a student would type, run in its own process in the
directory where that person would run it. Students share the course's exchange directory; each has a home
directory of their own.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.exchange.abc import Exchange

from autograder.exporter import missing_notebooks
from autograder.problems import Problem, read_problems
from .submissions import ASSIGNMENT, NOTEBOOK, course_root


class NbgraderCommandError(RuntimeError):
    """An nbgrader (or autograder) command exited non-zero; carries what it printed."""

    def __init__(self, args: list[str], returncode: int, output: str):
        self.args_, self.returncode, self.output = args, returncode, output
        super().__init__(f"{' '.join(args)} exited {returncode}:\n{output[-4000:]}")


def _env(home: Path) -> dict[str, str]:
    """The environment of one person: their own home and Jupyter dirs, and this Python's tools on PATH
    (nbgrader's gradebook migrations run `alembic` by name)."""
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    )
    return env


MODULES = {"nbgrader": "nbgrader", "autograder": "coursekit"}  # the module each command line runs as


def nbgrader(*args: str, cwd: Path, home: Path, allowed_returncodes: tuple[int, ...] = (0,),
             tool: str = "nbgrader") -> str:
    """Run one nbgrader command (or `tool`'s, such as autograder's) as the person whose home is `home`;
    return its output."""
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", MODULES[tool], *args], cwd=cwd, env=_env(home),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode not in allowed_returncodes:
        raise NbgraderCommandError([tool, *args], done.returncode, done.stdout + done.stderr)
    return done.stdout + done.stderr


@dataclass
class Course:
    """A course directory (with its nbgrader_config.py), and where its people live."""

    root: Path
    homes: Path
    course_id: str = "backprop"
    db_url: str = ""  # the gradebook; empty: nbgrader's default, gradebook.db in the course directory

    @classmethod
    def create(cls, directory: Path, db_url: str = "") -> "Course":
        """A fresh course in `directory`: this course's source and config, no gradebook, no submissions.

        Symlinked helper files are copied as files, as nbgrader releases them. With `db_url`, the course's
        config puts the gradebook there (a PostgreSQL database, say).
        """
        directory = Path(directory).resolve()
        if directory.exists():
            shutil.rmtree(directory)
        root = directory / "course"
        shutil.copytree(course_root() / "source", root / "source", symlinks=False,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        shutil.copy(course_root() / "nbgrader_config.py", root / "nbgrader_config.py")
        if db_url:
            with open(root / "nbgrader_config.py", "a") as config:
                config.write(f"c.CourseDirectory.db_url = {db_url!r}\n")
        return cls(root=root, homes=directory / "homes", db_url=db_url)

    @property
    def gradebook_url(self) -> str:
        return self.db_url or f"sqlite:///{self.root / 'gradebook.db'}"

    def scores(self) -> dict[str, dict[str, float]]:
        """Every graded submission's score on every graded item, from the gradebook: student -> item -> score."""
        from nbgrader.api import Gradebook

        with Gradebook(self.gradebook_url, self.course_id) as gradebook:
            return {submission.student_id: {grade.name: grade.score for grade in submission.notebooks[0].grades}
                    for submission in gradebook.find_assignment(ASSIGNMENT).submissions}

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    def instructor(self, *args: str, allowed_returncodes: tuple[int, ...] = (0,)) -> str:
        return nbgrader(*args, cwd=self.root, home=self.homes / "instructor", allowed_returncodes=allowed_returncodes)

    def autograder(self, *args: str, allowed_returncodes: tuple[int, ...] = (0,)) -> str:
        """An `autograder` command (`grade`, say) as the instructor, in the course directory."""
        return nbgrader(*args, cwd=self.root, home=self.homes / "instructor", allowed_returncodes=allowed_returncodes,
                        tool="autograder")

    def student(self, student_id: str, *args: str) -> str:
        home = self.homes / student_id
        return nbgrader(*args, f"--student={student_id}", f"--CourseDirectory.course_id={self.course_id}",
                        f"--Exchange.root={self.exchange}", cwd=home, home=home)

    def release(self) -> None:
        self.instructor("generate_assignment", ASSIGNMENT, "--force")
        self.instructor("release_assignment", ASSIGNMENT, "--force")

    def submit(self, student_id: str, notebook: NotebookNode, via_exchange: bool = True) -> None:
        """As the student: fetch the assignment, save the answered notebook over the released one, submit."""
        self.submit_file(student_id, NOTEBOOK, nbformat.writes(notebook).encode(), via_exchange)

    def submit_file(self, student_id: str, name: str, content: bytes, via_exchange: bool = True) -> None:
        """As the student: fetch the assignment, put `content` in the file `name` instead of the notebook, submit.

        Without `via_exchange`, the submission is put where `collect` would put it (the released files, this
        one in place of the notebook, and submit's timestamp), for tests of grading rather than of the exchange.
        """
        if via_exchange:
            self.student(student_id, "fetch_assignment", ASSIGNMENT)
            folder = self.homes / student_id / ASSIGNMENT
        else:
            folder = self.root / "submitted" / student_id / ASSIGNMENT
            shutil.copytree(self.root / "release" / ASSIGNMENT, folder)
            submitted_at = datetime.now(timezone.utc).strftime(Exchange.timestamp_format.default_value)
            (folder / "timestamp.txt").write_text(submitted_at)  # as submit writes it
        (folder / NOTEBOOK).unlink()
        (folder / name).write_bytes(content)
        if via_exchange:
            self.student(student_id, "submit", ASSIGNMENT)

    def grade(self, parallel: bool = False, force: bool = False) -> list[str]:
        """Collect, autograde (with `autograder grade` if `parallel`, else plain `nbgrader autograde`),
        generate feedback and export grades, as the instructor; return the problems (see `autograde`).
        With `force`, what was graded already is graded again (and its feedback made again)."""
        self.collect()
        again = ("--force",) if force else ()
        if parallel:
            self.autograder("grade", ASSIGNMENT, *again)
            problems = [problem.line() for problem in self.problem_records()]
        else:
            _, problems = self.autograde(*again)
        self.instructor("generate_feedback", ASSIGNMENT, *again)
        self.instructor("export")
        return problems

    def collect(self) -> None:
        """Every submission is owned by the one OS user running this, so collect's owner check is off."""
        self.instructor("collect", ASSIGNMENT, "--update", "--ExchangeCollect.check_owner=False")

    def autograde(self, *options: str) -> tuple[str, list[str]]:
        """Autograde every collected submission; return nbgrader's log and the problems (see `problems`).

        A submission with a problem loses what it broke and the batch goes on. nbgrader exits 1 when a
        submission could not be graded at all (it then has no autograded notebook): accepted only when every
        such student is named in a problem.
        """
        log = self.instructor("autograde", ASSIGNMENT, *options, allowed_returncodes=(0, 1))
        problems = self.problem_records()
        ungraded = {folder.parent.name for folder in (self.root / "submitted").glob(f"*/{ASSIGNMENT}")
                    if not (self.root / "autograded" / folder.parent.name / ASSIGNMENT / NOTEBOOK).is_file()}
        if ungraded - {problem.student for problem in problems}:
            raise NbgraderCommandError(["nbgrader", "autograde", ASSIGNMENT, *options], 1, log)
        return log, [problem.line() for problem in problems]

    def problem_records(self) -> list[Problem]:
        """The grader's problem records of the latest grading (a file that is not a notebook, a dead kernel, a
        cell over its time or output limit, tampering...), and every submitted folder missing the notebook
        (for which nbgrader runs nothing of ours), once each."""
        found = read_problems(self.root, ASSIGNMENT)
        for folder in sorted((self.root / "submitted").glob(f"*/{ASSIGNMENT}")):
            for name, reason in missing_notebooks(folder, [NOTEBOOK]).items():
                found.append(Problem(folder.parent.name, ASSIGNMENT, name, "not_submitted",
                                     f"{reason}; every item scores 0."))
        return list(dict.fromkeys(found))

    def feedback_file(self, student_id: str) -> Path:
        return self.root / "feedback" / student_id / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")

    def results(self) -> dict[str, "StudentResult"]:
        """Each exported student's autograded items' scores, with each failed item's message.

        Autograded items are the test cells, whose grade_ids start with "test_"; the rest are graded by hand.
        A student who submitted no notebook nbgrader could find is not in nbgrader's export: listed here with
        every item 0.
        """
        from nbgrader.api import Gradebook

        with open(self.root / "grades.csv", newline="") as grades:
            exported = {row["student_id"]: row for row in csv.DictReader(grades)}
        results = {}
        with Gradebook(self.gradebook_url, self.course_id) as gradebook:
            for student_id, row in exported.items():
                if not row["timestamp"]:
                    continue
                submission = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student_id)
                result = StudentResult(student_id)
                for grade in submission.grades:
                    if grade.name.startswith("test_"):
                        result.items[grade.name] = (grade.score, grade.max_score)
                    else:
                        result.manual.append(grade.name)
                result.messages = _failure_messages(
                    self.root / "autograded" / student_id / ASSIGNMENT / NOTEBOOK)
                results[student_id] = result
            cells = gradebook.find_notebook(ASSIGNMENT, ASSIGNMENT).grade_cells
            items = {cell.name: (0.0, cell.max_score) for cell in cells if cell.name.startswith("test_")}
        for folder in sorted((self.root / "submitted").glob(f"*/{ASSIGNMENT}")):
            results.setdefault(folder.parent.name, StudentResult(folder.parent.name, dict(items)))
        return results


@dataclass
class StudentResult:
    student_id: str
    items: dict[str, tuple[float, float]] = field(default_factory=dict)  # autograded tests: (score, max)
    manual: list[str] = field(default_factory=list)  # items graded by hand
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def auto_score(self) -> float:
        return sum(score for score, _ in self.items.values())

    @property
    def auto_max(self) -> float:
        return sum(max_score for _, max_score in self.items.values())

    @property
    def lost(self) -> set[str]:
        return {item for item, (score, max_score) in self.items.items() if score < max_score}


def _failure_messages(autograded: Path) -> dict[str, str]:
    """The first error of each cell of an autograded notebook, by grade_id: for a test cell, the grader's
    verdict (autograder.verdicts puts it first) or the error the cell raised."""
    messages = {}
    if not autograded.is_file():
        return messages
    for cell in nbformat.read(str(autograded), as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                messages.setdefault(grade_id, f"{output.ename}: {output.evalue}")
    return messages
