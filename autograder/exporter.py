"""Reading a submitted notebook for autograding: a file that is not one fails with the student's name,
the file and the reason (a problem record, autograder/problems.py), and only that submission fails; the
batch goes on."""
from __future__ import annotations

import os
from pathlib import Path

import jsonschema
from nbconvert.exporters import NotebookExporter
from nbformat.reader import NotJSONError
from nbformat.validator import ValidationError
from traitlets import Integer
from traitlets.log import get_logger

from .problems import GradingProblem, Problem, problem_records, report, submission


class UnreadableSubmission(GradingProblem):
    """A submitted file nbgrader cannot grade; its record says whose, which, and why."""

    @classmethod
    def reported(cls, log, resources: dict, reason: str) -> "UnreadableSubmission":
        """The error for the submission `resources` are about, its problem reported to `log`."""
        problem = Problem(**submission(resources), kind="unreadable", message=f"{reason}; every item scores 0.")
        report(log, problem)
        return cls(problem)


class SubmissionExporter(NotebookExporter):
    """NotebookExporter that checks a submission is a readable notebook of a sane size first."""

    max_notebook_bytes = Integer(50 * 2**20, help="larger submitted notebooks are not graded").tag(config=True)

    def from_filename(self, filename, resources=None, **kw):
        size = os.path.getsize(filename)
        if size == 0:
            raise UnreadableSubmission.reported(self.log, resources, "the file is empty")
        if size > self.max_notebook_bytes:
            raise UnreadableSubmission.reported(self.log, resources, f"the file is {size / 2**20:.0f} MiB, over the "
                                                f"{self.max_notebook_bytes / 2**20:.0f} MiB limit for a notebook")
        try:
            return super().from_filename(filename, resources, **kw)
        except NotJSONError:
            reason = "not a notebook: the file is not JSON"
        except (ValidationError, jsonschema.ValidationError, KeyError, AttributeError) as error:
            reason = f"not a valid notebook ({str(error).splitlines()[0][:200]})"
        except UnicodeDecodeError:
            reason = "not a notebook: the file is not UTF-8 text"
        raise UnreadableSubmission.reported(self.log, resources, reason) from None


def missing_notebooks(submission: Path, expected: list[str]) -> dict[str, str]:
    """Each expected notebook that is not in a submitted assignment folder, with what is there instead.

    nbgrader grades a notebook only under its own name; alone it says "Skipping unknown notebook", then
    "No notebooks found, did you forget to run 'nbgrader generate_assignment'?", or nothing at all.
    """
    present = sorted(path.name for path in submission.glob("*.ipynb"))
    others = ", ".join(f"'{name}'" for name in present if name not in expected)
    instead = f"found {others} instead (a notebook is graded only under its own name)" if others else \
        "the submission holds no notebook"
    return {name: f"not submitted; {instead}" for name in expected if name not in present}


class SubmissionStarts:
    """Autograde's pre_convert_hook, as a submission's grading starts: its earlier problem records go (the
    records handler is put on nbgrader's logger the first time), and each notebook not submitted under its
    own name is reported."""

    def __init__(self, course_root: str):
        self.course_root = course_root
        self.source = Path(course_root) / "source"

    def __call__(self, assignment: str, student: str, notebooks: list[str]) -> None:
        records = problem_records(self.course_root)
        for folder in sorted({Path(notebook).parent for notebook in notebooks}):
            records.start(assignment=folder.name, student=folder.parent.name)
            expected = sorted(path.name for path in (self.source / folder.name).glob("*.ipynb"))
            for name, reason in missing_notebooks(folder, expected).items():
                report(get_logger(), Problem(folder.parent.name, folder.name, name, "not_submitted",
                                             f"{reason}; every item scores 0."))
