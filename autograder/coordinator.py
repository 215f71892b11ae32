"""Grading a whole class: nbgrader's autograde, one submission per task, on a pool of workers.

Each submission goes through nbgrader's own `Autograde` converter with this course's config, as under
`nbgrader autograde`, with one change: the autograde preprocessors that need no gradebook (execution, the
judge, output limits: everything before `SaveAutoGrades`) run on a worker (autograder/worker.py). So the
scores are nbgrader's, and only this process touches the gradebook and the course directory: what nbgrader
does before and after the execution runs here under one lock, one submission at a time, while the
executions run side by side. Workers are Dask workers: a local cluster of one per core by default, or any
cluster at `scheduler`. A worker that dies takes its task to another worker once; a submission that kills
two workers is reported as failed (Dask's `allowed-failures`, set to 1).

A submission's autograded notebook is written last, so one whose folder holds no autograded notebook was
never finished (a run killed half-way) and is graded again; Ctrl-C cancels what is running and keeps what
is done.
"""
from __future__ import annotations

import fnmatch
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades
from nbgrader.utils import rmtree
from traitlets.utils.importstring import import_item

from . import worker
from .problems import GradingProblem, Problem, report, submission
from .sandbox import SandboxedKernelManager

# Autograde preprocessors from the first of these on write to the gradebook: they run in the coordinator.
GRADEBOOK_WRITERS = (SaveAutoGrades, AssignLatePenalties)
WORKER_DIED = ("the grading worker died twice while running it (the student's code, or the machines?); "
               "it is not graded: grade it alone with `nbgrader autograde`, and look at the workers' logs")


class Interrupted(Exception):
    """Grading stopped (Ctrl-C) before this submission was done; nothing of it was kept."""


class WorkerLost(GradingProblem):
    """The submission's task killed the workers it ran on."""


@dataclass
class Outcome:
    """What happened to one submission."""

    student: str
    status: str  # graded, skipped, failed, interrupted
    seconds: float = 0.0
    score: float | None = None
    max_score: float | None = None
    reason: str = ""


def split_preprocessors(preprocessors: list) -> tuple[list, list]:
    """nbgrader's autograde preprocessors, classes or import strings (as nbgrader_config.py names them): (those a
    worker runs, those run where the gradebook is), as classes."""
    preprocessors = [import_item(pp) if isinstance(pp, str) else pp for pp in preprocessors]
    cut = next((i for i, pp in enumerate(preprocessors) if isinstance(pp, type) and issubclass(pp, GRADEBOOK_WRITERS)),
               len(preprocessors))
    return list(preprocessors[:cut]), list(preprocessors[cut:])


class DistributedAutograde(Autograde):
    """nbgrader's Autograde, with the execution handed to `run_elsewhere` and the notebook written last."""

    def __init__(self, run_elsewhere: Callable[[worker.Task], worker.Executed], **kwargs):
        super().__init__(**kwargs)
        self.run_elsewhere = run_elsewhere
        self._phase: list = []

    def _init_preprocessors(self) -> None:
        self.exporter._preprocessors = []
        for preprocessor in self._phase:
            self.exporter.register_preprocessor(preprocessor)

    def convert_single_notebook(self, notebook_filename: str) -> None:
        started = time.perf_counter()
        self.log.info("Sanitizing %s", notebook_filename)
        self._phase = self.sanitize_preprocessors
        self._init_preprocessors()
        resources = self.init_single_notebook_resources(notebook_filename)
        sanitized, _ = self.exporter.from_filename(notebook_filename, resources=resources)

        on_worker, here = split_preprocessors(self.autograde_preprocessors)
        self._sanitizing = False
        try:
            ids = resources["nbgrader"]
            folder = self._format_dest(ids["assignment"], ids["student"])
            autograded = os.path.join(folder, os.path.basename(notebook_filename))
            self.log.info("Autograding %s", autograded)
            resources = self.init_single_notebook_resources(autograded)
            resources["metadata"] = {"name": ids["notebook"], "path": folder}
            sent = time.perf_counter()
            executed = self.run_elsewhere(worker.Task(
                student=ids["student"], notebook=sanitized, resources=resources, files=self._kernel_files(folder),
                config=self.config, exporter_class=self.exporter_class, preprocessors=on_worker))
            received = time.perf_counter()
            for level, message, problem in executed.log:
                if problem is None:
                    self.log.log(level, "%s", message)
                else:
                    report(self.log, problem, level)
            self._phase = here
            self._init_preprocessors()
            output, resources = self.exporter.from_notebook_node(
                nbformat.reads(executed.notebook, as_version=4), resources=resources)
            self.write_single_notebook(output, resources)
            self.log.debug("Student %s: sanitized in %.1f s, executed in %.1f s on worker process %d (%.1f s "
                           "from sending to result), recorded in %.1f s", ids["student"], sent - started,
                           executed.seconds, executed.worker_pid, received - sent, time.perf_counter() - received)
        finally:
            self._sanitizing = True

    def _kernel_files(self, folder: str) -> dict[str, bytes]:
        """The files of the submission's folder a kernel gets (the sandbox copies no others)."""
        names = SandboxedKernelManager(config=self.config).assignment_files
        return {name: Path(folder, name).read_bytes() for name in names if Path(folder, name).is_file()}


