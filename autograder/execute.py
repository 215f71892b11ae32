"""nbgrader's Execute, made to keep what a submission earned when its kernel dies or its time runs out.

Plain nbgrader loses the whole submission when the kernel dies (nbclient raises DeadKernelError and no
item is graded). Here the cells already run keep their outputs and their points; the cell where the
kernel died, and every test cell after it, get an error output saying so, which scores them 0 (a test cell
with no output would score full marks).
"""
from __future__ import annotations

import time

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Integer

KERNEL_DIED = ("the kernel died while running this cell (cell {index}{label}): it exited, crashed, or ran out "
               "of memory or CPU time")
NOT_RUN = "not run: {reason}"


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _label(cell: NotebookNode) -> str:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f", {grade_id}" if grade_id else ""


class ExecuteContained(Execute):
    """Execute every cell within a budget; after a dead kernel or a spent budget, zero what is left."""

    submission_timeout = Integer(900, help="wall-clock seconds for all the cells of one submission").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._started, self._stop_reason = time.monotonic(), None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, self.resources
        if self._stop_reason is None and time.monotonic() - self._started > self.submission_timeout:
            self._stop_reason = (f"the submission used up its {self.submission_timeout} s before cell {index}"
                                 f"{_label(cell)}")
            self._report(resources, self._stop_reason)
        if self._stop_reason is not None:
            cell.outputs = [_error("NotRun", NOT_RUN.format(reason=self._stop_reason))] if utils.is_grade(cell) else []
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            message = KERNEL_DIED.format(index=index, label=_label(cell))
            cell.outputs.append(_error("KernelDied", message))
            self._stop_reason = f"the kernel died in cell {index}{_label(cell)}"
            self._report(resources, self._stop_reason)
            return cell, self.resources

    def _report(self, resources, reason: str) -> None:
        where = resources.get("nbgrader", {}) if resources else {}
        self.log.error("Student %s, notebook %s: %s; the cells after it score 0.",
                       where.get("student", "?"), where.get("notebook", "?"), reason)
