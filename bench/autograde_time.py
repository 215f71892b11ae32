"""Time to autograde one submission with plain `nbgrader autograde`, with and without the re-check, beside
the in-process floor.

The re-check (autograder.verdicts) runs the student's cells again in a second contained kernel; the floor
is the same notebook's code (driver cells, visible and hidden checks) run in this already warm process:
what grading costs without kernel starts and TensorFlow imports.

    .venv/bin/python bench/autograde_time.py
"""
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

from coursekit.course import Course  # noqa: E402
from coursekit.demo import demo_class  # noqa: E402
from coursekit.submissions import reference_answers, run_in_process  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        course = Course.create(Path(directory))
        course.release()
        course.submit("reference", demo_class(())["reference"])
        course.instructor("collect", "backprop", "--ExchangeCollect.check_owner=False")
        timings = {}
        runs = {"with the re-check": (), "without the re-check": ("--JudgeObservations.recheck=False",)}
        for label, options in runs.items():
            started = time.perf_counter()
            course.instructor("autograde", "backprop", "--student=reference", "--force", *options)
            timings[label] = time.perf_counter() - started
    run_in_process(reference_answers())  # warm: TensorFlow imported, functions traced
    started = time.perf_counter()
    run_in_process(reference_answers())
    floor = time.perf_counter() - started
    for label, seconds in timings.items():
        print(f"nbgrader autograde, one submission, {label + ':':<22} {seconds:6.1f} s")
    print(f"same notebook in a warm process:{'':<25} {floor:6.1f} s")
    print(f"re-check cost: {timings['with the re-check'] / timings['without the re-check']:.2f}x; "
          f"against the floor: {timings['with the re-check'] / floor:.1f}x (kernel starts, TensorFlow imports, nbgrader)")


if __name__ == "__main__":
    main()
