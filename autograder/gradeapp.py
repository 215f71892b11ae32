"""`autograder grade ASSIGNMENT`: nbgrader autograde for a whole class, in parallel, warm, resumable.

An nbgrader app (a subclass of nbgrader's AutogradeApp): it reads the course's nbgrader_config.py and takes
nbgrader's options (`--student`, `--force`, `--db`, `--Class.trait=value`), so the gradebook, the feedback
and the formgrader see exactly what `nbgrader autograde` would have left. autograder/coordinator.py does the
grading.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import time

from nbgrader.apps.autogradeapp import AutogradeApp
from nbgrader.apps.autogradeapp import aliases as autograde_aliases
from nbgrader.apps.baseapp import NbGrader
from nbgrader.converters import Autograde
from traitlets import Integer, Unicode, default

from .coordinator import ClassGrader, Outcome, already_graded, start_cluster, submissions
from .progress import Progress, summary

INTERRUPTED_EXIT = 130
# nbgrader logs this for every test cell of every submission of this assignment (its hidden tests make the
# released cells differ from the source ones); the cell is overwritten from the gradebook regardless.
HIDDEN_TESTS_CHECKSUM = re.compile(r"Attribute 'checksum' for cell \S+ has changed")


class GradeApp(AutogradeApp):
    name = "autograder-grade"
    description = ("Autograde every submission of an assignment (or those named with --student a,b,...) in "
                   "parallel, with warm kernels; skip those graded at the same timestamp unless --force.")
    examples = """
        autograder grade backprop                        # every submission, one worker per core
        autograder grade backprop --student alice,bob    # two students (globs work too)
        autograder grade backprop --force --workers 4    # grade again what was graded
        autograder grade backprop --scheduler tcp://10.0.0.5:8786   # on a Dask cluster
        """
    aliases = {**autograde_aliases, "workers": "GradeApp.workers", "scheduler": "GradeApp.scheduler"}

    workers = Integer(0, help="grading processes on this machine; 0: one per core (ignored with --scheduler)"
                      ).tag(config=True)
    scheduler = Unicode("", help="address of a Dask scheduler (tcp://host:8786) whose workers grade; they need "
                        "this course's Python environment, not its files").tag(config=True)

    @default("log_level")
    def _log_level_default(self) -> int:
        return logging.WARNING  # problems only; the progress says the rest

    def start(self) -> None:
        NbGrader.start(self)
        if len(self.extra_args) > 1:
            self.fail("Only one argument (the assignment id) may be specified")
        if self.extra_args:
            self.coursedir.assignment_id = self.extra_args[0]
        if not self.coursedir.assignment_id:
            self.fail("An assignment id must be specified, either as an argument or with --assignment")
        os.chdir(self.coursedir.root)  # nbgrader's converters work from there; every thread agrees
        sys.exit(self.grade())

    def grade(self) -> int:
        started = time.perf_counter()
        selected = [s for s in self.coursedir.student_id.split(",") if s and s != "*"]
        students = submissions(self.coursedir, selected)
        force = Autograde(coursedir=self.coursedir, parent=self).force  # --force, however the config says it
        skipped = [] if force else [s for s in students if already_graded(self.coursedir, s, self.log)]
        to_grade = [s for s in students if s not in skipped]
        outcomes = [Outcome(student, "skipped") for student in skipped]
        workers = self.workers or len(os.sched_getaffinity(0))
        if to_grade:
            client = start_cluster(workers, self.scheduler)
            workers = sum(client.nthreads().values())
            progress = Progress(len(to_grade))
            self._log_through(progress)
            try:
                outcomes += ClassGrader(self, client, progress).grade(to_grade, in_flight=2 * workers)
            finally:
                progress.close()
                cluster = client.cluster
                client.close()
                if cluster is not None:
                    cluster.close()
        print(summary(outcomes, time.perf_counter() - started, workers), flush=True)
        if any(o.status == "interrupted" for o in outcomes):
            return INTERRUPTED_EXIT
        return 1 if any(o.status == "failed" for o in outcomes) else 0

    def _log_through(self, progress: Progress) -> None:
        """Console log lines print above the progress bar instead of through it."""
        for handler in list(self.log.handlers):
            if type(handler) is logging.StreamHandler:
                progress.handler.setFormatter(handler.formatter)
                progress.handler.setLevel(handler.level)
                progress.handler.addFilter(lambda record: not HIDDEN_TESTS_CHECKSUM.match(record.getMessage()))
                self.log.removeHandler(handler)
                self.log.addHandler(progress.handler)


def main(argv: list[str]) -> int:
    GradeApp.launch_instance(argv)
    return 0