class ClassGrader:
    """Grades the submissions of one assignment on a Dask cluster; one thread per submission in flight."""

    def __init__(self, app, client, progress):
        self.app, self.client, self.progress = app, client, progress
        self.gradebook_lock = threading.Lock()
        self.stopping = threading.Event()
        self._running: dict[str, object] = {}  # student -> Dask future

    def grade(self, students: list[str], in_flight: int) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="submission") as pool:
            futures = [pool.submit(self.grade_one, student) for student in students]
            try:
                for future in as_completed(futures):
                    outcomes.append(future.result())
                    self.progress.done(outcomes[-1])
            except KeyboardInterrupt:
                self.stop()
                outcomes = [future.result() for future in futures]
        return outcomes

    def stop(self) -> None:
        """Ctrl-C: start nothing new, cancel what runs; what is being recorded finishes."""
        self.stopping.set()
        self.progress.say("Interrupted: cancelling the submissions being graded; those done are kept.")
        self.client.cancel(list(self._running.values()), force=True)

    def grade_one(self, student: str) -> Outcome:
        started = time.perf_counter()
        if self.stopping.is_set():
            return Outcome(student, "interrupted", reason="not started")
        failure: list[BaseException] = []
        with self.gradebook_lock:
            if self.stopping.is_set():
                return Outcome(student, "interrupted", reason="not started")
            coursedir = CourseDirectory(config=self.app.config, root=self.app.coursedir.root,
                                        assignment_id=self.app.coursedir.assignment_id, student_id=student)
            converter = DistributedAutograde(
                run_elsewhere=lambda task: self._execute(task, failure), coursedir=coursedir, parent=self.app)
            try:
                converter.start()
            except NbGraderException as error:
                if failure and isinstance(failure[0], Interrupted):
                    return Outcome(student, "interrupted", time.perf_counter() - started, reason="cancelled")
                reason = (failure[0].problem.message if isinstance(failure[0], GradingProblem) else str(failure[0])
                          ) if failure else str(error).splitlines()[0]
                return Outcome(student, "failed", time.perf_counter() - started, reason=reason)
            score = self._score(coursedir, student)
        return Outcome(student, "graded", time.perf_counter() - started, *score)

    def _execute(self, task: worker.Task, failure: list) -> worker.Executed:
        """Run the task on a worker, without the gradebook lock while it runs."""
        from distributed import KilledWorker

        future = self.client.submit(worker.execute, task, pure=False, key=f"grade-{task.student}-{time.time_ns()}")
        self._running[task.student] = future
        self.gradebook_lock.release()
        try:
            if self.stopping.is_set():
                future.cancel()
            return future.result()
        except Exception as error:  # on Ctrl-C, whatever stopped the task (a cancel, workers gone) is that
            failure.append(Interrupted() if self.stopping.is_set() else
                           self._worker_lost(task) if isinstance(error, KilledWorker) else error)
            raise failure[-1] from error
        finally:
            self.gradebook_lock.acquire()
            self._running.pop(task.student, None)

    def _worker_lost(self, task: worker.Task) -> WorkerLost:
        problem = Problem(**submission(task.resources), kind="worker_lost", message=WORKER_DIED)
        report(self.app.log, problem)
        return WorkerLost(problem)

    def _score(self, coursedir: CourseDirectory, student: str) -> tuple[float | None, float | None]:
        with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
            try:
                submission = gradebook.find_submission(coursedir.assignment_id, student)
            except MissingEntry:
                return None, None
            return submission.score, submission.max_score


def submissions(coursedir: CourseDirectory, selected: list[str]) -> list[str]:
    """Students with a submitted folder for the assignment, those matching `selected` (globs) if given."""
    found = sorted(Path(p).parent.name for p in
                   Path(coursedir.root).glob(f"{coursedir.submitted_directory}/*/{coursedir.assignment_id}")
                   if Path(p).is_dir())
    return [s for s in found if not selected or any(fnmatch.fnmatchcase(s, pattern) for pattern in selected)]


def already_graded(coursedir: CourseDirectory, student: str, log: logging.Logger) -> bool:
    """Autograded at the submission's timestamp (nbgrader's rule), and finished: every submitted notebook
    has its autograded one. A folder left unfinished by a killed run is removed, so it is graded again."""
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, coursedir.assignment_id))
    autograded = Path(coursedir.format_path(coursedir.autograded_directory, student, coursedir.assignment_id))
    if not autograded.is_dir():
        return False
    finished = all((autograded / notebook.name).is_file() for notebook in submitted.glob("*.ipynb"))
    if not finished:
        log.warning("Student %s: an earlier run stopped before finishing this submission; grading it again", student)
        rmtree(str(autograded))
        return False
    new, old = (coursedir.get_existing_timestamp(str(folder)) for folder in (submitted, autograded))
    return not (new is not None and old is not None and new > old)


# A task is retried once on another worker when its worker dies, and fails the second time; a worker holds
# only the task it runs (Dask counts a death against every task assigned to the dead worker).
SCHEDULER_SETTINGS = {"distributed.scheduler.allowed-failures": 1, "distributed.scheduler.worker-saturation": 1.0}


def start_cluster(workers: int, scheduler: str):
    """A Dask client: on the cluster at `scheduler` (set to SCHEDULER_SETTINGS), or on a local cluster of
    `workers` processes."""
    import dask
    from distributed import Client, LocalCluster

    dask.config.set(SCHEDULER_SETTINGS)
    if scheduler:
        client = Client(scheduler, timeout="30s")
        client.run_on_scheduler(_apply_settings)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    client.run(worker.prepare)
    return client


def _apply_settings(dask_scheduler=None) -> None:
    dask_scheduler.allowed_failures = SCHEDULER_SETTINGS["distributed.scheduler.allowed-failures"]
    dask_scheduler.WORKER_SATURATION = SCHEDULER_SETTINGS["distributed.scheduler.worker-saturation"]
