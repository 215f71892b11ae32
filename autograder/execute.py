"""nbgrader's Execute, made to keep what a submission earned when its kernel dies, a cell floods its output,
or its time runs out.

Plain nbgrader loses the whole submission when the kernel dies (nbclient raises DeadKernelError and no
item is graded) or its messages stop making sense (a fork bomb can leave it unable to start a thread). Here the cells already run keep their outputs and their points; the cell where the
kernel died, and every test cell after it, get an error output saying so, which scores them 0 (a test cell
with no output would score full marks).

Plain nbgrader also keeps every byte a cell prints until LimitOutput trims lines after the run: one
100 MB line is held in memory and written to the autograded notebook. Here output past a per-cell cap is
dropped as it arrives, and one note says how much. And a test cell's stderr is shown but not scored
(`UnscoredStderr`).
"""
from __future__ import annotations

import json
import logging
import time

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer

from .probe import OBSERVATION_MIME
from .problems import Problem, report, submission

KERNEL_DIED = ("the kernel died while running this cell (cell {index}{label}): it exited, crashed, or ran out "
               "of memory or CPU time")
KERNEL_BROKEN = ("the kernel stopped answering properly while running this cell (cell {index}{label}: {reason}); "
                 "the grader can no longer trust its messages")
NOT_RUN = "not run: {reason}"
TIMED_OUT = "cell {index}{label} ran over its {timeout} s time limit and was interrupted"
OUTPUT_CUT = ("[grader] this cell printed {received}; only the first {cap} is kept, the other {dropped} "
              "was dropped")
STDERR_SHOWN = "[stderr, shown here and not scored]\n"
VERDICT_STUB = 1000  # bytes of a cell's first stderr or error kept past the cap: nbgrader fails a test cell by them


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _label(cell: NotebookNode) -> str:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f", {grade_id}" if grade_id else ""


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def _cut(text: str, size: int) -> str:
    return text.encode()[:size].decode(errors="ignore")


class OutputBudget:
    """One cell's output, counted as it arrives; past the cap it is dropped.

    The cell's first stderr and first error are always kept (cut short), so nbgrader's verdict on a test
    cell, which fails on either, is the same as without the cap.
    """

    def __init__(self, cap: int):
        self.cap, self.received, self.dropped, self.verdicts_kept = cap, 0, 0, set()

    def admit(self, msg: dict) -> dict | None:
        """The message as it may be kept (cut to what is left of the budget), or None to drop it.

        The hidden checks' observations are outside the budget (up to the cap each): a student's function
        that prints a lot while it is observed must not lose its report.
        """
        content = msg["content"]
        if OBSERVATION_MIME in content.get("data", {}):
            return msg if len(json.dumps(content)) <= self.cap else None
        kind = content.get("name") if msg["msg_type"] == "stream" else msg["msg_type"]
        text = content.get("text", "") if msg["msg_type"] == "stream" else json.dumps(content)
        size, left = len(text.encode()), max(self.cap - self.received, 0)
        self.received += size
        first_verdict = kind in ("stderr", "error") and kind not in self.verdicts_kept
        keep = size if size <= left else max(left, VERDICT_STUB if first_verdict else 0)
        if msg["msg_type"] not in ("stream", "error") and keep < size:
            keep = 0
        self.dropped += size - min(keep, size)
        if keep == 0:
            return None
        if kind in ("stderr", "error"):
            self.verdicts_kept.add(kind)
        if keep >= size:
            return msg
        if msg["msg_type"] == "stream":
            return {**msg, "content": {**content, "text": _cut(content["text"], keep)}}
        evalue = _cut(str(content.get("evalue", "")), keep)
        return {**msg, "content": {**content, "evalue": evalue, "traceback": [f"{content.get('ename')}: {evalue}"]}}

    def note(self) -> NotebookNode:
        """What was dropped, as a display (not stderr, which would fail a test cell)."""
        text = OUTPUT_CUT.format(received=_mib(self.received), cap=_mib(self.cap), dropped=_mib(self.dropped))
        return NotebookNode(output_type="display_data", metadata={}, data={"text/plain": text})


