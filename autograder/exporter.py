"""Reading a submitted notebook for autograding: a file that is not one fails with the student's name,
the file and the reason, and only that submission fails; the batch goes on."""
from __future__ import annotations

import os

import jsonschema
from nbconvert.exporters import NotebookExporter
from nbformat.reader import NotJSONError
from nbformat.validator import ValidationError
from traitlets import Integer


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
