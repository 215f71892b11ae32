"""What a grading worker does: execute one sanitized submission and judge it, away from the gradebook.

`autograder grade` splits nbgrader's autograde in three (autograder/coordinator.py): the coordinator
sanitizes a submission against the gradebook, a worker runs the autograde preprocessors that need no
gradebook (execution, the judge and its re-check, output limits), and the coordinator records the grades.
The task carries the notebook and the submission's files and the result carries the executed notebook and
the log lines, so a worker needs the course's Python environment but no shared file system.

Each worker process keeps one kernel fork server (autograder/forkserver.py), started by `prepare`, so its
kernels start with TensorFlow already imported.
"""
from __future__ import annotations

import copy
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from traitlets.config import Config

from . import forkserver
from .problems import RECORD, Problem
from .sandbox import TENSORFLOW_ENVIRONMENT

@dataclass
class Task:
    """One submission's notebook as sanitized, with everything its execution needs."""

    student: str
    notebook: str  # JSON
    resources: dict  # nbgrader's resources for the notebook (ids, db_url); its metadata path is set here
    files: dict[str, bytes]  # the submission's other files, by path relative to its folder
    config: Config  # the course's nbgrader config
    exporter_class: type  # nbgrader's Autograde.exporter_class
    preprocessors: list  # the autograde preprocessors to run here, in order


@dataclass
class Executed:
    notebook: str  # JSON
    log: list[tuple[int, str, Problem | None]] = field(default_factory=list)  # the preprocessors' lines: level,
    # message, and the problem record a line carries (autograder/problems.py)
    seconds: float = 0.0
    worker_pid: int = 0


def prepare() -> int:
    """Start this process's fork server (again, if it died) and import what judging needs; return our pid.

    Called on every worker when grading starts, so the imports overlap instead of delaying the first task.
    """
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # kernels see it, as under `nbgrader autograde`
    forkserver.shared(TENSORFLOW_ENVIRONMENT)
    from . import checks  # noqa: F401 - the judge's reference runs in this process: TensorFlow, warm
    return os.getpid()


def execute(task: Task) -> Executed:
    """Run `task.preprocessors` on the notebook, in a scratch copy of the submission's folder."""
    started = time.perf_counter()
    prepare()
    config = copy.deepcopy(task.config)
    config.SandboxedKernelManager.fork_server = forkserver.shared(TENSORFLOW_ENVIRONMENT)
    records = _Records()
    logger = logging.getLogger(f"autograder.worker.{task.student}")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(records)
    try:
        with tempfile.TemporaryDirectory(prefix="backprop-submission-") as folder:
            for name, content in task.files.items():
                path = Path(folder, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            resources = dict(task.resources, metadata={**task.resources["metadata"], "path": folder})
            exporter = task.exporter_class(config=config, log=logger)
            for preprocessor in task.preprocessors:
                exporter.register_preprocessor(preprocessor)
            output, _ = exporter.from_notebook_node(nbformat.reads(task.notebook, as_version=4), resources)
    finally:
        logger.removeHandler(records)
    return Executed(output, records.lines, time.perf_counter() - started, os.getpid())


class _Records(logging.Handler):
    """Keeps the lines logged while a task runs, with their problem records; they travel back with the result."""

    def __init__(self):
        super().__init__()
        self.lines: list[tuple[int, str, Problem | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelno, record.getMessage(), getattr(record, RECORD, None)))
