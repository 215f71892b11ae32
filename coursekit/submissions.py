"""Submissions made from answers: the release notebook with its solution cells filled in.

An answer set maps a solution cell's grade_id to that cell's new source. The reference answers are the
source notebook's solutions with nbgrader's markers removed; a mistake replaces one or more of them.
"""
from __future__ import annotations

import copy
import hashlib
import linecache
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbformat import NotebookNode

ASSIGNMENT = "backprop"
NOTEBOOK = "backprop.ipynb"
_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def course_root() -> Path:
    """The course directory this package belongs to (the repository root)."""
    return Path(__file__).resolve().parent.parent


def source_notebook(root: Path | None = None) -> NotebookNode:
    return nbformat.read(str((root or course_root()) / "source" / ASSIGNMENT / NOTEBOOK), as_version=4)


def release_notebook(root: Path | None = None) -> NotebookNode:
    return nbformat.read(str((root or course_root()) / "release" / ASSIGNMENT / NOTEBOOK), as_version=4)


def grade_id(cell: NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_solution(cell: NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def reference_answers(root: Path | None = None) -> dict[str, str]:
    """The source notebook's solution cells, markers removed."""
    return {
        grade_id(cell): "\n".join(line for line in cell.source.split("\n") if line.strip() not in _MARKERS)
        for cell in source_notebook(root).cells
        if is_solution(cell)
    }


def fill(notebook: NotebookNode, answers: dict[str, str]) -> NotebookNode:
    """A copy of `notebook` whose solution cells named in `answers` hold those answers."""
    unknown = set(answers) - {grade_id(c) for c in notebook.cells if is_solution(c)}
    if unknown:
        raise KeyError(f"no solution cell with grade_id {sorted(unknown)} in the notebook")
    filled = copy.deepcopy(notebook)
    for cell in filled.cells:
        if is_solution(cell) and grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return filled


@contextmanager
def _helpers_importable(root: Path):
    """The assignment's helper modules on sys.path, and figures closed afterwards."""
    helpers = str(root / "source" / ASSIGNMENT)
    sys.path.insert(0, helpers)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        yield
    finally:
        sys.path.remove(helpers)
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


def _execute(cell: NotebookNode, namespace: dict) -> None:
    """As IPython runs a cell: its source is in linecache, where AutoGraph (tf.function) reads a function's,
    under a name of its own (IPython's are numbered): answer sets built side by side (a bench's) must not
    read each other's source."""
    digest = hashlib.sha1(cell.source.encode()).hexdigest()[:12]
    filename = f"<cell {grade_id(cell)} {digest}>"
    linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(keepends=True), filename)
    exec(compile(cell.source, filename, "exec"), namespace)


def run_in_process(answers: dict[str, str], root: Path | None = None,
                   seconds: dict[str, float] | None = None) -> dict[str, BaseException | None]:
    """Run the source notebook's code cells, with `answers` in its solution cells, in this process.

    Returns each test cell's outcome (None: passed): its own error, or the verdict on what its hidden
    checks observed, judged as `verdicts.JudgeObservations` judges a kernel's, then (as its re-check ends)
    each passed cell's late checks made again once every cell has run. A fast stand-in for a kernel, for
    tests of the checks themselves; grading proper always goes through nbgrader and a kernel.
    `seconds`, if given, gets each code cell's run time by grade id (benchmarks' floor).
    """
    from autograder import probe, verdicts  # the grading side, which the student-facing helpers above do not need

    root = root or course_root()
    namespace: dict = {"__name__": "__main__"}
    outcomes: dict[str, BaseException | None] = {}
    late: list[tuple[NotebookNode, list]] = []
    with _helpers_importable(root):
        for cell in fill(source_notebook(root), answers).cells:
            if cell.cell_type != "code":
                continue
            started = time.perf_counter()
            outcome, observations = _observed(cell, namespace, probe)
            if seconds is not None:
                seconds[grade_id(cell) or f"cell {len(seconds)}"] = time.perf_counter() - started
            if cell.metadata.get("nbgrader", {}).get("grade") and not is_solution(cell):
                asked = verdicts.asked_checks(cell.source)
                failure = verdicts.verdict(asked, observations, probe.grading_seed(), outcome is not None)
                outcomes[grade_id(cell)] = failure or outcome
                if outcomes[grade_id(cell)] is None and asked and verdicts.checked_late(asked):
                    late.append((cell, asked))
        for cell, asked in late:
            hidden = NotebookNode(cell_type="code", source=verdicts.hidden_block(cell.source), metadata=cell.metadata)
            _, observations = _observed(hidden, namespace, probe)
            failure = verdicts.verdict(asked, observations, probe.grading_seed(), False)
            if failure is not None:
                outcomes[grade_id(cell)] = verdicts.late_failure(failure)
    return outcomes


def _observed(cell: NotebookNode, namespace: dict, probe) -> tuple[BaseException | None, list[dict]]:
    """Run one cell: what it raised (None if nothing), and the observations its checks published."""
    observations: list[dict] = []
    probe.publish = observations.append
    try:
        _execute(cell, namespace)
        return None, observations
    except Exception as error:  # the cell's verdict, as a kernel would report it
        return error, observations
    finally:
        probe.publish = probe.show


def namespace_of(answers: dict[str, str], root: Path | None = None) -> dict:
    """The functions a submission defines: its setup and solution cells, run in this process."""
    root = root or course_root()
    namespace: dict = {"__name__": "__main__"}
    with _helpers_importable(root):
        for cell in fill(source_notebook(root), answers).cells:
            if cell.cell_type == "code" and (grade_id(cell) == "setup" or is_solution(cell)):
                _execute(cell, namespace)
    return namespace
