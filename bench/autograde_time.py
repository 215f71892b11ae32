"""Time to autograde one submission with plain `nbgrader autograde`, beside the in-process floor.

The floor is the same notebook's code (driver cells, visible and hidden checks) run in this already warm
process: what grading costs without a kernel start and a TensorFlow import.

    .venv/bin/python bench/autograde_time.py
"""
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

from autograder.course import Course  # noqa: E402
from autograder.demo import demo_class  # noqa: E402
from autograder.submissions import reference_answers, run_in_process  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        course = Course.create(Path(directory))
        course.release()
        course.submit("reference", demo_class(())["reference"])
        course.instructor("collect", "backprop", "--ExchangeCollect.check_owner=False")
        started = time.perf_counter()
        course.instructor("autograde", "backprop", "--student=reference")
        autograde = time.perf_counter() - started
    run_in_process(reference_answers())  # warm: TensorFlow imported, functions traced
    started = time.perf_counter()
    run_in_process(reference_answers())
    floor = time.perf_counter() - started
    print(f"nbgrader autograde, one submission: {autograde:6.1f} s")
    print(f"same notebook in a warm process:    {floor:6.1f} s")
    print(f"ratio: {autograde / floor:.1f}x (kernel start, TensorFlow import and nbgrader's own work)")


if __name__ == "__main__":
    main()
