"""A whole class graded by plain `nbgrader autograde` and by `autograder grade`: wall time, peak memory, the
same grades, and how far `autograder grade` is from the floor; then its peak memory as the class grows.

The class is generated, deterministically: every other student submits the reference answers, the others
the corpus mistakes (coursekit/corpus.py) in turn. After the assignment is released, each submission is
written straight into the course as `nbgrader collect` leaves it (submitted/<student>/backprop/: the
released files, the student's notebook, timestamp.txt, submission_secret.txt): fetching and submitting
costs seconds per student and is not what is measured. Each grader gets its own copy of the released course
(same submissions, a gradebook holding no grades yet); their gradebooks must then hold the same score for
every grade.

The floor is the reference notebook's code run in this already warm process (no kernel start, no TensorFlow
import, no nbgrader), after one warm-up run, as in bench/autograde_time.py: its test cells (the hidden checks'
TensorFlow work), and the whole notebook plus the test cells again (the re-check), which is what grading one
submission runs at least; divided by the cores, it bounds how fast any grader can go here.

Peak memory is the PSS (shared pages split between the processes sharing them) summed over every process
the grading command starts, kernels included, sampled every 0.5 s. A cgroup around the command would miss
the kernels: the kernel sandbox moves each kernel into a cgroup of its own (autograder/sandbox.py).

    .venv/bin/python bench/class_grading.py [--size 60] [--memory-sizes 60,240] [--workers N] [--memory-only]

Output also goes to bench/results/class_grading.txt; the graders' own logs stay in a temporary directory
(their paths are printed to stderr as they start).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import nbformat  # noqa: E402
import psutil  # noqa: E402
from nbformat import NotebookNode  # noqa: E402

from coursekit.corpus import MISTAKES, Mistake  # noqa: E402
from coursekit.course import Course, _env  # noqa: E402
from coursekit.submissions import (ASSIGNMENT, NOTEBOOK, fill, reference_answers, release_notebook,  # noqa: E402
                                    run_in_process)

RESULTS = Path(__file__).resolve().parent / "results"
TIMESTAMP = "2026-11-26 12:00:00.000000 UTC"  # nbgrader's default Exchange.timestamp_format, in UTC
SAMPLE_EVERY = 0.5  # seconds; reading one TensorFlow process's PSS takes about 5 ms
CORES = len(os.sched_getaffinity(0))
TARGET = f"target: at least 8x faster than plain nbgrader on this {CORES}-core machine"
GRADER = str(Path(sys.executable).parent / "autograder")
PLAIN = [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT]


def class_mix(size: int) -> dict[str, Mistake | None]:
    """Student id -> the mistake made (None: the reference): even students right, odd ones each corpus
    mistake in turn."""
    mistakes = [MISTAKES[i // 2 % len(MISTAKES)] if i % 2 else None for i in range(size)]
    return {f"s{i:03d}-{mistake.name if mistake else 'reference'}": mistake for i, mistake in enumerate(mistakes)}


def class_notebooks(size: int, root: Path) -> dict[str, NotebookNode]:
    """Student id -> the notebook submitted, answered in the course's released notebook."""
    release, reference = release_notebook(root), reference_answers(root)
    return {student_id: fill(release, {**reference, **(mistake.answers if mistake else {})})
            for student_id, mistake in class_mix(size).items()}