class ExecuteContained(Execute):
    """Execute every cell within a budget; cap each cell's output; after a dead kernel or a spent budget,
    zero what is left."""

    submission_timeout = Integer(900, help="wall-clock seconds for all the cells of one submission").tag(config=True)
    max_output_bytes = Integer(2**20, help="output one cell keeps; the rest is dropped as it arrives").tag(config=True)
    recheck = False  # the judge's second run (autograder/verdicts.py): its problems say so

    def preprocess(self, nb, resources=None, km=None):
        self._started, self._stop_reason = time.monotonic(), None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, self.resources
        if self._stop_reason is None and time.monotonic() - self._started > self.submission_timeout:
            self._stop_reason = (f"the submission used up its {self.submission_timeout} s before cell {index}"
                                 f"{_label(cell)}")
            self._report(resources, "submission_timeout", cell, index,
                         self._stop_reason + "; the cells after it score 0.")
        if self._stop_reason is not None:
            cell.outputs = [_error("NotRun", NOT_RUN.format(reason=self._stop_reason))] if utils.is_grade(cell) else []
            return cell, self.resources
        self._cell, self._index, self._budget = cell, index, OutputBudget(self.max_output_bytes)
        self._timed_out = False
        try:
            super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            cell.outputs.append(_error("KernelDied", KERNEL_DIED.format(index=index, label=_label(cell))))
            self._stop_reason = f"the kernel died in cell {index}{_label(cell)}"
            self._report(resources, "kernel_died", cell, index, self._stop_reason + "; the cells after it score 0.")
        except Exception as error:  # nbclient lost the kernel's thread (a corrupt message, say): as good as dead
            reason = f"{type(error).__name__}: {str(error)[:200]}"
            cell.outputs.append(_error("KernelBroken", KERNEL_BROKEN.format(index=index, label=_label(cell), reason=reason)))
            self._stop_reason = f"the kernel stopped answering properly in cell {index}{_label(cell)} ({reason})"
            self._report(resources, "kernel_broken", cell, index, self._stop_reason + "; the cells after it score 0.")
        if self._timed_out:  # the interrupt's own KeyboardInterrupt came first; the reason goes first
            cell.outputs.sort(key=lambda output: output.get("ename") != "CellTimeoutError")
        if self._budget.dropped:
            cell.outputs.append(self._budget.note())
            self._report(resources, "output_dropped", cell, index, f"cell {index}{_label(cell)} printed "
                         f"{_mib(self._budget.received)}; output past {_mib(self._budget.cap)} was dropped.",
                         logging.WARNING)
        return cell, self.resources

    def output(self, outs, msg, display_id, cell_index):
        if self.output_hook_stack[msg["parent_header"].get("msg_id")]:
            return super().output(outs, msg, display_id, cell_index)
        admitted = self._budget.admit(msg)
        return None if admitted is None else super().output(outs, admitted, display_id, cell_index)

    async def _async_handle_timeout(self, timeout, cell=None):
        reply = await super()._async_handle_timeout(timeout, cell)
        self._timed_out = True
        message = TIMED_OUT.format(index=self._index, label=_label(self._cell), timeout=timeout)
        self._report(self.resources, "cell_timeout", self._cell, self._index,
                     message + "; it scores 0 if it is a test.")
        if reply is not None:
            reply["content"].update(evalue=message, traceback=[f"{reply['content']['ename']}: {message}"])
        return reply

    def _report(self, resources, kind: str, cell: NotebookNode, index: int, message: str,
                level: int = logging.ERROR) -> None:
        cell_id = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}"
        report(self.log, Problem(**submission(resources), kind=kind, message=message, cell=cell_id,
                                 recheck=self.recheck), level)


class UnscoredStderr(NbGraderPreprocessor):
    """A test cell's stderr is shown, not scored: nbgrader scores any stderr line as a failure, but verdicts
    are the judge's and the cell's assertions' (errors). A correct loop that reports its progress with
    tf.print, or a TensorFlow warning the student's code triggers, must not cost the item."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            cell.outputs = [_shown(output) if output.output_type == "stream" and output.name == "stderr" else output
                            for output in cell.outputs]
        return cell, resources


def _shown(stderr: NotebookNode) -> NotebookNode:
    return NotebookNode(output_type="display_data", metadata={}, data={"text/plain": STDERR_SHOWN + stderr.text})
