"""Time to autograde a small batch with plain `nbgrader autograde`: warm kernels against fresh ones, with and
without the re-check, beside the in-process floor. Side by side in one run; writes
bench/results/autograde_time.txt.

Warm kernels (`SandboxedKernelManager.warm_kernels`, on in the course's config) are forked from one server per
nbgrader process that imported TensorFlow once; fresh ones import it themselves, twice per submission (its
kernel and its re-check's). The re-check (autograder.verdicts) runs the student's cells again in a second
contained kernel. The floor is the same notebooks' code (driver cells, visible and hidden checks) run in this
already warm process: what grading costs without kernel starts, TensorFlow imports and nbgrader.

    .venv/bin/python bench/autograde_time.py              # 3 submissions per batch
    .venv/bin/python bench/autograde_time.py --students 6
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

from provenance import RESULTS, measured_at  # noqa: E402  (bench/ is on sys.path when run as a script)

from coursekit.course import Course  # noqa: E402
from coursekit.demo import demo_class  # noqa: E402
from coursekit.submissions import reference_answers, run_in_process  # noqa: E402

FRESH = ("--SandboxedKernelManager.warm_kernels=False",)
NO_RECHECK = ("--JudgeObservations.recheck=False",)
BATCHES = {  # label: nbgrader options, each batch graded by one `nbgrader autograde --force`
    "warm kernels, with the re-check": (),
    "fresh kernels, with the re-check": FRESH,
    "warm kernels, without the re-check": NO_RECHECK,
    "fresh kernels, without the re-check": FRESH + NO_RECHECK,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=3, help="submissions per batch (each the reference)")
    args = parser.parse_args()
    started = time.perf_counter()
    seconds, scores = {}, {}
    with tempfile.TemporaryDirectory() as directory:
        course = Course.create(Path(directory))
        course.release()
        reference = demo_class(())["reference"]
        for number in range(args.students):
            course.submit(f"student{number}", reference, via_exchange=False)
        course.collect()
        for label, options in BATCHES.items():
            began = time.perf_counter()
            course.autograde("--force", *options)
            seconds[label] = time.perf_counter() - began
            scores[label] = course.scores()
    run_in_process(reference_answers())  # warm: TensorFlow imported, functions traced
    began = time.perf_counter()
    for _ in range(args.students):
        run_in_process(reference_answers())
    floor = (time.perf_counter() - began) / args.students
    same = all(graded == scores[next(iter(BATCHES))] for graded in scores.values())

    per = {label: total / args.students for label, total in seconds.items()}
    lines = [f"Plain nbgrader autograde, {args.students} submissions per batch (bench/autograde_time.py, "
             f"{measured_at()}): seconds per submission", ""]
    lines += [f"  {label + ':':<40} {per[label]:6.1f} s" for label in BATCHES]
    lines += [f"  {'the same notebook in a warm process:':<40} {floor:6.1f} s", "",
              f"warm kernels: {per['fresh kernels, with the re-check'] / per['warm kernels, with the re-check']:.2f}x "
              "faster than fresh (with the re-check), "
              f"{per['fresh kernels, without the re-check'] / per['warm kernels, without the re-check']:.2f}x without",
              f"re-check cost (warm): {per['warm kernels, with the re-check'] / per['warm kernels, without the re-check']:.2f}x; "
              f"warm with the re-check against the floor: {per['warm kernels, with the re-check'] / floor:.1f}x",
              f"every batch gave every submission the same scores: {same}"]
    text = "\n".join(lines) + "\n"
    (RESULTS / "autograde_time.txt").write_text(text)
    print(text + f"whole run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