def released_class(directory: Path, size: int) -> Path:
    """A course with the assignment released and a class of `size` submissions collected; its root."""
    course = Course.create(directory)
    course.release()
    released = course.root / "release" / ASSIGNMENT
    for student_id, notebook in class_notebooks(size, course.root).items():
        folder = course.root / "submitted" / student_id / ASSIGNMENT
        shutil.copytree(released, folder, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        nbformat.write(notebook, str(folder / NOTEBOOK))
        (folder / "timestamp.txt").write_text(TIMESTAMP)
        (folder / "submission_secret.txt").write_text(hashlib.sha512(student_id.encode()).hexdigest())
    return course.root


def course_copy(root: Path, directory: Path) -> Path:
    """A copy of a released class for one grader: same submissions, gradebook as released."""
    shutil.copytree(root, directory / "course", symlinks=True)
    return directory / "course"


def grade_command(*options: str) -> list[str]:
    return [GRADER, "grade", ASSIGNMENT, *options]


def require_grade_command() -> None:
    """Stop before any long run when `autograder grade` is not installed yet."""
    if subprocess.run([*grade_command(), "--help"], capture_output=True).returncode != 0:
        sys.exit(f"{' '.join(grade_command())} is not available (see `{GRADER} --help`)")


def progress(message: str) -> None:
    """Progress goes to stderr, out of the results file."""
    print(message, file=sys.stderr, flush=True)


class TreePeak(threading.Thread):
    """The peak, over samples, of the PSS summed over a process and all its descendants. The kernels stay in
    the process tree wherever the sandbox puts them."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root, self.peak, self.done = psutil.Process(pid), 0, threading.Event()
        self.start()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_EVERY):
            self.peak = max(self.peak, self.total())

    def total(self) -> int:
        with contextlib.suppress(psutil.Error):
            processes = [self.root, *self.root.children(recursive=True)]
            return sum(self.pss(process) for process in processes)
        return 0

    @staticmethod
    def pss(process: psutil.Process) -> int:
        with contextlib.suppress(psutil.Error):  # a process may end between listing and reading
            return process.memory_full_info().pss
        return 0

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak


@dataclass
class Run:
    submissions: int
    wall: float  # seconds
    peak: int  # bytes

    @property
    def per_submission(self) -> float:
        return self.wall / self.submissions


def run_grading(command: list[str], root: Path, label: str) -> Run:
    """Run one grading command in the course, as the instructor; time it and sample its memory. A failed
    command stops the bench with the end of its log."""
    home, log = root.parent / "homes" / "instructor", root.parent / "grading.log"
    home.mkdir(parents=True, exist_ok=True)
    submissions = len(list((root / "submitted").glob(f"*/{ASSIGNMENT}")))
    progress(f"{label}: grading {submissions} submissions; log in {log}")
    with open(log, "w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=root, env=_env(home), stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT)
        sampler = TreePeak(process.pid)
        returncode = process.wait()
        run = Run(submissions, time.perf_counter() - started, sampler.stop())
    if returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-30:])
        sys.exit(f"{' '.join(command)} exited {returncode} after {run.wall:.0f} s; end of {log}:\n{tail}")
    progress(f"{label}: done in {run.wall:.0f} s")
    return run


def gradebook_scores(root: Path) -> dict[str, dict[str, float]]:
    """Student id -> grade name -> score, as the course's gradebook holds them."""
    return Course(root=root, homes=root.parent / "homes").scores()


def differences(students: list[str], expected: dict, got: dict, names: tuple[str, str]) -> list[str]:
    """Every student missing from either gradebook, and every grade whose score differs."""
    lines = []
    for student in sorted(set(students) | expected.keys() | got.keys()):
        missing = [name for name, scores in zip(names, (expected, got)) if student not in scores]
        if missing:
            lines.append(f"{student}: not in the gradebook of {' nor '.join(missing)}")
            continue
        for grade in sorted(expected[student].keys() | got[student].keys()):
            a, b = expected[student].get(grade), got[student].get(grade)
            if a != b:
                lines.append(f"{student} {grade}: {names[0]} {a}, {names[1]} {b}")
    return lines


@dataclass
class Floor:
    """Seconds of the reference notebook's code in this warm process (no kernel start, no TensorFlow import,
    no nbgrader): its test cells (visible tests and hidden checks), and the whole notebook."""

    checks: float
    notebook: float

    @property
    def submission(self) -> float:
        """What grading one submission runs at least: the notebook, then its checks again (the re-check)."""
        return self.notebook + self.checks


def floor() -> Floor:
    answers, seconds = reference_answers(), {}
    with contextlib.redirect_stdout(io.StringIO()):  # the notebook's prints stay out of the results
        run_in_process(answers)  # warm-up: functions traced, modules imported
        run_in_process(answers, seconds=seconds)
    return Floor(sum(v for k, v in seconds.items() if k.startswith("test_")), sum(seconds.values()))


def gib(size: int) -> str:
    return f"{size / 2**30:.2f} GiB"


class Tee:
    """A stream writing to both of two streams."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> None:
        for stream in self.streams:
            stream.write(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def tee(path: Path):
    """What is printed goes to the terminal and to `path` as well."""
    path.parent.mkdir(exist_ok=True)
    with open(path, "w") as file, contextlib.redirect_stdout(Tee(sys.stdout, file)):
        yield


def compare(directory: Path, size: int, workers: int) -> Run | None:
    """Grade one class both ways and print the comparison; the `autograder grade` run, or None when the
    grades differ."""
    template = released_class(directory / "template", size)
    plain = run_grading(PLAIN, course_copy(template, directory / "plain"), "nbgrader autograde")
    graded = run_grading(grade_command("--workers", str(workers)), course_copy(template, directory / "grade"),
                         "autograder grade")
    mistakes = size // 2
    print(f"Class of {size} submissions: {size - mistakes} reference, {mistakes} making a corpus mistake (the "
          f"{len(MISTAKES)} in turn); {CORES} cores; autograder grade --workers {workers}")
    print(f"Peak memory: PSS summed over the command's whole process tree (kernels included), sampled every "
          f"{SAMPLE_EVERY} s\n")
    print(f"{'':<20} {'wall':>8} {'s/submission':>13} {'peak memory':>12}")
    for label, run in (("nbgrader autograde", plain), ("autograder grade", graded)):
        print(f"{label:<20} {run.wall:>6.0f} s {run.per_submission:>11.1f} s {gib(run.peak):>12}")
    print(f"{'plain / grade':<20} {plain.wall / graded.wall:>7.1f}x  ({TARGET})")
    diff = differences(list(class_mix(size)), gradebook_scores(directory / "plain" / "course"),
                       gradebook_scores(directory / "grade" / "course"), ("nbgrader autograde", "autograder grade"))
    if diff:
        print(f"\nGRADES DIFFER ({len(diff)}):\n  " + "\n  ".join(diff))
        return None
    print(f"Grades: identical, every grade of all {size} students")
    least = floor()
    print(f"\nFloor, in a warm process (no kernel, no TensorFlow import, no nbgrader): the test cells alone "
          f"{least.checks:.1f} s;\n  the whole notebook (the given training demos included) {least.notebook:.1f} s; "
          f"with the re-check's hidden checks, what grading one submission runs: {least.submission:.1f} s")
    best = least.submission / CORES
    print(f"autograder grade: {graded.per_submission:.1f} s per submission; on {CORES} cores the floor allows "
          f"{best:.1f} s,\n  so at most {plain.per_submission / best:.1f}x faster than plain nbgrader here "
          f"(reached: {best / graded.per_submission:.0%} of that)")
    return graded


def memory_table(directory: Path, sizes: list[int], workers: int, known: dict[int, Run]) -> None:
    """`autograder grade` on classes of growing size: peak memory should stay flat."""
    runs = {size: known.get(size) or run_grading(grade_command("--workers", str(workers)),
                                                 released_class(directory / f"class-{size}", size),
                                                 f"autograder grade, class of {size}")
            for size in sizes}
    first = runs[sizes[0]]
    print(f"\nautograder grade --workers {workers} as the class grows (peak / peak at {sizes[0]}: flat = close to 1.0)")
    print(f"{'submissions':>11} {'wall':>8} {'s/submission':>13} {'peak memory':>12} {'peak ratio':>11}")
    for size, run in runs.items():
        print(f"{size:>11} {run.wall:>6.0f} s {run.per_submission:>11.1f} s {gib(run.peak):>12} "
              f"{run.peak / first.peak:>11.2f}")


def sizes(text: str) -> list[int]:
    return [int(size) for size in text.split(",") if size]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=60, help="submissions in the compared class (default: %(default)s)")
    parser.add_argument("--memory-sizes", type=sizes, default=[60, 240],
                        help="class sizes graded by autograder grade alone, for its memory (default: 60,240)")
    parser.add_argument("--workers", type=int, default=CORES,
                        help="autograder grade --workers (default: one per core, %(default)s)")
    parser.add_argument("--memory-only", action="store_true",
                        help="only the memory table (output in class_grading_memory.txt)")
    args = parser.parse_args()
    require_grade_command()
    results = RESULTS / ("class_grading_memory.txt" if args.memory_only else "class_grading.txt")
    with tempfile.TemporaryDirectory(prefix="class-grading-") as directory, tee(results):
        known = {}
        if not args.memory_only:
            known[args.size] = compare(Path(directory), args.size, args.workers)
            if known[args.size] is None:
                return 1
        memory_table(Path(directory), args.memory_sizes, args.workers, known)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
