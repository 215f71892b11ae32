"""Reading a submitted notebook for autograding: a file that is not one fails with the student's name,
the file and the reason, and only that submission fails; the batch goes on."""
from __future__ import annotations

import os
from pathlib import Path

import jsonschema
from nbconvert.exporters import NotebookExporter
from nbformat.reader import NotJSONError
from nbformat.validator import ValidationError
from traitlets import Integer
from traitlets.log import get_logger


class UnreadableSubmission(ValueError):
    """A submitted file nbgrader cannot grade; the message says whose, which, and why."""

    def __init__(self, student: str, path: str, reason: str):
        self.student, self.path, self.reason = student, path, reason
        super().__init__(f"student {student}, notebook {os.path.basename(path)}: {reason}")

    def __reduce__(self):
        return type(self), (self.student, self.path, self.reason)


class SubmissionExporter(NotebookExporter):
    """NotebookExporter that checks a submission is a readable notebook of a sane size first."""

    max_notebook_bytes = Integer(50 * 2**20, help="larger submitted notebooks are not graded").tag(config=True)

    def from_filename(self, filename, resources=None, **kw):
        student = ((resources or {}).get("nbgrader") or {}).get("student", "?")
        size = os.path.getsize(filename)
        if size == 0:
            raise UnreadableSubmission(student, filename, "the file is empty")
        if size > self.max_notebook_bytes:
            raise UnreadableSubmission(student, filename, f"the file is {size / 2**20:.0f} MiB, over the "
                                       f"{self.max_notebook_bytes / 2**20:.0f} MiB limit for a notebook")
        try:
            return super().from_filename(filename, resources, **kw)
        except NotJSONError:
            raise UnreadableSubmission(student, filename, "not a notebook: the file is not JSON") from None
        except (ValidationError, jsonschema.ValidationError, KeyError, AttributeError) as error:
            reason = str(error).splitlines()[0][:200]
            raise UnreadableSubmission(student, filename, f"not a valid notebook ({reason})") from None
        except UnicodeDecodeError:
            raise UnreadableSubmission(student, filename, "not a notebook: the file is not UTF-8 text") from None


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


class ReportMissingNotebooks:
    """Autograde's pre_convert_hook: logs, per student, each notebook not submitted under its own name."""

    def __init__(self, course_root: str):
        self.source = Path(course_root) / "source"

    def __call__(self, assignment: str, student: str, notebooks: list[str]) -> None:
        for folder in sorted({Path(notebook).parent for notebook in notebooks}):
            expected = sorted(path.name for path in (self.source / folder.name).glob("*.ipynb"))
            for name, reason in missing_notebooks(folder, expected).items():
                get_logger().error("Student %s, notebook %s: %s; every item scores 0.", folder.parent.name,
                                   name, reason)
